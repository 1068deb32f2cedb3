// Layer 14: filterGraded / `voxqc filter`: the kept rows come back in the manifest's own format
// (NeMo JSONL, CSV, TSV, lhotse cuts .jsonl.gz, lhotse recordings; folders as NeMo), with relative
// paths that still point at the clips, and the counts and hours kept and dropped.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { gradeManifest } from '../lib/dataset/grade.js';
import { filterGraded } from '../lib/dataset/filter.js';
import type { ClipGrader } from '../lib/grading.js';
import { tempDir } from './helpers/index.js';
import { graderModule, lhotseCut, lhotseRecording, makeDataset, readJsonl, runCli, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

// With the level grader, thorsten_emotional_whisper (whisper.wav) is the one low clip (too_quiet);
// the other clips are high. The tests check that first.
describe('14 dataset: filter', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let grader: ClipGrader;
  const graded = async (manifest: string, name: string) => {
    const out = join(t.dir, `${name}.graded.jsonl`);
    await gradeManifest(manifest, { out, grader, ordered: true });
    return out;
  };
  before(async () => {
    t = tempDir('voxqc-14-');
    ds = makeDataset(t.dir);
    grader = (await import(pathToFileURL(graderModule).href)).default;
  });
  after(() => t.cleanup());

  it('the test grader grades whisper.wav low (too_quiet) and the rest high', async () => {
    const g = await graded(writeJsonl(join(t.dir, 'check.jsonl'), ds.good.map((p) => ({ audio_filepath: p }))), 'check');
    const grades = Object.fromEntries(readJsonl(g).map((r) => [r.voxqc.id, [r.voxqc.grade, r.voxqc.flags]]));
    assert.deepEqual(grades, {
      'audio/lj.wav': ['high', []],
      'audio/zero.wav': ['high', []],
      'audio/libri.flac': ['high', []],
      'audio/whisper.wav': ['low', ['too_quiet']],
    });
  });

  it('NeMo JSONL: kept rows are the input rows, unchanged, without voxqc; error rows dropped', async () => {
    const input = [
      { audio_filepath: 'audio/lj.wav', duration: 9.655, text: 'printing', speaker: 'a', nested: { k: [1, 2] } },
      { audio_filepath: 'audio/whisper.wav', duration: 2.49, text: 'leise', speaker: 'b' },
      { audio_filepath: ds.bad.corrupt, duration: 1, text: 'x' },
      { audio_filepath: 'audio/zero.wav', duration: 1, text: 'zero', speaker: 'c' },
    ];
    const g = await graded(writeJsonl(join(t.dir, 'nemo.jsonl'), input), 'nemo');
    const out = join(t.dir, 'nemo.clean.jsonl');
    const s = await filterGraded(g, { out, minGrade: 'medium' });
    assert.deepEqual(readJsonl(out), [input[0], input[3]]);
    assert.equal(s.format, 'nemo');
    assert.deepEqual([s.kept, s.dropped], [2, 2]);
    assert.deepEqual(s.droppedBy, { error: 1, grade: 1, flags: 0, where: 0 });
    assert.ok(Math.abs(s.keptSec - 10.655) < 1e-9);
    assert.ok(Math.abs(s.droppedSec - 3.49) < 1e-9);
    // --keep-voxqc keeps the key; min grade low keeps every graded clip.
    const kv = join(t.dir, 'nemo.kv.jsonl');
    await filterGraded(g, { out: kv, keepVoxqc: true });
    const rows = readJsonl(kv);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.voxqc && r.voxqc.grade));
  });

  it('--where and --exclude-flags; an output in another folder gets paths that still point at the clips', async () => {
    const input = ds.good.map((p, i) => ({ audio_filepath: p, i }));
    const g = await graded(writeJsonl(join(t.dir, 'w.jsonl'), input), 'w');
    const other = join(t.dir, 'elsewhere', 'deeper');
    mkdirSync(other, { recursive: true });
    const out = join(other, 'speech.jsonl');
    const s = await filterGraded(g, { out, where: 'speechSec > 1 and snrDb >= 20', excludeFlags: ['too_quiet'] });
    const rows = readJsonl(out);
    assert.deepEqual(rows.map((r) => r.i).sort(), [0, 2], 'lj and libri (zero.wav has under 1 s of speech)');
    for (const r of rows) {
      assert.ok(r.audio_filepath.startsWith('../../audio/'), r.audio_filepath);
      assert.ok(existsSync(resolve(other, r.audio_filepath)));
    }
    assert.deepEqual(s.droppedBy, { error: 0, grade: 0, flags: 1, where: 1 });
    const abs = join(other, 'abs.jsonl');
    await filterGraded(g, { out: abs, paths: 'absolute' });
    assert.ok(readJsonl(abs).every((r) => r.audio_filepath.startsWith(t.dir)));
    const keep = join(other, 'keep.jsonl');
    await filterGraded(g, { out: keep, paths: 'keep' });
    assert.deepEqual(readJsonl(keep).map((r) => r.audio_filepath).sort(), [...ds.good].sort());
    await assert.rejects(filterGraded(g, { out: keep, where: 'snrDb >>' }), /--where: expected a value/);
    await assert.rejects(filterGraded(g, { out: keep, minGrade: 'great' as never }), /expected minGrade to be one of 'high', 'medium', 'low'/);
  });

  it('CSV and TSV stay CSV and TSV: same header, same columns, quoting kept valid', async () => {
    const csvText = 'id,audio_filepath,text,duration\n1,audio/lj.wav,"Printing, in the ""only"" sense",9.655\n2,audio/whisper.wav,leise,2.49\n3,audio/zero.wav,zero,1\n';
    const csv = join(t.dir, 'f.csv');
    writeFileSync(csv, csvText);
    const out = join(t.dir, 'f.clean.csv');
    await filterGraded(await graded(csv, 'csv'), { out, minGrade: 'high' });
    const text = readFileSync(out, 'utf8');
    assert.equal(text.split('\n')[0], 'id,audio_filepath,text,duration');
    assert.deepEqual(parse(text, { columns: true }), [
      { id: '1', audio_filepath: 'audio/lj.wav', text: 'Printing, in the "only" sense', duration: '9.655' },
      { id: '3', audio_filepath: 'audio/zero.wav', text: 'zero', duration: '1' },
    ]);
    const tsv = join(t.dir, 'f.tsv');
    writeFileSync(tsv, 'path\tsentence\tup_votes\naudio/whisper.wav\tleise\t2\naudio/zero.wav\tzero, once\t3\n');
    const tout = join(t.dir, 'f.clean.tsv');
    await filterGraded(await graded(tsv, 'tsv'), { out: tout, minGrade: 'medium', keepVoxqc: true });
    assert.equal(readFileSync(tout, 'utf8'), 'path\tsentence\tup_votes\tvoxqc_grade\tvoxqc_flags\naudio/zero.wav\tzero, once\t3\thigh\t\n');
  });

  it('lhotse cuts (.jsonl.gz) stay gzipped lhotse cuts; recordings stay recordings; paths rebased inside', async () => {
    const rec = lhotseRecording('lj', 'audio/lj.wav', 22050, 9.655);
    const quiet = lhotseRecording('whisper', 'audio/whisper.wav', 22050, 2.49);
    const cuts = [lhotseCut('lj-a', rec, 0, 4, 'printing'), lhotseCut('w-a', quiet, 0, 2, 'leise'), lhotseCut('lj-b', rec, 4, 4)];
    const g = await graded(writeJsonl(join(t.dir, 'cuts.jsonl.gz'), cuts), 'cuts');
    const out = join(t.dir, 'cuts.clean.jsonl.gz');
    const s = await filterGraded(g, { out, minGrade: 'medium' });
    assert.equal(s.format, 'lhotse-cuts');
    assert.ok(gunzipSync(readFileSync(out)).length > 0, 'gzipped');
    assert.deepEqual(readJsonl(out), [cuts[0], cuts[2]]);

    const recs = [rec, quiet];
    const gr = await graded(writeJsonl(join(t.dir, 'recs.jsonl'), recs), 'recs');
    mkdirSync(join(t.dir, 'sub'), { recursive: true });
    const rout = join(t.dir, 'sub', 'recs.clean.jsonl');
    await filterGraded(gr, { out: rout, minGrade: 'high' });
    const kept = readJsonl(rout);
    assert.equal(kept.length, 1);
    assert.equal(kept[0]!.id, 'lj');
    assert.equal(kept[0]!.sources[0].source, '../audio/lj.wav');
    assert.deepEqual({ ...kept[0], sources: rec.sources }, rec);
  });

  it('a graded folder filters to a NeMo manifest with durations', async () => {
    const g = await graded(join(t.dir, 'audio'), 'dir');
    const out = join(t.dir, 'audio', 'clean.jsonl');
    const s = await filterGraded(g, { out, minGrade: 'high' });
    assert.equal(s.format, 'nemo');
    assert.deepEqual(readJsonl(out), [
      { audio_filepath: 'libri.flac', duration: 15 },
      { audio_filepath: 'lj.wav', duration: 9.655 },
      { audio_filepath: 'zero.wav', duration: 1 },
    ]);
  });

  it('voxqc filter (CLI) prints kept/dropped counts and hours; bad usage exits 2', async () => {
    const input = ds.good.map((p) => ({ audio_filepath: p }));
    const g = await graded(writeJsonl(join(t.dir, 'cli.jsonl'), input), 'cli');
    const out = join(t.dir, 'cli.clean.jsonl');
    const r = await runCli(['filter', g, '--min-grade', 'medium', '--exclude-flags', 'noisy,clipping', '--where', 'snrDb > 15', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /voxqc filter: kept 3 clips \(0\.007 h\), dropped 1 \(0\.001 h: 1 by grade, 0 by flags, 0 by --where, 0 failed\)/);
    assert.match(r.out, /\(nemo\)/);
    assert.equal(readJsonl(out).length, 3);
    const bad = await runCli(['filter', g, '--min-grade', 'great', '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--min-grade: expected high, medium or low, received 'great'/);
    const where = await runCli(['filter', g, '--where', 'snrDb > ', '--out', out]);
    assert.equal(where.code, 2);
    assert.match(where.err, /--where: unexpected end of expression/);
    const notGraded = await runCli(['filter', join(t.dir, 'cli.jsonl'), '--out', join(dirname(out), 'x.jsonl')]);
    assert.equal(notGraded.code, 2);
    assert.match(notGraded.err, /is not a graded row/);
  });
});
