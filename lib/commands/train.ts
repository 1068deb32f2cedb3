// voxqc train --data DIR --config cfg.json --out models/NAME [--epochs N] [--seed S] [--threads N]
import { VoxqcError } from '../errors.js';
import { train } from '../train.js';

export interface TrainCliValues {
  data?: string;
  config?: string;
  out?: string;
  epochs?: string;
  seed?: string;
  threads?: string;
  quiet?: boolean;
  json?: boolean;
}

export async function trainCommand(values: TrainCliValues): Promise<number> {
  for (const k of ['data', 'config', 'out'] as const) {
    if (!values[k]) throw new VoxqcError('ERR_INVALID_ARG', `train: --${k} is required`);
  }
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new VoxqcError('ERR_INVALID_ARG', `train: --${name}: expected a non-negative integer, received '${v}'`);
    return n;
  };
  const handle = train({
    data: values.data!,
    config: values.config!,
    out: values.out!,
    ...(values.epochs ? { epochs: int('epochs', values.epochs) } : {}),
    ...(values.seed ? { seed: int('seed', values.seed) } : {}),
    ...(values.threads ? { threads: int('threads', values.threads) } : {}),
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
