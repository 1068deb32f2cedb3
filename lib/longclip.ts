// Long clips in bounded memory: analyze() reads a clip longer than one chunk (5 minutes) chunk by
// chunk (a WAV by byte ranges, anything else by ffmpeg with -ss/-t), measures each chunk in the
// native core, and combines the scores. Memory stays that of one chunk, whatever the length.
//
// How chunk scores combine (each chunk is measured exactly as a clip of its own):
//   durations, speech, noise time, dropouts, segments: summed (segments re-based on the clip's
//     timeline; a segment cut by a chunk boundary is joined again);
//   silences: leading/trailing/max pause from the joined segments;
//   levels: power means, speech level weighted by speech time, noise level by noise time; SNR is
//     their difference (capped as in the core); clipping fraction: weighted by duration, clip level
//     and the longest dropout/repetition: the largest; spectrum shares: weighted by speech time;
//   truncation: the start from the first chunk, the end from the last.
// A repetition whose two copies fall in different chunks is not seen.
import type { Audio } from './audio.js';
import type { Scores } from './grading.js';

/** Seconds of audio per chunk. */
export const CHUNK_SEC = 300;

export interface ChunkAnalysis {
  /** Start of the chunk in the clip (s). */
  offsetSec: number;
  durationSec: number;
  scores: Record<string, number | boolean>;
  /** Speech segments (start, end pairs) relative to the chunk. */
  segments: Float64Array;
}

const dbToPow = (db: number) => 10 ** (db / 10);
const powToDb = (p: number) => (p > 0 ? 10 * Math.log10(p) : -100);

function num(s: Record<string, number | boolean>, k: string): number {
  const v = s[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Joins the chunks' segments on the clip's timeline (touching ones across a boundary merge). */
export function joinSegments(chunks: ChunkAnalysis[]): Float64Array {
  const out: number[] = [];
  for (const c of chunks) {
    for (let i = 0; i + 1 < c.segments.length; i += 2) {
      const a = c.offsetSec + c.segments[i]!;
      const b = c.offsetSec + c.segments[i + 1]!;
      const n = out.length;
      if (n >= 2 && a - out[n - 1]! <= 0.02) out[n - 1] = Math.max(out[n - 1]!, b);
      else out.push(a, b);
    }
  }
  return Float64Array.from(out);
}

/** Scores of the whole clip from its chunks' scores (see the header for the rules). */
export function combineChunks(chunks: ChunkAnalysis[]): { scores: Record<string, number | boolean>; segments: Float64Array } {
  if (chunks.length === 1) return { scores: chunks[0]!.scores, segments: chunks[0]!.segments };
  const first = chunks[0]!.scores;
  const last = chunks[chunks.length - 1]!.scores;
  const s: Record<string, number | boolean> = { ...first };
  const sum = (k: string) => chunks.reduce((a, c) => a + num(c.scores, k), 0);
  const max = (k: string) => chunks.reduce((a, c) => Math.max(a, num(c.scores, k)), 0);
  const duration = sum('durationSec');
  s.durationSec = duration;
  s.speechSec = sum('speechSec');
  s.noiseSec = sum('noiseSec');
  s.dropouts = sum('dropouts');
  s.maxDropoutMs = max('maxDropoutMs');
  s.clipLevel = max('clipLevel');
  s.clippedFraction = duration > 0 ? chunks.reduce((a, c) => a + num(c.scores, 'clippedFraction') * num(c.scores, 'durationSec'), 0) / duration : 0;

  const segments = joinSegments(chunks);
  s.speechSegments = segments.length / 2;
  if (segments.length) {
    s.leadingSilenceSec = segments[0]!;
    s.trailingSilenceSec = Math.max(0, duration - segments[segments.length - 1]!);
    let pause = 0;
    for (let i = 2; i + 1 < segments.length; i += 2) pause = Math.max(pause, segments[i]! - segments[i - 1]!);
    s.maxPauseSec = pause;
  } else {
    s.leadingSilenceSec = duration;
    s.trailingSilenceSec = duration;
    s.maxPauseSec = 0;
  }

  // Levels: power means weighted by the time they stand for.
  const speechW = chunks.map((c) => num(c.scores, 'speechSec'));
  const noiseW = chunks.map((c) => num(c.scores, 'noiseSec'));
  const wmean = (k: string, w: number[], asPower: boolean): number | undefined => {
    const total = w.reduce((a, b) => a + b, 0);
    if (total <= 0) return undefined;
    const acc = chunks.reduce((a, c, i) => a + w[i]! * (asPower ? dbToPow(num(c.scores, k)) : num(c.scores, k)), 0) / total;
    return asPower ? powToDb(acc) : acc;
  };
  const active = wmean('activeLevelDbfs', speechW, true);
  const noise = wmean('noiseLevelDbfs', noiseW, true);
  if (active !== undefined) s.activeLevelDbfs = active;
  if (noise !== undefined) s.noiseLevelDbfs = noise;
  if (active !== undefined && noise !== undefined) s.snrDb = Math.min(100, active - noise);
  else if (active !== undefined) s.snrDb = Math.min(100, active - num(s, 'noiseLevelDbfs'));
  const hf = wmean('hfEnergyAbove4k', speechW, false);
  if (hf !== undefined) s.hfEnergyAbove4k = hf;
  const bw = wmean('bandwidthHz', speechW, false);
  if (bw !== undefined) s.bandwidthHz = bw;

  // The longest repetition of any chunk, on the clip's timeline.
  let best = -1;
  chunks.forEach((c, i) => {
    if (num(c.scores, 'repeatedSec') > (best < 0 ? 0 : num(chunks[best]!.scores, 'repeatedSec'))) best = i;
  });
  if (best >= 0) {
    const c = chunks[best]!;
    s.repeatedSec = num(c.scores, 'repeatedSec');
    s.repeatFirstSec = num(c.scores, 'repeatFirstSec') + c.offsetSec;
    s.repeatSecondSec = num(c.scores, 'repeatSecondSec') + c.offsetSec;
  } else {
    s.repeatedSec = 0;
  }

  // Truncation: the clip's start is the first chunk's, its end the last chunk's.
  for (const k of Object.keys(last)) if (/^(truncatedEnd|end[A-Z])/.test(k)) s[k] = last[k]!;
  return { scores: s, segments };
}

/** The parts of an Audio the chunk loop needs. */
export type ChunkLoader = (offsetSec: number, durationSec: number) => Promise<Audio>;

/**
 * Reads and measures a clip chunk by chunk. `first` is the first chunk, already loaded (at most
 * CHUNK_SEC from `startSec`); the loop goes on while chunks come back full, up to `durationSec`
 * (undefined: to the end). `measure` analyses one chunk; `aborted` is checked between chunks.
 */
export async function analyzeInChunks(
  first: Audio,
  startSec: number,
  durationSec: number | undefined,
  load: ChunkLoader,
  measure: (a: Audio) => Promise<{ scores: Record<string, number | boolean>; segments: Float64Array }>,
  checkAborted: () => void,
): Promise<{ scores: Record<string, number | boolean>; segments: Float64Array; source: Audio['source'] }> {
  const chunks: ChunkAnalysis[] = [];
  let audio: Audio | undefined = first;
  let offset = 0; // relative to startSec
  const end = durationSec ?? Infinity;
  // The file's own length, when the decoder knows it (WAV): no read past the end.
  const fileEnd = first.source.decoder === 'wav' ? first.source.durationSec - startSec : Infinity;
  for (;;) {
    const m = await measure(audio);
    chunks.push({ offsetSec: offset, durationSec: audio.durationSec, scores: m.scores, segments: m.segments });
    const rate = audio.source.sampleRate;
    const frames = Math.round(audio.durationSec * audio.sampleRate);
    const full = Math.abs(frames - Math.round(CHUNK_SEC * audio.sampleRate)) <= 1;
    offset += Math.round(CHUNK_SEC * rate) / rate;
    audio = undefined; // free the chunk before reading the next
    if (!full || offset >= end - 1e-9 || offset >= fileEnd - 1e-9) break;
    checkAborted();
    try {
      audio = await load(startSec + offset, Math.min(CHUNK_SEC, end - offset));
    } catch (err) {
      // ffmpeg: a clip that ends exactly at a chunk boundary has no next chunk.
      if (first.source.decoder === 'ffmpeg' && (err as { code?: string }).code === 'ERR_DECODE' && /no audio at offsetSec/.test(String((err as Error).message))) break;
      throw err;
    }
    if (audio.samples.length === 0) break;
  }
  const { scores, segments } = combineChunks(chunks);
  return { scores, segments, source: first.source };
}
