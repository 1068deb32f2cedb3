// Training the learned grader: train({ data, config, out }) returns a handle with progress
// events and a Promise of the result; cancel() stops after the current step (a checkpoint is
// saved, and the same call resumes from it). The work runs in the native core (libtorch).
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fromNativeError, VoxqcError } from './errors.js';
import { native } from './native/loader.js';
import { checkInteger, checkNumber, checkOneOf, checkOptions, invalid } from './validate.js';

export interface TrainOptions {
  /** A prepared manifest (.jsonl) or a directory holding manifest.jsonl. */
  data: string;
  /** The model config: a path to a JSON file, or the config object. */
  config: string | object;
  /** Output directory: checkpoints/, model.pt, config.json, metrics.json. */
  out: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupFraction?: number;
  gradClip?: number;
  classBalanced?: boolean;
  /** Seed of the run; the same seed (and threads: 1) reproduces it. Default 1234. */
  seed?: number;
  /** libtorch intra-op threads. Default 0 (libtorch's own setting). */
  threads?: number;
  /** Share of speakers held out for validation when a row has no split. Default 0.1. */
  valFraction?: number;
  /** Keep the best epoch by 'macroF1' (default), 'accuracy' or 'loss'. */
  selectBy?: 'macroF1' | 'accuracy' | 'loss';
  /** Continue from the newest checkpoint in out/. Default true. */
  resume?: boolean;
  progressEvery?: number;
}

export interface TrainProgress {
  phase: 'data' | 'train' | 'eval' | 'checkpoint' | 'done' | 'cancelled';
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  elapsedSec: number;
  examplesPerSec: number;
  message: string;
  /** Validation metrics of the epoch (phase 'eval'). */
  val?: Record<string, unknown>;
}

export interface TrainResult {
  outDir: string;
  modelPath: string;
  configPath: string;
  metricsPath: string;
  cancelled: boolean;
  resumedFromStep: number;
  epochsDone: number;
  steps: number;
  bestEpoch: number;
  best: Record<string, unknown>;
  trainExamples: number;
  valExamples: number;
  trainSpeakers: number;
  valSpeakers: number;
  parameters: number;
}

export interface TrainHandle extends EventEmitter {
  /** Settles when training ends (or is cancelled: result.cancelled). */
  result: Promise<TrainResult>;
  cancel(): void;
  on(event: 'progress', listener: (p: TrainProgress) => void): this;
}

const KNOWN = ['data', 'config', 'out', 'epochs', 'batchSize', 'lr', 'weightDecay', 'warmupFraction', 'gradClip', 'classBalanced', 'seed', 'threads', 'valFraction', 'selectBy', 'resume', 'progressEvery'] as const;

/** Starts training the grader; see TrainOptions. */
export function train(options: TrainOptions): TrainHandle {
  const w = 'train';
  const o = checkOptions<TrainOptions>(w, options, KNOWN) as TrainOptions;
  if (typeof o.data !== 'string') throw invalid(w, 'data', 'a manifest path or directory', o.data);
  if (!existsSync(o.data)) throw new VoxqcError('ERR_NOT_FOUND', `train: data ${o.data}: no such file or directory`, { file: o.data });
  if (typeof o.out !== 'string' || o.out === '') throw invalid(w, 'out', 'an output directory', o.out);
  let configJson: string;
  if (typeof o.config === 'string') {
    if (!existsSync(o.config)) throw new VoxqcError('ERR_NOT_FOUND', `train: config ${o.config}: no such file`, { file: o.config });
    configJson = readFileSync(o.config, 'utf8');
  } else if (typeof o.config === 'object' && o.config !== null) {
    configJson = JSON.stringify(o.config);
  } else {
    throw invalid(w, 'config', 'a config file path or object', o.config);
  }
  if (o.epochs !== undefined) checkInteger(w, 'epochs', o.epochs, 1, 100000);
  if (o.batchSize !== undefined) checkInteger(w, 'batchSize', o.batchSize, 1, 4096);
  if (o.lr !== undefined) checkNumber(w, 'lr', o.lr, { min: 0, minExclusive: true });
  if (o.seed !== undefined) checkInteger(w, 'seed', o.seed, 0, Number.MAX_SAFE_INTEGER);
  if (o.threads !== undefined) checkInteger(w, 'threads', o.threads, 0, 1024);
  if (o.valFraction !== undefined) checkNumber(w, 'valFraction', o.valFraction, { min: 0, max: 0.9 });
  if (o.selectBy !== undefined) checkOneOf(w, 'selectBy', o.selectBy, ['macroF1', 'accuracy', 'loss'] as const);
  const { data, config: _config, out, ...rest } = o;
  const emitter = new EventEmitter() as TrainHandle;
  let handle: { promise: Promise<string>; cancel(): void };
  try {
    handle = (native() as unknown as {
      trainGrader(m: string, c: string, opts: object, cb: (s: string) => void): { promise: Promise<string>; cancel(): void };
    }).trainGrader(data, configJson, { ...rest, outDir: out }, (s) => emitter.emit('progress', JSON.parse(s) as TrainProgress));
  } catch (err) {
    throw fromNativeError(err, { what: 'train' });
  }
  emitter.result = handle.promise.then(
    (s) => JSON.parse(s) as TrainResult,
    (err) => {
      throw fromNativeError(err, { what: 'train' });
    },
  );
  emitter.cancel = () => handle.cancel();
  return emitter;
}
