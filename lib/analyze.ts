// Rule grading: the signal metrics of the native core, judged by the rubric's thresholds.
// (The metrics are being built; until they land, gradeClip rejects with ERR_UNSUPPORTED.)
import { VoxqcError } from './errors.js';
import type { ClipGrader } from './grading.js';

/** Grades one clip by the rubric's rules. */
export const gradeClip: ClipGrader = async (clip) => {
  throw new VoxqcError('ERR_UNSUPPORTED', `${clip.audio}: rule grading needs the signal metrics, which this build does not have yet`, {
    file: clip.audio,
  });
};
