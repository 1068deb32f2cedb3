// Layer 23: training the grader through the public API on a small prepared set the test writes
// (tones graded high, noise low, clipped tones medium): progress events, the trained model loads
// and grades, and cancel + rerun resumes from the checkpoint.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Grader, train, type TrainProgress } from '../lib/index.js';
import { writeWav } from '../lib/wav.js';
import { repoRoot, tempDir } from './helpers/index.js';

async function prepare(dir: string, perClass = 12): Promise<string> {
  const rows: string[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < perClass * 3; i++) {
    const kind = i % 3;
    const n = 16000 + Math.floor(rand() * 8000);
    const x = new Float32Array(n);
    const f = 200 + rand() * 600;
    for (let t = 0; t < n; t++) {
      const tone = 0.5 * Math.sin((2 * Math.PI * f * t) / 16000);
      x[t] = kind === 1 ? (rand() * 2 - 1) * 0.5 : kind === 2 ? Math.max(-0.2, Math.min(0.2, tone)) : tone;
    }
    const file = join(dir, `clip${i}.wav`);
    await writeWav(file, x, 16000, 'float32');
    const grade = ['high', 'low', 'medium'][kind];
    rows.push(JSON.stringify({ id: `c${i}`, audio: file, text: null, video: null, scores: {}, speaker: `spk${i % 9}`, source: 'test', split: i % 6 === 0 ? 'val' : 'train', label: { grade, flags: kind === 2 ? ['clipping'] : kind === 1 ? ['low_snr'] : [], truth: {} } }));
  }
  const manifest = join(dir, 'manifest.jsonl');
  writeFileSync(manifest, rows.join('\n') + '\n');
  return manifest;
}

describe('23 training', function () {
  const t = tempDir();
  after(() => t.cleanup());
  const config = JSON.parse(readFileSync(join(repoRoot, 'models', 'tiny', 'config.json'), 'utf8'));

  it('trains a tiny model: progress events, model files, and the result grades', async () => {
    const manifest = await prepare(t.dir);
    const out = join(t.dir, 'model');
    const events: TrainProgress[] = [];
    const handle = train({ data: manifest, config, out, epochs: 6, seed: 3, threads: 1, batchSize: 8 });
    handle.on('progress', (p) => events.push(p));
    const result = await handle.result;
    assert.equal(result.cancelled, false);
    assert.ok(existsSync(result.modelPath) && existsSync(result.configPath) && existsSync(result.metricsPath));
    assert.ok(events.some((e) => e.phase === 'data') && events.some((e) => e.phase === 'eval') && events.at(-1)!.phase === 'done');
    assert.equal(result.epochsDone, 6);
    const trainLoss = events.filter((e) => e.phase === 'eval').map((e) => e.loss);
    console.log(`      loss by epoch: ${trainLoss.map((l) => l.toFixed(3)).join(' ')}; val accuracy ${(result.best as { accuracy: number }).accuracy}`);
    assert.ok(trainLoss.at(-1)! < trainLoss[0]!, 'the training loss goes down');
    const grader = await Grader.load(out);
    const [r] = await grader.grade({ audio: join(t.dir, 'clip0.wav'), scores: {} });
    assert.ok(Math.abs(r!.probabilities.high + r!.probabilities.medium + r!.probabilities.low - 1) < 1e-5);
    grader.dispose();
  });

  it('cancel() stops with a checkpoint; the same call resumes from it', async () => {
    const manifest = join(t.dir, 'manifest.jsonl');
    const out = join(t.dir, 'resumed');
    const first = train({ data: manifest, config, out, epochs: 3, seed: 3, threads: 1, batchSize: 8, progressEvery: 1 });
    first.on('progress', (p) => {
      if (p.phase === 'train' && p.step >= 2) first.cancel();
    });
    const r1 = await first.result;
    assert.equal(r1.cancelled, true);
    const r2 = await train({ data: manifest, config, out, epochs: 3, seed: 3, threads: 1, batchSize: 8 }).result;
    assert.equal(r2.cancelled, false);
    assert.ok(r2.resumedFromStep >= 2, `resumed from ${r2.resumedFromStep}`);
  });

  it('bad options are named', () => {
    assert.throws(() => train({ data: '/nope', config: {}, out: t.dir }), /no such file/);
    assert.throws(() => train({ data: t.dir, config: {}, out: t.dir, epochs: 0 }), /expected epochs to be an integer/);
    assert.throws(() => train({ data: t.dir, config: { fusion: 'sideways' }, out: join(t.dir, 'x') }), /fusion/);
  });
});
