// Dataset runs: `voxqc grade` throughput over the shared corpus (../shared/corpus/manifest.jsonl,
// audio key `audio`), as hours of audio graded per hour per core, and where the time goes.
//
// Two passes over the same clips with the same concurrency:
//   1. decode only: loadAudio of every clip (what any grader pays to read the audio);
//   2. the full run: gradeManifest with the grader, into a temp JSONL (writing, resume scan and
//      all), timing each clip's grader call.
// Decode share = decode time / grader time per clip (the grader decodes inside its call). The
// files are read once before both passes, so both find them in the page cache.
//
// Grader: --grader mod.js when given; else the rule grader (gradeClip) when it runs here; else the
// test grader (test/fixtures/dataset/level-grader.mjs: decode + frame levels + a spectrogram),
// and the output says which was used.
//
// Options: --manifest PATH, --grader mod.js, --jobs N (default: cores), --limit N (first N rows),
//          --save (write bench/results/dataset-DATE.json)
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configure, loadAudio, runtimeInfo } from '../dist/lib/index.js';
import { gradeClip } from '../dist/lib/analyze.js';
import { gradeManifest } from '../dist/lib/dataset/grade.js';
import { loadGraderModule } from '../dist/lib/dataset/grader.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const corpus = process.env.VOXQC_CORPUS ?? join(root, '..', 'shared', 'corpus');
const manifestPath = resolve(opt('manifest', join(corpus, 'manifest.jsonl')));
if (!existsSync(manifestPath)) {
  console.error(`bench dataset: no manifest at ${manifestPath} (the shared corpus is absent; pass --manifest PATH)`);
  process.exit(2);
}
const cores = availableParallelism();
const jobs = Number(opt('jobs', cores));
const limit = opt('limit') === undefined ? Infinity : Number(opt('limit'));
configure({ concurrency: jobs, threads: 1 });

// The rows to run: absolute paths, so the temp manifest can live anywhere.
const base = dirname(manifestPath);
const rows = readFileSync(manifestPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .slice(0, limit)
  .map((l) => JSON.parse(l))
  .map((r) => ({ ...r, audio: isAbsolute(r.audio) ? r.audio : join(base, r.audio) }));
const work = mkdtempSync(join(tmpdir(), 'voxqc-bench-dataset-'));
const manifest = join(work, 'manifest.jsonl');
writeFileSync(manifest, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

// --- the grader -------------------------------------------------------------------------------
let grader;
let graderName;
if (opt('grader')) {
  grader = await loadGraderModule(opt('grader'));
  graderName = `module ${opt('grader')}`;
} else {
  try {
    await gradeClip({ id: 'probe', audio: rows.find((r) => r.kind === 'speech')?.audio ?? rows[0].audio });
    grader = gradeClip;
    graderName = 'rules (gradeClip)';
  } catch (err) {
    const fallback = join(root, 'test', 'fixtures', 'dataset', 'level-grader.mjs');
    grader = await loadGraderModule(fallback);
    graderName = `test grader ${fallback} (the rule grader cannot run in this build: ${err.code ?? 'error'}: ${err.message})`;
  }
}

// Both passes read warm files: read each once first, so neither pays the disk.
for (const r of rows) {
  try {
    readFileSync(r.audio);
  } catch {
    /* a missing file fails in both passes alike */
  }
}

// --- pass 1: decode only ------------------------------------------------------------------------
async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
await loadAudio(rows[0].audio).catch(() => {}); // loads the addon and libtorch outside the timing
let decodeMs = 0;
let decodeAudioSec = 0;
let decodeFailed = 0;
const t0 = performance.now();
await pool(rows, jobs, async (r) => {
  const s = performance.now();
  try {
    const a = await loadAudio(r.audio);
    decodeAudioSec += a.durationSec;
  } catch {
    decodeFailed++;
  }
  decodeMs += performance.now() - s;
});
const decodeWall = (performance.now() - t0) / 1000;

// --- pass 2: the full grade run -----------------------------------------------------------------
const out = join(work, 'graded.jsonl');
let graderMs = 0;
const summary = await gradeManifest(manifest, {
  out,
  grader,
  concurrency: jobs,
  keys: { audio: 'audio' },
  onRow: (row) => {
    graderMs += row.voxqc.ms ?? 0;
  },
});
const info = await runtimeInfo();
rmSync(work, { recursive: true, force: true });

const used = Math.min(jobs, cores);
const perCore = summary.xRealTime / used;
const result = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? 'cpu'} x${cores}`,
  torch: info.torchVersion,
  grader: graderName,
  manifest: manifestPath,
  clips: summary.done,
  failed: summary.failed,
  audioHours: summary.audioSec / 3600,
  jobs,
  grade: {
    wallSec: summary.elapsedSec,
    xRealTime: summary.xRealTime,
    audioHoursPerHourPerCore: perCore,
  },
  decodeOnly: { wallSec: decodeWall, xRealTime: decodeAudioSec / decodeWall, failed: decodeFailed },
  timeShare: {
    decodeSecSummed: decodeMs / 1000,
    graderSecSummed: graderMs / 1000,
    decodeShareOfGrader: graderMs > 0 ? Math.min(1, decodeMs / graderMs) : null,
  },
};
console.log(`voxqc bench dataset: ${result.clips} clips (${result.audioHours.toFixed(2)} h of audio, ${result.failed} failed), ${jobs} jobs on ${cores} cores`);
console.log(`  grader: ${graderName}`);
console.log(`  grade run:   ${result.grade.wallSec.toFixed(1)} s wall, ${result.grade.xRealTime.toFixed(1)}x real time = ${perCore.toFixed(1)} h of audio per hour per core`);
console.log(`  decode only: ${decodeWall.toFixed(1)} s wall, ${result.decodeOnly.xRealTime.toFixed(1)}x real time`);
if (result.timeShare.decodeShareOfGrader !== null) {
  const d = result.timeShare.decodeShareOfGrader;
  console.log(`  where time goes (summed over clips): decode ${(100 * d).toFixed(0)}%, grading ${(100 * (1 - d)).toFixed(0)}% ` +
    `(${result.timeShare.decodeSecSummed.toFixed(1)} s decode of ${result.timeShare.graderSecSummed.toFixed(1)} s in the grader)`);
}
if (args.includes('--save')) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `dataset-${result.date.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`  saved ${file}`);
}
