// The shapes every grader (rules now, the learned model later) and every dataset run share.
// The rubric (../shared/spec/rubric.md, v1.1) defines the grades and flags.

export type Grade = 'high' | 'medium' | 'low';

export const GRADES: readonly Grade[] = ['high', 'medium', 'low'];

/** The rubric's flags. */
export type Flag =
  | 'no_speech'
  | 'low_snr'
  | 'noisy'
  | 'clipping'
  | 'dropout'
  | 'repetition'
  | 'truncated'
  | 'too_quiet'
  | 'long_silence'
  | 'narrowband'
  | 'transcript_mismatch'
  | 'av_offset';

/** One clip to grade: a file (or a span of it), with an optional transcript and video. */
export interface ClipInput {
  /** Stable identifier (a manifest's id, else path + offset). */
  id: string;
  /** Path of the audio file (or of a video whose audio track is graded). */
  audio: string;
  /** Grade only this span of the file. */
  offsetSec?: number;
  durationSec?: number;
  /** The transcript, when there is one. */
  text?: string;
  /** Language code of the transcript (ISO 639-1, e.g. "en"), for transcript checks. */
  language?: string;
  /** Path of a video of the same recording, for the audio-video offset. */
  video?: string;
}

/** Measured values; names follow the rubric. */
export type Scores = Record<string, number | boolean | null>;

export interface ClipResult {
  grade: Grade;
  flags: Flag[];
  scores: Scores;
  /** The learned grader's view, when it ran: probabilities per grade and per flag. */
  model?: { grade: Record<Grade, number>; flags: Partial<Record<Flag, number>>; name?: string };
  /** The rule grade and flags, when the final grade is the model's or a combination. */
  rules?: { grade: Grade; flags: Flag[] };
}

/** Anything that grades one clip: the rule grader, the model, or a test double. */
export interface ClipGraderOptions {
  /** Aborts the clip (a time limit, a cancelled run). */
  signal?: AbortSignal;
  /** Thresholds given for the run (--thresholds), as read from the file; the grader checks them. */
  thresholds?: Record<string, unknown>;
}

export type ClipGrader = (clip: ClipInput, options?: ClipGraderOptions) => Promise<ClipResult>;
