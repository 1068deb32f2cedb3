// The report's HTML: static markup for the tables (readable without scripts), Chart.js (inlined
// from node_modules) for the charts, and a few lines of plain JS for the flag filter.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VoxqcError } from '../errors.js';
import type { Grade } from '../grading.js';
import type { ClipMedia } from './media.js';

export interface WorstClip {
  id: string;
  audio: string;
  offsetSec?: number;
  grade: Grade;
  flags: string[];
  scores: Record<string, number | boolean | null>;
  text?: string;
  media: ClipMedia;
}

export interface ReportData {
  title: string;
  source: string;
  generated: string;
  clips: number;
  failed: number;
  audioSec: number;
  byGrade: Record<Grade, number>;
  flags: [string, number][];
  errors: [string, number][];
  histograms: { key: string; label: string; n: number; hist?: { edges: number[]; counts: number[] } }[];
  worst: WorstClip[];
  failures: { id: string; code: string; message: string }[];
  clipSec: number;
}

let chartJs: string | undefined;

/** Chart.js's UMD build, read from the installed package. */
export function chartJsSource(): string {
  if (chartJs !== undefined) return chartJs;
  try {
    const main = createRequire(import.meta.url).resolve('chart.js');
    chartJs = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  } catch (err) {
    throw new VoxqcError('ERR_NOT_FOUND', `the report needs the chart.js package (npm install chart.js): ${(err as Error).message}`, { cause: err });
  }
  return chartJs;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function fmtScore(v: number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(2) : Number(v.toFixed(a < 10 ? 3 : 1)).toString();
}

function fmtDuration(sec: number): string {
  if (sec >= 3600) return `${(sec / 3600).toFixed(2)} h`;
  if (sec >= 60) return `${(sec / 60).toFixed(1)} min`;
  return `${sec.toFixed(1)} s`;
}

const SHOWN_SCORES = ['snrDb', 'activeLevelDbfs', 'speechSec', 'bandwidthHz', 'clippedFraction', 'textMatch'];

function worstRow(c: WorstClip, i: number): string {
  const scores = Object.entries(c.scores)
    .filter(([k]) => SHOWN_SCORES.includes(k))
    .concat(Object.entries(c.scores).filter(([k]) => !SHOWN_SCORES.includes(k)).slice(0, Math.max(0, 6 - SHOWN_SCORES.filter((k) => k in c.scores).length)))
    .map(([k, v]) => `<span class="score"><b>${esc(k)}</b> ${esc(fmtScore(v))}</span>`)
    .join('');
  const flags = c.flags.length ? c.flags.map((f) => `<span class="flag">${esc(f)}</span>`).join('') : '<span class="none">none</span>';
  const m = c.media;
  const player = m.audio ? `<audio controls preload="none" src="${m.audio}"></audio>` : '';
  const spec = m.spectrogram ? `<img class="spec" alt="log-mel spectrogram of ${esc(c.id)}" src="${m.spectrogram}">` : '';
  const mediaNote = m.error ? `<div class="err">no media: ${esc(m.error)}</div>` : '';
  const where = c.offsetSec ? ` <span class="dim">@ ${esc(c.offsetSec)} s</span>` : '';
  return `<tr class="clip" data-flags="${esc(c.flags.join(' '))}" data-grade="${esc(c.grade)}">
<td class="num">${i + 1}</td>
<td class="id"><div class="name" title="${esc(c.audio)}">${esc(c.id)}${where}</div>${c.text ? `<div class="text">${esc(c.text)}</div>` : ''}</td>
<td><span class="grade g-${esc(c.grade)}">${esc(c.grade)}</span></td>
<td>${flags}</td>
<td class="scores">${scores}</td>
<td class="media">${player}${spec}${mediaNote}</td>
</tr>`;
}

export function renderHtml(d: ReportData): string {
  const total = d.byGrade.high + d.byGrade.medium + d.byGrade.low;
  const pct = (n: number) => (total ? ` (${((100 * n) / total).toFixed(1)}%)` : '');
  const chartData = {
    grades: d.byGrade,
    flags: d.flags,
    histograms: d.histograms.map((h) => ({ key: h.key, label: h.label, n: h.n, edges: h.hist?.edges ?? [], counts: h.hist?.counts ?? [] })),
  };
  const flagOptions = d.flags.map(([f, n]) => `<option value="${esc(f)}">${esc(f)} (${n})</option>`).join('');
  const histCards = d.histograms
    .map(
      (h) => `<div class="card"><h3>${esc(h.label)} <span class="dim">${h.n} clips</span></h3>${
        h.n ? `<div class="chart"><canvas id="hist-${esc(h.key)}" aria-label="histogram of ${esc(h.key)}"></canvas></div>` : `<p class="none">no ${esc(h.key)} in the scores</p>`
      }</div>`,
    )
    .join('\n');
  const errorRows = d.failures
    .map((f) => `<tr class="failure"><td class="id">${esc(f.id)}</td><td><code>${esc(f.code)}</code></td><td>${esc(f.message)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; media-src data:">
<title>${esc(d.title)}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2330; background: #f4f6f9; }
header { background: #1d2330; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header .meta { color: #b8c0cf; font-size: 12px; }
main { padding: 16px 24px; }
.totals { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.total { background: #fff; border-radius: 6px; padding: 10px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.total b { display: block; font-size: 22px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; margin-bottom: 16px; }
.card { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card h2, .card h3 { margin: 0 0 8px; font-size: 15px; }
.chart { position: relative; height: 220px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e3e7ee; }
th { background: #eef1f6; font-weight: 600; }
td.num { color: #7a8396; }
td.id .name { font-family: ui-monospace, monospace; word-break: break-all; max-width: 320px; }
td.id .text { color: #555e70; font-size: 12px; max-width: 320px; }
.grade { padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; }
.g-high { background: #2e9d57; } .g-medium { background: #d9901a; } .g-low { background: #c8423b; }
.flag { display: inline-block; background: #fde8e6; color: #8a2b25; border-radius: 4px; padding: 0 6px; margin: 0 4px 4px 0; font-size: 12px; }
.score { display: inline-block; margin: 0 10px 2px 0; font-size: 12px; white-space: nowrap; }
.none, .dim { color: #8a93a5; }
.spec { display: block; width: 320px; height: 96px; margin-top: 4px; border-radius: 3px; }
audio { width: 320px; height: 32px; }
.err { color: #8a2b25; font-size: 12px; }
.filter { margin: 8px 0; }
code { background: #eef1f6; padding: 0 4px; border-radius: 3px; }
</style>
</head>
<body>
<header>
<h1>${esc(d.title)}</h1>
<div class="meta">${esc(d.source)} · generated ${esc(d.generated)} · voxqc</div>
</header>
<main>
<section class="totals">
<div class="total"><b id="n-clips">${d.clips}</b>clips</div>
<div class="total"><b>${esc(fmtDuration(d.audioSec))}</b>of audio</div>
<div class="total"><b style="color:#2e9d57">${d.byGrade.high}</b>high${pct(d.byGrade.high)}</div>
<div class="total"><b style="color:#d9901a">${d.byGrade.medium}</b>medium${pct(d.byGrade.medium)}</div>
<div class="total"><b style="color:#c8423b">${d.byGrade.low}</b>low${pct(d.byGrade.low)}</div>
<div class="total"><b id="n-failed">${d.failed}</b>failed</div>
</section>
<section class="grid">
<div class="card"><h2>Grades</h2><div class="chart"><canvas id="chart-grades" aria-label="grade distribution"></canvas></div></div>
<div class="card"><h2>Flags</h2>${
    d.flags.length ? '<div class="chart"><canvas id="chart-flags" aria-label="flag counts"></canvas></div>' : '<p class="none">no flags raised</p>'
  }</div>
</section>
<section class="grid">
${histCards}
</section>
<section class="card">
<h2>Worst clips <span class="dim">(${d.worst.length} listed; first ${esc(d.clipSec)} s of each, 16 kHz)</span></h2>
<div class="filter"><label>Show clips with flag <select id="flag-filter"><option value="">any (all listed)</option>${flagOptions}</select></label>
<span id="shown" class="dim"></span></div>
<table id="worst">
<thead><tr><th>#</th><th>clip</th><th>grade</th><th>flags</th><th>scores</th><th>listen · log-mel spectrogram</th></tr></thead>
<tbody>
${d.worst.map(worstRow).join('\n')}
</tbody>
</table>
</section>
${
  d.failed
    ? `<section class="card" style="margin-top:16px">
<h2>Failed clips <span class="dim">(${d.failed}${d.failures.length < d.failed ? `, first ${d.failures.length} listed` : ''}: ${d.errors.map(([c, n]) => `${esc(c)} ${n}`).join(', ')})</span></h2>
<table id="failures"><thead><tr><th>clip</th><th>code</th><th>message</th></tr></thead><tbody>
${errorRows}
</tbody></table>
</section>`
    : ''
}
</main>
<script type="application/json" id="voxqc-data">${scriptJson(chartData)}</script>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('voxqc-data').textContent);
  var select = document.getElementById('flag-filter');
  var shown = document.getElementById('shown');
  function applyFilter() {
    var flag = select.value, rows = document.querySelectorAll('#worst tbody tr.clip'), n = 0;
    for (var i = 0; i < rows.length; i++) {
      var flags = (rows[i].getAttribute('data-flags') || '').split(' ');
      var show = !flag || flags.indexOf(flag) >= 0;
      rows[i].style.display = show ? '' : 'none';
      if (show) n++;
    }
    shown.textContent = n + ' of ' + rows.length + ' shown';
  }
  select.addEventListener('change', applyFilter);
  applyFilter();
  if (typeof Chart === 'undefined') return;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.display = false;
  new Chart(document.getElementById('chart-grades'), {
    type: 'bar',
    data: { labels: ['high', 'medium', 'low'], datasets: [{ data: [data.grades.high, data.grades.medium, data.grades.low], backgroundColor: ['#2e9d57', '#d9901a', '#c8423b'] }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  var flagCanvas = document.getElementById('chart-flags');
  if (flagCanvas) new Chart(flagCanvas, {
    type: 'bar',
    data: { labels: data.flags.map(function (f) { return f[0]; }), datasets: [{ data: data.flags.map(function (f) { return f[1]; }), backgroundColor: '#c8423b' }] },
    options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  data.histograms.forEach(function (h) {
    var canvas = document.getElementById('hist-' + h.key);
    if (!canvas) return;
    var labels = h.counts.map(function (_, i) { var c = (h.edges[i] + h.edges[i + 1]) / 2; return Math.abs(c) >= 100 ? c.toFixed(0) : c.toFixed(1); });
    new Chart(canvas, {
      type: 'bar',
      data: { labels: labels, datasets: [{ data: h.counts, backgroundColor: '#3d6fb6', barPercentage: 1, categoryPercentage: 1 }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  });
})();
</script>
</body>
</html>
`;
}
