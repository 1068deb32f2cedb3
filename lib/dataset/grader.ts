// Choosing the grader of a run: the rule grader (default), the learned one (not in this version),
// or a user's module whose default export is a ClipGrader. Also the thresholds file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gradeClip } from '../analyze.js';
import { VoxqcError } from '../errors.js';
import type { ClipGrader } from '../grading.js';
import { invalid } from '../validate.js';

export type GradeMode = 'rules' | 'model';

/** The grader for a mode. 'model' fails: the learned grader is not in this version. */
export function graderFor(mode: GradeMode | undefined): ClipGrader {
  if (mode === undefined || mode === 'rules') return gradeClip;
  if (mode === 'model') {
    throw new VoxqcError('ERR_UNSUPPORTED', 'mode model: the learned grader is not available in this version (use mode rules, or a grader module)');
  }
  throw invalid('gradeManifest', 'mode', "'rules' or 'model'", mode);
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
