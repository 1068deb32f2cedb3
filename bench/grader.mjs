#!/usr/bin/env node
// End-to-end grading speed on one core, audio-only clips: where a clip's time goes (decode, the
// rule metrics, the model) and the whole, against DNSMOS on the same clips in the same run.
//
//   node bench/grader.mjs [--data PREPARED_DIR] [--split val] [--limit 100] [--passes 3]
//                         [--model models/grader] [--save]
//
// Clips: the audio-only rows of a `voxqc prepare` output (16 kHz WAV, --split), or, without
// --data, 100 clips simulated here from ../shared/corpus (`voxqc simulate --seed 7`, into a temp
// dir). Each pass reads every clip from its file, measures it (analyze) and runs the model on it
// (Grader.grade with those scores), timing each step; one libtorch thread throughout. Figures are
// the medians over passes, in seconds of audio per second of one core (x real time), and the
// first pass alone (clip lengths the process has not seen: what a dataset run meets).
// Peer: DNSMOS P.835 on the same decoded clips (bench/lib/dnsmos.mjs), in the first pass only (it
// is ~50x slower), when onnxruntime-node is installed (DNSMOS_INSTALL); else the output says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyze, configure, Grader, loadAudio, runtimeInfo } from '../dist/lib/index.js';
import { DNSMOS_INSTALL, loadDnsmos } from './lib/dnsmos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'val' },
    limit: { type: 'string', default: '100' },
    passes: { type: 'string', default: '3' },
    model: { type: 'string', default: join(root, 'models', 'grader') },
    anchors: { type: 'string', default: join(root, '..', 'shared', 'anchors', 'dnsmos') },
    save: { type: 'boolean', default: false },
  },
});
const limit = Number(values.limit);
const passes = Number(values.passes);
configure({ threads: 1 });

let clips;
let tmp;
if (values.data) {
  clips = readFileSync(join(values.data, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.split === values.split && !r.videoSource && !r.video)
    .slice(0, limit)
    .map((r) => r.audio);
} else {
  const corpus = process.env.VOXQC_CORPUS ?? join(root, '..', 'shared', 'corpus');
  if (!existsSync(join(corpus, 'manifest.jsonl'))) {
    console.error(`bench grader: no --data and no corpus at ${corpus}`);
    process.exit(2);
  }
  tmp = mkdtempSync(join(tmpdir(), 'voxqc-bench-grader-'));
  const r = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli.js'), 'simulate', '--corpus', corpus, '--out', tmp,
    '--n', String(limit), '--videos', '0', '--seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
  clips = readFileSync(join(tmp, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => join(tmp, JSON.parse(l).audio));
}

const grader = await Grader.load(values.model, { threads: 1 });
const dnsmos = await loadDnsmos(values.anchors);
// Warm-up (first calls allocate pools and fault in code).
{
  const a = await loadAudio(clips[0]);
  const m = await analyze(a);
  await grader.grade({ audio: a, scores: m.scores });
  if (dnsmos) await dnsmos(a.samples);
}

const stages = ['decode', 'metrics', 'model', 'dnsmos'];
const perPass = [];
let audioSec = 0;
for (let p = 0; p < passes; p++) {
  const t = Object.fromEntries(stages.map((s) => [s, 0]));
  audioSec = 0;
  for (const path of clips) {
    let t0 = performance.now();
    const a = await loadAudio(path);
    t.decode += performance.now() - t0;
    t0 = performance.now();
    const m = await analyze(a);
    t.metrics += performance.now() - t0;
    t0 = performance.now();
    await grader.grade({ audio: a, scores: m.scores });
    t.model += performance.now() - t0;
    if (dnsmos && p === 0) {
      t0 = performance.now();
      await dnsmos(a.samples);
      t.dnsmos += performance.now() - t0;
    }
    audioSec += a.durationSec;
  }
  perPass.push(t);
}
grader.dispose();
if (tmp) rmSync(tmp, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const x = (ms) => audioSec / (ms / 1000);
const rows = [
  ['decode (loadAudio)', perPass.map((t) => t.decode)],
  ['rule metrics (analyze)', perPass.map((t) => t.metrics)],
  ['model (Grader.grade)', perPass.map((t) => t.model)],
  ['rules grade: decode + metrics', perPass.map((t) => t.decode + t.metrics)],
  ['voxqc end to end: decode + metrics + model', perPass.map((t) => t.decode + t.metrics + t.model)],
];
if (dnsmos) rows.push(['peer: DNSMOS P.835 (decode + model; first pass)', [perPass[0].decode + perPass[0].dnsmos]]);
const result = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model,
  threads: 1,
  runtime: await runtimeInfo(),
  clips: clips.length,
  audioSec,
  passes,
  source: values.data ? `${values.data} (${values.split}, audio only)` : 'simulated here (seed 7, audio only)',
  xRealTime: Object.fromEntries(rows.map(([name, ms]) => [name, x(median(ms))])),
  xRealTimeFirstPass: Object.fromEntries(rows.map(([name, ms]) => [name, x(ms[0])])),
};
console.log(`grading speed, one thread, ${clips.length} audio-only clips (${(audioSec / 60).toFixed(1)} min), median of ${passes} passes`);
console.log('| step | x real time (median) | first pass | ms per second of audio |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, ms] of rows) {
  const m = median(ms);
  console.log(`| ${name} | ${x(m).toFixed(0)} | ${x(ms[0]).toFixed(0)} | ${(m / audioSec).toFixed(2)} |`);
}
const e2e = result.xRealTime['voxqc end to end: decode + metrics + model'];
if (dnsmos) {
  const peer = result.xRealTime['peer: DNSMOS P.835 (decode + model; first pass)'];
  result.ratioToDnsmos = e2e / peer;
  console.log(`voxqc end to end / DNSMOS: ${(e2e / peer).toFixed(1)}x`);
} else {
  console.log(`peer skipped: DNSMOS needs onnxruntime-node (${DNSMOS_INSTALL})`);
}
console.log(`against the 500x target: ${(e2e / 500).toFixed(2)} of it`);
if (values.save) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `grader-${result.date.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify({ ...result, perPassMs: perPass }, null, 1) + '\n');
  console.log(`saved ${file}`);
}
