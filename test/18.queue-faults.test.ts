// Layer 18: faults of cluster runs, on a real redis-server and real `voxqc worker` processes.
// - A worker is killed (SIGKILL) while it holds a job mid-chunk: the job is taken again once its
//   lock expires, the rows the dead worker had stored are not graded again, every row is graded
//   exactly once; Redis is restarted meanwhile, and the workers reconnect and carry on. The
//   collected output equals a single-machine `voxqc grade`, row for row.
//   Nothing waits on time: workers are held mid-job by a gate file the test grader waits on, and
//   say so by writing a file; the test kills and restarts while they are held.
// - A clip that kills its worker every time: its row becomes an error row, not the job's failure.
// - A job that fails on every attempt ends failed; `queue status` shows it with the reason.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createWorker, queueStatus, submit, type RunStatus } from '../lib/queue/index.js';
import { loadGraderModule } from '../lib/dataset/grader.js';
import { tempDir } from './helpers/index.js';
import { cli, makeDataset, readJsonl, runCli, writeJsonl, type Dataset } from './fixtures/dataset/make.js';
import { redisServerPath, startRedis, type TestRedis } from './fixtures/queue/redis.js';
import { comparable, gateGrader, queueManifest, spawnWorker, stopWorker, until, type WorkerChild } from './fixtures/queue/helpers.js';

const haveRedis = !!redisServerPath();

describe('18 queue: faults (kill -9, Redis restart, poison clips, failed jobs)', function () {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let redis: TestRedis;
  const workers: WorkerChild[] = [];

  before(async function () {
    if (!haveRedis) {
      console.log('      (skipped: redis-server is not installed; on Debian: apt-get install -y redis-server)');
      this.skip();
    }
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
    t = tempDir('voxqc-18-');
    ds = makeDataset(t.dir);
    redis = await startRedis(t.dir);
  });

  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await redis?.stop('SIGKILL');
    t?.cleanup();
  });

  const finished = (run: string, ms: number) =>
    until(
      async () => {
        const st = await queueStatus({ redis: redis.url, run });
        return st.finished ? st : undefined;
      },
      ms,
      () => `run ${run} did not finish:\n${workers.map((w) => w.output?.() ?? '').join('\n---\n')}`,
    );

  it('a worker killed (SIGKILL) mid-job and a Redis restart: every row graded exactly once, output = voxqc grade', async () => {
    const N = 30;
    const manifest = queueManifest(ds, join(t.dir, 'k.jsonl'), N);
    const env = { VOXQC_TEST_THROW: 'poison' };
    const ref = await runCli(['grade', manifest, '--out', join(t.dir, 'k-single.jsonl'), '--grader', gateGrader, '--ordered', '--quiet'], { env });
    assert.equal(ref.code, 1, ref.err);
    const sub = await runCli(['queue', 'submit', manifest, '--redis', redis.url, '--name', 'k', '--chunk', '5']);
    assert.equal(sub.code, 0, sub.err);

    const log = join(t.dir, 'graded.log');
    const gate = join(t.dir, 'gate');
    const held = (name: string) => join(t.dir, `held-${name}`);
    // The victim grades 2 clips of its first job, then holds the third: its job is mid-chunk.
    const victim = spawnWorker(redis.url, { ...env, VOXQC_QTEST_LOG: log, VOXQC_QTEST_HOLD_AFTER: '2', VOXQC_QTEST_HELD: held('v'), VOXQC_QTEST_GATE: join(t.dir, 'never') });
    workers.push(victim);
    await until(async () => (existsSync(held('v')) ? true : undefined), 60000, () => victim.output());
    const victimJob = readFileSync(held('v'), 'utf8');
    // Two more workers, each held after 3 clips (so the run is not over when Redis restarts).
    const others = ['b', 'c'].map((n) =>
      spawnWorker(redis.url, { ...env, VOXQC_QTEST_LOG: log, VOXQC_QTEST_HOLD_AFTER: '3', VOXQC_QTEST_HELD: held(n), VOXQC_QTEST_GATE: gate }),
    );
    workers.push(...others);
    await until(async () => (existsSync(held('b')) && existsSync(held('c')) ? true : undefined), 60000, () => others.map((w) => w.output()).join('\n---\n'));

    // kill -9 the victim while it holds its job; restart Redis while the others hold theirs.
    victim.kill('SIGKILL');
    await until(async () => (victim.signalCode ? true : undefined), 10000, () => 'victim did not die');
    const before = await queueStatus({ redis: redis.url, run: 'k' });
    assert.ok(!before.finished);
    await redis.restart();
    writeFileSync(gate, '');

    const st = await finished('k', 90000);
    assert.equal(st.rows.stored, N);
    assert.equal(st.chunks.failed, 0);

    // The dead worker's job was taken again; the rows it had stored were not graded again.
    const retried = others.map((w) => w.output()).join('\n');
    assert.match(retried, /completed: 3 rows graded \(\d+ error rows\), 2 already stored/, retried);
    // The others reconnected after the restart and went on (each completed a job after it).
    for (const w of others) assert.match(w.output(), /job k\.\d+ completed/);

    // Every clip graded to the end exactly once, by whichever worker.
    const graded = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[1]!);
    const counts = new Map<string, number>();
    for (const id of graded) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], `graded more than once: ${[...counts].filter(([, n]) => n > 1).map(([id]) => id)}`);
    assert.equal(counts.size, N - 3, 'every clip but the poison, missing and no-audio rows');
    assert.ok(!victimJob.includes('undefined'));

    const out = join(t.dir, 'k-collected.jsonl');
    const c = await runCli(['queue', 'collect', 'k', '--redis', redis.url, '--out', out]);
    assert.equal(c.code, 1, c.err);
    assert.deepEqual(comparable(readJsonl(out)), comparable(readJsonl(join(t.dir, 'k-single.jsonl'))));

    for (const w of others) assert.equal(await stopWorker(w), 0, w.output());
    workers.splice(0);
  });

  it('a clip that kills its worker every time fails its row (ERR_NATIVE), not its job', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => ({ id: i === 3 ? 'x3-crashme' : `x${i}`, audio_filepath: ds.good[i % 4] }));
    const manifest = writeJsonl(join(t.dir, 'crash.jsonl'), rows);
    const sub = await runCli(['queue', 'submit', manifest, '--redis', redis.url, '--chunk', '6']);
    assert.equal(sub.code, 0, sub.err);
    // A supervisor, as systemd or Kubernetes would be: a worker that dies is started again.
    const env = { VOXQC_QTEST_CRASH: 'crashme', VOXQC_QUEUE_LOCK_MS: '1500' };
    let deaths = 0;
    let current = spawnWorker(redis.url, env);
    workers.push(current);
    const st = await until(
      async () => {
        if (current.signalCode === 'SIGKILL') {
          deaths++;
          current = spawnWorker(redis.url, env);
          workers.push(current);
        }
        const s: RunStatus = await queueStatus({ redis: redis.url, run: 'crash' });
        return s.finished ? s : undefined;
      },
      90000,
      () => workers.map((w) => w.output()).join('\n---\n'),
    );
    assert.equal(deaths, 2, 'two workers died on the clip; the third wrote its error row');
    assert.equal(st.rows.stored, 6);
    assert.deepEqual(st.errors, { ERR_NATIVE: 1 });
    const out = join(t.dir, 'crash-out.jsonl');
    const c = await runCli(['queue', 'collect', 'crash', '--redis', redis.url, '--out', out]);
    assert.equal(c.code, 1, c.err);
    const got = readJsonl(out);
    assert.equal(got.length, 6);
    const bad = got.find((r) => r.id === 'x3-crashme')!;
    assert.equal(bad.voxqc.error.code, 'ERR_NATIVE');
    assert.match(bad.voxqc.error.message, /died 2 times/);
    assert.equal(got.filter((r) => r.voxqc.grade).length, 5);
    for (const w of workers.splice(0)) await stopWorker(w);
  });

  it('a job that fails on every attempt ends failed; queue status shows it with the reason', async () => {
    const manifest = writeJsonl(join(t.dir, 'doomed.jsonl'), [0, 1, 2, 3].map((i) => ({ id: `d${i}`, audio_filepath: ds.good[i] })));
    const s = await submit({ redis: redis.url, input: manifest, chunk: 2, attempts: 2, backoffMs: 10 });
    assert.equal(s.run, 'doomed');
    // Chunk 1's results cannot be stored: its key holds the wrong type.
    const c = new Redis(redis.url);
    await c.set('voxqc:run:doomed:rows:1', 'not a hash');
    c.disconnect();
    const grader = await loadGraderModule(gateGrader);
    const reports: string[] = [];
    const worker = await createWorker({ redis: redis.url, grader, concurrency: 1, lockDurationMs: 3000, onJob: (r) => reports.push(`${r.jobId} ${r.state} ${r.attempt}${r.final ? ' final' : ''}`) });
    const st = await until(
      async () => {
        const x = await queueStatus({ redis: redis.url, run: 'doomed' });
        return x.chunks.done === 1 && x.chunks.failed === 1 ? x : undefined;
      },
      60000,
      () => reports.join('\n'),
    );
    await worker.close();
    await worker.done;
    assert.deepEqual(reports.filter((r) => r.startsWith('doomed.1')), ['doomed.1 failed 1', 'doomed.1 failed 2 final']);
    assert.equal(st.failedJobs.length, 1);
    assert.equal(st.failedJobs[0]!.chunk, 1);
    assert.equal(st.failedJobs[0]!.attempts, 2);
    assert.match(st.failedJobs[0]!.reason, /WRONGTYPE/);
    const r = await runCli(['queue', 'status', 'doomed', '--redis', redis.url]);
    assert.equal(r.code, 1);
    assert.match(r.out, /jobs: 1 done, 0 active, 0 waiting, 1 failed, of 2/);
    assert.match(r.out, /failed: job doomed\.1 \(rows 2–3\) after 2 attempt\(s\): WRONGTYPE/);
  });
});
