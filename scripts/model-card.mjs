#!/usr/bin/env node
// Writes models/grader/MODEL_CARD.md from the figures the runs left: evaluation.json (written by
// scripts/evaluate-grader.mjs over the three fusion modes) and each run's metrics.json (training
// history, times, options). Nothing in the card is typed by hand but the prose around the tables.
//
//   node scripts/model-card.mjs --eval models/grader/evaluation.json --shipped DIR --out models/grader/MODEL_CARD.md
//        [--policy model] [--config models/configs/NAME.json (the shipped run's config, for "Reproduce")]
//        [--heldout models/grader/evaluation-heldout.json (further simulated sets, no choice made on them)]
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { eval: { type: 'string' }, shipped: { type: 'string' }, out: { type: 'string' }, policy: { type: 'string' }, config: { type: 'string' }, heldout: { type: 'string' } } });
const ev = JSON.parse(readFileSync(values.eval, 'utf8'));
const f = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const models = Object.entries(ev.models);
const FLAGS = Object.keys(ev.rules.flagF1);
const lines = [];
const shipped = models.find(([dir]) => dir === values.shipped) ?? models[0];
const shippedMetrics = JSON.parse(readFileSync(join(shipped[0], 'metrics.json'), 'utf8'));
const policy = values.policy ?? 'model';

lines.push('# voxqc learned grader — model card', '');
lines.push(
  `The default model of \`voxqc grade\` (\`models/grader\`): an ${shipped[1].fusion}-fusion transformer over audio (log-mel), ` +
    `transcript (UTF-8 bytes), video (mouth-region frames) and the rule metrics, ${shipped[1].parameters.toLocaleString('en-US')} parameters, ` +
    `trained by voxqc itself. Its final grade policy is **${policy}** (see "Which grade is final").`,
  '',
);
lines.push('## Data', '');
lines.push(
  `Simulated from \`../shared/corpus\` by \`voxqc simulate\` (real speech with defects planted at known places and sizes, labelled by the rubric from what was planted), ` +
    `prepared by \`voxqc prepare\` (the rule metrics measured on every clip, as grading measures them). ` +
    `Split by speaker: no validation speaker (nor any recording of one) is in training. ` +
    `Training: ${shippedMetrics.split.trainExamples} clips of ${shippedMetrics.split.trainSpeakers} speakers; validation: ${shippedMetrics.split.valExamples} clips of ${shippedMetrics.split.valSpeakers} speakers.`,
  '',
);
lines.push('## Validation results (speaker-disjoint)', '');
lines.push('| grader | parameters | accuracy | macro-F1 | F1 high | F1 medium | F1 low | flag macro-F1 | transcript mismatch F1 (n pos) |');
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const flagMacro = (s) => {
  const v = Object.values(s.flagF1).map((x) => x.f1).filter((x) => x !== null);
  return v.reduce((a, b) => a + b, 0) / v.length;
};
const row = (name, params, s) =>
  `| ${name} | ${params} | ${f(s.accuracy)} | **${f(s.macroF1)}** | ${f(s.gradeF1.high)} | ${f(s.gradeF1.medium)} | ${f(s.gradeF1.low)} | ${f(flagMacro(s))} | ${f(s.transcriptMismatch.f1)} (${s.transcriptMismatch.support}) |`;
lines.push(row('rules alone', '—', ev.rules));
for (const [dir, m] of models) {
  lines.push(row(`model, ${m.fusion} fusion (\`${basename(dir)}\`)`, m.parameters.toLocaleString('en-US'), m.model));
  lines.push(row(`worse of model (\`${basename(dir)}\`) and rules`, '', m.worst));
  if (m.coherent) lines.push(row(`model (\`${basename(dir)}\`), only the flags its grade allows`, '', m.coherent));
}
lines.push('');
lines.push(`F1 per flag (validation; support = clips with the flag in truth):`, '');
lines.push(`| flag | support | rules | ${models.map(([dir, m]) => `${m.fusion} (\`${basename(dir)}\`)`).join(' | ')} |`);
lines.push(`| --- | --- | --- | ${models.map(() => '---').join(' | ')} |`);
for (const fl of FLAGS) {
  lines.push(`| \`${fl}\` | ${ev.rules.flagF1[fl].support} | ${f(ev.rules.flagF1[fl].f1, 2)} | ${models.map(([, m]) => f(m.model.flagF1[fl].f1, 2)).join(' | ')} |`);
}
lines.push('');
const cm = (shipped[1][policy === 'rules' ? 'model' : policy] ?? shipped[1].model).confusion.matrix;
lines.push(`Confusion matrix of the shipped grader with its final-grade policy (${policy}; rows: truth, columns: predicted):`, '');
lines.push('| truth \\ predicted | high | medium | low |', '| --- | --- | --- | --- |');
['high', 'medium', 'low'].forEach((g, i) => lines.push(`| ${g} | ${cm[i].join(' | ')} |`));
lines.push('');
const sim = shipped[1].model.transcriptMismatch.similarLengthWrong;
lines.push(`Wrong transcripts of about the right length (within 25% of the words): the model flags ${sim.detected} of ${sim.of}; the rules flag ${ev.rules.transcriptMismatch.similarLengthWrong.detected} of ${ev.rules.transcriptMismatch.similarLengthWrong.of}.`, '');
// Further held-out sets (--heldout): read once; the shipped model's and the rules' score on each.
const ho = values.heldout ? JSON.parse(readFileSync(values.heldout, 'utf8')) : null;
const shippedName = basename(values.shipped);
const shippedOn = (models) => Object.entries(models).find(([k]) => basename(k) === shippedName)?.[1];
const heldout = ho ? ho.sets.map((st) => ({ set: st, model: shippedOn(st.models)?.macroF1, rules: st.rules.macroF1 })) : [];
if (ho) {
  const shippedVal = shipped[1][policy === 'rules' ? 'model' : policy]?.macroF1 ?? shipped[1].model.macroF1;
  const others = [...new Set(ho.sets.flatMap((st) => Object.keys(st.models)).filter((k) => basename(k) !== shippedName))];
  lines.push('## Further held-out sets', '');
  lines.push(ho.note, '');
  lines.push(`| set | clips | rules macro-F1 | shipped model macro-F1 | margin over the rules | ${others.map((k) => `\`${basename(k)}\``).join(' | ')} |`);
  lines.push(`| --- | --- | --- | --- | --- | ${others.map(() => '---').join(' | ')} |`);
  const mainRow = (label, clips, rules, model) => `| ${label} | ${clips} | ${f(rules)} | **${f(model)}** | ${model - rules >= 0 ? '+' : ''}${f(model - rules)} |`;
  const onVal = (k) => Object.entries(ev.models).find(([d]) => basename(d) === basename(k))?.[1]?.model?.macroF1;
  lines.push(`${mainRow('validation (the figures above; epoch, fusion and policy chosen on it)', ev.clips, ev.rules.macroF1, shippedVal)} ${others.map((k) => f(onVal(k))).join(' | ')} |`);
  for (const h of heldout) {
    lines.push(`${mainRow(`\`${h.set.simulate}\``, h.set.clips, h.rules, h.model ?? NaN)} ${others.map((k) => (h.set.models[k] ? f(h.set.models[k].macroF1) : '—')).join(' | ')} |`);
  }
  const scored = heldout.filter((h) => h.model !== undefined);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const all = [shippedVal, ...scored.map((h) => h.model)];
  const rulesAll = [ev.rules.macroF1, ...heldout.map((h) => h.rules)];
  lines.push('', `Mean over the ${all.length} sets: model ${f(mean(all))}, rules ${f(mean(rulesAll))}. The sets differ by more than the models do: a few hundred clips put a macro-F1 within about ±0.015.` +
    (ho.extraRuns ? ` ${ho.extraRuns}` : ''), '');
}
lines.push('## Training', '');
lines.push('| run | epochs | best epoch | training time | examples/s |', '| --- | --- | --- | --- | --- |');
for (const [dir] of models) {
  const mm = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  const sec = mm.history.reduce((a, h) => a + h.seconds, 0);
  lines.push(`| \`${basename(dir)}\` (${mm.fusion ?? ev.models[dir].fusion}) | ${mm.history.length} | ${mm.bestEpoch} | ${(sec / 60).toFixed(1)} min | ${((mm.split.trainExamples * mm.history.length) / sec).toFixed(1)} |`);
}
lines.push('');
lines.push(
  `Options: ${Object.entries(shippedMetrics.options)
    .filter(([k]) => ['epochs', 'batchSize', 'lr', 'weightDecay', 'warmupFraction', 'minLrRatio', 'gradClip', 'classBalanced', 'seed', 'threads', 'selectBy'].includes(k))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}. AdamW, linear warm-up then cosine decay, class-balanced losses, length-bucketed batches.`,
  '',
);
lines.push('## Speed', '');
lines.push(`Measured ${ev.date.slice(0, 10)} on a 2-vCPU AMD EPYC machine (Debian 12, Node 20, Debian's libtorch 1.13 CPU), one thread (a shared virtual machine: figures move by about ±15% from run to run). Audio-only clips for end to end; \`npm run bench -- grader\` gives the same split by step, against DNSMOS.`, '');
for (const [dir, m] of models) {
  const e2e = m.endToEnd ? `; end to end (decode + rule metrics + model, 1 thread): **${f(m.endToEnd.xRealTime, 0)}× real time** over ${m.endToEnd.clips} clips (${f(m.endToEnd.audioSec / 60, 1)} min of audio)` : '';
  lines.push(`- \`${basename(dir)}\` (${m.fusion}): model step ${f(m.modelOnlySpeedXRealTime, 0)}× real time on one thread (batches of 16, validation clips)${e2e}.`);
}
lines.push('');
lines.push('## Reproduce', '');
lines.push('```sh');
lines.push('voxqc simulate --corpus ../shared/corpus --out sim --n 4000 --videos 400 --seed 1');
lines.push('voxqc prepare --data sim --out sim/prepared --val-fraction 0.15 --split-seed 11');
lines.push(`voxqc train --data sim/prepared --config ${values.config ?? `models/configs/grader-${shipped[1].fusion}.json`} --out models/grader --epochs ${shippedMetrics.options.epochs} --seed ${shippedMetrics.options.seed} --threads ${shippedMetrics.options.threads}`);
lines.push('node scripts/evaluate-grader.mjs --data sim/prepared --model models/grader --speed 100 --out models/grader/evaluation.json');
lines.push(`node scripts/model-card.mjs --eval models/grader/evaluation.json --shipped models/grader --policy ${policy}${values.config ? ` --config ${values.config}` : ''}${values.heldout ? ` --heldout ${values.heldout}` : ''} --out models/grader/MODEL_CARD.md`);
lines.push('```', '');
lines.push('## Notes and limits', '');
lines.push(
  `- **Targets.** The issue asks for macro-F1 ≥ 0.90 and ≥ 0.03 above the rules, and transcript-mismatch F1 ≥ 0.85. ` +
    `The shipped model scores ${f(shipped[1].model.macroF1)} (${shipped[1].model.macroF1 >= 0.9 ? 'met' : 'not met'}), ` +
    `${f(shipped[1].model.macroF1 - ev.rules.macroF1)} above the rules (${shipped[1].model.macroF1 - ev.rules.macroF1 >= 0.03 ? 'met' : 'not met'}), ` +
    `and ${f(shipped[1].model.transcriptMismatch.f1)} on transcript mismatch (${shipped[1].model.transcriptMismatch.f1 >= 0.85 ? 'met' : 'not met'}).` +
    (heldout.some((h) => h.model !== undefined)
      ? ` On the further held-out sets it scores ${heldout.filter((h) => h.model !== undefined).map((h) => `${f(h.model)} (rules ${f(h.rules)})`).join(' and ')} (see "Further held-out sets"): the 0.90 line and the 0.03 margin are both within the spread between sets.`
      : ''),
  '- **Transcript mismatch** is learned from very few examples: the corpus has about 230 transcribed clips, concentrated in a few ' +
    'speakers, and a speaker-disjoint split leaves few wrong transcripts on each side (see the support column). Telling a wrong ' +
    'sentence of the right length needs an ASR model, which voxqc does not download. The model does only a little better than the rules here.',
  '- **Selection on validation.** The best epoch, the fusion mode and the final-grade policy were all chosen on the same validation split ' +
    'that the figures come from, so they are slightly optimistic. Longer training (10 epochs) did not help on this data (the `early-hop10ms-10epochs` row); ' +
    'a second seed of the shipped configuration (`early-hop20ms-seed2`) shows the run-to-run spread.',
  '- **The three fusion modes are within noise** of each other here (the `-hop10ms` rows: 10 ms frames). The shipped model reads 20 ms frames ' +
    '(`models/configs/grader-early-20ms.json`: hopLength 320, nFft 640), half the audio tokens, which halves the model step at the same F1. ' +
    'The model takes the rule metrics as input tokens and leans on them; ' +
    'what it adds over the rules is where the metrics and the labels disagree by rule: `no_speech`, `narrowband`, and SNR near the thresholds.',
  '- **Training times** above were measured with the runs sharing 2 cores with other work (one thread each; `early-hop10ms-10epochs` two threads).',
  '- **Simulated labels.** The labels come from what the simulator planted, graded by the rubric; real-world defects the simulator does ' +
    'not plant (music beds, crosstalk, codec artefacts other than MP3/Opus) are outside what this validation measures. ' +
    '`bench/dnsmos.mjs` compares the grades with DNSMOS on the same clips.',
  shipped[1].endToEnd
    ? `- **Speed.** End to end on one thread the shipped model grades ${f(shipped[1].endToEnd.xRealTime, 0)}× real time, ` +
      (shipped[1].endToEnd.xRealTime >= 500 ? 'above' : 'below') +
      ' the 500× target on this machine; `npm run bench -- grader` splits the time into decode, rule metrics and model, and runs DNSMOS on the same clips.'
    : '- **Speed.** Not measured in this evaluation (run it with `--speed N`).',
  '',
);
writeFileSync(values.out, lines.join('\n'));
console.error(`wrote ${values.out}`);
