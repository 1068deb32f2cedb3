// Cluster runs on a job queue (BullMQ on Redis): submit a manifest as jobs, grade them on many
// machines with workers, follow the run, collect the graded rows in input order.
export { submit, defaultRunName } from './submit.js';
export type { SubmitOptions, SubmitSummary } from './submit.js';
export { createWorker } from './worker.js';
export type { CreateWorkerOptions, QueueWorker, JobReport, WorkerDevice } from './worker.js';
export { queueStatus, collect, removeRun, listRuns } from './status.js';
export type { RunOptions, RunStatus, CollectOptions, CollectSummary, RemoveSummary } from './status.js';
export type { QueueBaseOptions, RedisConnection } from './redis.js';
