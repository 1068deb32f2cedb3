// Decoding through ffmpeg (Debian's package), started as a child process and read as a stream.
// ffmpeg turns anything it can read (FLAC, MP3, OGG/Opus, M4A/AAC, the audio track of a video…)
// into a float32 WAV on its stdout, which voxqc's own WAV parser then reads.
import { spawn, spawnSync } from 'node:child_process';
import { VoxqcError } from './errors.js';

export function ffmpegPath(): string {
  return process.env.VOXQC_FFMPEG || 'ffmpeg';
}

let available: boolean | undefined;
export function ffmpegAvailable(): boolean {
  available ??= spawnSync(ffmpegPath(), ['-version'], { stdio: 'ignore' }).status === 0;
  return available;
}

export interface FfmpegDecodeOptions {
  offsetSec?: number;
  durationSec?: number;
  /** Kill ffmpeg and fail with ERR_TIMEOUT after this many seconds. */
  timeoutSec: number;
  /** A label for messages (the file's path, or "buffer"). */
  label: string;
  /** Kills ffmpeg and fails with ERR_TIMEOUT when aborted (a per-clip time limit). */
  signal?: AbortSignal;
}

/**
 * Decodes the first audio stream of `input` (a path, or bytes fed to ffmpeg's stdin) into a
 * float32 WAV held in memory. The caller bounds the size with durationSec.
 */
export function decodeWithFfmpeg(input: string | Uint8Array, opts: FfmpegDecodeOptions): Promise<Buffer> {
  if (!ffmpegAvailable()) {
    return Promise.reject(
      new VoxqcError(
        'ERR_FFMPEG_MISSING',
        `${opts.label}: decoding this format needs ffmpeg, which was not found (looked for '${ffmpegPath()}'). ` +
          'Install it:  apt-get install -y ffmpeg   (or set VOXQC_FFMPEG to its path)',
        { file: typeof input === 'string' ? input : undefined },
      ),
    );
  }
  // -nostdin unless stdin carries the input.
  const args = typeof input === 'string' ? ['-nostdin'] : [];
  args.push('-hide_banner', '-v', 'error');
  if (opts.offsetSec) args.push('-ss', String(opts.offsetSec));
  args.push('-i', typeof input === 'string' ? input : 'pipe:0');
  if (opts.durationSec !== undefined) args.push('-t', String(opts.durationSec));
  args.push('-map', '0:a:0', '-vn', '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1');

  const file = typeof input === 'string' ? input : undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: [typeof input === 'string' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutSec * 1000);
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 8192) stderr += c.toString();
    });
    if (typeof input !== 'string') {
      child.stdin!.on('error', () => {
        /* ffmpeg may stop reading early (bad data); its exit status tells */
      });
      child.stdin!.end(input);
    }
    child.on('error', (err) =>
      reject(new VoxqcError('ERR_FFMPEG_MISSING', `${opts.label}: could not start ffmpeg: ${err.message}`, { file, cause: err })),
    );
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (aborted) {
        reject(new VoxqcError('ERR_TIMEOUT', `${opts.label}: decoding was stopped (${abortReason(opts.signal)})`, { file }));
        return;
      }
      if (timedOut) {
        reject(new VoxqcError('ERR_TIMEOUT', `${opts.label}: decoding took longer than ${opts.timeoutSec} s and was stopped`, { file }));
        return;
      }
      if (code !== 0) {
        const lines = stderr.trim().split('\n').filter(Boolean);
        let reason = lines.at(-1) ?? `ffmpeg exited with status ${code}`;
        if (/matches no streams/.test(stderr)) reason = 'it has no audio stream';
        else if (/Invalid data found when processing input/.test(stderr)) reason = 'ffmpeg does not recognise it as audio or video (Invalid data found when processing input)';
        reject(new VoxqcError('ERR_DECODE', `${opts.label}: cannot decode: ${reason}`, { file }));
        return;
      }
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Why a signal was aborted, for messages. */
export function abortReason(signal: AbortSignal | undefined): string {
  const r = signal?.reason as unknown;
  if (r instanceof Error) return r.message;
  if (typeof r === 'string') return r;
  return 'cancelled';
}
