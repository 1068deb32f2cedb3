// Choosing the grader of a run: the rule grader (default), the learned one (mode 'model': the
// shipped model in models/grader, or VOXQC_MODEL), or a user's module whose default export is a
// ClipGrader. Also the thresholds file.
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyze, gradeClip } from '../analyze.js';
import { loadAudio } from '../audio.js';
import { combineGrades, defaultModelDir, finalPolicyOf, Grader, type FinalGradePolicy } from '../grader.js';
import type { Thresholds } from '../rubric.js';
import { VoxqcError } from '../errors.js';
import type { ClipGrader } from '../grading.js';
import { invalid } from '../validate.js';

export type GradeMode = 'rules' | 'model';

/** The grader for a mode: 'rules' (the rubric on measured scores) or 'model' (the learned grader). */
export function graderFor(mode: GradeMode | undefined): ClipGrader {
  if (mode === undefined || mode === 'rules') return gradeClip;
  if (mode === 'model') return modelClipGrader(process.env.VOXQC_MODEL || defaultModelDir());
  throw invalid('gradeManifest', 'mode', "'rules' or 'model'", mode);
}

/** The longest stretch of a clip the model looks at (from the clip's start); the metrics cover all of it. */
export const MODEL_MAX_SEC = 300;

/**
 * The learned grader as a ClipGrader: the clip is decoded once and measured (the rule scores,
 * which are also the model's metric tokens; a clip longer than MODEL_MAX_SEC is measured in chunks
 * from its file), graded by the model (its first MODEL_MAX_SEC), and the final grade follows the
 * model directory's policy (grading.json; see combineGrades). The model is loaded on first use
 * and shared by every clip of the run.
 */
export function modelClipGrader(dir: string, policy: FinalGradePolicy = finalPolicyOf(dir)): ClipGrader {
  let loading: Promise<Grader> | undefined;
  return async (clip, options) => {
    if (options?.signal?.aborted) throw new VoxqcError('ERR_TIMEOUT', `${clip.audio}: cancelled`, { file: clip.audio });
    loading ??= Grader.load(dir).catch((err: Error) => {
      // No clip can be graded without the model: stop the run before it writes a row.
      throw new VoxqcError('ERR_UNSUPPORTED', `the learned grader ${dir} cannot be loaded: ${err.message}`, { file: dir, cause: err });
    });
    const grader = await loading;
    const signal = options?.signal;
    const audio = await loadAudio(clip.audio, {
      offsetSec: clip.offsetSec,
      durationSec: Math.min(clip.durationSec ?? MODEL_MAX_SEC, MODEL_MAX_SEC),
      ...(signal ? { signal } : {}),
    });
    // What was decoded is the whole clip unless it filled MODEL_MAX_SEC and more may follow.
    const whole = audio.durationSec < MODEL_MAX_SEC - 1e-6 || (clip.durationSec !== undefined && clip.durationSec <= MODEL_MAX_SEC);
    const measured = await analyze(whole ? audio : clip.audio, {
      text: clip.text,
      language: clip.language,
      video: clip.video,
      ...(whole ? {} : { offsetSec: clip.offsetSec, durationSec: clip.durationSec }),
      ...(options?.thresholds ? { thresholds: options.thresholds as Partial<Thresholds> } : {}),
      ...(signal ? { signal } : {}),
    });
    const [m] = await grader.grade({
      audio,
      ...(clip.text !== undefined ? { text: clip.text } : {}),
      ...(clip.video !== undefined ? { video: clip.video } : {}),
      scores: measured.scores,
    });
    const rules = { grade: measured.grade, flags: measured.flags };
    const final = combineGrades(policy, rules, m!, grader.flagNames);
    return {
      grade: final.grade,
      flags: final.flags,
      scores: { ...measured.scores, modelSnrDb: m!.snrDb },
      model: { grade: m!.probabilities, flags: m!.flags, name: basename(dir) },
      rules,
    };
  };
}

/** Imports a user's grader: an ES module whose default export is a ClipGrader. */
export async function loadGraderModule(path: string): Promise<ClipGrader> {
  const abs = resolve(path);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(abs)) {
      throw new VoxqcError('ERR_NOT_FOUND', `grader module ${path}: no such file`, { file: abs, cause: err });
    }
    throw new VoxqcError('ERR_INVALID_ARG', `grader module ${path}: cannot be imported: ${(err as Error).message}`, { file: abs, cause: err });
  }
  if (typeof mod.default !== 'function') {
    throw new VoxqcError(
      'ERR_INVALID_ARG',
      `grader module ${path}: expected its default export to be a function (clip, { signal }) => Promise<ClipResult>, but it is ${
        mod.default === undefined ? 'missing' : typeof mod.default
      }`,
      { file: abs },
    );
  }
  return mod.default as ClipGrader;
}

/** Thresholds for the grader, from a JSON or YAML file (an object of name → value). */
