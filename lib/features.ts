// Feature kernels: spectrogram, melSpectrogram, mfcc (torchaudio.transforms) and fbank,
// kaldiMfcc (torchaudio.compliance.kaldi), computed by voxqc's fused native kernels.
// Options and defaults are torchaudio's (names in camelCase); lengths are in samples.
import { fromNativeError, VoxqcError } from './errors.js';
import { native } from './native/loader.js';
import { getConfig } from './runtime.js';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, invalid } from './validate.js';

/** A feature matrix: `data` is row-major [frames][bins]. */
export interface Features {
  data: Float32Array;
  frames: number;
  bins: number;
}

export type WindowName = 'hann' | 'hamming' | 'blackman' | 'bartlett' | 'rectangular';
export type PadMode = 'reflect' | 'constant' | 'replicate' | 'circular';

/** torchaudio.transforms.Spectrogram. */
export interface SpectrogramOptions {
  /** FFT size. Default 400. */
  nFft?: number;
  /** Window length; default nFft. The window is centred in the frame, as torch.stft does. */
  winLength?: number;
  /** Hop between frames; default floor(winLength / 2). */
  hopLength?: number;
  /** Zeros added at both ends before framing. Default 0. */
  pad?: number;
  /** Window function (periodic, as torch builds them). Default 'hann'. */
  window?: WindowName;
  /** Exponent of the magnitude: 2 power (default), 1 magnitude, any value > 0. */
  power?: number;
  /** Divide by sqrt(sum(window²)) (torchaudio's normalized=True). Default false. */
  normalized?: boolean;
  /** Pad nFft/2 at both ends so frame t is centred at t·hopLength. Default true. */
  center?: boolean;
  /** Padding used when center is true. Default 'reflect'. */
  padMode?: PadMode;
  /** Only the nFft/2 + 1 non-negative frequencies. Default true. */
  onesided?: boolean;
  /**
   * Sample rate of the input. Default 16000. The spectrogram itself does not use it (torchaudio's
   * Spectrogram has no such argument); error messages use it to say where, in seconds, a bad
   * sample is. MelSpectrogram and MFCC use it to place the mel filters.
   */
  sampleRate?: number;
  /** libtorch intra-op threads for this call. Default: configure()'s threads. */
  threads?: number;
}

/** torchaudio.transforms.MelSpectrogram. */
export interface MelSpectrogramOptions extends SpectrogramOptions {
  /** Number of mel filters. Default 128. */
  nMels?: number;
  /** Lowest filter edge, Hz. Default 0. */
  fMin?: number;
  /** Highest filter edge, Hz; default sampleRate / 2. Must not exceed it. */
  fMax?: number;
  /** 'slaney' area-normalises the filters; null (default) leaves peaks at 1. */
  norm?: 'slaney' | null;
  /** Mel scale. Default 'htk'. */
  melScale?: 'htk' | 'slaney';
}

/** torchaudio.transforms.MFCC (its melkwargs flattened into the same object). */
export interface MfccOptions extends MelSpectrogramOptions {
  /** Coefficients kept (≤ nMels). Default 40. */
  nMfcc?: number;
  /** Only type 2 exists. Default 2. */
  dctType?: 2;
  /** 'ortho' (default) or null. */
  dctNorm?: 'ortho' | null;
  /** false (default): power → dB with an 80 dB floor below the clip's maximum; true: log(mel + 1e-6). */
  logMels?: boolean;
}

export type KaldiWindowName = 'povey' | 'hanning' | 'hamming' | 'rectangular' | 'blackman';

/** torchaudio.compliance.kaldi.fbank. */
export interface FbankOptions {
  /** Blackman window coefficient. Default 0.42. */
  blackmanCoeff?: number;
  /** Must be 0 (the default): voxqc's outputs are reproducible. */
  dither?: number;
  /** Floor of the log-energy (log(energyFloor)); 0 disables it. Default 1.0 (torchaudio's). */
  energyFloor?: number;
  /** Frame length in milliseconds. Default 25. */
  frameLength?: number;
  /** Frame shift in milliseconds. Default 10. */
  frameShift?: number;
  /** High cut-off in Hz; ≤ 0 means Nyquist + highFreq. Default 0. */
  highFreq?: number;
  /** Energy last instead of first (HTK order). Default false. */
  htkCompat?: boolean;
  /** Low cut-off in Hz. Default 20. */
  lowFreq?: number;
  /** Clips shorter than this (seconds) give 0 frames. Default 0. */
  minDuration?: number;
  /** Number of mel bins. Default 23. */
  numMelBins?: number;
  /** Pre-emphasis coefficient. Default 0.97. */
  preemphasisCoefficient?: number;
  /** Energy before pre-emphasis and windowing. Default true. */
  rawEnergy?: boolean;
  /** Subtract each frame's mean. Default true. */
  removeDcOffset?: boolean;
  /** FFT size rounded up to a power of two. Default true. */
  roundToPowerOfTwo?: boolean;
  /** Sample rate in Hz. Default 16000. */
  sampleFrequency?: number;
  /** Only frames that fit entirely (true, default); else the ends are reflected. */
  snipEdges?: boolean;
  /** Subtract each bin's mean over the clip. Default false. */
  subtractMean?: boolean;
  /** Add a log-energy column. Default false. */
  useEnergy?: boolean;
  /** Log of the filterbank energies. Default true. */
  useLogFbank?: boolean;
  /** Power (true, default) or magnitude spectrum. */
  usePower?: boolean;
  /** VTLN warp factor: only 1.0 (no warping, the default) is supported. */
  vtlnWarp?: number;
  vtlnLow?: number;
  vtlnHigh?: number;
  /** Window type. Default 'povey'. */
  windowType?: KaldiWindowName;
  threads?: number;
}

/** torchaudio.compliance.kaldi.mfcc. */
export interface KaldiMfccOptions extends FbankOptions {
  /** Cepstra kept (≤ numMelBins). Default 13. */
  numCeps?: number;
  /** Liftering coefficient; 0 disables. Default 22. */
  cepstralLifter?: number;
}

type Kind = 'spectrogram' | 'melSpectrogram' | 'mfcc' | 'kaldiFbank' | 'kaldiMfcc';
type Check = (where: string, name: string, value: unknown) => void;

const int = (min: number, max: number): Check => (w, n, v) => void checkInteger(w, n, v, min, max);
const num = (range: Parameters<typeof checkNumber>[3]): Check => (w, n, v) => void checkNumber(w, n, v, range);
const bool: Check = (w, n, v) => void checkBoolean(w, n, v);
const oneOf = (values: readonly string[], nullable = false): Check => (w, n, v) => {
  if (nullable && v === null) return;
  checkOneOf(w, n, v, values);
};

const SPECTROGRAM: Record<string, Check> = {
  nFft: int(1, 1 << 16),
  winLength: int(1, 1 << 16),
  hopLength: int(1, 1 << 20),
  pad: int(0, 1 << 20),
  window: oneOf(['hann', 'hamming', 'blackman', 'bartlett', 'rectangular']),
  power: num({ min: 0, minExclusive: true }),
  normalized: bool,
  center: bool,
  padMode: oneOf(['reflect', 'constant', 'replicate', 'circular']),
  onesided: bool,
  sampleRate: int(1, 10_000_000),
  threads: int(1, 1024),
};
const MEL: Record<string, Check> = {
  ...SPECTROGRAM,
  nMels: int(1, 4096),
  fMin: num({ min: 0 }),
  fMax: num({ min: 0 }),
  norm: oneOf(['slaney'], true),
  melScale: oneOf(['htk', 'slaney']),
};
const MFCC: Record<string, Check> = {
  ...MEL,
  nMfcc: int(1, 4096),
  dctType: int(2, 2),
  dctNorm: oneOf(['ortho'], true),
  logMels: bool,
};
const FBANK: Record<string, Check> = {
  blackmanCoeff: num({}),
  dither: num({ min: 0, max: 0 }),
  energyFloor: num({ min: 0 }),
  frameLength: num({ min: 0, minExclusive: true }),
  frameShift: num({ min: 0, minExclusive: true }),
  highFreq: num({}),
  htkCompat: bool,
  lowFreq: num({ min: 0 }),
  minDuration: num({ min: 0 }),
  numMelBins: int(4, 4096),
  preemphasisCoefficient: num({ min: 0, max: 1 }),
  rawEnergy: bool,
  removeDcOffset: bool,
  roundToPowerOfTwo: bool,
  sampleFrequency: num({ min: 0, minExclusive: true }),
  snipEdges: bool,
  subtractMean: bool,
  useEnergy: bool,
  useLogFbank: bool,
  usePower: bool,
  vtlnWarp: num({ min: 1, max: 1 }),
  vtlnLow: num({}),
  vtlnHigh: num({}),
  windowType: oneOf(['povey', 'hanning', 'hamming', 'rectangular', 'blackman']),
  threads: int(1, 1024),
};
const KALDI_MFCC: Record<string, Check> = { ...FBANK, numCeps: int(1, 4096), cepstralLifter: num({ min: 0 }) };
const CHECKS: Record<Kind, Record<string, Check>> = {
  spectrogram: SPECTROGRAM,
  melSpectrogram: MEL,
  mfcc: MFCC,
  kaldiFbank: FBANK,
  kaldiMfcc: KALDI_MFCC,
};
const NAMES: Record<Kind, string> = {
  spectrogram: 'spectrogram',
  melSpectrogram: 'melSpectrogram',
  mfcc: 'mfcc',
  kaldiFbank: 'fbank',
  kaldiMfcc: 'kaldiMfcc',
};

function validate(kind: Kind, where: string, options: unknown): { opts: Record<string, unknown>; threads: number } {
  const checks = CHECKS[kind];
  const opts = checkOptions<Record<string, unknown>>(where, options, Object.keys(checks)) as Record<string, unknown>;
  for (const [key, value] of Object.entries(opts)) if (value !== undefined) checks[key]!(where, key, value);
  const threads = (opts.threads as number | undefined) ?? getConfig().threads;
  return { opts, threads };
}

function checkSamples(where: string, samples: unknown, name = 'samples'): Float32Array {
  if (!(samples instanceof Float32Array)) throw invalid(where, name, 'a Float32Array', samples);
  return samples;
}

function shapeOf(kind: Kind, where: string, n: number, opts: Record<string, unknown>): { frames: number; bins: number } {
  try {
    return native().featureShape(kind, n, opts);
  } catch (err) {
    throw fromNativeError(err, { what: where });
  }
}

/** Largest result one call may allocate (floats, 1 GiB): options such as a hop of 1 sample with a
 *  large nFft on a long clip ask for more, and get an error instead of an allocation failure. */
export const MAX_OUTPUT_FLOATS = 2 ** 28;

function allocOutput(where: string, frames: number, bins: number): Float32Array {
  const n = frames * bins;
  if (!(n <= MAX_OUTPUT_FLOATS)) {
    throw new VoxqcError(
      'ERR_TOO_LONG',
      `${where}: the result would be ${frames} frames x ${bins} values (${(n * 4 / 2 ** 30).toFixed(1)} GiB, over the 1 GiB limit); ` +
        'use a larger hop, fewer bins, or a shorter clip',
    );
  }
  return new Float32Array(n);
}

async function compute(kind: Kind, samples: unknown, options: unknown, reference = false): Promise<Features> {
  const where = NAMES[kind];
  const x = checkSamples(where, samples);
  const { opts, threads } = validate(kind, where, options);
  const { frames, bins } = shapeOf(kind, where, x.length, opts);
  const data = allocOutput(where, frames, bins);
  try {
    const addon = native();
    await (reference ? addon.computeFeaturesReference : addon.computeFeatures)(kind, x, opts, data, threads);
  } catch (err) {
    throw fromNativeError(err, { what: where });
  }
  return { data, frames, bins };
}

async function computeBatch(kind: Kind, clips: unknown, options: unknown): Promise<Features[]> {
  const where = `${NAMES[kind]}Batch`;
  if (!Array.isArray(clips)) throw invalid(where, 'clips', 'an array of Float32Array', clips);
  clips.forEach((c, i) => checkSamples(where, c, `clips[${i}]`));
  const { opts, threads } = validate(kind, where, options);
  const shapes = (clips as Float32Array[]).map((c, i) => {
    try {
      return native().featureShape(kind, c.length, opts);
    } catch (err) {
      throw fromNativeError(err, { what: `${where}: clips[${i}]` });
    }
  });
  const total = shapes.reduce((a, s) => a + s.frames * s.bins, 0);
  if (total > MAX_OUTPUT_FLOATS) allocOutput(where, total, 1);
  const outs = shapes.map((s) => allocOutput(where, s.frames, s.bins));
  try {
    await native().computeFeaturesBatch(kind, clips as Float32Array[], opts, outs, threads);
  } catch (err) {
    throw fromNativeError(err, { what: where });
  }
  return outs.map((data, i) => ({ data, frames: shapes[i]!.frames, bins: shapes[i]!.bins }));
}

/** Power (or magnitude) spectrogram, equal to torchaudio.transforms.Spectrogram. */
export function spectrogram(samples: Float32Array, options?: SpectrogramOptions): Promise<Features> {
  return compute('spectrogram', samples, options);
}
/** Mel spectrogram, equal to torchaudio.transforms.MelSpectrogram. */
export function melSpectrogram(samples: Float32Array, options?: MelSpectrogramOptions): Promise<Features> {
  return compute('melSpectrogram', samples, options);
}
/** MFCC, equal to torchaudio.transforms.MFCC. */
export function mfcc(samples: Float32Array, options?: MfccOptions): Promise<Features> {
  return compute('mfcc', samples, options);
}
/** Kaldi filterbank features, equal to torchaudio.compliance.kaldi.fbank. */
export function fbank(samples: Float32Array, options?: FbankOptions): Promise<Features> {
  return compute('kaldiFbank', samples, options);
}
/** Kaldi MFCC, equal to torchaudio.compliance.kaldi.mfcc. */
export function kaldiMfcc(samples: Float32Array, options?: KaldiMfccOptions): Promise<Features> {
  return compute('kaldiMfcc', samples, options);
}

/** Many clips with one option set, on all threads asked for; results in clip order. */
export function spectrogramBatch(clips: Float32Array[], options?: SpectrogramOptions): Promise<Features[]> {
  return computeBatch('spectrogram', clips, options);
}
export function melSpectrogramBatch(clips: Float32Array[], options?: MelSpectrogramOptions): Promise<Features[]> {
  return computeBatch('melSpectrogram', clips, options);
}
export function mfccBatch(clips: Float32Array[], options?: MfccOptions): Promise<Features[]> {
  return computeBatch('mfcc', clips, options);
}
export function fbankBatch(clips: Float32Array[], options?: FbankOptions): Promise<Features[]> {
  return computeBatch('kaldiFbank', clips, options);
}
export function kaldiMfccBatch(clips: Float32Array[], options?: KaldiMfccOptions): Promise<Features[]> {
  return computeBatch('kaldiMfcc', clips, options);
}

/** @internal The same pipeline written with plain libtorch ops (benchmarks and cross-checks). */
export function referenceFeatures(kind: Kind, samples: Float32Array, options?: object): Promise<Features> {
  return compute(kind, samples, options, true);
}
export type { Kind as FeatureKind };
