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
}

/** The ABI version this TypeScript expects (binding/addon.cc exports the native one). */
export const EXPECTED_ABI_VERSION = 2;
