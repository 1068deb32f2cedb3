// loadAudio: WAV parsed by voxqc itself (native), everything else through ffmpeg; channel
// selection or mixing; band-limited resampling (native).
import { open, stat } from 'node:fs/promises';
import { fromNativeError, VoxqcError } from './errors.js';
import { decodeWithFfmpeg } from './ffmpeg.js';
import type { NativeWavInfo } from './native/addon.js';
import { native } from './native/loader.js';
import { getConfig } from './runtime.js';
import { checkInteger, checkNumber, checkOptions, invalid } from './validate.js';

export interface LoadAudioOptions {
  /** Resample to this rate (Hz). Default: keep the file's rate. */
  sampleRate?: number;
  /** 'mix' (default) averages all channels; a number picks one channel, counted from 0. */
  channel?: 'mix' | number;
  /** Start reading this many seconds into the clip. Default 0. */
  offsetSec?: number;
  /** Read at most this many seconds. Default: to the end. */
  durationSec?: number;
  /** Refuse (ERR_TOO_LONG) to load more than this many seconds at once. Default 7200 (2 h). */
  maxDurationSec?: number;
  /** Stop an ffmpeg decode that runs longer than this (ERR_TIMEOUT). Default 300 s. */
  timeoutSec?: number;
  /** libtorch intra-op threads for resampling. Default: configure()'s `threads`. */
  threads?: number;
  /** Stops the load (ERR_TIMEOUT) when aborted: an ffmpeg decode is killed. */
  signal?: AbortSignal;
}

export interface AudioSourceInfo {
  /** The file's path, or undefined for a buffer. */
  path?: string;
  /** 'wav' when voxqc parsed it, else the decoder used ('ffmpeg'). */
  decoder: 'wav' | 'ffmpeg';
  /** e.g. "PCM 16-bit", "float 32-bit" (for ffmpeg, what ffmpeg handed over). */
  encoding: string;
  /** The file's own rate and channel count. */
  sampleRate: number;
  channels: number;
  /** Duration of the whole file, in seconds (WAV only; for ffmpeg the part decoded). */
  durationSec: number;
}

export interface Audio {
  /** Mono samples scaled to [-1, 1]. */
  samples: Float32Array;
  /** Rate of `samples` (the requested one, or the file's). */
  sampleRate: number;
  /** Channel count of the source. */
  channels: number;
  /** samples.length / sampleRate */
  durationSec: number;
  source: AudioSourceInfo;
}

export type AudioInput = string | Uint8Array | ArrayBuffer;

/** True for audio already decoded by loadAudio (rather than a path or bytes). */
export function isAudio(x: unknown): x is Audio {
  return typeof x === 'object' && x !== null && (x as Audio).samples instanceof Float32Array && typeof (x as Audio).sampleRate === 'number';
}

const KNOWN = ['sampleRate', 'channel', 'offsetSec', 'durationSec', 'maxDurationSec', 'timeoutSec', 'threads', 'signal'] as const;
const HEAD_BYTES = 1 << 20;
/** Most samples one resample call may produce (2^29: 2 GiB of float32; 2 h at 48 kHz is 3.5e8). */
export const MAX_SAMPLES = 2 ** 29;
const MIX = -1;

interface Resolved {
  sampleRate?: number;
  channel: number;
  offsetSec: number;
  durationSec?: number;
  maxDurationSec: number;
  timeoutSec: number;
  threads: number;
  signal?: AbortSignal;
}

function resolveOptions(options: unknown): Resolved {
  const where = 'loadAudio';
  const o = checkOptions<LoadAudioOptions>(where, options, KNOWN);
  const channel = o.channel === undefined || o.channel === 'mix' ? MIX : checkInteger(where, 'channel', o.channel, 0, 1023);
  if (typeof o.channel === 'string' && o.channel !== 'mix') throw invalid(where, 'channel', "'mix' or a channel number", o.channel);
  return {
    sampleRate: o.sampleRate === undefined ? undefined : checkInteger(where, 'sampleRate', o.sampleRate, 1, 768000),
    channel,
    offsetSec: o.offsetSec === undefined ? 0 : checkNumber(where, 'offsetSec', o.offsetSec, { min: 0 }),
    durationSec:
      o.durationSec === undefined ? undefined : checkNumber(where, 'durationSec', o.durationSec, { min: 0, minExclusive: true }),
    maxDurationSec:
      o.maxDurationSec === undefined ? 7200 : checkNumber(where, 'maxDurationSec', o.maxDurationSec, { min: 0, minExclusive: true }),
    timeoutSec: o.timeoutSec === undefined ? 300 : checkNumber(where, 'timeoutSec', o.timeoutSec, { min: 0, minExclusive: true }),
    threads: o.threads === undefined ? getConfig().threads : checkInteger(where, 'threads', o.threads, 1, 1024),
    signal: o.signal === undefined ? undefined : checkSignal(where, o.signal),
  };
}

function checkSignal(where: string, v: unknown): AbortSignal {
  if (!(v instanceof AbortSignal)) throw invalid(where, 'signal', 'an AbortSignal', v);
  return v;
}

/** A source of bytes: a file read by ranges, or a buffer in memory. */
interface ByteSource {
  label: string;
  path?: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
  /** The whole input, for ffmpeg (a path is passed as a path). */
  ffmpegInput: string | Uint8Array;
}

async function openSource(input: AudioInput): Promise<ByteSource> {
  if (typeof input === 'string') {
    let size: number;
    try {
      const st = await stat(input);
      if (st.isDirectory()) throw new VoxqcError('ERR_INVALID_ARG', `${input}: is a directory, not an audio file`, { file: input });
      // A FIFO, socket or device would block a reader (or never end): only regular files are read.
      if (!st.isFile()) {
        const kind = st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'something other than a regular file';
        throw new VoxqcError('ERR_INVALID_ARG', `${input}: is ${kind}, not an audio file`, { file: input });
      }
      size = st.size;
    } catch (err) {
      if (err instanceof VoxqcError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new VoxqcError('ERR_NOT_FOUND', `${input}: no such file`, { file: input, cause: err });
      }
      throw new VoxqcError('ERR_DECODE', `${input}: cannot read: ${(err as Error).message}`, { file: input, cause: err });
    }
    const handle = await open(input, 'r').catch((err: Error) => {
      throw new VoxqcError('ERR_DECODE', `${input}: cannot open: ${err.message}`, { file: input, cause: err });
    });
    return {
      label: input,
      path: input,
      size,
      ffmpegInput: input,
      async read(offset, length) {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === length ? buf : buf.subarray(0, done);
      },
      close: () => handle.close(),
    };
  }
  let bytes: Uint8Array;
  if (input instanceof Uint8Array) bytes = input;
  else if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
  else throw invalid('loadAudio', 'input', 'a file path, a Buffer/Uint8Array or an ArrayBuffer', input);
  return {
    label: 'buffer',
    size: bytes.length,
    ffmpegInput: bytes,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    close: async () => {},
  };
}

function isRiff(head: Uint8Array): boolean {
  const tag = String.fromCharCode(...head.subarray(0, 4));
  return head.length >= 12 && (tag === 'RIFF' || tag === 'RF64') && String.fromCharCode(...head.subarray(8, 12)) === 'WAVE';
}

interface Decoded {
  samples: Float32Array;
  info: NativeWavInfo;
  fileDurationSec: number;
}

/** Decodes the requested span of a WAV whose header is `info`. */
async function decodeWavSpan(src: ByteSource, info: NativeWavInfo, o: Resolved, spanKnown: boolean): Promise<Decoded> {
  const rate = info.sampleRate;
  const fileDurationSec = info.frames / rate;
  // When ffmpeg already cut the span (spanKnown), take every frame it produced.
  const start = spanKnown ? 0 : Math.round(o.offsetSec * rate);
  if (!spanKnown && o.offsetSec > 0 && start >= info.frames) {
    throw new VoxqcError(
      'ERR_INVALID_ARG',
      `${src.label}: offsetSec ${o.offsetSec} is at or past the end of the clip (${fileDurationSec.toFixed(3)} s)`,
      { file: src.path },
    );
  }
  const wanted = !spanKnown && o.durationSec !== undefined ? Math.round(o.durationSec * rate) : info.frames - start;
  const frames = Math.max(0, Math.min(info.frames - start, wanted));
  if (frames / rate > o.maxDurationSec) {
    throw new VoxqcError(
      'ERR_TOO_LONG',
      `${src.label}: ${formatDuration(frames / rate)} of audio is over maxDurationSec (${o.maxDurationSec} s); ` +
        'read it in parts with offsetSec/durationSec, or raise maxDurationSec',
      { file: src.path },
    );
  }
  if (frames === 0) {
    throw new VoxqcError('ERR_DECODE', `${src.label}: the WAV holds no audio samples (0 frames)`, { file: src.path });
  }
  const bytes = await src.read(info.dataOffset + start * info.blockAlign, frames * info.blockAlign);
  const samples = new Float32Array(frames);
  let firstBad: number;
  try {
    firstBad = await native().decodeWav(info, bytes, Math.floor(bytes.length / info.blockAlign), o.channel, samples);
  } catch (err) {
    throw fromNativeError(err, { file: src.path, what: src.label });
  }
  if (firstBad >= 0) {
    const at = (start + firstBad) / rate;
    throw new VoxqcError(
      'ERR_DECODE',
      `${src.label}: NaN or infinite sample at ${at.toFixed(4)} s (frame ${start + firstBad})`,
      { file: src.path },
    );
  }
  return { samples, info, fileDurationSec };
}

function formatDuration(sec: number): string {
  return sec >= 3600 ? `${(sec / 3600).toFixed(2)} h` : `${sec.toFixed(1)} s`;
}

/** ceil(n * to / from), exactly (the native resampler's output length). */
export function resampledLength(n: number, from: number, to: number): number {
  const num = BigInt(n) * BigInt(to);
  const den = BigInt(from);
  return Number((num + den - 1n) / den);
}

/**
 * Resamples mono samples from one rate to another with voxqc's band-limited resampler
 * (passband to 0.9 x the lower Nyquist with < 0.001 dB ripple, >= 100 dB stopband).
 */
export async function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  options: { threads?: number } = {},
): Promise<Float32Array> {
  if (!(samples instanceof Float32Array)) throw invalid('resample', 'samples', 'a Float32Array', samples);
  checkInteger('resample', 'fromRate', fromRate, 1, 10_000_000);
  checkInteger('resample', 'toRate', toRate, 1, 10_000_000);
  const o = checkOptions<{ threads: number }>('resample', options, ['threads']);
  const threads = o.threads === undefined ? getConfig().threads : checkInteger('resample', 'threads', o.threads, 1, 1024);
  if (fromRate === toRate) return samples.slice();
  const outLength = resampledLength(samples.length, fromRate, toRate);
  if (outLength > MAX_SAMPLES) {
    throw new VoxqcError(
      'ERR_TOO_LONG',
      `resample: ${samples.length} samples from ${fromRate} Hz to ${toRate} Hz would be ${outLength} samples (at most ${MAX_SAMPLES} in one call)`,
    );
  }
  const out = new Float32Array(outLength);
  try {
    await native().resample(samples, fromRate, toRate, out, threads);
  } catch (err) {
    throw fromNativeError(err, { what: 'resample' });
  }
  return out;
}

/**
 * Decodes audio from a file path or bytes into mono float samples.
 *
 * WAV (PCM 8/16/24/32-bit, float 32/64, G.711, WAVE_FORMAT_EXTENSIBLE, any rate and channel
 * count) is parsed by voxqc; every other format goes through ffmpeg. Errors are VoxqcErrors
 * naming the file: ERR_NOT_FOUND, ERR_DECODE (empty, corrupt, NaN samples…), ERR_TOO_LONG,
 * ERR_TIMEOUT, ERR_FFMPEG_MISSING, ERR_INVALID_ARG.
 */
export async function loadAudio(input: AudioInput, options?: LoadAudioOptions): Promise<Audio> {
  const o = resolveOptions(options);
  const src = await openSource(input);
  try {
    if (src.size === 0) throw new VoxqcError('ERR_DECODE', `${src.label}: the file is empty (0 bytes)`, { file: src.path });
    const head = await src.read(0, Math.min(src.size, HEAD_BYTES));
    let decoded: Decoded | undefined;
    let decoder: 'wav' | 'ffmpeg' = 'wav';
    let wavProblem: VoxqcError | undefined;
    if (isRiff(head)) {
      try {
        const info = await native().wavInfo(head, src.size);
        decoded = await decodeWavSpan(src, info, o, false);
      } catch (err) {
        const e = fromNativeError(err, { file: src.path, what: src.label });
        if (e.code !== 'ERR_UNSUPPORTED') throw e;
        wavProblem = e;
      }
    }
    if (!decoded) {
      decoder = 'ffmpeg';
      // Ask ffmpeg for a little more than the limit, so an over-long clip is detected without
      // decoding all of it.
      const durationSec = o.durationSec ?? o.maxDurationSec + 1;
      let wav: Buffer;
      try {
        wav = await decodeWithFfmpeg(src.ffmpegInput, { offsetSec: o.offsetSec, durationSec, timeoutSec: o.timeoutSec, label: src.label, signal: o.signal });
      } catch (err) {
        if (wavProblem && err instanceof VoxqcError && err.code === 'ERR_DECODE') {
          throw new VoxqcError('ERR_DECODE', `${err.message} (voxqc's WAV parser: ${wavProblem.message})`, { file: src.path });
        }
        throw err;
      }
      if (wav.length === 0) {
        throw new VoxqcError('ERR_DECODE', `${src.label}: ffmpeg produced no audio`, { file: src.path });
      }
      const wavSrc: ByteSource = {
        label: src.label,
        path: src.path,
        size: wav.length,
        ffmpegInput: wav,
        read: async (offset, length) => wav.subarray(offset, offset + length),
        close: async () => {},
      };
      let info: NativeWavInfo;
      try {
        info = await native().wavInfo(wav.subarray(0, Math.min(wav.length, HEAD_BYTES)), wav.length);
      } catch (err) {
        throw fromNativeError(err, { file: src.path, what: src.label });
      }
      if (info.frames === 0) {
        throw new VoxqcError(
          'ERR_DECODE',
          o.offsetSec > 0
            ? `${src.label}: no audio at offsetSec ${o.offsetSec} (past the end of the clip?)`
            : `${src.label}: the audio stream holds no samples`,
          { file: src.path },
        );
      }
      decoded = await decodeWavSpan(wavSrc, info, o, true);
    }

    const { info } = decoded;
    let samples = decoded.samples;
    let sampleRate = info.sampleRate;
    if (o.sampleRate !== undefined && o.sampleRate !== sampleRate) {
      samples = await resample(samples, sampleRate, o.sampleRate, { threads: o.threads });
      sampleRate = o.sampleRate;
    }
    return {
      samples,
      sampleRate,
      channels: info.channels,
      durationSec: samples.length / sampleRate,
      source: {
        path: src.path,
        decoder,
        encoding: info.encodingName,
        sampleRate: info.sampleRate,
        channels: info.channels,
        durationSec: decoder === 'wav' ? decoded.fileDurationSec : decoded.samples.length / info.sampleRate,
      },
    };
  } finally {
    await src.close();
  }
}
