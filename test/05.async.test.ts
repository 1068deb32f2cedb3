// Layer 5: native work runs off the event loop, and its inputs stay alive while it runs.
import assert from 'node:assert/strict';
import { resample } from '../lib/index.js';
import { sine, toneAmplitude } from './helpers/index.js';

describe('05 async native calls', () => {
  it('the event loop keeps turning while a native call works', async () => {
    // 10 minutes of 44.1 kHz audio to 16 kHz: long enough for several timer ticks.
    const x = sine(440, 44100, 44100 * 600);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const y = await resample(x, 44100, 16000);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    assert.equal(y.length, 16000 * 600);
    // A blocked loop would fire the timer at most once; with the work on a worker thread it
    // fires about once per millisecond of work.
    assert.ok(ticks >= Math.min(5, elapsed / 4), `only ${ticks} ticks in ${elapsed.toFixed(0)} ms`);
  });

  it('input buffers stay referenced while a worker reads them', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, 'run with --expose-gc');
    const pending: Promise<Float32Array>[] = [];
    for (let i = 0; i < 8; i++) pending.push(resample(sine(1000, 48000, 48000 * 20), 48000, 16000));
    for (let i = 0; i < 5; i++) {
      gc();
      new Float32Array(1 << 22).fill(1); // churn the heap
    }
    for (const y of await Promise.all(pending)) {
      assert.ok(Math.abs(toneAmplitude(y, 1000 / 16000, 16000, 300000) - 0.5) < 1e-4);
    }
  });
});
