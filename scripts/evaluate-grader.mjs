#!/usr/bin/env node
// Evaluates trained graders on the validation split of a prepared set (voxqc prepare), next to the
// rules alone and the 'worst of model and rules' combination, and measures grading speed.
//
//   node scripts/evaluate-grader.mjs --data PREPARED_DIR --model models/grader [--model DIR ...]
//        [--out evaluation.json] [--speed N]
//
// For each model: grade accuracy, macro-F1 over high/medium/low, the confusion matrix, F1 per
// flag, the transcript-mismatch F1 (and on wrong transcripts of similar length alone), for the
// model, for the rules and for the combination. --speed N grades N validation clips without video,
// as audio only (the transcript left out: its phonemes come from an espeak-ng process per clip),
// end to end (decode, metrics, model; one thread, one clip at a time) and reports x real time.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { analyze, Grader, loadAudio, configure } from '../dist/lib/index.js';
import { combineGrades, FINAL_GRADE_POLICIES } from '../dist/lib/grader.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', multiple: true },
    out: { type: 'string' },
    speed: { type: 'string' },
    split: { type: 'string', default: 'val' },
  },
});
if (!values.data || !values.model?.length) {
  console.error('usage: evaluate-grader.mjs --data PREPARED_DIR --model DIR [--model DIR ...] [--out FILE] [--speed N]');
  process.exit(2);
}
configure({ threads: 1 });
const GRADES = ['high', 'medium', 'low'];
const manifest = values.data.endsWith('.jsonl') ? values.data : join(values.data, 'manifest.jsonl');
const rows = readFileSync(manifest, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l))
  .filter((r) => r.split === values.split);
console.error(`evaluate: ${rows.length} ${values.split} clips from ${manifest}`);

/** Words of a text, for the similar-length test. */
const words = (t) => String(t ?? '').trim().split(/\s+/).filter(Boolean).length;
/** Wrong transcript of about the same length (within 25% of the words of the right one). */
function similarLengthWrong(row) {
  const p = (row.label.planted ?? []).find((x) => x.kind === 'wrong_transcript');
  if (!p || !(p.params.wordErrorRate > 0.3) || !p.params.originalText) return false;
  const a = words(p.params.originalText), b = words(row.text);
  return Math.abs(a - b) <= 0.25 * a;
}

function scoreSet(preds, flagNames) {
  const n = preds.length;
  const confusion = GRADES.map(() => GRADES.map(() => 0));
  let correct = 0;
  for (const p of preds) {
    confusion[GRADES.indexOf(p.truth.grade)][GRADES.indexOf(p.grade)]++;
    if (p.truth.grade === p.grade) correct++;
  }
  const f1 = (tp, fp, fn) => (tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn));
  const gradeF1 = GRADES.map((_, g) => {
    const tp = confusion[g][g];
    const fp = confusion.reduce((s, r, t) => s + (t === g ? 0 : r[g]), 0);
    const fn = confusion[g].reduce((s, v, k) => s + (k === g ? 0 : v), 0);
    return f1(tp, fp, fn);
  });
  const defined = gradeF1.filter((v) => v !== null);
  const flagF1 = {};
  for (const f of flagNames) {
    let tp = 0, fp = 0, fn = 0;
    for (const p of preds) {
      const t = p.truth.flags.includes(f), q = p.flags.includes(f);
      if (t && q) tp++;
      else if (q) fp++;
      else if (t) fn++;
    }
    flagF1[f] = { f1: f1(tp, fp, fn), support: tp + fn };
  }
  // Transcript mismatch, over the clips that have a transcript, and on similar-length wrong ones.
  const withText = preds.filter((p) => p.hasText);
  const mm = (list) => {
    let tp = 0, fp = 0, fn = 0;
    for (const p of list) {
      const t = p.truth.flags.includes('transcript_mismatch'), q = p.flags.includes('transcript_mismatch');
      if (t && q) tp++;
      else if (q) fp++;
      else if (t) fn++;
    }
    return { f1: f1(tp, fp, fn), support: tp + fn, n: list.length };
  };
  const similar = withText.filter((p) => p.similarWrong);
  return {
    n,
    accuracy: correct / n,
    macroF1: defined.reduce((a, b) => a + b, 0) / defined.length,
    gradeF1: Object.fromEntries(GRADES.map((g, k) => [g, gradeF1[k]])),
    confusion: { rows: 'truth', cols: 'predicted', order: GRADES, matrix: confusion },
    flagF1,
    transcriptMismatch: { ...mm(withText), similarLengthWrong: { detected: similar.filter((p) => p.flags.includes('transcript_mismatch')).length, of: similar.length } },
  };
}

const result = { data: relative(process.cwd(), resolve(manifest)), split: values.split, clips: rows.length, date: new Date().toISOString(), models: {} };
let rulesDone = false;
for (const dir of values.model) {
  const grader = await Grader.load(dir, { threads: 1 });
  const flagNames = grader.flagNames;
  const preds = Object.fromEntries(FINAL_GRADE_POLICIES.map((p) => [p, []]));
  const t0 = performance.now();
  let audioSec = 0;
  const BATCH = 16;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const out = await grader.grade(
      batch.map((r) => ({ audio: r.audio, ...(r.text != null ? { text: r.text } : {}), ...(r.videoSource ? { video: r.videoSource } : {}), scores: r.scores })),
    );
    batch.forEach((r, k) => {
      audioSec += r.scores.durationSec ?? 0;
      const m = out[k];
      const truth = { grade: r.label.grade, flags: r.label.flags };
      const common = { truth, hasText: r.text != null, similarWrong: similarLengthWrong(r) };
      const rules = { grade: r.rules.grade, flags: r.rules.flags };
      for (const policy of FINAL_GRADE_POLICIES) preds[policy].push({ ...common, ...combineGrades(policy, rules, m, flagNames) });
    });
  }
  const sec = (performance.now() - t0) / 1000;
  result.models[dir] = {
    fusion: grader.fusion,
    parameters: grader.parameters,
    model: scoreSet(preds.model, flagNames),
    worst: scoreSet(preds.worst, flagNames),
    coherent: scoreSet(preds.coherent, flagNames),
    modelOnlySpeedXRealTime: audioSec / sec,
  };
  if (!rulesDone) {
    result.rules = scoreSet(preds.rules, flagNames);
    rulesDone = true;
  }
  console.error(
    `${dir} (${grader.fusion}, ${grader.parameters} parameters): model macro-F1 ${result.models[dir].model.macroF1.toFixed(3)} acc ${result.models[dir].model.accuracy.toFixed(3)}; worst-of ${result.models[dir].worst.macroF1.toFixed(3)}; coherent ${result.models[dir].coherent.macroF1.toFixed(3)}; rules ${result.rules.macroF1.toFixed(3)}; model pass ${(audioSec / sec).toFixed(0)}x real time`,
  );
  if (values.speed) {
    const n = Number(values.speed);
    const clips = rows.filter((r) => !r.video).slice(0, n);
    let sec2 = 0, dur = 0;
    for (const r of clips) {
      const t = performance.now();
      const audio = await loadAudio(r.audio);
      const a = await analyze(audio);
      await grader.grade({ audio, scores: a.scores });
      sec2 += (performance.now() - t) / 1000;
      dur += audio.durationSec;
    }
    result.models[dir].endToEnd = { clips: clips.length, audioSec: dur, seconds: sec2, xRealTime: dur / sec2, threads: 1, input: 'audio only' };
    console.error(`  end to end, audio only (decode + metrics + model, 1 thread): ${(dur / sec2).toFixed(0)}x real time over ${clips.length} clips`);
  }
  grader.dispose();
}
const json = JSON.stringify(result, null, 1);
if (values.out) writeFileSync(values.out, json + '\n');
else console.log(json);
