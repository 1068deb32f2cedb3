// Layer 3: the band-limited resampler, measured on sines (closed form).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAudio, resample } from '../lib/index.js';
import { maxAbsDiff, residualRms, rms, samplesDir, sine, toneAmplitude } from './helpers/index.js';

const pairs: Array<[number, number]> = [
  [44100, 16000],
  [48000, 16000],
  [22050, 16000],
  [16000, 22050],
  [8000, 16000],
  [44100, 48000],
];

describe('03 resampler', () => {
  for (const [from, to] of pairs) {
    it(`${from} -> ${to}: passband ripple < 0.001 dB, stopband < -95 dB, images < -95 dB`, async () => {
      const lowerNyquist = Math.min(from, to) / 2;
      let ripple = 0;
      let leak = -Infinity;
      for (const frac of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9]) {
        const f = frac * lowerNyquist;
        const y = await resample(sine(f, from, from), from, to);
        assert.equal(y.length, to);
        const edge = Math.floor(y.length / 8);
        const amp = toneAmplitude(y, f / to, edge, y.length - edge);
        ripple = Math.max(ripple, Math.abs(20 * Math.log10(amp / 0.5)));
        if (to > from) {
          // Upsampling: whatever is left after removing the tone (its images, any distortion)
          // must be far below it.
          leak = Math.max(leak, 20 * Math.log10(residualRms(y, f / to, edge, y.length - edge) / (0.5 / Math.SQRT2) + 1e-30));
        }
      }
      if (to < from) {
        // Downsampling: tones above the new Nyquist must not fold back.
        for (const frac of [1.0, 1.1, 1.5, 2.0]) {
          const f = frac * lowerNyquist;
          if (f >= from / 2) continue;
          const y = await resample(sine(f, from, from), from, to);
          const edge = Math.floor(y.length / 8);
          leak = Math.max(leak, 20 * Math.log10(rms(y, edge, y.length - edge) / (0.5 / Math.SQRT2) + 1e-30));
        }
      }
      console.log(`      ${from}->${to}: passband ripple ${ripple.toExponential(2)} dB, worst stopband/image ${leak.toFixed(1)} dB`);
      assert.ok(ripple < 0.001, `ripple ${ripple} dB`);
      assert.ok(leak < -95, `stopband ${leak} dB`);
    });
  }

  it('loadAudio({ sampleRate }) is the resampler applied to the decoded clip', async () => {
    const file = join(samplesDir, 'ljspeech_LJ001-0001.wav');
    const native = await loadAudio(file);
    const at16k = await loadAudio(file, { sampleRate: 16000 });
    assert.equal(at16k.sampleRate, 16000);
    assert.equal(at16k.samples.length, Math.ceil((native.samples.length * 16000) / 22050));
    assert.ok(Math.abs(at16k.durationSec - native.durationSec) < 1 / 16000);
    assert.equal(maxAbsDiff(at16k.samples, await resample(native.samples, 22050, 16000)), 0);
  });
});
