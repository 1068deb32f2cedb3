// analyze(): the signal metrics of the native core (speech activity, level, SNR, clipping,
// dropouts, repetition, truncation, bandwidth), the transcript check and the audio-video offset,
// judged by the rubric's thresholds: the rule grade. gradeClip is the same as a ClipGrader.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isAudio, loadAudio, type Audio, type AudioInput } from './audio.js';
import { abortReason } from './ffmpeg.js';
import { analyzeInChunks, CHUNK_SEC } from './longclip.js';
import { fromNativeError, VoxqcError } from './errors.js';
import type { ClipGrader, ClipResult, Scores } from './grading.js';
import { native, packageRoot } from './native/loader.js';
import { applyRubric, resolveThresholds, type Thresholds } from './rubric.js';
import { getConfig } from './runtime.js';
import { countTextUnits, scoreTranscript } from './transcript.js';
import { checkInteger, checkOptions, invalid } from './validate.js';
import { avOffset } from './video.js';

export interface AnalyzeOptions {
  /** The transcript of the clip: adds textMatch (and the transcript_mismatch flag). */
  text?: string;
  /** ISO 639-1 language of the transcript (e.g. "en", "de", "zh"). Default: English, or CJK by script. */
  language?: string;
  /** A video of the same recording: adds avOffsetMs (and the av_offset flag). */
  video?: string;
  /** Rubric thresholds to change (the rest keep the rubric's defaults). */
  thresholds?: Partial<Thresholds>;
  /** Grade only this span of the file (seconds). */
  offsetSec?: number;
  durationSec?: number;
  /** libtorch intra-op threads. Default: configure()'s `threads`. */
  threads?: number;
  /** Stops the analysis (ERR_TIMEOUT) when aborted: a decode is killed, a long clip stops between chunks. */
  signal?: AbortSignal;
}

export interface SpeechSegment {
  startSec: number;
  endSec: number;
}

export interface AnalyzeResult extends ClipResult {
  /** Speech segments found by the voice-activity detector. */
  segments: SpeechSegment[];
}

const KNOWN = ['text', 'language', 'video', 'thresholds', 'offsetSec', 'durationSec', 'threads', 'signal'] as const;

function pairs(a: Float64Array): SpeechSegment[] {
  const out: SpeechSegment[] = [];
  for (let i = 0; i + 1 < a.length; i += 2) out.push({ startSec: a[i]!, endSec: a[i + 1]! });
  return out;
}

let rateModelPresent: boolean | undefined;

/**
 * Measures a clip and grades it by the rubric. `audio` is a path, bytes, or audio already
 * decoded by loadAudio (whose native rate is then taken as the file's rate).
 */
export async function analyze(audio: AudioInput | Audio, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const o = checkOptions<AnalyzeOptions>('analyze', options, KNOWN);
  const threads = o.threads === undefined ? getConfig().threads : checkInteger('analyze', 'threads', o.threads, 1, 1024);
  if (o.text !== undefined && typeof o.text !== 'string') throw invalid('analyze', 'text', 'a string', o.text);
  const thresholds = resolveThresholds(o.thresholds ?? {}, 'analyze: thresholds');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalid('analyze', 'signal', 'an AbortSignal', o.signal);
  const signal = o.signal;
  const checkAborted = () => {
    if (signal?.aborted) {
      const where = typeof audio === 'string' ? audio : 'analyze';
      throw new VoxqcError('ERR_TIMEOUT', `${where}: stopped (${abortReason(signal)})`, { file: typeof audio === 'string' ? audio : undefined });
    }
  };
  // A path or bytes is read in chunks of CHUNK_SEC: a clip of any length is measured in the memory
  // of one chunk (lib/longclip.ts). A clip of one chunk or less is measured exactly as a whole.
  const firstSpan = o.durationSec === undefined ? CHUNK_SEC : Math.min(o.durationSec, CHUNK_SEC);
  const decoded = isAudio(audio)
    ? audio
    : await loadAudio(audio, { offsetSec: o.offsetSec, durationSec: firstSpan, threads, ...(signal ? { signal } : {}) });
  const label = decoded.source.path ?? 'buffer';
  if (typeof native().analyzeSignal !== 'function') {
    throw new VoxqcError('ERR_UNSUPPORTED', `${label}: this build of the native addon has no signal metrics`, { file: decoded.source.path });
  }
  const measure = async (a: Audio) => {
    try {
      return await native().analyzeSignal(a.samples, a.sampleRate, {}, threads);
    } catch (err) {
      throw fromNativeError(err, { file: a.source.path, what: label });
    }
  };
  const analysis = isAudio(audio)
    ? await measure(decoded)
    : await analyzeInChunks(
        decoded,
        o.offsetSec ?? 0,
        o.durationSec,
        (offsetSec, durationSec) => loadAudio(audio, { offsetSec, durationSec, threads, ...(signal ? { signal } : {}) }),
        measure,
        checkAborted,
      );
  checkAborted();
  const scores: Scores = { ...analysis.scores, sampleRate: decoded.source.sampleRate };

  if (o.text !== undefined) {
    rateModelPresent ??= existsSync(join(packageRoot(), 'models', 'transcript-rate.json'));
    if (rateModelPresent) {
      const units = await countTextUnits(o.text, o.language);
      const t = scoreTranscript(units, scores.speechSec as number);
      scores.textMatch = t.textMatch;
      scores.textRate = t.textRate;
      scores.textUnits = t.textUnits;
    }
  }
  if (o.video !== undefined) {
    const av = await avOffset(o.video, decoded.source.path && decoded.source.path !== o.video ? { audio: decoded.source.path } : {});
    scores.avOffsetMs = av.offsetMs;
    scores.avConfidence = av.confidence;
  }
  const { grade, flags } = applyRubric(scores, thresholds);
  return { grade, flags, scores, segments: pairs(analysis.segments) };
}

/** Voice-activity decisions: 10 ms frames, speech probability, and speech segments. */
export async function vad(
  audio: AudioInput | Audio,
  options: { threads?: number } = {},
): Promise<{ frameSec: number; speechProb: Float32Array; isSpeech: Uint8Array; segments: SpeechSegment[] }> {
  const o = checkOptions<{ threads: number }>('vad', options, ['threads']);
  const threads = o.threads === undefined ? getConfig().threads : checkInteger('vad', 'threads', o.threads, 1, 1024);
  const decoded = isAudio(audio) ? audio : await loadAudio(audio, { threads });
  try {
    const r = await native().vad(decoded.samples, decoded.sampleRate, {}, threads);
    return { frameSec: r.frameSec, speechProb: r.speechProb, isSpeech: r.isSpeech, segments: pairs(r.segments) };
  } catch (err) {
    throw fromNativeError(err, { file: decoded.source.path, what: decoded.source.path ?? 'buffer' });
  }
}

/** The rule grader as a ClipGrader (what `voxqc grade --mode rules` uses). */
export const gradeClip: ClipGrader = async (clip, options) => {
  if (options?.signal?.aborted) throw new VoxqcError('ERR_TIMEOUT', `${clip.audio}: cancelled`, { file: clip.audio });
  const r = await analyze(clip.audio, {
    ...(options?.signal ? { signal: options.signal } : {}),
    text: clip.text,
    language: clip.language,
    video: clip.video,
    offsetSec: clip.offsetSec,
    durationSec: clip.durationSec,
    ...(options?.thresholds ? { thresholds: options.thresholds as Partial<Thresholds> } : {}),
  });
  return { grade: r.grade, flags: r.flags, scores: r.scores };
};
