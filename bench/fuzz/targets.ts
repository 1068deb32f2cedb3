// TypeScript-side fuzz targets (fast-check): the public API that hands bytes or arrays to the
// native core. Each case must end in a result or a VoxqcError: another exception type (a
// RangeError, a TypeError from the addon, ...) or a case that does not settle is a finding.
// Used by bench/fuzz/run.ts (npm run fuzz: 10,000+ cases per target) and by
// test/30.hardening.test.ts (a short seeded slice).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  analyze,
  fbank,
  kaldiMfcc,
  loadAudio,
  melSpectrogram,
  mfcc,
  readManifest,
  resample,
  spectrogram,
  vad,
  VoxqcError,
  type Audio,
} from '../../lib/index.js';

export interface Counts {
  cases: number;
  results: number;
  voxqcErrors: number;
  byCode: Record<string, number>;
}

export interface TsTarget {
  name: string;
  /** What one case is: fast-check builds it. */
  arbitrary: fc.Arbitrary<unknown>;
  /** Runs one case: resolves with a result, or throws (VoxqcError expected). */
  run(input: unknown): Promise<unknown>;
  /** Checks a result's invariants (throws when broken). */
  check?(input: unknown, result: unknown): void;
}

// --- values at and past the limits -------------------------------------------------------------
const hostileNumber = fc.constantFrom<unknown>(
  0, -0, -1, 1, 0.5, 1.5, NaN, Infinity, -Infinity, 1e-320, 1e300, 2 ** 31, 2 ** 53, -(2 ** 31), '16000', null, undefined, {},
);
const rate = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(8000, 16000, 22050, 44100, 48000) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2, 7999, 768000, 768001, 10_000_000, 10_000_001) },
  { weight: 1, arbitrary: hostileNumber },
);
/** float32 samples: speech-like values, silence, constants, NaN, +-Inf, denormals, huge values. */
const special = fc.constantFrom(NaN, Infinity, -Infinity, 1e-40, -1e-45, 3.4e38, -3.4e38, -0, 0, 1, -1);
export const samples = (maxLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.float32Array({ maxLength, noDefaultInfinity: false, noNaN: false }) },
    {
      weight: 3,
      arbitrary: fc
        .record({
          n: fc.oneof(fc.constantFrom(0, 1, 2, 399, 400, 401, 8000, 16000), fc.nat(maxLength)),
          f: fc.double({ min: 20, max: 4000, noNaN: true }),
          a: fc.constantFrom(0, 1e-6, 0.1, 0.9, 1, 2),
          sprinkle: fc.array(fc.tuple(fc.nat(), special), { maxLength: 4 }),
        })
        .map(({ n, f, a, sprinkle }) => {
          const x = new Float32Array(Math.min(n, maxLength));
          for (let i = 0; i < x.length; i++) x[i] = a * Math.sin((2 * Math.PI * f * i) / 16000) + 0.01 * Math.sin(i * 12.9898);
          for (const [at, v] of sprinkle) if (x.length) x[at % x.length] = v;
          return x;
        }),
    },
    { weight: 1, arbitrary: fc.tuple(fc.nat(maxLength), special).map(([n, v]) => new Float32Array(n).fill(v)) },
  );

// --- WAV bytes: valid shapes, lying headers, random bytes behind a RIFF prefix -----------------
const wavSpec = fc.record({
  riff: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('RIFF', 'RIFF', 'RIFF', 'RF64') }, { weight: 1, arbitrary: fc.constantFrom('RIFX', 'RIFx') }),
  tag: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(1, 1, 1, 3, 3, 6, 7, 0xfffe) }, { weight: 1, arbitrary: fc.constantFrom(2, 0x11, 0x55, 0) }),
  sub: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(1, 3, 6, 7) }, { weight: 1, arbitrary: fc.constant(2) }),
  channels: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(1, 2, 3, 6) }, { weight: 1, arbitrary: fc.constantFrom(0, 1024, 1025, 65535) }),
  rate: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(8000, 16000, 44100, 48000) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 10_000_000, 10_000_001, 0xffffffff) }),
  bits: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(8, 16, 24, 32, 64) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 12, 20, 48, 65535) }),
  alignDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1, 7, -1000) }),
  frames: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat(4000)),
  claimed: fc.constantFrom('exact', 'exact', 'exact', 'exact', 'exact', 'zero', 'ffffffff', 'double', 'short'),
  preChunk: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.record({ id: fc.constantFrom('LIST', 'junk', 'bext'), size: fc.constantFrom(0, 1, 3, 8), lie: fc.constant(false) }) },
    { weight: 1, arbitrary: fc.record({ id: fc.constantFrom('LIST', 'junk', 'fmt ', 'data'), size: fc.constantFrom(0xffffffff, 0x7fffffff, 100), lie: fc.constant(true) }) },
  ),
  payload: fc.constantFrom('random', 'floats'),
  floats: samples(512),
  noise: fc.uint8Array({ maxLength: 4096 }),
  mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as [number, number][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }) }),
  truncateTo: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(5000) }),
});

type WavSpec = typeof wavSpec extends fc.Arbitrary<infer T> ? T : never;

function buildWav(s: WavSpec): Uint8Array {
  const effective = s.tag === 0xfffe ? s.sub : s.tag;
  const align = Math.max(0, (s.channels * Math.floor(s.bits / 8) + s.alignDelta) & 0xffff);
  const dataLen = Math.min(s.frames, align ? Math.floor(65536 / align) + 1 : 0) * align;
  const data = new Uint8Array(dataLen);
  if (s.payload === 'floats' && effective === 3 && s.bits === 32) {
    const f = new Float32Array(data.buffer, 0, Math.floor(dataLen / 4));
    for (let i = 0; i < f.length; i++) f[i] = s.floats.length ? s.floats[i % s.floats.length]! : 0;
  } else {
    for (let i = 0; i < dataLen; i++) data[i] = s.noise.length ? s.noise[i % s.noise.length]! ^ (i & 0xff) : i & 0xff;
  }
  const claimed = { exact: dataLen, zero: 0, ffffffff: 0xffffffff, double: dataLen * 2 + 100, short: Math.max(0, dataLen - 1) }[
    s.claimed as 'exact'
  ]!;
  const ext = s.tag === 0xfffe;
  const fmtSize = ext ? 40 : 16;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.write(s.riff, 0, 'latin1');
  head.writeUInt32LE(s.riff === 'RF64' ? 0xffffffff : (36 + dataLen) >>> 0, 4);
  head.write('WAVE', 8, 'latin1');
  parts.push(head);
  if (s.riff === 'RF64') {
    const ds = Buffer.alloc(36);
    ds.write('ds64', 0, 'latin1');
    ds.writeUInt32LE(28, 4);
    ds.writeBigUInt64LE(BigInt(36 + dataLen), 8);
    ds.writeBigUInt64LE(BigInt(claimed), 16);
    ds.writeBigUInt64LE(BigInt(s.frames), 24);
    parts.push(ds);
  }
  if (s.preChunk) {
    // An honest chunk holds its size (padded to even); a lying one claims more than it holds.
    const c = Buffer.alloc(8 + (s.preChunk.lie ? 3 : s.preChunk.size + (s.preChunk.size & 1)));
    c.write(s.preChunk.id, 0, 'latin1');
    c.writeUInt32LE(s.preChunk.size >>> 0, 4);
    parts.push(c);
  }
  const fmt = Buffer.alloc(8 + fmtSize);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(fmtSize, 4);
  fmt.writeUInt16LE(s.tag, 8);
  fmt.writeUInt16LE(s.channels & 0xffff, 10);
  fmt.writeUInt32LE(s.rate >>> 0, 12);
  fmt.writeUInt32LE(((s.rate >>> 0) * align) >>> 0, 16);
  fmt.writeUInt16LE(align, 20);
  fmt.writeUInt16LE(s.bits & 0xffff, 22);
  if (ext) {
    fmt.writeUInt16LE(22, 24);
    fmt.writeUInt16LE(s.bits & 0xffff, 26);
    fmt.writeUInt16LE(s.sub, 32);
  }
  parts.push(fmt);
  const dh = Buffer.alloc(8);
  dh.write('data', 0, 'latin1');
  dh.writeUInt32LE(s.riff === 'RF64' ? 0xffffffff : claimed >>> 0, 4);
  parts.push(dh, Buffer.from(data));
  let out = Buffer.concat(parts);
  for (const [at, v] of s.mutations) if (out.length) out[at % out.length] = v;
  if (s.truncateTo !== undefined) out = out.subarray(0, s.truncateTo);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

const hostileLoadOptions = fc.record(
      {
        sampleRate: fc.oneof(fc.constantFrom(8000, 16000, 44100), hostileNumber),
        channel: fc.constantFrom<unknown>('mix', 0, 1, 2, 1023, 1024, -1, 'left', 0.5),
        offsetSec: fc.constantFrom<unknown>(0, 0.01, 0.1, 1e9, -1, NaN, Infinity),
        durationSec: fc.constantFrom<unknown>(0.01, 0.1, 1e-9, 0, -1, NaN, 1e300),
        maxDurationSec: fc.constantFrom<unknown>(0.001, 0.05, 1, 7200, 0, -1, NaN),
        timeoutSec: fc.constantFrom<unknown>(5, 30, 0, -1, NaN),
        threads: fc.constantFrom<unknown>(1, 2, 0, 1024, 1025, 1.5),
      },
      { requiredKeys: [] },
);
const loadOptions = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: hostileLoadOptions.chain((o) =>
      fc.subarray(Object.keys(o), { minLength: 0, maxLength: 1 }).map((keys) => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]))),
    ),
  },
  { weight: 1, arbitrary: hostileLoadOptions },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 5, 'x', { sampleRat: 16000 }) },
);

function checkAudio(a: Audio): void {
  if (!(a.samples instanceof Float32Array)) throw new Error('samples is not a Float32Array');
  if (a.samples.length === 0) throw new Error('empty samples without an error');
  for (let i = 0; i < a.samples.length; i++) if (!Number.isFinite(a.samples[i]!)) throw new Error(`non-finite sample ${i} returned`);
  if (Math.abs(a.durationSec - a.samples.length / a.sampleRate) > 1e-9) throw new Error('durationSec inconsistent');
}

// --- the targets -------------------------------------------------------------------------------
const FEATURES = { spectrogram, melSpectrogram, mfcc, fbank, kaldiMfcc } as const;
const hostileFeatureOptions = fc.record(
  {
    nFft: fc.constantFrom<unknown>(400, 512, 256, 1, 2, 0, -1, 2 ** 18, 2 ** 18 + 1, 1.5, NaN, '400'),
    hopLength: fc.constantFrom<unknown>(160, 1, 0, -1, 2 ** 20, 1.5),
    winLength: fc.constantFrom<unknown>(400, 1, 0, 512, 513),
    nMels: fc.constantFrom<unknown>(40, 80, 128, 1, 0, 2 ** 14, 2 ** 14 + 1),
    nMfcc: fc.constantFrom<unknown>(13, 40, 0, 129),
    center: fc.boolean(),
    padMode: fc.constantFrom<unknown>('reflect', 'constant', 'replicate', 'circular', 'mirror'),
    window: fc.constantFrom<unknown>('hann', 'hamming', 'blackman', 'bartlett', 'rectangular', 'kaiser'),
    power: fc.constantFrom<unknown>(1, 2, 0.5, 0, -1, NaN, Infinity),
    sampleRate: rate,
    fMin: fc.constantFrom<unknown>(0, 20, -1, NaN, 8000),
    fMax: fc.constantFrom<unknown>(0, 4000, 8000, 1e9),
    pad: fc.constantFrom<unknown>(0, 1, 2 ** 24, 2 ** 24 + 1),
    frameLength: fc.constantFrom<unknown>(25, 0.01, 0, 1e6, NaN),
    frameShift: fc.constantFrom<unknown>(10, 0.0001, 0, 1e9),
    numMelBins: fc.constantFrom<unknown>(23, 3, 4, 2 ** 14 + 1),
    sampleFrequency: fc.constantFrom<unknown>(16000, 8000, 1, 1e7, 1e8, Infinity),
    snipEdges: fc.boolean(),
    dither: fc.constantFrom<unknown>(0, 0.1),
    bogus: fc.constant(1),
  },
  { requiredKeys: [] },
);
/** Mostly the defaults, or a few options at and past their limits. */
const featureOptions = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: hostileFeatureOptions.chain((o) =>
      fc.subarray(Object.keys(o), { minLength: 0, maxLength: 2 }).map((keys) => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]))),
    ),
  },
  { weight: 1, arbitrary: hostileFeatureOptions },
);

export const TS_TARGETS: TsTarget[] = [
  {
    name: 'loadAudio',
    arbitrary: fc.record({ wav: wavSpec, options: loadOptions, riffNoise: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) }) }),
    async run(input) {
      const { wav, options, riffNoise } = input as { wav: unknown; options: unknown; riffNoise?: Uint8Array };
      let bytes = buildWav(wav as WavSpec);
      if (riffNoise) {
        // Random bytes behind a valid RIFF/WAVE prefix.
        const b = new Uint8Array(12 + riffNoise.length);
        b.set(bytes.subarray(0, 12));
        b.set(riffNoise, 12);
        bytes = b;
      }
      return loadAudio(bytes, options as never);
    },
    check: (_i, r) => checkAudio(r as Audio),
  },
  {
    name: 'resample',
    // Outputs up to 4M samples per case (speed); the limit past that has its own test.
    arbitrary: fc
      .record({ x: samples(4000), from: rate, to: rate, options: fc.constantFrom<unknown>(undefined, {}, { threads: 2 }, { threads: 0 }, { thread: 1 }) })
      .map((c) => {
        const ratio = typeof c.from === 'number' && typeof c.to === 'number' && c.from > 0 ? c.to / c.from : 1;
        return ratio > 1 && c.x.length * ratio > 4e6 ? { ...c, x: c.x.subarray(0, Math.floor(4e6 / ratio)) } : c;
      }),
    async run(input) {
      const { x, from, to, options } = input as { x: Float32Array; from: number; to: number; options: never };
      return resample(x, from, to, options);
    },
    check(input, r) {
      const out = r as Float32Array;
      const { x, from, to } = input as { x: Float32Array; from: number; to: number };
      if (out.length !== Math.ceil((x.length * to) / from) && from !== to) throw new Error(`output length ${out.length}`);
    },
  },
  {
    name: 'features',
    arbitrary: fc.record({ kind: fc.constantFrom(...(Object.keys(FEATURES) as (keyof typeof FEATURES)[])), x: samples(16000), options: featureOptions }),
    async run(input) {
      const { kind, x, options } = input as { kind: keyof typeof FEATURES; x: Float32Array; options: never };
      return FEATURES[kind](x, options);
    },
    check(_i, r) {
      const f = r as { data: Float32Array; frames: number; bins: number };
      if (f.data.length !== f.frames * f.bins) throw new Error('data length != frames x bins');
    },
  },
  {
    name: 'analyze',
    arbitrary: fc.record({
      x: samples(24000),
      sampleRate: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(8000, 16000, 44100, 48000) }, { weight: 1, arbitrary: fc.constantFrom(7999, 768000, 768001, 1, 0) }),
      useVad: fc.boolean(),
      thresholds: fc.constantFrom<unknown>(undefined, {}, { snrDb: 15 }, { snrDb: NaN }, { nope: 1 }),
    }),
    async run(input) {
      const { x, sampleRate, useVad, thresholds } = input as { x: Float32Array; sampleRate: number; useVad: boolean; thresholds: never };
      const audio: Audio = {
        samples: x,
        sampleRate,
        channels: 1,
        durationSec: x.length / (sampleRate || 1),
        source: { decoder: 'wav', encoding: 'float 32-bit', sampleRate, channels: 1, durationSec: x.length / (sampleRate || 1) },
      };
      return useVad ? vad(audio) : analyze(audio, thresholds === undefined ? {} : { thresholds });
    },
  },
  {
    name: 'manifest',
    arbitrary: fc.array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.constantFrom(
          '{"audio_filepath": "../../../etc/passwd"}',
          '{"audio_filepath": "/dev/zero", "offset": -1}',
          '{"audio_filepath": "a.wav", "offset": "x", "duration": 0}',
          '{"audio_filepath": 5}',
          '{"audio_filepath": "a.wav", "duration": 1e309}',
          '[1,2,3]',
          'null',
          '{"sources": [{"type": "url", "source": "http://x"}], "sampling_rate": 16000, "id": "r"}',
          '{"type": "MixedCut", "id": "c", "start": 0, "duration": 1}',
          '{"recording": {"sources": []}, "start": 0, "duration": 1, "id": "c"}',
          '\uFEFF{"audio_filepath": "bom.wav"}',
          '{"audio_filepath": "x\\u0000y.wav"}',
        ),
      ),
      { maxLength: 20 },
    ),
    async run(input) {
      const lines = input as string[];
      const file = join(scratch(), 'm.jsonl');
      writeFileSync(file, lines.join('\n'));
      let n = 0;
      for await (const row of readManifest(file)) {
        if (row.error === undefined && row.clip === undefined) throw new Error(`row ${row.index}: neither a clip nor an error`);
        n++;
      }
      return n;
    },
  },
];

let scratchDir: string | undefined;
function scratch(): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), 'voxqc-fuzz-'));
  return scratchDir;
}

export type Outcome = { kind: 'result' } | { kind: 'voxqc'; code: string } | { kind: 'unexpected'; error: unknown } | { kind: 'hang' };

/** Runs one case with a time limit; classifies how it ended. */
export async function runCase(t: TsTarget, input: unknown, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), timeoutMs);
  });
  const done = (async (): Promise<Outcome> => {
    try {
      const r = await t.run(input);
      t.check?.(input, r);
      return { kind: 'result' };
    } catch (err) {
      if (err instanceof VoxqcError) {
        if (!err.message || typeof err.code !== 'string') return { kind: 'unexpected', error: new Error('VoxqcError without a message or code') };
        return { kind: 'voxqc', code: err.code };
      }
      return { kind: 'unexpected', error: err };
    }
  })();
  try {
    return await Promise.race([done, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `numRuns` cases of a target with fast-check (seeded). A case that ends in anything but a
 * result or a VoxqcError fails the property: fast-check shrinks it and the error carries the
 * smallest input found.
 */
export async function runTarget(t: TsTarget, o: { numRuns: number; seed: number; timeoutMs?: number }): Promise<Counts> {
  const counts: Counts = { cases: 0, results: 0, voxqcErrors: 0, byCode: {} };
  let shrinking = false;
  await fc.assert(
    fc.asyncProperty(t.arbitrary, async (input) => {
      const r = await runCase(t, input, o.timeoutMs ?? 60_000);
      if (!shrinking) {
        counts.cases++;
        if (r.kind === 'result') counts.results++;
        else if (r.kind === 'voxqc') {
          counts.voxqcErrors++;
          counts.byCode[r.code] = (counts.byCode[r.code] ?? 0) + 1;
        }
      }
      if (r.kind === 'hang') {
        shrinking = true;
        throw new Error(`${t.name}: a case did not settle within ${o.timeoutMs ?? 60_000} ms`);
      }
      if (r.kind === 'unexpected') {
        shrinking = true;
        const e = r.error as Error;
        throw new Error(`${t.name}: ended in ${e?.constructor?.name ?? typeof e} (not a VoxqcError): ${e?.message ?? String(e)}`);
      }
    }),
    { numRuns: o.numRuns, seed: o.seed, endOnFailure: false },
  );
  return counts;
}
