// voxqc train --data DIR --config cfg.json --out models/NAME [--epochs N] [--seed S] [--threads N]
// voxqc prepare --data DIR --out DIR
// `train` takes a prepared set, or a labelled one (simulate's output), which it prepares first
// into DIR/prepared (reused when it is already there and newer than the manifest).
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VoxqcError } from '../errors.js';
import { isPrepared, prepareTrainingData } from '../prepare.js';
import { getConfig } from '../runtime.js';
import { train } from '../train.js';

export interface TrainCliValues {
  data?: string;
  config?: string;
  out?: string;
  epochs?: string;
  seed?: string;
  threads?: string;
  'batch-size'?: string;
  lr?: string;
  'val-fraction'?: string;
  'split-seed'?: string;
  quiet?: boolean;
  json?: boolean;
}

function numberOf(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new VoxqcError('ERR_INVALID_ARG', `train: --${name}: expected a non-negative ${integer ? 'integer' : 'number'}, received '${v}'`);
  }
  return n;
}

async function prepareInto(data: string, out: string, values: TrainCliValues): Promise<string> {
  const valFraction = numberOf('val-fraction', values['val-fraction'], false);
  const jobs = getConfig().concurrency;
  const splitSeed = numberOf('split-seed', values['split-seed'], true);
  let last = 0;
  const summary = await prepareTrainingData({
    data,
    out,
    jobs,
    ...(valFraction !== undefined ? { valFraction } : {}),
    ...(splitSeed !== undefined ? { splitSeed } : {}),
    onProgress: (done, total) => {
      if (!values.quiet && !values.json && (done === total || Date.now() - last > 5000)) {
        last = Date.now();
        process.stderr.write(`prepare: ${done}/${total} clips\n`);
      }
    },
  });
  for (const e of summary.errors) process.stderr.write(`prepare: left out ${e.id} (line ${e.line}): ${e.message}\n`);
  const line = `prepared ${summary.rows} clips into ${summary.manifest}: train ${summary.train.rows} clips of ${summary.train.speakers} speakers, validation ${summary.val.rows} clips of ${summary.val.speakers} speakers${summary.errors.length ? `; ${summary.errors.length} left out` : ''}`;
  if (values.json) console.log(JSON.stringify({ event: 'prepared', ...summary }));
  else if (!values.quiet) console.error(`prepare: ${line}`);
  return summary.manifest;
}

export async function prepareCommand(values: TrainCliValues): Promise<number> {
  for (const k of ['data', 'out'] as const) {
    if (!values[k]) throw new VoxqcError('ERR_INVALID_ARG', `prepare: --${k} is required`);
  }
  await prepareInto(values.data!, values.out!, values);
  return 0;
}

export async function trainCommand(values: TrainCliValues): Promise<number> {
  for (const k of ['data', 'config', 'out'] as const) {
    if (!values[k]) throw new VoxqcError('ERR_INVALID_ARG', `train: --${k} is required`);
  }
  let data = values.data!;
  if (!existsSync(data)) throw new VoxqcError('ERR_NOT_FOUND', `train: --data ${data}: no such file or directory`, { file: data });
  if (!(await isPrepared(data))) {
    const dir = statSync(data).isDirectory() ? data : dirname(data);
    const prepared = join(dir, 'prepared');
    const source = statSync(data).isDirectory() ? join(data, 'manifest.jsonl') : data;
    const cached = join(prepared, 'manifest.jsonl');
    if (existsSync(cached) && statSync(cached).mtimeMs >= statSync(source).mtimeMs) {
      if (!values.quiet && !values.json) console.error(`train: using the prepared set ${cached}`);
      data = cached;
    } else {
      data = await prepareInto(data, prepared, values);
    }
  }
  const handle = train({
    data,
    config: values.config!,
    out: values.out!,
    ...(values.epochs ? { epochs: numberOf('epochs', values.epochs, true) } : {}),
    ...(values.seed ? { seed: numberOf('seed', values.seed, true) } : {}),
    ...(values.threads ? { threads: numberOf('threads', values.threads, true) } : {}),
    ...(values['batch-size'] ? { batchSize: numberOf('batch-size', values['batch-size'], true) } : {}),
    ...(values.lr ? { lr: numberOf('lr', values.lr, false) } : {}),
  });
  const onSignal = () => {
    process.stderr.write('train: stopping after this step (a checkpoint is saved; run the same command to resume)\n');
    handle.cancel();
  };
  process.once('SIGINT', onSignal);
  handle.on('progress', (p) => {
    if (values.json) console.log(JSON.stringify(p));
    else if (!values.quiet && p.phase !== 'train') console.error(`train: ${p.message}`);
  });
  const result = await handle.result;
  process.removeListener('SIGINT', onSignal);
  if (!values.json && !values.quiet) {
    console.log(result.cancelled ? `cancelled at step ${result.steps}; resume with the same command` : `model: ${result.modelPath}\nmetrics: ${result.metricsPath}`);
  }
  return result.cancelled ? 130 : 0;
}
