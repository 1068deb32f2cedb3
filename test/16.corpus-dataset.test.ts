// Layer 16: grade → filter → report end to end through the CLI on the shared corpus's own
// manifest (../shared/corpus/manifest.jsonl, audio key `audio`, paths relative to it), one shard
// of 12 to keep it short (about 56 clips: speech, noise, impulse responses, video). Skips with a
// message when the corpus is absent ($VOXQC_CORPUS points elsewhere).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, tempDir } from './helpers/index.js';
import { cli, graderModule, readJsonl, runCli } from './fixtures/dataset/make.js';

describe('16 dataset: the shared corpus end to end (CLI)', function () {
  const corpus = corpusDir();
  let t: { dir: string; cleanup(): void };
  before(function () {
    if (!corpus) {
      console.log('      (skipped: ../shared/corpus is absent; set VOXQC_CORPUS to run these)');
      this.skip();
    }
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
    t = tempDir('voxqc-16-');
  });
  after(() => t?.cleanup());

  it('grade one shard of the corpus manifest, filter it back to its own format, report it', async () => {
    const manifest = join(corpus!, 'manifest.jsonl');
    const lines = readFileSync(manifest, 'utf8').split('\n').filter((l) => l.trim());
    const expected = lines.map((l, i) => [i, JSON.parse(l)] as const).filter(([i]) => i % 12 === 0);
    const graded = join(t.dir, 'graded.jsonl');
    const g = await runCli(['grade', manifest, '--out', graded, '--grader', graderModule, '--shard', '1/12', '--jobs', '2', '--json']);
    assert.ok(g.code === 0 || g.code === 1, g.err);
    const done = JSON.parse(g.out.trim().split('\n').at(-1)!);
    assert.equal(done.event, 'done');
    assert.equal(done.rows, expected.length);
    assert.equal(done.outsideShard, lines.length - expected.length);
    const rows = readJsonl(graded);
    assert.equal(rows.length, expected.length);
    const byIndex = new Map(rows.map((r) => [r.voxqc.input.index, r]));
    for (const [i, input] of expected) {
      const r = byIndex.get(i)!;
      assert.ok(r, `row ${i} graded`);
      assert.equal(r.audio, input.audio);
      assert.equal(r.kind, input.kind, 'the manifest keys are kept');
      assert.equal(r.voxqc.audio, join(corpus!, input.audio));
      if (!r.voxqc.error) assert.ok(Math.abs(r.voxqc.scores.durationSec - input.duration) < 0.05, `${input.audio}: ${r.voxqc.scores.durationSec} vs ${input.duration}`);
    }
    const failed = rows.filter((r) => r.voxqc.error).length;
    assert.equal(done.output.failed, failed);
    assert.equal(g.code, failed ? 1 : 0);
    assert.ok(failed <= 2, `${failed} corpus clips failed: ${rows.filter((r) => r.voxqc.error).map((r) => r.voxqc.error.message).join('; ')}`);

    const clean = join(t.dir, 'clean.jsonl');
    const f = await runCli(['filter', graded, '--min-grade', 'medium', '--where', "kind == 'speech'", '--out', clean]);
    assert.equal(f.code, 0, f.err);
    const kept = readJsonl(clean);
    assert.match(f.out, new RegExp(`kept ${kept.length} clips`));
    assert.ok(kept.length > 0 && kept.every((r) => r.kind === 'speech' && !('voxqc' in r)));
    for (const r of kept) assert.ok(existsSync(r.audio.startsWith('/') ? r.audio : join(t.dir, r.audio)), r.audio);

    const report = join(t.dir, 'report.html');
    const rep = await runCli(['report', graded, '--out', report, '--worst', '8']);
    assert.equal(rep.code, 0, rep.err);
    const html = readFileSync(report, 'utf8');
    assert.equal((html.match(/<tr class="clip"/g) ?? []).length, 8);
  });
});
