// Audio-video offset of a talking-head video: ffmpeg decodes the mouth region's frames (gray,
// small) and loadAudio the audio; the native estimator (cpp/video/av_offset.h) correlates mouth
// motion with the rate of change of the speech spectrum over lags of +-maxOffsetMs.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadAudio } from './audio.js';
import { fromNativeError, VoxqcError } from './errors.js';
import { ffmpegAvailable, ffmpegPath } from './ffmpeg.js';
import { native } from './native/loader.js';
import { getConfig } from './runtime.js';
import { checkInteger, checkNumber, checkOptions, invalid } from './validate.js';

/** A rectangle as fractions (0..1) of the frame's width and height. */
export interface FrameRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface AvOffsetOptions {
  /** Path of a separate audio file to align with the video (its sample 0 at the video's first frame). Default: the video's own audio stream. */
  audio?: string;
  /** Search offsets from -maxOffsetMs to +maxOffsetMs. Default 1000; at most 5000. */
  maxOffsetMs?: number;
  /**
   * Where to look for the mouth, as fractions of the frame. Default the lower centre of a
   * centred talking head: { x: 1/3, y: 2/3, width: 1/3, height: 1/4 }.
   */
  region?: FrameRegion;
  /** Analyse at most this many seconds from the start. Default 600. */
  maxDurationSec?: number;
  /** Stop an ffmpeg decode that runs longer than this (ERR_TIMEOUT). Default 300 s. */
  timeoutSec?: number;
  /** libtorch intra-op threads. Default: configure()'s `threads`. */
  threads?: number;
}

export interface AvOffsetResult {
  /** Audio-video offset in ms: positive when the audio comes later than the lips. */
  offsetMs: number;
  /** 0..1: how clearly one lag wins (peak height and its margin over the best rival lag). */
  confidence: number;
  /** Diagnostics of the estimate. */
  details: {
    /** Correlation peak before the articulation-lead correction (ms). */
    rawLagMs: number;
    peakCorr: number;
    /** The best other candidate (>= 120 ms away) and its correlation. */
    rivalLagMs: number;
    rivalCorr: number;
    /** The peak lies at +-maxOffsetMs: the true offset may be beyond the search range. */
    atSearchEdge: boolean;
    /** Seconds of audio with spectral change (speech-like activity). */
    speechSec: number;
    /** Mean frame difference in the mouth cells (0..255); near 0 for a still picture. */
    motionLevel: number;
    /** Decoded video: frames, their rate and the analysed region in pixels. */
    frames: number;
    fps: number;
    region: { x: number; y: number; width: number; height: number };
    /** Start of the audio on the video's clock (s), from the container's timestamps. */
    audioStartSec: number;
  };
}

const KNOWN = ['audio', 'maxOffsetMs', 'region', 'maxDurationSec', 'timeoutSec', 'threads'] as const;
const DEFAULT_REGION: FrameRegion = { x: 1 / 3, y: 2 / 3, width: 1 / 3, height: 1 / 4 };
/** Decoded region size: about 60x36 for a 360x288 GRID frame at half resolution. */
const TARGET_WIDTH = 60;
const SAMPLE_RATE = 16000;
const MIN_VIDEO_SEC = 1;

function ffprobePath(): string {
  if (process.env.VOXQC_FFPROBE) return process.env.VOXQC_FFPROBE;
  const ff = ffmpegPath();
  return ff.includes('/') ? join(dirname(ff), basename(ff).replace(/ffmpeg/, 'ffprobe')) : 'ffprobe';
}

/** Runs a tool, collecting stdout; rejects with a VoxqcError on failure or timeout. */
function runTool(cmd: string, args: string[], timeoutSec: number, label: string, file: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSec * 1000);
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 8192) stderr += c.toString();
    });
    child.on('error', (err) =>
      reject(new VoxqcError('ERR_FFMPEG_MISSING', `${label}: could not start ${cmd}: ${err.message}`, { file, cause: err })),
    );
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new VoxqcError('ERR_TIMEOUT', `${label}: ${basename(cmd)} took longer than ${timeoutSec} s and was stopped`, { file }));
        return;
      }
      if (code !== 0) {
        let reason = stderr.trim().split('\n').filter(Boolean).at(-1) ?? `${basename(cmd)} exited with status ${code}`;
        if (/Invalid data found when processing input/.test(stderr)) reason = 'ffmpeg does not recognise it as a video';
        reject(new VoxqcError('ERR_DECODE', `${label}: cannot decode: ${reason}`, { file }));
        return;
      }
      resolve(Buffer.concat(chunks));
    });
  });
}

interface ProbedStream {
  codec_type?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  start_time?: string;
  duration?: string;
}

function parseRate(r: string | undefined): number {
  if (!r) return NaN;
  const [a, b] = r.split('/').map(Number);
  return b === undefined ? a! : b! > 0 ? a! / b! : NaN;
}

async function checkFile(path: string, what: string): Promise<void> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new VoxqcError('ERR_INVALID_ARG', `${path}: is a directory, not ${what}`, { file: path });
  } catch (err) {
    if (err instanceof VoxqcError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VoxqcError('ERR_NOT_FOUND', `${path}: no such file`, { file: path, cause: err });
    throw new VoxqcError('ERR_DECODE', `${path}: cannot read: ${(err as Error).message}`, { file: path, cause: err });
  }
}

/** Throws ERR_FFMPEG_MISSING, naming the video and the install command, when ffmpeg is absent. */
function requireFfmpeg(videoPath: string): void {
  if (ffmpegAvailable()) return;
  throw new VoxqcError(
    'ERR_FFMPEG_MISSING',
    `${videoPath}: decoding video needs ffmpeg, which was not found (looked for '${ffmpegPath()}'). ` +
      'Install it:  apt-get install -y ffmpeg   (or set VOXQC_FFMPEG to its path)',
    { file: videoPath },
  );
}

function resolveRegion(value: unknown): FrameRegion {
  const where = 'avOffset';
  if (value === undefined) return DEFAULT_REGION;
  const r = checkOptions<FrameRegion>(where, value, ['x', 'y', 'width', 'height']);
  const out = {
    x: checkNumber(where, 'region.x', r.x ?? DEFAULT_REGION.x, { min: 0, max: 1 }),
    y: checkNumber(where, 'region.y', r.y ?? DEFAULT_REGION.y, { min: 0, max: 1 }),
    width: checkNumber(where, 'region.width', r.width ?? DEFAULT_REGION.width, { min: 0, max: 1, minExclusive: true }),
    height: checkNumber(where, 'region.height', r.height ?? DEFAULT_REGION.height, { min: 0, max: 1, minExclusive: true }),
  };
  if (out.x + out.width > 1 + 1e-9 || out.y + out.height > 1 + 1e-9) {
    throw new VoxqcError('ERR_INVALID_ARG', 'avOffset: region must lie inside the frame (x + width <= 1 and y + height <= 1)');
  }
  return out;
}

/**
 * Estimates how far a talking-head video's audio is shifted against the lip movements
 * (positive: the audio comes later than the lips), searching +-maxOffsetMs.
 *
 * The video's mouth region is decoded with ffmpeg (gray, ~60 px wide), the audio with loadAudio
 * (the video's own audio stream, placed on the video's clock by the container's timestamps, or
 * `options.audio`). Errors are VoxqcErrors: ERR_NOT_FOUND, ERR_DECODE (no video stream, no audio
 * stream, undecodable), ERR_INVALID_ARG (bad options, a video shorter than 1 s), ERR_TIMEOUT,
 * ERR_FFMPEG_MISSING.
 */
export async function avOffset(videoPath: string, options?: AvOffsetOptions): Promise<AvOffsetResult> {
  const where = 'avOffset';
  if (typeof videoPath !== 'string' || videoPath === '') throw invalid(where, 'videoPath', 'a file path', videoPath);
  const o = checkOptions<AvOffsetOptions>(where, options, KNOWN);
  if (o.audio !== undefined && (typeof o.audio !== 'string' || o.audio === '')) throw invalid(where, 'audio', 'a file path', o.audio);
  const maxOffsetMs = o.maxOffsetMs === undefined ? 1000 : checkNumber(where, 'maxOffsetMs', o.maxOffsetMs, { min: 0, max: 5000, minExclusive: true });
  const maxDurationSec =
    o.maxDurationSec === undefined ? 600 : checkNumber(where, 'maxDurationSec', o.maxDurationSec, { min: MIN_VIDEO_SEC, max: 7200 });
  const timeoutSec = o.timeoutSec === undefined ? 300 : checkNumber(where, 'timeoutSec', o.timeoutSec, { min: 0, minExclusive: true });
  const threads = o.threads === undefined ? getConfig().threads : checkInteger(where, 'threads', o.threads, 1, 1024);
  const region = resolveRegion(o.region);

  await checkFile(videoPath, 'a video file');
  if (o.audio !== undefined) await checkFile(o.audio, 'an audio file');
  requireFfmpeg(videoPath);

  // --- probe: streams, frame rate, start times ----------------------------------------------------
  const probeOut = await runTool(
    ffprobePath(),
    ['-v', 'error', '-show_entries', 'stream=codec_type,width,height,r_frame_rate,avg_frame_rate,start_time,duration', '-of', 'json', videoPath],
    timeoutSec,
    videoPath,
    videoPath,
  );
  let streams: ProbedStream[];
  try {
    streams = (JSON.parse(probeOut.toString()) as { streams?: ProbedStream[] }).streams ?? [];
  } catch (err) {
    throw new VoxqcError('ERR_DECODE', `${videoPath}: cannot read ffprobe's description of the file`, { file: videoPath, cause: err });
  }
  const v = streams.find((s) => s.codec_type === 'video');
  if (!v) throw new VoxqcError('ERR_DECODE', `${videoPath}: it has no video stream`, { file: videoPath });
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!a && o.audio === undefined) {
    throw new VoxqcError('ERR_DECODE', `${videoPath}: it has no audio stream (pass options.audio with a separate audio file)`, {
      file: videoPath,
    });
  }
  let fps = parseRate(v.r_frame_rate);
  if (!(fps > 1 && fps <= 120)) fps = parseRate(v.avg_frame_rate);
  if (!(fps > 1 && fps <= 120)) fps = 25;
  const vStart = Number(v.start_time ?? 0) || 0;
  const audioStartSec = o.audio !== undefined ? 0 : (Number(a!.start_time ?? 0) || 0) - vStart;
  const fw = v.width ?? 0, fh = v.height ?? 0;
  if (!(fw > 0 && fh > 0)) throw new VoxqcError('ERR_DECODE', `${videoPath}: the video stream has no frame size`, { file: videoPath });

  // --- frames: the mouth region, gray -------------------------------------------------------------
  const px = { x: Math.round(region.x * fw), y: Math.round(region.y * fh), width: Math.max(8, Math.round(region.width * fw)), height: Math.max(6, Math.round(region.height * fh)) };
  px.width = Math.min(px.width, fw - px.x);
  px.height = Math.min(px.height, fh - px.y);
  // Half resolution for a 360-pixel-wide frame; the same scale in pixels of the face elsewhere.
  const outW = Math.max(8, Math.min(TARGET_WIDTH * 4, Math.round(px.width / 2) & ~1));
  const outH = Math.max(6, Math.round((outW * px.height) / px.width));
  // -copyts keeps the container's timestamps, so frame 0 is the video's first frame at vStart
  // whatever the other streams' start times (without it ffmpeg pads from the file's start).
  const vf = `fps=fps=${fps}:start_time=${vStart},crop=${px.width}:${px.height}:${px.x}:${px.y},scale=${outW}:${outH}:flags=area,format=gray`;
  const raw = await runTool(
    ffmpegPath(),
    ['-nostdin', '-hide_banner', '-v', 'error', '-copyts', '-i', videoPath, '-t', String(maxDurationSec), '-map', '0:v:0', '-an', '-vf', vf, '-f', 'rawvideo', 'pipe:1'],
    timeoutSec,
    videoPath,
    videoPath,
  );
  const frameBytes = outW * outH;
  const numFrames = Math.floor(raw.length / frameBytes);
  if (numFrames / fps < MIN_VIDEO_SEC || numFrames < 8) {
    throw new VoxqcError(
      'ERR_INVALID_ARG',
      `${videoPath}: the video is too short to estimate an audio-video offset: ${numFrames} frames (${(numFrames / fps).toFixed(2)} s); at least ${MIN_VIDEO_SEC} s is needed`,
      { file: videoPath },
    );
  }
  const frames = new Uint8Array(raw.buffer, raw.byteOffset, numFrames * frameBytes);

  // --- audio: the span that the search can touch --------------------------------------------------
  const audioPath = o.audio ?? videoPath;
  const audio = await loadAudio(audioPath, {
    sampleRate: SAMPLE_RATE,
    durationSec: numFrames / fps + Math.max(0, -audioStartSec) + maxOffsetMs / 1000 + 1,
    maxDurationSec: maxDurationSec + 30,
    timeoutSec,
    threads,
  });

  let r;
  try {
    r = await native().avOffset(frames, numFrames, outW, outH, fps, audio.samples, audio.sampleRate, { maxOffsetMs, audioStartSec }, threads);
  } catch (err) {
    throw fromNativeError(err, { file: videoPath });
  }
  return {
    offsetMs: r.offsetMs,
    confidence: r.confidence,
    details: {
      rawLagMs: r.rawLagMs,
      peakCorr: r.peakCorr,
      rivalLagMs: r.rivalLagMs,
      rivalCorr: r.rivalCorr,
      atSearchEdge: r.atSearchEdge,
      speechSec: r.speechSec,
      motionLevel: r.motionLevel,
      frames: numFrames,
      fps,
      region: px,
      audioStartSec,
    },
  };
}

/** Frames for the learned grader: the mouth region, grey, at a fixed rate and size. */
export interface MouthFrames {
  /** count x height x width bytes, row-major, one byte a pixel. */
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
}

/**
 * Decodes a talking-head video's mouth region (DEFAULT_REGION, the lower centre of the frame)
 * as grey frames of `width` x `height` at `fps`, as the learned grader takes them. Training data
 * preparation and grading both call this, so the model sees the same pixels in both.
 */
export async function decodeMouthFrames(
  videoPath: string,
  options: { fps: number; width: number; height: number; maxDurationSec?: number; timeoutSec?: number },
): Promise<MouthFrames> {
  await checkFile(videoPath, 'a video file');
  requireFfmpeg(videoPath);
  const { fps, width, height } = options;
  const r = DEFAULT_REGION;
  const vf =
    `fps=fps=${fps},crop=trunc(iw*${r.width.toFixed(6)}):trunc(ih*${r.height.toFixed(6)}):trunc(iw*${r.x.toFixed(6)}):trunc(ih*${r.y.toFixed(6)}),` +
    `scale=${width}:${height}:flags=area,format=gray`;
  const raw = await runTool(
    ffmpegPath(),
    ['-nostdin', '-hide_banner', '-v', 'error', '-i', videoPath, '-t', String(options.maxDurationSec ?? 600), '-map', '0:v:0', '-an', '-vf', vf, '-f', 'rawvideo', 'pipe:1'],
    options.timeoutSec ?? 300,
    videoPath,
    videoPath,
  );
  const frameBytes = width * height;
  const count = Math.floor(raw.length / frameBytes);
  if (count === 0) throw new VoxqcError('ERR_DECODE', `${videoPath}: no video frames decoded`, { file: videoPath });
  return { frames: new Uint8Array(raw.buffer, raw.byteOffset, count * frameBytes), count, height, width, fps };
}
