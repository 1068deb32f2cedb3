// Layer 25: from a labelled set to a model that grades a dataset run. prepareTrainingData turns
// labelled clips into the trainer's form (16 kHz WAV, the scores analyze() measures, mouth-region
// frames of a video, a speaker-disjoint split); `voxqc train` on a labelled folder prepares it and
// trains the tiny config (the CLI smoke run); `voxqc grade --mode model` then reports the model's
// view next to the rules; the final-grade policies combine the two as documented.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { analyze, combineGrades, gradeManifest, loadAudio, prepareTrainingData, VoxqcError } from '../lib/index.js';
import { writeWav } from '../lib/wav.js';
import { corpusDir, repoRoot, samplesDir, tempDir } from './helpers/index.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'lib', 'cli.js');
const FLAGS = ['no_speech', 'low_snr', 'noisy', 'clipping', 'dropout', 'repetition', 'truncated', 'too_quiet', 'long_silence', 'narrowband', 'transcript_mismatch', 'av_offset'] as const;

/** A labelled set as `voxqc simulate` writes it: the samples, and copies with a planted 120 ms dropout or 2% clipping. */
async function labelledSet(dir: string): Promise<{ manifest: string; dropoutAt: number }> {
  const lj = await loadAudio(join(samplesDir, 'ljspeech_LJ001-0001.wav'), { sampleRate: 16000 });
  const rows: object[] = [];
  // Real speech at its own rate (22.05 kHz WAV, FLAC): prepare converts it.
  rows.push({ id: 'lj', audio_filepath: join(samplesDir, 'ljspeech_LJ001-0001.wav'), text: 'printing in the only sense with which we are at present concerned', speaker: 'lj', source: 'ljspeech', label: { grade: 'high', flags: [], truth: {} } });
  rows.push({ id: 'libri', audio_filepath: join(samplesDir, 'librispeech_1688-142285-0000.flac'), speaker: 'libri:1688', source: 'librispeech', label: { grade: 'low', flags: ['truncated'], truth: {} } });
  // Planted defects at a known place and size, in 16 kHz WAVs (used in place).
  const dropoutAt = 3.0;
  for (let k = 0; k < 6; k++) {
    const x = lj.samples.slice(16000 * k * 0.5, 16000 * (k * 0.5 + 6));
    let grade = 'high';
    let flags: string[] = [];
    if (k % 3 === 1) {
      x.fill(0, Math.round(dropoutAt * 16000), Math.round((dropoutAt + 0.12) * 16000));
      grade = 'low';
      flags = ['dropout'];
    } else if (k % 3 === 2) {
      let peak = 0;
      for (const v of x) peak = Math.max(peak, Math.abs(v));
      for (let i = 0; i < x.length; i++) x[i] = Math.max(-0.2 * peak, Math.min(0.2 * peak, x[i]!));
      grade = 'low';
      flags = ['clipping'];
    }
    const file = join(dir, `planted${k}.wav`);
    await writeWav(file, x, 16000);
    rows.push({ id: `planted${k}`, audio_filepath: basename(file), speaker: `spk${k % 3}`, source: 'ljspeech', label: { grade, flags, truth: {} } });
  }
  const corpus = corpusDir();
  if (corpus) {
    const video = join(corpus, 'video', 'grid_lipnet_videos', 'bbaf2n.mpg');
    rows.push({ id: 'simv-00000', audio_filepath: video, video_filepath: video, text: 'bin blue at f two now', speaker: 'grid_lipnet_videos', source: 'grid_lipnet_videos', label: { grade: 'high', flags: [], truth: {}, source: { path: 'video/grid_lipnet_videos/bbaf2n.mpg' } } });
  }
  const manifest = join(dir, 'manifest.jsonl');
  writeFileSync(manifest, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { manifest, dropoutAt };
}

describe('25 training data and model grading', function () {
  this.timeout(240_000);
  const t = tempDir();
  after(() => t.cleanup());
  let labelled: { manifest: string; dropoutAt: number };
  before(async () => {
    labelled = await labelledSet(t.dir);
  });

  it('prepares 16 kHz WAVs, the scores analyze() measures, video frames and a speaker-disjoint split', async () => {
    const out = join(t.dir, 'prepared-api');
    const summary = await prepareTrainingData({ data: t.dir, out, valFraction: 0.4 });
    assert.deepEqual(summary.errors, []);
    const rows = readFileSync(summary.manifest, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, summary.rows);
    assert.equal(summary.train.rows + summary.val.rows, rows.length);
    for (const r of rows) {
      const a = await loadAudio(r.audio);
      assert.equal(a.source.sampleRate, 16000, r.id);
      assert.equal(a.source.channels, 1, r.id);
      assert.ok(r.label.grade && Array.isArray(r.label.flags));
    }
    // 16 kHz mono WAVs are used where they lie; the 22.05 kHz WAV and the FLAC are converted.
    assert.equal(rows.find((r) => r.id === 'planted0').audio, join(t.dir, 'planted0.wav'));
    assert.equal(rows.find((r) => r.id === 'lj').audio, join(out, 'audio', 'lj.wav'));
    // The scores are what analyze() measures on the clip: the planted dropout is found at its size.
    const dropped = rows.find((r) => r.id === 'planted1');
    assert.ok(Math.abs(dropped.scores.maxDropoutMs - 120) <= 12, `maxDropoutMs ${dropped.scores.maxDropoutMs}`);
    assert.ok(dropped.rules.flags.includes('dropout'));
    const lj = rows.find((r) => r.id === 'lj');
    const direct = await analyze(lj.audio, { text: lj.text });
    assert.equal(lj.scores.snrDb, direct.scores.snrDb);
    assert.equal(lj.scores.textMatch, direct.scores.textMatch);
    // No speaker on both sides.
    const side = new Map<string, string>();
    for (const r of rows) {
      assert.ok(!side.has(r.speaker) || side.get(r.speaker) === r.split, `speaker ${r.speaker} on both sides`);
      side.set(r.speaker, r.split);
    }
    const video = rows.find((r) => r.id === 'simv-00000');
    if (video) {
      // Its speaker is the original video, not the whole source; 3 s at 25 fps of 64x48 frames.
      assert.equal(video.speaker, 'grid_lipnet_videos:bbaf2n');
      const vxv = readFileSync(video.video);
      assert.equal(vxv.readUInt32LE(0), 0x56585156);
      const [frames, h, w] = [vxv.readUInt32LE(4), vxv.readUInt32LE(8), vxv.readUInt32LE(12)];
      assert.deepEqual([h, w], [48, 64]);
      assert.ok(Math.abs(frames - 75) <= 1, `${frames} frames`);
      assert.equal(vxv.length, 16 + frames * h * w);
      assert.equal(typeof video.scores.avOffsetMs, 'number');
    }
  });

  it('voxqc train on a labelled folder prepares it and trains (CLI smoke run); grade --mode model uses the result', async () => {
    const model = join(t.dir, 'model');
    const { stdout, stderr } = await run(process.execPath, [cli, 'train', '--data', t.dir, '--config', join(repoRoot, 'models', 'tiny', 'config.json'), '--out', model, '--epochs', '2', '--threads', '1', '--val-fraction', '0.4'], { maxBuffer: 1 << 24 });
    assert.match(stderr, /prepare: prepared \d+ clips/);
    assert.ok(existsSync(join(t.dir, 'prepared', 'manifest.jsonl')));
    assert.match(stdout, /model: .*model\.pt/);
    const metrics = JSON.parse(readFileSync(join(model, 'metrics.json'), 'utf8'));
    assert.ok(metrics.history?.length === 2 || metrics.epochsDone === 2, JSON.stringify(metrics).slice(0, 200));

    const graded = join(t.dir, 'graded.jsonl');
    await run(process.execPath, [cli, 'grade', join(samplesDir, 'manifest.jsonl'), '--out', graded, '--mode', 'model', '--quiet', '--jobs', '1'], {
      env: { ...process.env, VOXQC_MODEL: model },
    });
    const out = readFileSync(graded, 'utf8').trim().split('\n').map((l) => JSON.parse(l).voxqc);
    assert.equal(out.length, 5);
    for (const v of out) {
      assert.equal(v.error, undefined, JSON.stringify(v.error));
      const p = v.model.grade;
      assert.ok(Math.abs(p.high + p.medium + p.low - 1) < 1e-5);
      assert.ok(['high', 'medium', 'low'].includes(v.rules.grade));
      // No grading.json beside this model: the final grade is the model's most probable one.
      const best = (Object.entries(p) as Array<[string, number]>).sort((a, b) => b[1] - a[1])[0]![0];
      assert.equal(v.grade, best);
      assert.equal(typeof v.scores.snrDb, 'number');
    }
  });

  it('a missing model stops a model run before it writes a row', async () => {
    const prev = process.env.VOXQC_MODEL;
    process.env.VOXQC_MODEL = join(t.dir, 'no-such-model');
    try {
      await assert.rejects(gradeManifest(join(samplesDir, 'manifest.jsonl'), { out: join(t.dir, 'none.jsonl'), mode: 'model' }), (err: unknown) => {
        assert.ok(err instanceof VoxqcError);
        assert.equal(err.code, 'ERR_UNSUPPORTED');
        assert.match(err.message, /no-such-model/);
        return true;
      });
      assert.ok(!existsSync(join(t.dir, 'none.jsonl')) || readFileSync(join(t.dir, 'none.jsonl'), 'utf8') === '');
    } finally {
      if (prev === undefined) delete process.env.VOXQC_MODEL;
      else process.env.VOXQC_MODEL = prev;
    }
  });

  it('Grader.grade takes a video: the mouth frames reach the model (the grade changes) and avOffsetMs is measured', async function () {
    const corpus = corpusDir();
    if (!corpus) this.skip();
    const { Grader } = await import('../lib/index.js');
    const video = join(corpus!, 'video', 'grid_lipnet_videos', 'bbaf2n.mpg');
    const grader = await Grader.load(join(repoRoot, 'models', 'tiny'));
    try {
      const audio = await loadAudio(video, { sampleRate: 16000 });
      const scores = (await analyze(audio)).scores;
      const [withVideo, without] = await grader.grade([
        { audio, scores, video },
        { audio, scores },
      ]);
      const diff = Math.abs(withVideo!.probabilities.high - without!.probabilities.high);
      assert.ok(diff > 1e-6, `the video changed nothing (${diff})`);
      // Without given scores, the video's offset is measured (the GRID clip is in sync).
      const measured = await analyze(audio, { video });
      assert.ok(Math.abs(measured.scores.avOffsetMs as number) < 100, String(measured.scores.avOffsetMs));
    } finally {
      grader.dispose();
    }
  });

  it('final-grade policies: model, rules, the worse of the two with the union of flags, and coherent', () => {
    const rules = { grade: 'medium' as const, flags: ['noisy' as const] };
    const model = { grade: 'low' as const, flags: { dropout: 0.9, noisy: 0.2, clipping: 0.5 } };
    assert.deepEqual(combineGrades('model', rules, model, FLAGS), { grade: 'low', flags: ['clipping', 'dropout'] });
    assert.deepEqual(combineGrades('rules', rules, model, FLAGS), { grade: 'medium', flags: ['noisy'] });
    assert.deepEqual(combineGrades('worst', rules, model, FLAGS), { grade: 'low', flags: ['noisy', 'clipping', 'dropout'] });
    assert.deepEqual(combineGrades('worst', { grade: 'low', flags: ['too_quiet'] }, { grade: 'high', flags: {} }, FLAGS), { grade: 'low', flags: ['too_quiet'] });
    // coherent: the model's grade, with the flags that grade allows.
    assert.deepEqual(combineGrades('coherent', rules, { grade: 'high', flags: { truncated: 0.6, noisy: 0.9 } }, FLAGS), { grade: 'high', flags: [] });
    assert.deepEqual(combineGrades('coherent', rules, { grade: 'medium', flags: { noisy: 0.7, truncated: 0.8 } }, FLAGS), { grade: 'medium', flags: ['noisy'] });
    assert.deepEqual(combineGrades('coherent', rules, { grade: 'low', flags: { noisy: 0.7, truncated: 0.8 } }, FLAGS), { grade: 'low', flags: ['noisy', 'truncated'] });
  });
});
