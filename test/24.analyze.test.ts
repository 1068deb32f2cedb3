// Layer 24: the rule grade through the public API on real speech with defects planted at known
// places and sizes (the native suite measures the accuracy figures on held-out corpus sources),
// and the simulator's determinism and labels.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, loadAudio, vad, VoxqcError } from '../lib/index.js';
import { simulate } from '../lib/simulate/index.js';
import { corpusDir, samplesDir, tempDir } from './helpers/index.js';

const clean = join(samplesDir, 'ljspeech_LJ001-0001.wav'); // studio speech, public domain
const text = 'Printing, in the only sense with which we are at present concerned, differs from most if not from all the arts and crafts represented in the Exhibition';

describe('24 rule grade (analyze) and simulator', () => {
  it('the clean LJSpeech clip is high, with plausible measurements', async () => {
    const r = await analyze(clean, { text, language: 'en' });
    assert.equal(r.grade, 'high', JSON.stringify(r));
    assert.ok((r.scores.snrDb as number) > 30);
    assert.ok(Math.abs((r.scores.speechSec as number) - 9.3) < 0.6);
    assert.ok((r.scores.textMatch as number) > 0.2, `textMatch ${r.scores.textMatch}`);
    assert.ok(r.segments.length >= 1 && r.segments[0]!.startSec < 0.3);
  });

  it('planted defects raise their flags: a 60 ms dropout, 1% clipping, 1.5 s leading silence', async () => {
    const a = await loadAudio(clean);
    const rate = a.sampleRate;
    const drop = a.samples.slice();
    drop.fill(0, Math.round(4.0 * rate), Math.round(4.06 * rate));
    const d = await analyze({ ...a, samples: drop });
    assert.ok(d.flags.includes('dropout'), JSON.stringify(d.flags));
    assert.ok(Math.abs((d.scores.maxDropoutMs as number) - 60) < 2, String(d.scores.maxDropoutMs));
    const mags = Float32Array.from(a.samples, Math.abs).sort();
    const level = mags[Math.floor(0.99 * mags.length)]!;
    const clip = Float32Array.from(a.samples, (v) => Math.max(-level, Math.min(level, v)));
    const c = await analyze({ ...a, samples: clip });
    assert.ok(c.flags.includes('clipping') && c.grade === 'low', JSON.stringify(c.flags));
    assert.ok(Math.abs((c.scores.clippedFraction as number) - 0.01) / 0.01 < 0.2, String(c.scores.clippedFraction));
    const pad = new Float32Array(Math.round(1.5 * rate) + a.samples.length);
    for (let i = 0; i < Math.round(1.5 * rate); i++) pad[i] = 1e-4 * Math.sin(i * 0.37);
    pad.set(a.samples, Math.round(1.5 * rate));
    const s = await analyze({ ...a, samples: pad });
    assert.ok(s.flags.includes('long_silence') && s.grade === 'medium', JSON.stringify(s));
  });

  it('thresholds per call change the grade; a transcript of another length is flagged', async () => {
    const strict = await analyze(clean, { thresholds: { noisySnrDb: 60 } });
    assert.deepEqual(strict.flags, ['noisy']);
    const wrong = await analyze(clean, { text: text + ' ' + text + ' ' + text, language: 'en' });
    assert.ok(wrong.flags.includes('transcript_mismatch'), JSON.stringify(wrong.scores));
    await assert.rejects(analyze(clean, { thresholds: { noisySnr: 5 } as never }), (e: unknown) => e instanceof VoxqcError && /unknown option 'noisySnr'/.test(e.message));
  });

  it('vad() gives 10 ms frames and segments', async () => {
    const v = await vad(clean);
    assert.equal(v.frameSec, 0.01);
    assert.ok(v.isSpeech.length > 900 && v.segments.length >= 1);
  });

  it('simulate: the same seed writes the same clips and labels; labels follow the planted defects', async function () {
    const corpus = corpusDir();
    if (!corpus) {
      console.log('      skipped: ../shared/corpus not found');
      this.skip();
    }
    const t = tempDir();
    try {
      const rows = readFileSync(join(corpus!, 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const pick = [
        ...rows.filter((r) => r.source === 'coqui_tts_ljspeech').slice(0, 3),
        ...rows.filter((r) => r.kind === 'noise' && /running_tap|doing_the_dishes/.test(r.audio)),
        ...rows.filter((r) => r.kind === 'rir').slice(0, 1),
      ].map((r) => JSON.stringify({ ...r, audio: join(corpus!, r.audio) }));
      const manifest = join(t.dir, 'mini.jsonl');
      writeFileSync(manifest, pick.join('\n') + '\n');
      const one = await simulate({ corpus: manifest, out: join(t.dir, 'a'), n: 12, seed: 5 });
      const two = await simulate({ corpus: manifest, out: join(t.dir, 'b'), n: 12, seed: 5 });
      const a = readFileSync(one.manifest, 'utf8'), b = readFileSync(two.manifest, 'utf8');
      assert.equal(a, b, 'same seed, same manifest');
      assert.equal(readFileSync(join(t.dir, 'a', 'audio', 'sim-000003.wav')).compare(readFileSync(join(t.dir, 'b', 'audio', 'sim-000003.wav'))), 0);
      for (const line of a.trim().split('\n')) {
        const row = JSON.parse(line);
        for (const p of row.label.planted) {
          if (p.kind === 'noise') {
            assert.equal(row.label.truth.snrDb, p.params.snrDb);
            const want = p.params.snrDb < 10 ? 'low_snr' : p.params.snrDb < 20 ? 'noisy' : undefined;
            if (want) assert.ok(row.label.flags.includes(want), line);
          }
          if (p.kind === 'dropout' && p.params.durationMs >= 30) assert.ok(row.label.flags.includes('dropout'), line);
          if (p.kind === 'repetition' && p.params.durationSec >= 0.8) assert.ok(row.label.flags.includes('repetition'), line);
        }
      }
      console.log(`      simulated 12 clips: ${JSON.stringify(one.grades)}; flags ${JSON.stringify(one.flags)}`);
    } finally {
      t.cleanup();
    }
  });
});
