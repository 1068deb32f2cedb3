// Layer 22: the learned grader through the public API: the committed tiny model loads and grades,
// the deliberately broken one fails with a clear error, and dispose() is final.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Grader, loadAudio, VoxqcError } from '../lib/index.js';
import { repoRoot, samplesDir, sine } from './helpers/index.js';

const tiny = join(repoRoot, 'models', 'tiny');
const broken = join(repoRoot, 'models', 'broken');
// Scores as analyze() reports them, given here so this layer does not depend on the metrics.
const scores = { snrDb: 30, activeLevelDbfs: -22, speechSec: 2, clippedFraction: 0 };

describe('22 learned grader', () => {
  it('loads the tiny model and grades clips of different lengths, in order, as probabilities', async () => {
    const grader = await Grader.load(tiny);
    try {
      assert.deepEqual(grader.grades, ['high', 'medium', 'low']);
      assert.equal(grader.flagNames.length, 12);
      assert.ok(grader.parameters > 1000);
      const speech = await loadAudio(join(samplesDir, 'ljspeech_LJ001-0001.wav'));
      const out = await grader.grade([
        { id: 'a', audio: speech, text: 'printing in the only sense', scores },
        { id: 'b', audio: { ...speech, samples: sine(440, 16000, 16000), sampleRate: 16000, durationSec: 1 }, scores },
      ]);
      assert.deepEqual(out.map((r) => r.id), ['a', 'b']);
      for (const r of out) {
        const sum = r.probabilities.high + r.probabilities.medium + r.probabilities.low;
        assert.ok(Math.abs(sum - 1) < 1e-5, String(sum));
        assert.ok(['high', 'medium', 'low'].includes(r.grade));
        for (const p of Object.values(r.flags)) assert.ok(p! >= 0 && p! <= 1);
        assert.ok(Number.isFinite(r.snrDb));
      }
      // The same clip alone gives the same answer as inside the batch.
      const alone = await grader.grade({ audio: speech, text: 'printing in the only sense', scores });
      assert.ok(Math.abs(alone[0]!.probabilities.high - out[0]!.probabilities.high) < 1e-5);
    } finally {
      grader.dispose();
    }
  });

  it('a broken weights file fails to load with ERR_DECODE naming the file', async () => {
    await assert.rejects(Grader.load(broken), (err: unknown) => {
      assert.ok(err instanceof VoxqcError);
      assert.equal(err.code, 'ERR_DECODE');
      assert.match(err.message, /models\/broken\/model\.pt/);
      return true;
    });
    await assert.rejects(Grader.load(join(repoRoot, 'models', 'nope')), (err: unknown) => err instanceof VoxqcError && err.code === 'ERR_NOT_FOUND');
  });

  it('grade() after dispose() is an error; device cuda on a CPU build says what to do', async () => {
    const grader = await Grader.load(tiny);
    grader.dispose();
    await assert.rejects(grader.grade({ audio: join(samplesDir, 'speechcommands_zero_3d794813.wav'), scores }), /after dispose/);
    await assert.rejects(Grader.load(tiny, { device: 'cuda' }), /CUDA libtorch/);
  });
});
