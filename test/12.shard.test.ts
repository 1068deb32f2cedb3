// Layer 12: sharding. The union of the shards of a manifest is the unsharded run, with no row
// in two shards, by row index and by id hash; and a shard resumes like any run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gradeManifest } from '../lib/dataset/grade.js';
import type { ClipGrader } from '../lib/grading.js';
import { tempDir } from './helpers/index.js';
import { graderModule, makeDataset, readJsonl, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

describe('12 dataset: shards', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let grader: ClipGrader;
  let manifest: string;
  let whole: Map<string, unknown>;
  const N = 23;
  before(async () => {
    t = tempDir('voxqc-12-');
    ds = makeDataset(t.dir);
    grader = (await import(pathToFileURL(graderModule).href)).default;
    const short = ['audio/zero.wav', 'audio/whisper.wav', ds.bad.corrupt];
    manifest = writeJsonl(
      join(t.dir, 'm.jsonl'),
      Array.from({ length: N }, (_, i) => ({ id: `utt-${String(i).padStart(3, '0')}`, audio_filepath: short[i % short.length] })),
    );
    const o = join(t.dir, 'whole.jsonl');
    await gradeManifest(manifest, { out: o, grader, concurrency: 4 });
    whole = new Map(readJsonl(o).map((r) => [r.voxqc.id, [r.voxqc.grade, r.voxqc.flags, r.voxqc.scores, r.voxqc.error?.code]]));
    assert.equal(whole.size, N);
  });
  after(() => t.cleanup());

  for (const by of ['index', 'id'] as const) {
    it(`by ${by}: 4 shards partition the rows, and their union equals the unsharded run`, async () => {
      const seen = new Map<string, unknown>();
      let outside = 0;
      for (let i = 1; i <= 4; i++) {
        const o = join(t.dir, `shard-${by}-${i}.jsonl`);
        const s = await gradeManifest(manifest, { out: o, grader, shard: by === 'id' ? `${i}/4:id` : { index: i, count: 4, by } });
        outside += s.outsideShard;
        assert.equal(s.rows + s.outsideShard, N);
        for (const r of readJsonl(o)) {
          assert.equal(seen.has(r.voxqc.id), false, `${r.voxqc.id} is in two shards`);
          seen.set(r.voxqc.id, [r.voxqc.grade, r.voxqc.flags, r.voxqc.scores, r.voxqc.error?.code]);
          if (by === 'index') assert.equal(r.voxqc.input.index % 4, i - 1);
        }
      }
      assert.equal(outside, 3 * N);
      assert.deepEqual(new Map([...seen].sort()), new Map([...whole].sort()));
    });
  }

  it('the same shard twice gives the same rows (deterministic), and a rerun resumes', async () => {
    const o1 = join(t.dir, 'again-1.jsonl');
    const o2 = join(t.dir, 'again-2.jsonl');
    await gradeManifest(manifest, { out: o1, grader, shard: '2/3' });
    await gradeManifest(manifest, { out: o2, grader, shard: '2/3', concurrency: 1 });
    const ids = (p: string) => readJsonl(p).map((r) => r.voxqc.id).sort();
    assert.deepEqual(ids(o1), ids(o2));
    const s = await gradeManifest(manifest, { out: o1, grader, shard: '2/3' });
    assert.equal(s.done, 0);
    assert.equal(s.skipped, ids(o1).length);
  });
});
