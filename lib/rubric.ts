// The grading rubric (shared/spec/rubric.md, v1.1) as code: default thresholds, overrides from
// a JSON or YAML file, and the rule that turns measured scores into flags and a grade.
//
// Readings of the rubric where it leaves room (also stated in the README):
// - transcript_mismatch is defined by word error rate > 0.3, which needs a recogniser. Without
//   one, voxqc measures textMatch (lib/transcript.ts): how plausible the text's length is for
//   the speech. The flag is raised when textMatch < transcriptMatchMin.
// - When a clip has no speech (no_speech), the speech-relative measurements (SNR, level,
//   truncation, silences, bandwidth) are meaningless, so only no_speech is flagged.
// - narrowband applies only when the file's own rate is >= 16 kHz, as the rubric says.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { VoxqcError } from './errors.js';
import type { Flag, Grade, Scores } from './grading.js';
import { checkNumber, checkOptions } from './validate.js';

export interface Thresholds {
  /** no_speech (hard): active speech below this many seconds. */
  minSpeechSec: number;
  /** low_snr (hard) below this SNR in dB; noisy (soft) below noisySnrDb. */
  lowSnrDb: number;
  noisySnrDb: number;
  /** clipping: hard above clippingHardFraction, soft above clippingSoftFraction. */
  clippingHardFraction: number;
  clippingSoftFraction: number;
  /** dropout (hard): any dropout at least this long, in ms. */
  dropoutMs: number;
  /** repetition (hard): a repeated stretch at least this long, in s. */
  repetitionSec: number;
  /** too_quiet (hard): active speech level below this, in dBFS. */
  tooQuietDbfs: number;
  /** long_silence (soft): leading or trailing non-speech over this, or a pause over maxPauseSec. */
  edgeSilenceSec: number;
  maxPauseSec: number;
  /** narrowband (soft): share of active-speech energy above 4 kHz below this (files at >= narrowbandMinRate Hz). */
  narrowbandHfShare: number;
  narrowbandMinRate: number;
  /** transcript_mismatch (hard): textMatch below this. */
  transcriptMatchMin: number;
  /** av_offset: hard at |offset| >= avOffsetHardMs, soft at >= avOffsetSoftMs. */
  avOffsetHardMs: number;
  avOffsetSoftMs: number;
}

/** The rubric's defaults. */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  minSpeechSec: 0.3,
  lowSnrDb: 10,
  noisySnrDb: 20,
  clippingHardFraction: 0.005,
  clippingSoftFraction: 0.0002,
  dropoutMs: 30,
  repetitionSec: 0.8,
  tooQuietDbfs: -45,
  edgeSilenceSec: 1.0,
  maxPauseSec: 2.0,
  narrowbandHfShare: 0.003,
  narrowbandMinRate: 16000,
  transcriptMatchMin: 0.01,
  avOffsetHardMs: 200,
  avOffsetSoftMs: 100,
});

export const HARD_FLAGS: readonly Flag[] = [
  'no_speech',
  'low_snr',
  'dropout',
  'repetition',
  'truncated',
  'too_quiet',
  'transcript_mismatch',
];

/** Validates partial thresholds (unknown keys and bad values name the key). */
export function resolveThresholds(overrides: unknown, where = 'thresholds'): Thresholds {
  const o = checkOptions<Thresholds>(where, overrides, Object.keys(DEFAULT_THRESHOLDS));
  const t: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [k, v] of Object.entries(o)) {
    (t as unknown as Record<string, number>)[k] = checkNumber(where, k, v);
  }
  if (t.noisySnrDb < t.lowSnrDb) throw new VoxqcError('ERR_INVALID_ARG', `${where}: noisySnrDb (${t.noisySnrDb}) is below lowSnrDb (${t.lowSnrDb})`);
  if (t.clippingHardFraction < t.clippingSoftFraction) {
    throw new VoxqcError('ERR_INVALID_ARG', `${where}: clippingHardFraction is below clippingSoftFraction`);
  }
  if (t.avOffsetHardMs < t.avOffsetSoftMs) throw new VoxqcError('ERR_INVALID_ARG', `${where}: avOffsetHardMs is below avOffsetSoftMs`);
  return t;
}

/**
 * Reads a thresholds file: a JSON (.json) or YAML mapping, returned as it is (not yet checked
 * against the rubric's keys, since a custom grader may take keys of its own).
 */
export async function readThresholdsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VoxqcError('ERR_NOT_FOUND', `thresholds file ${file}: ${missing ? 'no such file' : (err as Error).message}`, { file });
  }
  const json = /\.json$/i.test(file);
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new VoxqcError('ERR_INVALID_ARG', `thresholds file ${file}: not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { file });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new VoxqcError('ERR_INVALID_ARG', `thresholds file ${file}: expected a mapping of threshold names to values, but it holds ${Array.isArray(data) ? 'a list' : typeof data}`, { file });
  }
  return data as Record<string, unknown>;
}

/** Reads rubric thresholds from a JSON or YAML file, checked against the rubric's keys. */
export async function loadThresholds(file: string): Promise<Thresholds> {
  return resolveThresholds(await readThresholdsFile(file), file);
}

const num = (s: Scores, k: string): number | undefined => {
  const v = s[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** The flags the scores raise, in the rubric's table order, and the grade they give. */
export function applyRubric(scores: Scores, thresholds: Thresholds = DEFAULT_THRESHOLDS): { grade: Grade; flags: Flag[] } {
  const t = thresholds;
  const flags: Flag[] = [];
  const hard = new Set<Flag>();
  const raise = (flag: Flag, isHard: boolean) => {
    if (!flags.includes(flag)) flags.push(flag);
    if (isHard) hard.add(flag);
  };
  const speech = num(scores, 'speechSec');
  if (speech !== undefined && speech < t.minSpeechSec) {
    raise('no_speech', true);
  } else {
    const snr = num(scores, 'snrDb');
    if (snr !== undefined && snr < t.lowSnrDb) raise('low_snr', true);
    else if (snr !== undefined && snr < t.noisySnrDb) raise('noisy', false);
    const clipped = num(scores, 'clippedFraction');
    if (clipped !== undefined && clipped > t.clippingHardFraction) raise('clipping', true);
    else if (clipped !== undefined && clipped > t.clippingSoftFraction) raise('clipping', false);
    const dropMs = num(scores, 'maxDropoutMs');
    if (dropMs !== undefined && dropMs >= t.dropoutMs) raise('dropout', true);
    const rep = num(scores, 'repeatedSec');
    if (rep !== undefined && rep >= t.repetitionSec) raise('repetition', true);
    if (scores.truncatedStart === true || scores.truncatedEnd === true) raise('truncated', true);
    const level = num(scores, 'activeLevelDbfs');
    if (level !== undefined && level < t.tooQuietDbfs) raise('too_quiet', true);
    const lead = num(scores, 'leadingSilenceSec') ?? 0;
    const trail = num(scores, 'trailingSilenceSec') ?? 0;
    const pause = num(scores, 'maxPauseSec') ?? 0;
    if (lead > t.edgeSilenceSec || trail > t.edgeSilenceSec || pause > t.maxPauseSec) raise('long_silence', false);
    const hf = num(scores, 'hfEnergyAbove4k');
    const rate = num(scores, 'sampleRate');
    if (hf !== undefined && rate !== undefined && rate >= t.narrowbandMinRate && hf < t.narrowbandHfShare) raise('narrowband', false);
    const match = num(scores, 'textMatch');
    if (match !== undefined && match < t.transcriptMatchMin) raise('transcript_mismatch', true);
  }
  const av = num(scores, 'avOffsetMs');
  if (av !== undefined && Math.abs(av) >= t.avOffsetHardMs) raise('av_offset', true);
  else if (av !== undefined && Math.abs(av) >= t.avOffsetSoftMs) raise('av_offset', false);
  const grade: Grade = hard.size > 0 ? 'low' : flags.length > 0 ? 'medium' : 'high';
  return { grade, flags };
}
