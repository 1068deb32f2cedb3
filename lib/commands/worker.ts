// voxqc worker --redis URL: take grading jobs from the queue until stopped (Ctrl-C / SIGTERM).
import { VoxqcError } from '../errors.js';
import { getConfig } from '../runtime.js';
import { checkDevice, createWorker, type CreateWorkerOptions, type JobReport } from '../queue/worker.js';

export interface WorkerCliValues {
  redis?: string;
  grader?: string;
  mode?: string;
  device?: string;
  json?: boolean;
  quiet?: boolean;
}

function usage(msg: string): VoxqcError {
  return new VoxqcError('ERR_INVALID_ARG', `worker: ${msg}; usage: voxqc worker --redis URL [--jobs N] [--threads N] [--device cpu|cuda] [--grader mod.js]`);
}

export async function workerCommand(args: string[], v: WorkerCliValues): Promise<number> {
  if (args.length !== 0) throw usage(`unexpected argument '${args[0]}'`);
  if (!v.redis) throw usage('--redis URL is required');
  if (v.mode !== undefined && v.mode !== 'rules' && v.mode !== 'model') throw usage(`--mode: expected 'rules' or 'model', received '${v.mode}'`);
  if (v.mode !== undefined && v.grader !== undefined) throw usage('give --mode or --grader, not both');
  if (v.device !== undefined && v.device !== 'cpu' && v.device !== 'cuda') throw usage(`--device: expected cpu or cuda, received '${v.device}'`);
  await checkDevice('worker', v.device);
  const json = !!v.json;
  const quiet = !!v.quiet;
  const event = (e: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
  // Connection trouble is said once per kind every 10 s, not on every retry.
  const lastSaid = new Map<string, number>();
  const onError = (err: Error) => {
    const msg = err?.message ?? String(err);
    const kind = msg.replace(/\d+/g, '#');
    const now = Date.now();
    if ((lastSaid.get(kind) ?? 0) > now - 10000) return;
    lastSaid.set(kind, now);
    if (json) event({ event: 'error', message: msg });
    else console.error(`voxqc worker: ${msg} (carrying on)`);
  };
  const onJob = (r: JobReport) => {
    if (json) event({ event: 'job', ...r });
    else if (!quiet || r.state === 'failed') {
      const line =
        `voxqc worker: job ${r.jobId} ${r.state}${r.state === 'failed' ? ` (attempt ${r.attempt}${r.final ? ', final' : ''}): ${r.error}` : ''}: ` +
        `${r.graded} rows graded (${r.failed} error rows), ${r.skipped} already stored, ${r.audioSec.toFixed(1)} s of audio in ${r.elapsedSec.toFixed(1)} s`;
      (r.state === 'failed' ? console.error : console.log)(line);
    }
  };
  const options: CreateWorkerOptions = { redis: v.redis, onJob, onError, concurrency: getConfig().concurrency };
  if (v.grader) options.grader = v.grader;
  else if (v.mode) options.mode = v.mode as 'rules' | 'model';
  if (v.device) options.device = v.device as 'cpu' | 'cuda';
  const worker = await createWorker(options);

  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      if (!json && !quiet) console.error('voxqc worker: stopping after the jobs in flight (Ctrl-C again to stop now; their rows graded so far are kept)');
      void worker.close();
    } else {
      void worker.close({ force: true });
      setTimeout(() => process.exit(130), 2000).unref();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  worker.ready.then(
    () => {
      if (json) event({ event: 'ready', worker: worker.name, redis: v.redis, concurrency: options.concurrency });
      else if (!quiet) console.log(`voxqc worker ${worker.name}: waiting for jobs at ${v.redis} (${options.concurrency} clips at once)`);
    },
    () => {},
  );
  try {
    await worker.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (json) event({ event: 'stopped', worker: worker.name });
  else if (!quiet) console.log(`voxqc worker ${worker.name}: stopped`);
  return interrupts > 1 ? 130 : 0;
}
