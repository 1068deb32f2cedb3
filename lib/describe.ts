// describeFiles: decode many clips in parallel and report what they are (format, rate, length,
// level). The first dataset-level job; grading builds on the same shape.
import pLimit from 'p-limit';
import { loadAudio, type Audio } from './audio.js';
import { VoxqcError } from './errors.js';
import { getConfig } from './runtime.js';

export interface AudioDescription {
  path: string;
  decoder: 'wav' | 'ffmpeg';
  encoding: string;
  sampleRate: number;
  channels: number;
  durationSec: number;
  /** Peak magnitude in dBFS (0 dBFS = full scale); -Infinity for digital silence. */
  peakDbfs: number;
  /** RMS level over the whole clip in dBFS. */
  rmsDbfs: number;
}

export type DescribeResult = AudioDescription | { path: string; error: { code: string; message: string } };

function dbfs(x: number): number {
  return x > 0 ? 20 * Math.log10(x) : -Infinity;
}

/** Level figures of decoded audio (a light pass over the samples). */
export function describeAudio(audio: Audio, path = audio.source.path ?? 'buffer'): AudioDescription {
  let peak = 0;
  let sum = 0;
  const x = audio.samples;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const a = Math.abs(v);
    if (a > peak) peak = a;
    sum += v * v;
  }
  return {
    path,
    decoder: audio.source.decoder,
    encoding: audio.source.encoding,
    sampleRate: audio.source.sampleRate,
    channels: audio.channels,
    durationSec: audio.durationSec,
    peakDbfs: dbfs(peak),
    rmsDbfs: dbfs(Math.sqrt(sum / Math.max(1, x.length))) ,
  };
}

/**
 * Decodes each file (configure()'s `concurrency` at a time) and describes it. A file that fails
 * gives an error entry; the others go on.
 */
export async function describeFiles(
  paths: readonly string[],
  onResult?: (result: DescribeResult, index: number) => void,
): Promise<DescribeResult[]> {
  const limit = pLimit(getConfig().concurrency);
  return Promise.all(
    paths.map((path, index) =>
      limit(async () => {
        let result: DescribeResult;
        try {
          result = describeAudio(await loadAudio(path), path);
        } catch (err) {
          const e = err instanceof VoxqcError ? err : new VoxqcError('ERR_NATIVE', String(err));
          result = { path, error: { code: e.code, message: e.message } };
        }
        onResult?.(result, index);
        return result;
      }),
    ),
  );
}
