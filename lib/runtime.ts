// Process-wide settings: libtorch's intra-op threads per native call, and how many clips are
// processed at once by the dataset-level functions.
import { availableParallelism } from 'node:os';
import { native } from './native/loader.js';
import { checkInteger, checkOptions } from './validate.js';

export interface VoxqcConfig {
  /** libtorch intra-op threads each native call uses. Default 1: clips run in parallel instead. */
  threads: number;
  /** Clips processed at once by dataset-level work (decode + native calls). Default: the number of cores. */
  concurrency: number;
}

const config: VoxqcConfig = { threads: 1, concurrency: Math.max(1, availableParallelism()) };

/** Changes the settings; returns the settings now in force. */
export function configure(options: Partial<VoxqcConfig> = {}): VoxqcConfig {
  const opts = checkOptions<VoxqcConfig>('configure', options, ['threads', 'concurrency']);
  if (opts.threads !== undefined) config.threads = checkInteger('configure', 'threads', opts.threads, 1, 1024);
  if (opts.concurrency !== undefined) {
    config.concurrency = checkInteger('configure', 'concurrency', opts.concurrency, 1, 1024);
  }
  return { ...config };
}

export function getConfig(): VoxqcConfig {
  return { ...config };
}

export interface RuntimeInfo {
  /** voxqc's version. */
  version: string;
  /** libtorch's version, e.g. "1.13.0". */
  torchVersion: string;
  /** CUDA kernels compiled into this build, and usable now. */
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  /** libtorch's parallel backend. */
  parallelInfo: string;
  hardwareThreads: number;
  threads: number;
  concurrency: number;
}

export const VERSION = '0.1.0';

/** Versions and capabilities of the loaded native core. */
export async function runtimeInfo(): Promise<RuntimeInfo> {
  const info = await native().runtimeInfo(config.threads);
  return {
    version: VERSION,
    torchVersion: info.torchVersion,
    cudaCompiled: info.cudaCompiled,
    cudaAvailable: info.cudaAvailable,
    parallelInfo: info.parallelInfo,
    hardwareThreads: info.hardwareThreads,
    threads: config.threads,
    concurrency: config.concurrency,
  };
}
