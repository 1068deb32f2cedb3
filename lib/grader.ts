// The learned grader: Grader.load(dir) -> grader.grade(clips) -> grader.dispose().
// A model directory holds config.json and model.pt (written by voxqc's training). Each clip is
// decoded and resampled to the model's rate, measured by the rule metrics (the model takes them
// as input tokens, so it never knows less than the rules), and graded in batches of similar length.
import { join } from 'node:path';
import { analyze } from './analyze.js';
import { isAudio, loadAudio, resample, type Audio, type AudioInput } from './audio.js';
import { fromNativeError, VoxqcError } from './errors.js';
import type { Flag, Grade, Scores } from './grading.js';
import { native, packageRoot } from './native/loader.js';
import { getConfig } from './runtime.js';
import { checkInteger, checkOneOf, checkOptions, invalid } from './validate.js';

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

/** One clip to grade: audio (a path, bytes or decoded audio), with optional text and measured scores. */
export interface GraderClip {
  audio: AudioInput | Audio;
  text?: string;
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

/** The model shipped in models/ (grader/ when present, else the tiny test model). */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'grader');
}

export class Grader {
  private handle: NativeGrader | undefined;
  private readonly threads: number;
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
        const audio = await at16k(c.audio);
        const scores = c.scores ?? (await analyze(audio, c.text !== undefined ? { text: c.text } : {})).scores;
        return { samples: audio.samples, ...(c.text !== undefined ? { text: c.text } : {}), scores };
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

/** The clip as 16 kHz mono audio (the model's rate): decoded, or resampled when decoded at another rate. */
async function at16k(input: AudioInput | Audio): Promise<Audio> {
  if (!isAudio(input)) return loadAudio(input, { sampleRate: 16000 });
  if (input.sampleRate === 16000) return input;
  const samples = await resample(input.samples, input.sampleRate, 16000);
  return { ...input, samples, sampleRate: 16000, durationSec: samples.length / 16000 };
}

