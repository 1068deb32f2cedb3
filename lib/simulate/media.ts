// ffmpeg steps of the simulator: lossy codecs, and videos whose audio is shifted against the picture.
import { spawn } from 'node:child_process';
import { VoxqcError } from '../errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { encodeWav } from '../wav.js';

function run(args: string[], stdin?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-v', 'error', '-y', ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new VoxqcError('ERR_FFMPEG_MISSING', `the simulator needs ffmpeg: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new VoxqcError('ERR_DECODE', `ffmpeg ${args.join(' ')}: ${err.trim()}`))));
    if (stdin) child.stdin!.end(stdin);
  });
}

/** Encodes mono samples with a lossy codec at a low bitrate (mp3 or opus). */
export function encodeWithFfmpeg(x: Float32Array, rate: number, file: string, codec: string, kbps: number): Promise<void> {
  const c = codec === 'mp3' ? ['-c:a', 'libmp3lame'] : ['-c:a', 'libopus'];
  return run(['-f', 'wav', '-i', 'pipe:0', ...c, '-b:a', `${kbps}k`, file], encodeWav(x, rate, 'float32'));
}

/** Copies a video with its audio shifted by offsetMs (positive: the audio comes later than the lips). */
export function shiftVideoAudio(input: string, output: string, offsetMs: number): Promise<void> {
  return run(['-i', input, '-itsoffset', String(offsetMs / 1000), '-i', input, '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'pcm_s16le', '-shortest', output]);
}
