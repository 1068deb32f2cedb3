// voxqc simulate --corpus DIR|manifest --out DIR --n N --seed S [--videos N]: labelled defects.
import { VoxqcError } from '../errors.js';
import { simulate } from '../simulate/index.js';

export interface SimulateCliValues {
  corpus?: string;
  out?: string;
  n?: string;
  seed?: string;
  videos?: string;
  'sample-rate'?: string;
  quiet?: boolean;
  json?: boolean;
}

function intOf(name: string, v: string | undefined, dflt: number | undefined, min = 0): number {
  if (v === undefined) {
    if (dflt === undefined) throw new VoxqcError('ERR_INVALID_ARG', `simulate: --${name} is required`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new VoxqcError('ERR_INVALID_ARG', `simulate: --${name}: expected an integer ≥ ${min}, received '${v}'`);
  return n;
}

export async function simulateCommand(values: SimulateCliValues): Promise<number> {
  if (!values.corpus) throw new VoxqcError('ERR_INVALID_ARG', 'simulate: --corpus DIR|manifest is required');
  if (!values.out) throw new VoxqcError('ERR_INVALID_ARG', 'simulate: --out DIR is required');
  const n = intOf('n', values.n, undefined, 1);
  const seed = intOf('seed', values.seed, 1);
  const videos = intOf('videos', values.videos, 0);
  const sampleRate = intOf('sample-rate', values['sample-rate'], 16000, 8000);
  let last = 0;
  const summary = await simulate({
    corpus: values.corpus,
    out: values.out,
    n,
    seed,
    videos,
    sampleRate,
    onProgress: (done, total) => {
      if (!values.quiet && !values.json && (done === total || Date.now() - last > 2000)) {
        last = Date.now();
        process.stderr.write(`simulate: ${done}/${total} clips\n`);
      }
    },
  });
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else if (!values.quiet) {
    console.log(`sources: ${summary.sources.checked} checked, ${summary.sources.clean} clean, ${summary.sources.rejected.length} rejected`);
    console.log(`written: ${summary.written} clips (high ${summary.grades.high}, medium ${summary.grades.medium}, low ${summary.grades.low})`);
    console.log(`flags: ${Object.entries(summary.flags).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`manifest: ${summary.manifest}`);
  }
  return 0;
}
