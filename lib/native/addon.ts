// The raw addon's exports, typed in one private place. Nothing outside lib/ sees these.

/** Parsed WAV header, as returned by wavInfo() and passed back to decodeWav(). */
export interface NativeWavInfo {
  formatTag: number;
  encoding: number;
  encodingName: string;
  extensible: boolean;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  dataOffset: number;
  dataBytes: number;
  frames: number;
  dataSizeClamped: boolean;
}

export interface NativeRuntimeInfo {
  torchVersion: string;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  parallelInfo: string;
  intraOpThreads: number;
  hardwareThreads: number;
}

export interface NativeAddon {
  abiVersion: number;
  runtimeInfo(threads?: number): Promise<NativeRuntimeInfo>;
  wavInfo(head: Uint8Array, fileSize: number): Promise<NativeWavInfo>;
  /** Resolves to the index of the first non-finite output sample, or -1. */
  decodeWav(info: NativeWavInfo, bytes: Uint8Array, frames: number, channel: number, out: Float32Array): Promise<number>;
  resample(input: Float32Array, fromRate: number, toRate: number, out: Float32Array, threads: number): Promise<void>;
  /** Validates the options and returns the output shape (synchronous: arithmetic only). */
  featureShape(kind: string, numSamples: number, opts: object): { frames: number; bins: number };
  computeFeatures(kind: string, samples: Float32Array, opts: object, out: Float32Array, threads: number): Promise<void>;
  computeFeaturesReference(kind: string, samples: Float32Array, opts: object, out: Float32Array, threads: number): Promise<void>;
  computeFeaturesBatch(kind: string, clips: Float32Array[], opts: object, outs: Float32Array[], threads: number): Promise<void>;
  featureBackend(): { fft: string; simd: string };
  /** Audio-video offset of gray mouth-region frames against mono audio (cpp/video/av_offset.h). */
  avOffset(
    frames: Uint8Array, numFrames: number, width: number, height: number, fps: number,
    audio: Float32Array, sampleRate: number, opts: { maxOffsetMs?: number; audioStartSec?: number; leadMs?: number }, threads: number,
  ): Promise<{ offsetMs: number; confidence: number; rawLagMs: number; peakCorr: number; rivalCorr: number; rivalLagMs: number; atSearchEdge: boolean; speechSec: number; motionLevel: number }>;
  analyzeSignal(samples: Float32Array, sampleRate: number, opts: object, threads: number): Promise<NativeAnalysis>;
  vad(samples: Float32Array, sampleRate: number, opts: object, threads: number): Promise<{ frameSec: number; speechProb: Float32Array; isSpeech: Uint8Array; segments: Float64Array }>;
  wadaSnr(samples: Float32Array, threads: number): Promise<number>;
  /** Active speech level (dBFS) of a clean clip, the reference level of the SNR definition. */
  activeSpeechLevel(clean: Float32Array, sampleRate: number, threads: number): Promise<number>;
  /** out = clean + noise scaled so that active level(clean) / mean power(noise over the clip) = snrDb. */
  mixAtSnr(clean: Float32Array, sampleRate: number, noise: Float32Array, snrDb: number, noiseOffset: number, out: Float32Array, threads: number): Promise<void>;
  /** out = x convolved with rir (same length as x, direct path at unit gain). */
  convolve(x: Float32Array, rir: Float32Array, out: Float32Array, threads: number): Promise<void>;
}

/** Signal analysis of one clip (cpp/metrics): scores and speech segments. */
export interface NativeAnalysis {
  scores: Record<string, number | boolean>;
  /** Speech segments as [start0, end0, start1, end1, ...] in seconds. */
  segments: Float64Array;
  /** Dropout spans as [start0, end0, ...] in seconds. */
  dropoutSpans: Float64Array;
  /** Frame hop of the speech-activity decisions, in seconds, and the decisions (1 = speech). */
  frameSec: number;
  isSpeech: Uint8Array;
}

/** The ABI version this TypeScript expects (binding/addon.cc exports the native one). */
export const EXPECTED_ABI_VERSION = 2;
