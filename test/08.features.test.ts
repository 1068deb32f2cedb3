// Layer 8: the feature kernels against torchaudio's own outputs (golden fixtures made by
// test/fixtures/features/generate.py with torchaudio 0.13), closed-form cases and bad input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fbank,
  fbankBatch,
  kaldiMfcc,
  melSpectrogram,
  mfcc,
  mfccBatch,
  spectrogram,
  VoxqcError,
  type Features,
} from '../lib/index.js';
import { referenceFeatures, type FeatureKind } from '../lib/features.js';
import { repoRoot, sine } from './helpers/index.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'features');
interface Case {
  name: string;
  kind: FeatureKind;
  input: string;
  options: Record<string, unknown>;
  output?: string;
  frames?: number;
  bins?: number;
  expectError?: boolean;
}
const index = JSON.parse(readFileSync(join(fixtures, 'index.json'), 'utf8')) as { torchaudio: string; cases: Case[] };

function readF32(file: string): Float32Array {
  const b = readFileSync(join(fixtures, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

const functions: Record<FeatureKind, (x: Float32Array, o: object) => Promise<Features>> = {
  spectrogram,
  melSpectrogram,
  mfcc,
  kaldiFbank: fbank,
  kaldiMfcc,
};

/** torchaudio's None is "none" in the fixtures and null in the JS API. */
function jsOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === 'none' ? null : v]));
}

/** Relative L2 error and max |diff| as a fraction of the reference's peak magnitude. */
function compare(ours: Float32Array, ref: Float32Array): { relL2: number; maxRel: number } {
  assert.equal(ours.length, ref.length);
  let num = 0, den = 0, maxDiff = 0, peak = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = ours[i]! - ref[i]!;
    num += d * d;
    den += ref[i]! * ref[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(d));
    peak = Math.max(peak, Math.abs(ref[i]!));
  }
  return { relL2: Math.sqrt(num / den), maxRel: maxDiff / peak };
}

describe(`08 feature kernels vs torchaudio ${index.torchaudio}`, () => {
  const worst: Record<string, { relL2: number; maxRel: number }> = {};
  after(() => {
    for (const [kind, w] of Object.entries(worst)) {
      console.log(`      worst ${kind}: relative L2 ${w.relL2.toExponential(2)}, max |diff| / peak ${w.maxRel.toExponential(2)}`);
    }
  });

  for (const c of index.cases) {
    it(`${c.name}: ${c.expectError ? 'an error, as torchaudio' : 'equal within rel. L2 1e-4 and 1e-3 of peak'}`, async () => {
      const x = readF32(c.input);
      const run = functions[c.kind](x, jsOptions(c.options));
      if (c.expectError) {
        await assert.rejects(run, (err: unknown) => err instanceof VoxqcError && err.code === 'ERR_INVALID_ARG');
        return;
      }
      const ours = await run;
      assert.equal(ours.frames, c.frames);
      if (c.frames === 0) {
        // torchaudio returns a 1-D empty tensor here (bins 0); voxqc keeps the bin count.
        assert.equal(ours.data.length, 0);
        assert.equal(readF32(c.output!).length, 0);
        return;
      }
      assert.equal(ours.bins, c.bins);
      const r = compare(ours.data, readF32(c.output!));
      const w = (worst[c.kind] ??= { relL2: 0, maxRel: 0 });
      w.relL2 = Math.max(w.relL2, r.relL2);
      w.maxRel = Math.max(w.maxRel, r.maxRel);
      assert.ok(r.relL2 <= 1e-4, `relative L2 error ${r.relL2}`);
      assert.ok(r.maxRel <= 1e-3, `max |diff| is ${r.maxRel} of the peak`);
    });
  }

  it('the fused kernels equal the same pipeline written with libtorch ops', async () => {
    const c = index.cases.find((k) => k.name === 'mfcc_default_16k')!;
    const x = readF32(c.input);
    for (const kind of ['spectrogram', 'melSpectrogram', 'mfcc', 'kaldiFbank', 'kaldiMfcc'] as const) {
      const fused = await functions[kind](x, {});
      const ref = await referenceFeatures(kind, x, {});
      assert.ok(compare(fused.data, ref.data).relL2 < 1e-5, kind);
    }
  });

  it('batch forms equal the per-clip results, in clip order, over several threads', async () => {
    const inputs = [...new Set(index.cases.filter((c) => !c.expectError).map((c) => c.input))]
      .map(readF32)
      .filter((x) => x.length > 4000);
    const clips = [...inputs, inputs[0]!.subarray(0, 5000), inputs[1]!.subarray(1000, 4000)];
    const batch = await mfccBatch(clips, { threads: 2 });
    const fbanks = await fbankBatch(clips, { threads: 2 });
    for (let i = 0; i < clips.length; i++) {
      assert.deepEqual(batch[i]!.data, (await mfcc(clips[i]!)).data);
      assert.deepEqual(fbanks[i]!.data, (await fbank(clips[i]!)).data);
    }
  });

  it('closed form: a sine puts its power in the right bin with the right value', async () => {
    // 1000 Hz at 16 kHz, nFft 400 -> bin 25 exactly; rectangular window, no centre padding:
    // |X[25]|^2 = (A * N / 2)^2.
    const A = 0.5;
    const s = await spectrogram(sine(1000, 16000, 16000, A), { nFft: 400, window: 'rectangular', center: false });
    const row = s.data.subarray(10 * s.bins, 11 * s.bins);
    const peakBin = row.indexOf(Math.max(...row));
    assert.equal(peakBin, 25);
    assert.ok(Math.abs(row[25]! / (A * 200) ** 2 - 1) < 1e-4, String(row[25]));
  });

  it('bad input: NaN (with where), empty, sampleRate ≤ 0, nFft past the clip, fMax past Nyquist, bad options', async () => {
    const x = sine(440, 16000, 16000);
    const bad = x.slice();
    bad[8000] = Infinity;
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => mfcc(bad), /samples\[8000\] is (Inf|inf|\+Inf)|samples\[8000\].*infinite|8000/],
      [() => mfcc(new Float32Array(0)), /empty/],
      [() => melSpectrogram(x, { sampleRate: 0 }), /sampleRate/],
      [() => spectrogram(x.subarray(0, 300), { nFft: 512, center: false }), /nFft|512/],
      [() => melSpectrogram(x, { fMax: 9000 }), /fMax.*Nyquist|Nyquist.*9000/],
      [() => mfcc(x, { nMfcc: 200 }), /nMfcc/],
      [() => fbank(x, { dither: 1 }), /dither/],
      [() => mfcc(x, { window: 'kaiser' as never }), /window.*'hann'/],
      [() => mfcc(x, { nFFT: 512 } as never), /unknown option 'nFFT'/],
      [() => mfcc([1, 2, 3] as never), /samples.*Float32Array/],
    ];
    for (const [call, re] of cases) {
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof VoxqcError, String(err));
        assert.equal(err.code, 'ERR_INVALID_ARG', err.message);
        assert.match(err.message, re);
        return true;
      });
    }
  });
});
