#!/usr/bin/env node
// npm run bench -- queue [--rows 120] [--chunk 20] [--workers 1,2,4] [--rules] [--json]
//
// Cluster-run throughput on this machine over loopback: a redis-server on 127.0.0.1 (a free port,
// a temp folder, no persistence), 1, 2 and 4 `voxqc worker` processes (1 clip at a time each),
// against a single-machine `voxqc grade` of the same manifest with the same grader (--jobs 1 and
// --jobs <cores>). Reports clips/s, x real time, per-core efficiency, the queue's overhead per
// clip, and what the run costs in Redis memory (INFO used_memory, MEMORY USAGE).
// Grader: the deterministic test grader (test/fixtures/dataset/level-grader.mjs); --rules: the rule grader.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { queueStatus, submit } from '../dist/lib/queue/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'lib', 'cli.js');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '120' },
    chunk: { type: 'string', default: '20' },
    workers: { type: 'string', default: '1,2,4' },
    rules: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const CHUNK = Number(values.chunk);
const WORKERS = values.workers.split(',').map(Number);
const cores = availableParallelism();
const graderArgs = values.rules ? ['--mode', 'rules'] : ['--grader', join(root, 'test', 'fixtures', 'dataset', 'level-grader.mjs')];

if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  console.error('bench queue: redis-server is not installed (Debian: apt-get install -y redis-server)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'voxqc-bench-queue-'));
const samples = readFileSync(join(root, 'samples', 'manifest.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const manifest = join(dir, 'bench.jsonl');
writeFileSync(
  manifest,
  Array.from({ length: ROWS }, (_, i) => {
    const s = samples[i % samples.length];
    return JSON.stringify({ ...s, id: `b${i}`, audio_filepath: join(root, 'samples', s.audio_filepath) });
  }).join('\n') + '\n',
);
const audioSec = Array.from({ length: ROWS }, (_, i) => samples[i % samples.length].duration).reduce((a, b) => a + b, 0);

async function freePort() {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

function run(args, { json = false } = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
const redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
await new Promise((resolve, reject) => {
  let log = '';
  redisProc.stdout.on('data', (d) => {
    log += d;
    if (/Ready to accept connections/.test(log)) resolve();
  });
  redisProc.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${log}`)));
});
redisProc.stdout.resume();
const redis = new Redis(url);
const redisVersion = (await redis.info('server')).match(/redis_version:(\S+)/)?.[1];
const usedMemory = async () => Number((await redis.info('memory')).match(/used_memory:(\d+)/)[1]);

const results = { machine: { cpu: cpus()[0]?.model, cores, node: process.version, redis: redisVersion }, rows: ROWS, audioSec, chunk: CHUNK, grader: values.rules ? 'rules' : 'level-grader (test)', grade: {}, queue: {}, memory: {} };

try {
  // Single machine: voxqc grade, 1 clip at a time and `cores` at once. The run's own elapsed time
  // (without node's start) from the --json done event.
  for (const jobs of [1, cores]) {
    const out = join(dir, `grade-${jobs}.jsonl`);
    const r = await run(['grade', manifest, '--out', out, ...graderArgs, '--jobs', String(jobs), '--json', '--overwrite']);
    const done = r.out.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'done');
    if (!done) throw new Error(`grade failed: ${r.err}`);
    results.grade[`jobs${jobs}`] = { elapsedSec: done.elapsedSec, clipsPerSec: ROWS / done.elapsedSec, xRealTime: done.xRealTime };
  }

  for (const w of WORKERS) {
    const run_ = `bench-w${w}`;
    // Workers first (their start is not the queue's cost), each 1 clip at a time.
    const procs = [];
    for (let i = 0; i < w; i++) {
      const p = spawn(process.execPath, [cli, 'worker', '--redis', url, ...graderArgs, '--jobs', '1', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      p.ready = new Promise((resolve) => {
        let buf = '';
        p.stdout.on('data', (d) => {
          buf += d;
          if (buf.includes('"event":"ready"')) resolve();
        });
      });
      p.stderr.resume();
      procs.push(p);
    }
    await Promise.all(procs.map((p) => p.ready));
    const m0 = await usedMemory();
    const t0 = performance.now();
    await submit({ redis: url, input: manifest, name: run_, chunk: CHUNK });
    const submitSec = (performance.now() - t0) / 1000;
    let status;
    for (;;) {
      // In process (a CLI per poll would take CPU from the workers).
      status = await queueStatus({ redis: url, run: run_ });
      if (status.finished) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const wallSec = (performance.now() - t0) / 1000;
    const m1 = await usedMemory();
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => once(p, 'exit')));
    results.queue[`workers${w}`] = {
      elapsedSec: status.elapsedSec, // first job start → last row stored
      wallSec, // submit → status says finished (polled every 100 ms)
      submitSec,
      clipsPerSec: ROWS / status.elapsedSec,
      xRealTime: status.xRealTime,
    };
    if (w === WORKERS[0]) {
      // What a finished run holds: the stored rows (per chunk hashes), stats, meta.
      let rowsBytes = 0;
      for (let c = 0; c < Math.ceil(ROWS / CHUNK); c++) rowsBytes += Number(await redis.call('MEMORY', 'USAGE', `voxqc:run:${run_}:rows:${c}`, 'SAMPLES', '0'));
      const sample = await redis.hget(`voxqc:run:${run_}:rows:0`, '0');
      results.memory.finishedRun = { usedMemoryDelta: m1 - m0, rowsHashesBytes: rowsBytes, bytesPerRow: rowsBytes / ROWS, rowJsonBytes: Buffer.byteLength(sample) };
    }
  }
  // What queued (not yet graded) jobs hold: submit without workers.
  const m0 = await usedMemory();
  const sub = await run(['queue', 'submit', manifest, '--redis', url, '--name', 'bench-queued', '--chunk', String(CHUNK), '--json']);
  if (sub.code !== 0) throw new Error(sub.err);
  const m1 = await usedMemory();
  const job0 = Number(await redis.call('MEMORY', 'USAGE', 'voxqc:grade:bench-queued.0', 'SAMPLES', '0'));
  const manifestBytes = readFileSync(manifest).length;
  results.memory.queuedJobs = { usedMemoryDelta: m1 - m0, bytesPerRow: (m1 - m0) / ROWS, jobHashBytes: job0, manifestBytesPerRow: manifestBytes / ROWS };

  // Derived figures.
  const g1 = results.grade.jobs1;
  for (const [k, q] of Object.entries(results.queue)) {
    const w = Number(k.slice(7));
    q.speedupVsGrade1 = q.clipsPerSec / g1.clipsPerSec;
    q.perCoreEfficiency = q.speedupVsGrade1 / Math.min(w, cores);
  }
  const q1 = results.queue.workers1;
  if (q1) results.queueOverheadMsPerClip = ((q1.elapsedSec - g1.elapsedSec) / ROWS) * 1000;

  if (values.json) console.log(JSON.stringify(results, null, 2));
  else {
    const f = (x, d = 1) => x.toFixed(d);
    console.log(`voxqc queue bench: ${ROWS} clips (${f(audioSec / 60)} min of audio), chunk ${CHUNK}, grader ${results.grader}`);
    console.log(`machine: ${results.machine.cpu}, ${cores} cores, node ${process.version}, redis ${redisVersion} on 127.0.0.1\n`);
    console.log('run                      clips/s   x real time   vs grade --jobs 1   per-core eff.');
    for (const [k, g] of Object.entries(results.grade)) console.log(`voxqc grade --${k.replace('jobs', 'jobs ')}`.padEnd(25) + `${f(g.clipsPerSec).padStart(7)}   ${f(g.xRealTime).padStart(11)}   ${f(g.clipsPerSec / g1.clipsPerSec, 2).padStart(17)}`);
    for (const [k, q] of Object.entries(results.queue)) console.log(`queue, ${k.slice(7)} worker(s)`.padEnd(25) + `${f(q.clipsPerSec).padStart(7)}   ${f(q.xRealTime).padStart(11)}   ${f(q.speedupVsGrade1, 2).padStart(17)}   ${f(q.perCoreEfficiency, 2).padStart(13)}`);
    console.log(`\nqueue overhead (1 worker vs grade --jobs 1): ${f(results.queueOverheadMsPerClip, 2)} ms per clip`);
    const fm = results.memory.finishedRun;
    const qm = results.memory.queuedJobs;
    console.log(`Redis memory: a stored result ${f(fm.bytesPerRow, 0)} B per row (row JSON ${fm.rowJsonBytes} B); finished run used_memory +${fm.usedMemoryDelta} B`);
    console.log(`              queued jobs ${f(qm.bytesPerRow, 0)} B per row (manifest ${f(qm.manifestBytesPerRow, 0)} B per row)`);
  }
} finally {
  redis.disconnect();
  redisProc.kill('SIGKILL');
  await once(redisProc, 'exit').catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
