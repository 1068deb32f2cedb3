// Layer 11: gradeManifest over every input format with a deterministic test grader (the rule
// grader's metrics are not in every build): one output row per input row, extra keys kept,
// segments, error rows that do not stop the run, resume, repair of a torn tail, ordered output.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gradeManifest } from '../lib/dataset/grade.js';
import type { ClipGrader } from '../lib/grading.js';
import { repoRoot, tempDir } from './helpers/index.js';
import { CLIPS, graderModule, lhotseCut, lhotseRecording, makeDataset, nemoRows, readJsonl, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

describe('11 dataset: gradeManifest', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let grader: ClipGrader;
  let n = 0;
  const out = () => join(t.dir, `out-${++n}.jsonl`);
  before(async () => {
    t = tempDir('voxqc-11-');
    ds = makeDataset(t.dir);
    grader = (await import(pathToFileURL(graderModule).href)).default;
  });
  after(() => t.cleanup());

  it('NeMo JSONL: input row + voxqc per row, extra keys kept, segments graded as spans', async () => {
    const m = writeJsonl(join(t.dir, 'nemo.jsonl'), nemoRows());
    const o = out();
    const s = await gradeManifest(m, { out: o, grader, concurrency: 3 });
    assert.equal(s.rows, 5);
    assert.equal(s.done, 5);
    assert.equal(s.failed, 0);
    assert.equal(s.output.rows, 5);
    const rows = readJsonl(o);
    assert.equal(rows.length, 5);
    const byId = new Map(rows.map((r) => [r.voxqc.id, r]));
    const lj = byId.get('audio/lj.wav')!;
    assert.deepEqual(lj.extra, { n: 0 });
    assert.equal(lj.speaker, 'spk0');
    assert.equal(lj.duration, 9.655);
    assert.ok(['high', 'medium', 'low'].includes(lj.voxqc.grade));
    assert.ok(Array.isArray(lj.voxqc.flags));
    assert.equal(lj.voxqc.scores.durationSec, 9.655);
    assert.equal(lj.voxqc.audio, join(t.dir, 'audio', 'lj.wav'));
    assert.deepEqual(lj.voxqc.input, { format: 'nemo', index: 0, base: t.dir, audioKey: 'audio_filepath' });
    const seg = byId.get('audio/lj.wav@2.5')!;
    assert.equal(seg.voxqc.scores.durationSec, 3, 'the segment is graded, not the whole file');
    assert.equal(seg.voxqc.offsetSec, 2.5);
    assert.equal(seg.voxqc.audioSec, 3);
    assert.ok(Math.abs(s.output.audioSec - (9.655 + 1 + 15 + 2.49 + 3)) < 1e-9);
    // Deterministic: a second run gives the same grades and scores.
    const o2 = out();
    await gradeManifest(m, { out: o2, grader, concurrency: 1, ordered: true });
    const again = new Map(readJsonl(o2).map((r) => [r.voxqc.id, r.voxqc]));
    for (const [id, r] of byId) {
      assert.deepEqual([again.get(id)!.grade, again.get(id)!.flags, again.get(id)!.scores], [r.voxqc.grade, r.voxqc.flags, r.voxqc.scores]);
    }
  });

  it('CSV, TSV, lhotse cuts (.jsonl.gz), lhotse recordings and a folder each give one row per input row', async () => {
    const csv = join(t.dir, 'g.csv');
    writeFileSync(csv, 'id,audio,text,offset,duration\nk1,audio/zero.wav,zero,,\nk2,audio/libri.flac,,5,2.5\n');
    const tsv = join(t.dir, 'g.tsv');
    writeFileSync(tsv, 'path\tsentence\naudio/whisper.wav\tleise\n');
    const rec = lhotseRecording('lj', 'audio/lj.wav', 22050, 9.655);
    const cuts = writeJsonl(join(t.dir, 'g-cuts.jsonl.gz'), [lhotseCut('c0', rec, 0, 2, 'printing'), lhotseCut('c1', rec, 2, 1.5)]);
    const recs = writeJsonl(join(t.dir, 'g-recs.jsonl'), [rec, lhotseRecording('zero', 'audio/zero.wav', 16000, 1)]);
    const folder = join(t.dir, 'audio');
    const expected: [string, string, Record<string, number>][] = [
      [csv, 'csv', { k1: 1, k2: 2.5 }],
      [tsv, 'tsv', { 'audio/whisper.wav': 2.49 }],
      [cuts, 'lhotse-cuts', { c0: 2, c1: 1.5 }],
      [recs, 'lhotse-recordings', { lj: 9.655, zero: 1 }],
      [folder, 'dir', { 'libri.flac': 15, 'lj.wav': 9.655, 'whisper.wav': 2.49, 'zero.wav': 1 }],
    ];
    for (const [input, format, durations] of expected) {
      const o = out();
      const s = await gradeManifest(input, { out: o, grader });
      assert.equal(s.failed, 0, `${format}: ${JSON.stringify(s.output.errors)}`);
      const rows = readJsonl(o);
      assert.equal(rows.length, Object.keys(durations).length, format);
      for (const r of rows) {
        assert.equal(r.voxqc.input.format, format);
        assert.ok(Math.abs(r.voxqc.scores.durationSec - durations[r.voxqc.id]!) < 0.002, `${format} ${r.voxqc.id}: ${r.voxqc.scores.durationSec}`);
      }
      if (format === 'csv') {
        assert.deepEqual(rows.find((r) => r.id === 'k1')!.voxqc.input.columns, ['id', 'audio', 'text', 'offset', 'duration']);
        assert.equal(rows.find((r) => r.id === 'k1')!.text, 'zero');
      }
      if (format === 'lhotse-cuts') assert.equal(rows.find((r) => r.id === 'c0')!.supervisions[0].text, 'printing');
    }
  });

  it('bad clips (missing, corrupt, empty, NaN, grader error, invalid result) give error rows and the run goes on', async () => {
    const m = writeJsonl(join(t.dir, 'bad.jsonl'), [
      { audio_filepath: 'audio/zero.wav' },
      { audio_filepath: ds.bad.missing },
      { audio_filepath: ds.bad.corrupt },
      { audio_filepath: ds.bad.empty },
      { audio_filepath: ds.bad.nan },
      { id: 'throws', audio_filepath: 'audio/zero.wav' },
      { id: 'invalid', audio_filepath: 'audio/zero.wav' },
      { audio_filepath: 'audio/whisper.wav' },
    ]);
    const wrapped: ClipGrader = async (clip, opts) => {
      if (clip.id === 'throws') throw new TypeError('grader bug');
      if (clip.id === 'invalid') return { grade: 'excellent', flags: [], scores: {} } as never;
      return grader(clip, opts);
    };
    const o = out();
    const s = await gradeManifest(m, { out: o, grader: wrapped, concurrency: 4 });
    assert.equal(s.done, 8);
    assert.equal(s.failed, 6);
    assert.deepEqual(s.output.errors, { ERR_NOT_FOUND: 1, ERR_DECODE: 3, ERR_GRADER: 2 });
    const rows = new Map(readJsonl(o).map((r) => [r.voxqc.id, r.voxqc]));
    assert.equal(rows.get(ds.bad.missing)!.error.code, 'ERR_NOT_FOUND');
    assert.equal(rows.get(ds.bad.corrupt)!.error.code, 'ERR_DECODE');
    assert.match(rows.get(ds.bad.empty)!.error.message, /empty/);
    assert.match(rows.get(ds.bad.nan)!.error.message, /NaN or infinite sample at 0\.5000 s/);
    assert.equal(rows.get('throws')!.error.code, 'ERR_GRADER');
    assert.match(rows.get('throws')!.error.message, /grader bug/);
    assert.match(rows.get('invalid')!.error.message, /grade "excellent" is not one of high, medium, low/);
    assert.ok(rows.get('audio/whisper.wav')!.grade);
    assert.ok(rows.get('audio/zero.wav')!.grade);
  });

  it('resume: a rerun skips the rows already in the output and grades only the rest', async () => {
    const m = writeJsonl(join(t.dir, 'resume.jsonl'), nemoRows());
    const o = out();
    let calls = 0;
    const counting: ClipGrader = (clip, opts) => {
      calls++;
      return grader(clip, opts);
    };
    // A first run that stops after two rows (the signal), like an interrupted run.
    const ac = new AbortController();
    const s1 = await gradeManifest(m, {
      out: o,
      grader: counting,
      concurrency: 1,
      signal: ac.signal,
      onRow: (r) => {
        if (r.voxqc.id) ac.abort();
      },
    });
    assert.equal(s1.aborted, true);
    const first = readJsonl(o).length;
    assert.ok(first >= 1 && first < 5, `rows after the interrupted run: ${first}`);
    calls = 0;
    const s2 = await gradeManifest(m, { out: o, grader: counting, concurrency: 2 });
    assert.equal(s2.skipped, first);
    assert.equal(s2.done, 5 - first);
    assert.equal(calls, 5 - first, 'done rows are not graded again');
    const ids = readJsonl(o).map((r) => r.voxqc.id).sort();
    assert.deepEqual(ids, nemoRows().map((r) => (r.offset ? `${r.audio_filepath}@${r.offset}` : r.audio_filepath)).sort());
    // Nothing left: a third run writes nothing.
    const s3 = await gradeManifest(m, { out: o, grader: counting });
    assert.equal(s3.done, 0);
    assert.equal(s3.skipped, 5);
    assert.equal(readJsonl(o).length, 5);
    // resume: false starts over.
    const s4 = await gradeManifest(m, { out: o, grader, resume: false });
    assert.equal(s4.done, 5);
    assert.equal(readJsonl(o).length, 5);
  });

  it('resume repairs a torn last line and garbage in the middle, and can retry error rows', async () => {
    const m = writeJsonl(join(t.dir, 'torn.jsonl'), [
      { audio_filepath: 'audio/zero.wav' },
      { audio_filepath: 'audio/whisper.wav' },
      { audio_filepath: ds.bad.missing },
      { audio_filepath: 'audio/lj.wav' },
    ]);
    const o = out();
    await gradeManifest(m, { out: o, grader, ordered: true, concurrency: 1 });
    const lines = readFileSync(o, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 4);
    // A crash in the middle of the last row: half a line, no newline.
    writeFileSync(o, lines.slice(0, 3).join('\n') + '\n' + lines[3]!.slice(0, 40));
    const s = await gradeManifest(m, { out: o, grader });
    assert.equal(s.repaired.droppedLines, 1);
    assert.equal(s.repaired.truncatedBytes, 40);
    assert.equal(s.skipped, 3);
    assert.equal(s.done, 1);
    const after = readFileSync(o, 'utf8');
    assert.ok(after.endsWith('\n'));
    assert.equal(after.split('\n').filter(Boolean).length, 4);
    assert.ok(readJsonl(o).every((r) => r.voxqc), 'every line is a whole row');
    // Zero-filled blocks in the middle (a power cut): dropped by a rewrite, the rows regraded.
    const good = readFileSync(o, 'utf8').split('\n').filter(Boolean);
    writeFileSync(o, [good[0], '\0\0\0\0\0\0', good[2], good[3]].join('\n') + '\n');
    const s2 = await gradeManifest(m, { out: o, grader });
    assert.equal(s2.repaired.droppedLines, 1);
    assert.equal(s2.done, 1);
    assert.equal(readJsonl(o).length, 4);
    // Error rows are done rows; retryErrors grades them again and removes the old error rows.
    const s3 = await gradeManifest(m, { out: o, grader });
    assert.equal(s3.done, 0);
    assert.equal(s3.output.failed, 1);
    const s4 = await gradeManifest(m, { out: o, grader, retryErrors: true });
    assert.equal(s4.repaired.droppedErrorRows, 1);
    assert.equal(s4.done, 1);
    assert.equal(s4.failed, 1, 'still missing');
    assert.equal(readJsonl(o).length, 4);
  });

  it('ordered output is in manifest order; unordered output has every row once', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, audio_filepath: `audio/${CLIPS[i % CLIPS.length]![0]}` }));
    const m = writeJsonl(join(t.dir, 'order.jsonl'), rows);
    // A grader that grades each clip, then holds it until 4 are held (the first clip of a run is
    // graded alone, so it passes at once; the last batch has 3) and lets them go one at a time in
    // descending row order, the next when the previous row is written (onRow): the finishing
    // order is fixed, whatever the decode times. (Ordered output writes nothing until the lowest
    // row is done, so there the batch is let go at once.)
    const shuffling = (chained: boolean) => {
      let arrived = 0;
      const held: { n: number; release: () => void }[] = [];
      const next = () => held.shift()?.release();
      const grade: ClipGrader = async (clip, opts) => {
        const result = await grader(clip, opts);
        await new Promise<void>((release) => {
          held.push({ n: Number(clip.id.slice(1)), release });
          arrived++;
          if (arrived === 1 || held.length === 4 || arrived === 12) {
            held.sort((a, b) => b.n - a.n);
            if (chained) next();
            else while (held.length) next();
          }
        });
        return result;
      };
      return chained ? { grader: grade, onRow: next } : { grader: grade };
    };
    const o = out();
    await gradeManifest(m, { out: o, ...shuffling(false), concurrency: 4, ordered: true });
    assert.deepEqual(readJsonl(o).map((r) => r.voxqc.id), rows.map((r) => r.id));
    assert.deepEqual(readJsonl(o).map((r) => r.voxqc.input.index), rows.map((_, i) => i));
    const o2 = out();
    await gradeManifest(m, { out: o2, ...shuffling(true), concurrency: 4 });
    assert.deepEqual(
      readJsonl(o2).map((r) => r.voxqc.id),
      ['r0', 'r4', 'r3', 'r2', 'r1', 'r8', 'r7', 'r6', 'r5', 'r11', 'r10', 'r9'],
      'unordered: rows are written as they finish',
    );
  });

  it('options: the grader gets the thresholds; mode model and a grader that cannot run fail before writing', async () => {
    const m = writeJsonl(join(t.dir, 'opts.jsonl'), [{ audio_filepath: 'audio/whisper.wav' }]);
    const o1 = out();
    await gradeManifest(m, { out: o1, grader });
    assert.deepEqual(readJsonl(o1)[0]!.voxqc.flags, ['too_quiet']);
    const o2 = out();
    await gradeManifest(m, { out: o2, grader, thresholds: { tooQuietDbfs: -60 } });
    assert.deepEqual(readJsonl(o2)[0]!.voxqc.flags, []);

    const o3 = out();
    // A model that cannot be loaded (the deliberately broken one) stops the run before it writes.
    process.env.VOXQC_MODEL = join(repoRoot, 'models', 'broken');
    try {
      await assert.rejects(gradeManifest(m, { out: o3, mode: 'model' }), (e: any) => e.code === 'ERR_UNSUPPORTED' && /models\/broken cannot be loaded/.test(e.message) && /nothing was written/.test(e.message));
    } finally {
      delete process.env.VOXQC_MODEL;
    }
    const unsupported: ClipGrader = async (clip) => {
      const { VoxqcError } = await import('../lib/errors.js');
      throw new VoxqcError('ERR_UNSUPPORTED', `${clip.audio}: not in this build`);
    };
    await assert.rejects(gradeManifest(m, { out: o3, grader: unsupported }), (e: any) => e.code === 'ERR_UNSUPPORTED' && /nothing was written/.test(e.message));
    assert.equal(existsSync(o3), false, 'no output file is left behind');
    await assert.rejects(gradeManifest(m, { out: o3, grader, concurrency: 0 }), /expected concurrency to be an integer from 1 to 1024, but received 0/);
    await assert.rejects(gradeManifest(m, { out: o3, grader, shard: '3/2' }), /1 ≤ i ≤ n/);
    await assert.rejects(gradeManifest(m, { out: o3, grader, fsync: 'always' as never }), /expected fsync to be one of 'row', 'interval', 'end'/);
    await assert.rejects(gradeManifest(m, { out: o3, grader, nope: 1 } as never), /unknown option 'nope'/);
  });

  it('fsync row and end policies write the same rows; an appended partial line without newline is fixed', async () => {
    const m = writeJsonl(join(t.dir, 'fs.jsonl'), [{ audio_filepath: 'audio/zero.wav' }, { audio_filepath: 'audio/whisper.wav' }]);
    for (const fsync of ['row', 'end'] as const) {
      const o = out();
      const s = await gradeManifest(m, { out: o, grader, fsync });
      assert.equal(s.done, 2);
      assert.equal(readJsonl(o).length, 2);
    }
    // A valid last row that lacks its newline (edited by hand) is kept, and a newline added.
    const o = out();
    await gradeManifest(m, { out: o, grader, ordered: true, concurrency: 1 });
    const text = readFileSync(o, 'utf8').trimEnd();
    writeFileSync(o, text);
    appendFileSync(o, '');
    const s = await gradeManifest(m, { out: o, grader });
    assert.equal(s.done, 0);
    assert.ok(readFileSync(o, 'utf8').endsWith('}\n'));
  });
});
