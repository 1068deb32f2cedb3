// The learned grader: Grader.load(dir) -> grader.grade(clips) -> grader.dispose().
// A model directory holds config.json and model.pt (written by voxqc's training). Each clip is
// decoded and resampled to the model's rate, measured by the rule metrics (the model takes them
// as input tokens, so it never knows less than the rules), and graded in batches of similar length.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from './analyze.js';
import { isAudio, loadAudio, resample, type Audio, type AudioInput } from './audio.js';
import { fromNativeError, VoxqcError } from './errors.js';
import type { Flag, Grade, Scores } from './grading.js';
import { native, packageRoot } from './native/loader.js';
import { HARD_FLAGS } from './rubric.js';
import { getConfig } from './runtime.js';
import { checkInteger, checkOneOf, checkOptions, invalid } from './validate.js';
import { decodeMouthFrames } from './video.js';

interface NativeGrader {
  grade(
    clips: Array<{ samples: Float32Array; text?: string; video?: { frames: Uint8Array; count: number; height: number; width: number }; scores?: Scores }>,
    threads: number,
  ): Promise<Array<{ gradeProbs: Float32Array; flagProbs: Float32Array; snrDb: number; grade: number }>>;
  info(): { grades: string[]; flags: string[]; parameters: number; fusion: string };
  dispose(): void;
}

export interface GraderLoadOptions {
  /** 'cpu' (default) or 'cuda' (needs a build against a CUDA libtorch). */
  device?: 'cpu' | 'cuda';
  /** libtorch intra-op threads for grading. Default: configure()'s `threads`. */
  threads?: number;
}

/** One clip to grade: audio (a path, bytes or decoded audio), with optional text, video and measured scores. */
export interface GraderClip {
  audio: AudioInput | Audio;
  text?: string;
  /** Language of the text (ISO 639-1), for the transcript check. */
  language?: string;
  /** Path of a talking-head video of the same recording: the model sees its mouth region, and avOffsetMs is measured. */
  video?: string;
  /** Scores already measured (e.g. by analyze()); measured here when absent. */
  scores?: Scores;
  id?: string;
}

export interface ModelGrade {
  id?: string;
  /** The model's grade (the most probable). */
  grade: Grade;
  /** Probability of each grade and each flag. */
  probabilities: Record<Grade, number>;
  flags: Partial<Record<Flag, number>>;
  /** The model's SNR estimate, dB. */
  snrDb: number;
}

/** The shipped model: models/grader in the package (config.json, model.pt, grading.json, MODEL_CARD.md). */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'grader');
}

export class Grader {
  private handle: NativeGrader | undefined;
  private readonly threads: number;
  private readonly videoInput: { fps: number; width: number; height: number } | undefined;
  readonly dir: string;
  readonly grades: Grade[];
  readonly flagNames: Flag[];
  readonly parameters: number;
  readonly fusion: string;

  private constructor(dir: string, handle: NativeGrader, threads: number) {
    this.dir = dir;
    this.handle = handle;
    this.threads = threads;
    const info = handle.info();
    this.grades = info.grades as Grade[];
    this.flagNames = info.flags as Flag[];
    this.parameters = info.parameters;
    this.fusion = info.fusion;
    this.videoInput = videoInputOf(dir);
  }

  /** Loads a model directory (config.json + model.pt). Errors name the file and the problem. */
  static async load(dir: string = defaultModelDir(), options: GraderLoadOptions = {}): Promise<Grader> {
    const o = checkOptions<GraderLoadOptions>('Grader.load', options, ['device', 'threads']);
    if (typeof dir !== 'string') throw invalid('Grader.load', 'dir', 'a directory path', dir);
    const device = o.device === undefined ? 'cpu' : checkOneOf('Grader.load', 'device', o.device, ['cpu', 'cuda'] as const);
    const threads = o.threads === undefined ? getConfig().threads : checkInteger('Grader.load', 'threads', o.threads, 1, 1024);
    if (device === 'cuda') {
      const info = await native().runtimeInfo(threads);
      if (!info.cudaCompiled) {
        throw new VoxqcError('ERR_UNSUPPORTED', "Grader.load: device 'cuda' needs voxqc built against a CUDA libtorch (TORCH_DIR=... npm run build:native); this build is CPU-only");
      }
    }
    try {
      const handle = (await (native() as unknown as { loadGrader(d: string, t: number): Promise<NativeGrader> }).loadGrader(dir, threads)) as NativeGrader;
      return new Grader(dir, handle, threads);
    } catch (err) {
      throw fromNativeError(err, { file: dir, what: dir });
    }
  }

  /** Grades clips (batched by length inside the native core); results in input order. */
  async grade(clips: GraderClip | GraderClip[]): Promise<ModelGrade[]> {
    const handle = this.handle;
    if (!handle) throw new VoxqcError('ERR_INVALID_ARG', `Grader (${this.dir}): grade() after dispose()`);
    const list = Array.isArray(clips) ? clips : [clips];
    const prepared = await Promise.all(
      list.map(async (c, i) => {
        if (typeof c !== 'object' || c === null || !('audio' in c)) throw invalid('grader.grade', `clips[${i}]`, 'an object with audio', c);
        if (c.video !== undefined && (typeof c.video !== 'string' || c.video === '')) throw invalid('grader.grade', `clips[${i}].video`, 'a video file path', c.video);
        const audio = await at16k(c.audio);
        const scores =
          c.scores ??
          (await analyze(audio, { ...(c.text !== undefined ? { text: c.text, language: c.language } : {}), ...(c.video !== undefined ? { video: c.video } : {}) })).scores;
        const video = c.video !== undefined && this.videoInput ? await decodeMouthFrames(c.video, this.videoInput) : undefined;
        return { samples: audio.samples, ...(c.text !== undefined ? { text: c.text } : {}), ...(video ? { video } : {}), scores };
      }),
    );
    let out;
    try {
      out = await handle.grade(prepared, this.threads);
    } catch (err) {
      throw fromNativeError(err, { what: `Grader (${this.dir})` });
    }
    return out.map((r, i) => ({
      ...(list[i]!.id !== undefined ? { id: list[i]!.id } : {}),
      grade: this.grades[r.grade]!,
      probabilities: Object.fromEntries(this.grades.map((g, k) => [g, r.gradeProbs[k]!])) as Record<Grade, number>,
      flags: Object.fromEntries(this.flagNames.map((f, k) => [f, r.flagProbs[k]!])),
      snrDb: r.snrDb,
    }));
  }

  /** Frees the model. Later calls to grade() fail; a grade() in flight finishes. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = undefined;
  }
}

/** The video frames a model directory's config asks for (undefined when its video encoder is off). */
function videoInputOf(dir: string): { fps: number; width: number; height: number } | undefined {
  let cfg: { video?: { enabled?: boolean; fps?: number; width?: number; height?: number } };
  try {
    cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  } catch {
    return undefined; // the native loader has already read and validated it
  }
  const v = cfg.video ?? {};
  if (v.enabled === false) return undefined;
  return { fps: v.fps ?? 25, width: v.width ?? 64, height: v.height ?? 48 };
}

/** The clip as 16 kHz mono audio (the model's rate): decoded, or resampled when decoded at another rate. */
async function at16k(input: AudioInput | Audio): Promise<Audio> {
  if (!isAudio(input)) return loadAudio(input, { sampleRate: 16000 });
  if (input.sampleRate === 16000) return input;
  const samples = await resample(input.samples, input.sampleRate, 16000);
  return { ...input, samples, sampleRate: 16000, durationSec: samples.length / 16000 };
}

/**
 * How the final grade of `mode: 'model'` is made from the model's and the rules' views:
 * - 'model': the model's grade; flags: the model's flags with probability >= 0.5.
 * - 'rules': the rule grade and flags (the model's view is still reported).
 * - 'worst': the worse of the two grades; flags: the union.
 * - 'coherent': the model's grade; flags: the model's flags that this grade allows by the rubric
 *   (none for high; for medium, those that can be soft, not `truncated`, `dropout` and the other
 *   hard-only ones), so a clip is never `high` with a flag against it. Each flag's probability is
 *   still in the model's view.
 * The shipped model's choice (the one that scored best on validation) is in its grading.json.
 */
export type FinalGradePolicy = 'model' | 'rules' | 'worst' | 'coherent';
export const FINAL_GRADE_POLICIES: readonly FinalGradePolicy[] = ['model', 'rules', 'worst', 'coherent'];

const SEVERITY: Record<Grade, number> = { high: 0, medium: 1, low: 2 };

export function combineGrades(
  policy: FinalGradePolicy,
  rules: { grade: Grade; flags: Flag[] },
  model: { grade: Grade; flags: Partial<Record<Flag, number>> },
  flagOrder: readonly Flag[],
): { grade: Grade; flags: Flag[] } {
  const modelFlags = flagOrder.filter((f) => (model.flags[f] ?? 0) >= 0.5);
  if (policy === 'rules') return { grade: rules.grade, flags: [...rules.flags] };
  if (policy === 'model') return { grade: model.grade, flags: modelFlags };
  if (policy === 'coherent') {
    const allowed = (f: Flag) => model.grade === 'low' || (model.grade === 'medium' && !HARD_FLAGS.includes(f));
    return { grade: model.grade, flags: modelFlags.filter(allowed) };
  }
  const grade = SEVERITY[model.grade] >= SEVERITY[rules.grade] ? model.grade : rules.grade;
  return { grade, flags: flagOrder.filter((f) => rules.flags.includes(f) || modelFlags.includes(f)) };
}

/** The final-grade policy of a model directory (grading.json's "final"; 'model' when absent). */
export function finalPolicyOf(dir: string): FinalGradePolicy {
  try {
    const j = JSON.parse(readFileSync(join(dir, 'grading.json'), 'utf8')) as { final?: string };
    if (FINAL_GRADE_POLICIES.includes(j.final as FinalGradePolicy)) return j.final as FinalGradePolicy;
  } catch {
    /* no grading.json: the model decides */
  }
  return 'model';
}
