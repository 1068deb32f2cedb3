// Defect recipes: what the simulator plants, with parameters drawn to straddle the rubric's
// thresholds so that every grade and flag is represented, and the label each planting implies.
import type { Scores } from '../grading.js';
import type { Rng } from './rng.js';

export type DefectKind =
  | 'noise'
  | 'clipping'
  | 'dropout'
  | 'repetition'
  | 'truncation'
  | 'bandlimit'
  | 'codec'
  | 'gain'
  | 'reverb'
  | 'silence'
  | 'pause'
  | 'no_speech'
  | 'wrong_transcript'
  | 'av_shift';

export interface Planted {
  kind: DefectKind;
  /** The parameters drawn, in physical units (dB, seconds, kbps, ...). */
  params: Record<string, number | string | boolean>;
}

/** How often each kind is drawn (relative weights). Clean clips are drawn with `clean`. */
export const DEFAULT_WEIGHTS: Record<DefectKind | 'clean', number> = {
  clean: 3,
  noise: 4,
  clipping: 2,
  dropout: 2,
  repetition: 2,
  truncation: 2,
  bandlimit: 1,
  codec: 1,
  gain: 1.5,
  reverb: 1,
  silence: 1.5,
  pause: 1,
  no_speech: 0.7,
  wrong_transcript: 2,
  av_shift: 0,
};

/** Draws the parameters of one defect of the given kind. */
export function drawParams(kind: DefectKind, rng: Rng): Record<string, number | string | boolean> {
  switch (kind) {
    case 'noise':
      return { snrDb: round(rng.uniform(-2, 35), 2) };
    case 'clipping':
      // Target fraction log-uniform across both thresholds (0.02% and 0.5%).
      return { targetFraction: round(rng.logUniform(2e-5, 3e-2), 7) };
    case 'dropout':
      return { durationMs: round(rng.uniform(5, 220), 1), value: rng.next() < 0.8 ? 0 : round(rng.uniform(-0.05, 0.05), 4) };
    case 'repetition':
      return { durationSec: round(rng.uniform(0.3, 2.0), 3) };
    case 'truncation': {
      const where = rng.pick(['start', 'end', 'both'] as const);
      return { where };
    }
    case 'bandlimit':
      return { toRate: rng.pick([8000, 8000, 6000]) };
    case 'codec':
      return rng.next() < 0.5 ? { codec: 'mp3', kbps: rng.pick([8, 16, 24, 32, 64]) } : { codec: 'opus', kbps: rng.pick([6, 8, 12, 24]) };
    case 'gain':
      return { gainDb: round(rng.uniform(-40, -5), 2) };
    case 'reverb':
      return {};
    case 'silence': {
      const where = rng.pick(['leading', 'trailing', 'both'] as const);
      return { where, seconds: round(rng.uniform(0.3, 3.0), 3) };
    }
    case 'pause':
      return { seconds: round(rng.uniform(0.8, 4.0), 3) };
    case 'no_speech':
      return { seconds: round(rng.uniform(1, 8), 3), content: rng.pick(['noise', 'noise', 'silence'] as const) };
    case 'wrong_transcript':
      // 'other': the transcript of another clip; 'substitute': a share of the words replaced.
      return rng.next() < 0.6 ? { mode: 'other' } : { mode: 'substitute', wordErrorRate: round(rng.uniform(0.05, 0.9), 3) };
    case 'av_shift':
      return { offsetMs: round(rng.uniform(-600, 600), 1) };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * The true values a planting sets, on top of the clean source's own measurements. Values not
 * known from the planting alone (e.g. the exact clipped fraction after clipping) are filled in
 * by the simulator from the signal it wrote.
 */
export function truthFromPlanting(planted: Planted, source: Scores): Scores {
  const p = planted.params;
  switch (planted.kind) {
    case 'noise':
      return { snrDb: p.snrDb as number };
    case 'gain':
      return { activeLevelDbfs: (source.activeLevelDbfs as number) + (p.gainDb as number) };
    case 'repetition':
      return { repeatedSec: p.durationSec as number };
    case 'dropout':
      return { dropouts: 1, maxDropoutMs: p.durationMs as number };
    case 'bandlimit':
      return { hfEnergyAbove4k: 0 };
    default:
      return {};
  }
}
