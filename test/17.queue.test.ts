// Layer 17: cluster runs on BullMQ in a real redis-server (127.0.0.1, a free port, killed at the
// end): `voxqc queue submit` (idempotent), 2 `voxqc worker` processes, `queue status`,
// `queue collect`, whose output equals a single-machine `voxqc grade` row for row; filter and
// report on it; the library form (submit / createWorker / queueStatus / collect) in process.
// Skipped, with a message, when redis-server is not installed (Debian: apt-get install redis-server).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { gradeManifest } from '../lib/dataset/grade.js';
import { loadGraderModule } from '../lib/dataset/grader.js';
import { collect, createWorker, queueStatus, submit, removeRun, type RunStatus } from '../lib/queue/index.js';
import { tempDir } from './helpers/index.js';
import { cli, makeDataset, readJsonl, runCli, writeJsonl, type Dataset } from './fixtures/dataset/make.js';
import { comparable, gateGrader, queueManifest, spawnWorker, stopWorker, until, type WorkerChild } from './fixtures/queue/helpers.js';
import { freePort, redisServerPath, startRedis, type TestRedis } from './fixtures/queue/redis.js';

const haveRedis = !!redisServerPath();

describe('17 queue: cluster runs on BullMQ (redis-server)', function () {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let redis: TestRedis;
  let manifest: string;
  let single: Record<string, any>[];
  const N = 26;
  const env = { VOXQC_TEST_THROW: 'poison' };
  const workers: WorkerChild[] = [];

  before(async function () {
    if (!haveRedis) {
      console.log('      (skipped: redis-server is not installed; on Debian: apt-get install -y redis-server)');
      this.skip();
    }
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build:ts`);
    t = tempDir('voxqc-17-');
    ds = makeDataset(t.dir);
    manifest = queueManifest(ds, join(t.dir, 'm.jsonl'), N);
    redis = await startRedis(t.dir);
    // The single-machine reference: voxqc grade with the same grader, in manifest order.
    const g = await runCli(['grade', manifest, '--out', join(t.dir, 'single.jsonl'), '--grader', gateGrader, '--ordered', '--quiet'], { env });
    assert.equal(g.code, 1, g.err); // error rows → exit 1
    single = readJsonl(join(t.dir, 'single.jsonl'));
    assert.equal(single.length, N);
  });

  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await redis?.stop('SIGKILL');
    t?.cleanup();
  });

  it('queue submit splits a manifest into jobs; submitting again adds nothing', async () => {
    const r = await runCli(['queue', 'submit', manifest, '--redis', redis.url, '--name', 'cli', '--chunk', '4']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /run cli: 26 rows in 7 jobs of 4: 7 added, 0 already submitted/);
    const again = await runCli(['queue', 'submit', manifest, '--redis', redis.url, '--name', 'cli', '--chunk', '4', '--json']);
    assert.equal(again.code, 0, again.err);
    const s = JSON.parse(again.out);
    assert.equal(s.added, 0);
    assert.equal(s.existing, 7);
    assert.equal(s.created, false);
    const q = new Queue('grade', { connection: { url: redis.url }, prefix: 'voxqc' });
    try {
      const counts = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      assert.equal(counts.waiting! + counts.prioritized! + counts.delayed! + counts.active!, 7, 'seven jobs on the queue, not fourteen');
    } finally {
      await q.close();
    }
    const st = await runCli(['queue', 'status', 'cli', '--redis', redis.url]);
    assert.equal(st.code, 0, st.err);
    assert.match(st.out, /jobs: 0 done, 0 active, 7 waiting, 0 failed, of 7/);
    assert.match(st.out, /rows: 0 of 26 graded/);
  });

  it('2 worker processes grade the run; collect equals a single-machine voxqc grade, row for row', async () => {
    workers.push(spawnWorker(redis.url, env), spawnWorker(redis.url, env));
    const s = await until(
      async () => {
        const st = await queueStatus({ redis: redis.url, run: 'cli' });
        return st.finished ? st : undefined;
      },
      90000,
      () => workers.map((w) => w.output()).join('\n---\n'),
    );
    assert.equal(s.rows.stored, N);
    assert.equal(s.rows.failed, 3);
    assert.deepEqual(s.errors, { ERR_GRADER: 1, ERR_NOT_FOUND: 1, ERR_INVALID_ARG: 1 });
    assert.equal(s.chunks.done, 7);
    assert.ok(s.audioSec > 0 && s.xRealTime > 0 && s.rowsPerSec > 0);
    // Both workers took jobs.
    for (const w of workers) assert.match(w.output(), /job cli\.\d+ completed/);

    const out = join(t.dir, 'collected.jsonl');
    const c = await runCli(['queue', 'collect', 'cli', '--redis', redis.url, '--out', out]);
    assert.equal(c.code, 1, c.err); // error rows → exit 1, as voxqc grade
    assert.match(c.out, /26 rows written/);
    const rows = readJsonl(out);
    assert.deepEqual(rows.map((r) => r.voxqc.input.index), Array.from({ length: N }, (_, i) => i));
    assert.deepEqual(comparable(rows), comparable(single));
    const poison = rows.find((r) => r.id === 'u005-poison')!;
    assert.equal(poison.voxqc.error.code, 'ERR_GRADER');
    assert.match(poison.voxqc.error.message, /test grader: refused/);

    const st = await runCli(['queue', 'status', 'cli', '--redis', redis.url]);
    assert.equal(st.code, 0, st.err);
    assert.match(st.out, /run cli: finished/);
    assert.match(st.out, /jobs: 7 done, 0 active, 0 waiting, 0 failed, of 7/);
    assert.match(st.out, /rows: 26 of 26 graded: .* failed 3/);

    // filter and report work on the collected output as on voxqc grade's.
    const kept = join(t.dir, 'kept.jsonl');
    const f = await runCli(['filter', out, '--out', kept, '--min-grade', 'medium']);
    assert.equal(f.code, 0, f.err);
    const fs = await runCli(['filter', join(t.dir, 'single.jsonl'), '--out', join(t.dir, 'kept-single.jsonl'), '--min-grade', 'medium']);
    assert.equal(fs.code, 0, fs.err);
    assert.equal(readFileSync(kept, 'utf8'), readFileSync(join(t.dir, 'kept-single.jsonl'), 'utf8'));
    const rep = await runCli(['report', out, '--out', join(t.dir, 'report.html')]);
    assert.equal(rep.code, 0, rep.err);
    assert.ok(readFileSync(join(t.dir, 'report.html'), 'utf8').length > 1000);

    for (const w of workers.splice(0)) assert.equal(await stopWorker(w), 0);
  });

  it('library: submit / createWorker / queueStatus / collect in process (CSV manifest, thresholds)', async () => {
    const csv = join(t.dir, 'm.csv');
    const lines = ['id,audio,text'];
    for (let i = 0; i < 9; i++) lines.push(`c${i},${ds.good[i % 4]},"row, ${i}"`);
    writeFileSync(csv, lines.join('\n') + '\n');
    const thresholds = { tooQuietDbfs: -30 };
    const s = await submit({ redis: redis.url, input: csv, chunk: 2, thresholds, keys: { audio: 'audio' } });
    assert.equal(s.run, 'm');
    assert.equal(s.chunks, 5);
    assert.equal(s.added, 5);
    const grader = await loadGraderModule(gateGrader);
    const seen: string[] = [];
    const worker = await createWorker({ redis: redis.url, grader, concurrency: 2, lockDurationMs: 3000, onRow: (r) => seen.push(r.voxqc.id) });
    await worker.ready;
    const st = await until(
      async () => {
        const x: RunStatus = await queueStatus({ redis: redis.url, run: 'm' });
        return x.finished ? x : undefined;
      },
      60000,
      () => 'the in-process worker did not finish run m',
    );
    await worker.close();
    await worker.done;
    assert.equal(st.rows.stored, 9);
    assert.equal(seen.length, 9);
    const out = join(t.dir, 'm-collected.jsonl');
    const c = await collect({ redis: redis.url, run: 'm', out });
    assert.equal(c.rows, 9);
    assert.equal(c.failed, 0);
    const ref = join(t.dir, 'm-single.jsonl');
    await gradeManifest(csv, { out: ref, grader, ordered: true, thresholds, keys: { audio: 'audio' } });
    assert.deepEqual(comparable(readJsonl(out)), comparable(readJsonl(ref)));
    assert.deepEqual(readJsonl(out)[0]!.voxqc.input.columns, ['id', 'audio', 'text']);
    const removed = await removeRun({ redis: redis.url, run: 'm' });
    assert.ok(removed.keys >= 3);
    await assert.rejects(queueStatus({ redis: redis.url, run: 'm' }), /no run 'm'/);
  });

  it('refuses clearly: --device cuda on this build, an unfinished collect, a name reused, no Redis there', async () => {
    const cuda = await runCli(['worker', '--redis', redis.url, '--device', 'cuda']);
    assert.equal(cuda.code, 1);
    assert.match(cuda.err, /this build has no CUDA/);

    const m2 = writeJsonl(join(t.dir, 'other.jsonl'), [{ audio_filepath: ds.good[0] }, { audio_filepath: ds.good[1] }]);
    const reuse = await runCli(['queue', 'submit', m2, '--redis', redis.url, '--name', 'cli', '--chunk', '4']);
    assert.equal(reuse.code, 2);
    assert.match(reuse.err, /run 'cli' exists with manifest/);

    const sub = await runCli(['queue', 'submit', m2, '--redis', redis.url, '--name', 'unfinished']);
    assert.equal(sub.code, 0, sub.err);
    const col = await runCli(['queue', 'collect', 'unfinished', '--redis', redis.url, '--out', join(t.dir, 'u.jsonl')]);
    assert.equal(col.code, 2);
    assert.match(col.err, /run 'unfinished' is not finished: 2 of 2 rows not graded yet/);
    const part = await runCli(['queue', 'collect', 'unfinished', '--redis', redis.url, '--out', join(t.dir, 'u.jsonl'), '--partial']);
    assert.equal(part.code, 0, part.err);
    assert.equal(readFileSync(join(t.dir, 'u.jsonl'), 'utf8'), '');
    const rm = await runCli(['queue', 'remove', 'unfinished', '--redis', redis.url]);
    assert.equal(rm.code, 0, rm.err);
    assert.match(rm.out, /2 keys and 1 jobs deleted|keys and 1 jobs deleted/);

    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const down = await runCli(['queue', 'status', 'cli', '--redis', nobody]);
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const noRun = await runCli(['queue', 'status', 'nope', '--redis', redis.url]);
    assert.equal(noRun.code, 1);
    assert.match(noRun.err, /no run 'nope'/);
    const noUrl = await runCli(['worker']);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.err, /--redis URL is required/);
  });
});
