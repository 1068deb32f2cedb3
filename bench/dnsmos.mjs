#!/usr/bin/env node
// voxqc against DNSMOS (the anchor users compare with; ../shared/anchors/dnsmos), on the same clips:
// how well each separates the grades of a labelled validation set, and how fast each runs.
//
//   npm install --no-save --ignore-scripts onnxruntime-node@1.30.0   # once; the CPU binary ships in
//                                                                    # the package (its install script
//                                                                    # only fetches GPU builds)
//   node bench/dnsmos.mjs --data PREPARED_DIR [--model models/grader] [--split val] [--limit N] [--out FILE]
//
// DNSMOS P.835 is scored by bench/lib/dnsmos.mjs as its published procedure does. DNSMOS is
// measured here; it is not part of voxqc.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyze, configure, Grader, loadAudio } from '../dist/lib/index.js';
import { combineGrades, finalPolicyOf } from '../dist/lib/grader.js';
import { DNSMOS_INSTALL, loadDnsmos } from './lib/dnsmos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: join(root, 'models', 'grader') },
    split: { type: 'string', default: 'val' },
    limit: { type: 'string' },
    out: { type: 'string' },
    anchors: { type: 'string', default: join(root, '..', 'shared', 'anchors', 'dnsmos') },
  },
});
if (!values.data) {
  console.error('usage: node bench/dnsmos.mjs --data PREPARED_DIR [--model DIR] [--split val] [--limit N] [--out FILE]');
  process.exit(2);
}
const dnsmos = await loadDnsmos(values.anchors);
if (!dnsmos) {
  console.error(`bench/dnsmos.mjs needs onnxruntime-node: ${DNSMOS_INSTALL}`);
  process.exit(2);
}
configure({ threads: 1 });

const manifest = join(values.data, 'manifest.jsonl');
let rows = readFileSync(manifest, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.split === values.split);
if (values.limit) rows = rows.slice(0, Number(values.limit));
const grader = await Grader.load(values.model, { threads: 1 });
const policy = finalPolicyOf(values.model);
const res = [];
let tD = 0, tV = 0, audioSec = 0;
for (const [i, r] of rows.entries()) {
  const a = await loadAudio(r.audio);
  audioSec += a.durationSec;
  let t = performance.now();
  const d = await dnsmos(a.samples);
  tD += performance.now() - t;
  t = performance.now();
  const m = await analyze(a, r.text != null ? { text: r.text } : {});
  const [g] = await grader.grade({ audio: a, ...(r.text != null ? { text: r.text } : {}), scores: m.scores });
  const fin = combineGrades(policy, { grade: m.grade, flags: m.flags }, g, grader.flagNames);
  tV += performance.now() - t;
  res.push({ id: r.id, speaker: r.speaker, truth: r.label.grade, dnsmos: d, voxqc: fin.grade, pLow: g.probabilities.low, pHigh: g.probabilities.high });
  if ((i + 1) % 50 === 0) console.error(`dnsmos bench: ${i + 1}/${rows.length}`);
}

// AUC of a score for separating a positive class (Mann-Whitney).
function auc(pos, neg) {
  let s = 0;
  for (const p of pos) for (const q of neg) s += p > q ? 1 : p === q ? 0.5 : 0;
  return s / (pos.length * neg.length);
}
const G = ['high', 'medium', 'low'];
const byTruth = Object.fromEntries(G.map((g) => [g, res.filter((r) => r.truth === g)]));
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const macroF1 = (pred) => {
  const f = G.map((g) => {
    const tp = res.filter((r, i) => r.truth === g && pred[i] === g).length;
    const fp = res.filter((r, i) => r.truth !== g && pred[i] === g).length;
    const fn = res.filter((r, i) => r.truth === g && pred[i] !== g).length;
    return (2 * tp) / (2 * tp + fp + fn || 1);
  });
  return mean(f);
};
// DNSMOS as a grader: OVRL >= a -> high, >= b -> medium, else low; thresholds fitted on one half
// of the speakers and applied to the other (2-fold), so the figure is not fitted to its own test.
const half = (s) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 2;
const grid = [];
for (let a = 2.0; a <= 4.2; a += 0.05) for (let b = 1.5; b <= a; b += 0.05) grid.push([a, b]);
const gradeBy = (o, [a, b]) => (o >= a ? 'high' : o >= b ? 'medium' : 'low');
const dPred = new Array(res.length);
for (const fold of [0, 1]) {
  const fit = res.map((r, i) => [r, i]).filter(([r]) => half(r.speaker) !== fold);
  let best = grid[0], bestF = -1;
  for (const th of grid) {
    const f = mean(G.map((g) => {
      const tp = fit.filter(([r]) => r.truth === g && gradeBy(r.dnsmos.ovrl, th) === g).length;
      const fp = fit.filter(([r]) => r.truth !== g && gradeBy(r.dnsmos.ovrl, th) === g).length;
      const fn = fit.filter(([r]) => r.truth === g && gradeBy(r.dnsmos.ovrl, th) !== g).length;
      return (2 * tp) / (2 * tp + fp + fn || 1);
    }));
    if (f > bestF) (bestF = f), (best = th);
  }
  res.forEach((r, i) => {
    if (half(r.speaker) === fold) dPred[i] = gradeBy(r.dnsmos.ovrl, best);
  });
}
const summary = {
  data: manifest,
  split: values.split,
  clips: res.length,
  audioSec,
  model: values.model,
  policy,
  meanOvrlByTruthGrade: Object.fromEntries(G.map((g) => [g, byTruth[g].length ? mean(byTruth[g].map((r) => r.dnsmos.ovrl)) : null])),
  aucLowVsRest: { dnsmosOvrl: auc(byTruth.low.map((r) => -r.dnsmos.ovrl), [...byTruth.high, ...byTruth.medium].map((r) => -r.dnsmos.ovrl)), voxqcPLow: auc(byTruth.low.map((r) => r.pLow), [...byTruth.high, ...byTruth.medium].map((r) => r.pLow)) },
  aucHighVsRest: { dnsmosOvrl: auc(byTruth.high.map((r) => r.dnsmos.ovrl), [...byTruth.low, ...byTruth.medium].map((r) => r.dnsmos.ovrl)), voxqcPHigh: auc(byTruth.high.map((r) => r.pHigh), [...byTruth.low, ...byTruth.medium].map((r) => r.pHigh)) },
  macroF1: { dnsmosOvrlThresholds2Fold: macroF1(dPred), voxqc: macroF1(res.map((r) => r.voxqc)) },
  speedXRealTime1Thread: { dnsmos: audioSec / (tD / 1000), voxqcMetricsAndModel: audioSec / (tV / 1000), ratio: tD / tV },
};
console.log(JSON.stringify(summary, null, 1));
if (values.out) writeFileSync(values.out, JSON.stringify({ summary, clips: res }, null, 1) + '\n');
grader.dispose();
