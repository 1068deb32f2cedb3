// Layer 15: the HTML report. Built from a graded run, opened in headless Chromium (Debian's
// chromium driven by playwright-core; no browser is downloaded): no console errors, no network
// request, charts drawn (non-blank canvas pixels in the screenshot), one table row per worst clip
// with a player and a spectrogram, and the flag filter working.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { gradeManifest } from '../lib/dataset/grade.js';
import type { ClipGrader } from '../lib/grading.js';
import { encodePng } from '../lib/report/png.js';
import { encodeWav16 } from '../lib/report/media.js';
import { writeReport } from '../lib/report/index.js';
import { loadAudio } from '../lib/audio.js';
import { tempDir } from './helpers/index.js';
import { decodePng, inkedPixels } from './fixtures/dataset/png.js';
import { graderModule, makeDataset, runCli, writeJsonl, type Dataset } from './fixtures/dataset/make.js';

const CHROMIUM = process.env.VOXQC_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('15 dataset: report', () => {
  let t: { dir: string; cleanup(): void };
  let ds: Dataset;
  let grader: ClipGrader;
  let graded: string;
  before(async () => {
    t = tempDir('voxqc-15-');
    ds = makeDataset(t.dir);
    grader = (await import(pathToFileURL(graderModule).href)).default;
    const m = writeJsonl(join(t.dir, 'm.jsonl'), [
      ...ds.good.map((p, i) => ({ id: `clip-${i}`, audio_filepath: p, text: `text of clip ${i}` })),
      { id: 'segment', audio_filepath: 'audio/lj.wav', offset: 3, duration: 2 },
      { id: 'broken', audio_filepath: ds.bad.corrupt },
      { id: 'gone', audio_filepath: ds.bad.missing },
    ]);
    graded = join(t.dir, 'graded.jsonl');
    await gradeManifest(m, { out: graded, grader, ordered: true });
  });
  after(() => t.cleanup());

  it('the PNG and WAV encoders round-trip', async () => {
    const rgb = new Uint8Array(7 * 3 * 3).map((_, i) => (i * 37) % 256);
    const img = decodePng(encodePng(rgb, 7, 3));
    assert.deepEqual([img.width, img.height], [7, 3]);
    for (let i = 0; i < 21; i++) assert.deepEqual([...img.rgba.subarray(i * 4, i * 4 + 3)], [...rgb.subarray(i * 3, i * 3 + 3)]);
    const x = new Float32Array([0, 0.5, -0.5, 1, -1, 0.25]);
    const back = await loadAudio(encodeWav16(x, 16000));
    assert.equal(back.sampleRate, 16000);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(back.samples[i]! - x[i]!) <= 1 / 32767);
  });

  it('is one self-contained file: inline chart library, data: media, a CSP that forbids the network', async () => {
    const out = join(t.dir, 'report.html');
    const s = await writeReport(graded, { out, worst: 10, clipSec: 3 });
    assert.deepEqual([s.clips, s.failed], [7, 2]);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+href=/i);
    assert.doesNotMatch(html, /(src|href)="https?:/i);
    assert.match(html, /Chart\.js v4/, 'chart.js is inlined');
    assert.equal((html.match(/src="data:audio\/wav;base64,/g) ?? []).length, 5);
    assert.equal((html.match(/src="data:image\/png;base64,/g) ?? []).length, 5);
    // The embedded audio is 16 kHz 16-bit mono, capped at clipSec.
    const wav = Buffer.from(/src="data:audio\/wav;base64,([^"]+)"/.exec(html)![1]!, 'base64');
    assert.deepEqual([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)], [1, 16000, 16]);
    assert.ok(wav.readUInt32LE(40) <= 3 * 16000 * 2);
    // A report with no histogram values and no clips still renders its sections.
    const r2 = await runCli(['report', graded, '--out', join(t.dir, 'r2.html'), '--worst', '0']);
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.out, /voxqc report: 7 clips \(2 failed\)/);
  });

  describe('in headless Chromium', function () {
    let ctx: BrowserContext | undefined;
    before(async function () {
      if (!existsSync(CHROMIUM)) {
        console.log(`      (skipped: no Chromium at ${CHROMIUM}; install Debian's: apt-get install -y chromium)`);
        this.skip();
      }
      ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'voxqc-chromium-')), {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
        offline: true,
      });
    });
    after(async () => {
      await ctx?.close();
    });

    it('renders without console errors or network requests; charts drawn, rows, players, spectrograms, filter', async () => {
      const out = join(t.dir, 'browser.html');
      await writeReport(graded, { out, worst: 10, clipSec: 3 });
      const page = await ctx!.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
      await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0);

      // Tables: one row per graded clip (5 ≤ worst 10), failures listed.
      assert.equal(await page.locator('#worst tbody tr.clip').count(), 5);
      assert.equal(await page.locator('#failures tbody tr').count(), 2);
      assert.equal(await page.locator('#worst tbody tr.clip').first().locator('.grade').textContent(), 'low');
      // Spectrograms decoded by the browser, players with WAV sources.
      const specs = await page.locator('img.spec').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
      assert.equal(specs.length, 5);
      assert.ok(specs.every((w) => w > 10), `spectrogram widths ${specs}`);
      assert.equal(await page.locator('audio[src^="data:audio/wav;base64,"]').count(), 5);
      // Charts: the grade chart, the flag chart and the four histograms, each with ink on it.
      const canvases = page.locator('canvas');
      const ids = await canvases.evaluateAll((cs) => cs.map((c) => c.id));
      assert.deepEqual(ids, ['chart-grades', 'chart-flags', 'hist-snrDb', 'hist-activeLevelDbfs', 'hist-speechSec', 'hist-bandwidthHz']);
      for (let i = 0; i < ids.length; i++) {
        const img = decodePng(await canvases.nth(i).screenshot());
        const ink = inkedPixels(img);
        assert.ok(ink > 0.01 * img.width * img.height, `${ids[i]}: ${ink} inked pixels of ${img.width}x${img.height}`);
      }
      // The filter by flag.
      await page.selectOption('#flag-filter', 'too_quiet');
      assert.equal(await page.locator('#worst tbody tr.clip:visible').count(), 1);
      assert.match((await page.locator('#shown').textContent())!, /^1 of 5 shown$/);
      await page.selectOption('#flag-filter', '');
      assert.equal(await page.locator('#worst tbody tr.clip:visible').count(), 5);

      const shot = join(t.dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.VOXQC_REPORT_SCREENSHOT) copyFileSync(shot, process.env.VOXQC_REPORT_SCREENSHOT);
      const full = decodePng(readFileSync(shot));
      assert.ok(full.height > 900, 'the page has content below the fold');
      await page.close();

      assert.deepEqual(problems, []);
      assert.deepEqual(requests.filter((u) => !u.startsWith('data:') && u !== pathToFileURL(out).href), []);
    });
  });
});
