// DNSMOS P.835 (../shared/anchors/dnsmos/sig_bak_ovr.onnx) as its published procedure scores a
// clip: 16 kHz, a clip shorter than 9.01 s repeated end to end, 9.01 s windows with a 1 s hop, the
// raw outputs mapped through the fixed polynomials, the mean over windows. One ONNX Runtime thread.
// For the benchmarks only: DNSMOS is the reference users compare with, never part of voxqc.
import { join } from 'node:path';

export const DNSMOS_INSTALL = 'npm install --no-save --ignore-scripts onnxruntime-node@1.30.0';

const WIN = 144160;
const poly = (c, x) => c[0] * x * x + c[1] * x + c[2];
const P = {
  ovrl: [-0.06766283, 1.11546468, 0.04602535],
  sig: [-0.08397278, 1.22083953, 0.0052439],
  bak: [-0.13166888, 1.60915514, -0.39604546],
};

/** async (samples16k: Float32Array) => { ovrl, sig, bak }, or null when onnxruntime-node is absent. */
export async function loadDnsmos(anchorsDir) {
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return null;
  }
  const session = await ort.InferenceSession.create(join(anchorsDir, 'sig_bak_ovr.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return async function dnsmos(samples) {
    let x = samples;
    if (x.length < WIN) {
      const reps = Math.ceil(WIN / x.length);
      const y = new Float32Array(x.length * reps);
      for (let r = 0; r < reps; r++) y.set(x, r * x.length);
      x = y;
    }
    const acc = { ovrl: 0, sig: 0, bak: 0 };
    let n = 0;
    for (let start = 0; start + WIN <= x.length; start += 16000) {
      const out = await session.run({ input_1: new ort.Tensor('float32', x.slice(start, start + WIN), [1, WIN]) });
      const [sig, bak, ovr] = out[session.outputNames[0]].data;
      acc.sig += poly(P.sig, sig);
      acc.bak += poly(P.bak, bak);
      acc.ovrl += poly(P.ovrl, ovr);
      n++;
    }
    return { ovrl: acc.ovrl / n, sig: acc.sig / n, bak: acc.bak / n };
  };
}
