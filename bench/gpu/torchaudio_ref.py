"""torchaudio on CUDA: reference outputs and timings for bench/gpu/run.sh.

Reads DIR/manifest.json and the raw float32 inputs written by `voxqc_gpu_bench prepare DIR`;
writes DIR/ta_mfcc_batch.f32 ([256 clips][frames][40], row-major [frame][coef] like voxqc),
DIR/ta_mfcc_var.f32 and DIR/ta_fbank_var.f32 (variable-length clips, each computed alone, rows
concatenated) and DIR/ta_results.json (versions, timings: CUDA events, median, warm-up, three
rotating input sets).

MFCC per clip: the input is [B, 1, T] so that AmplitudeToDB's top_db applies per clip as in
voxqc (torchaudio folds a [B, T] batch into one group and clamps against the batch maximum; that
variant is timed too, as mfcc_256x10s_global_topdb_ms).
"""
import json
import os
import sys

import numpy as np
import torch
import torchaudio


def median_ms(fn, sets, warm=3, reps=20):
    for i in range(warm):
        fn(sets[i % len(sets)])
    torch.cuda.synchronize()
    times = []
    for r in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn(sets[r % len(sets)])
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


def main():
    if len(sys.argv) < 2:
        print("usage: torchaudio_ref.py DIR [--quick]", file=sys.stderr)
        return 2
    d = sys.argv[1]
    quick = "--quick" in sys.argv
    if not torch.cuda.is_available():
        print("torchaudio_ref.py: no CUDA device", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    man = json.load(open(os.path.join(d, "manifest.json")))
    sr = man["sampleRate"]
    mfcc = torchaudio.transforms.MFCC(sample_rate=sr).to(dev)  # voxqc MfccOptions defaults

    # batch: [B, T] -> [B, 1, T] -> [B, 1, 40, frames] -> [B, frames, 40]
    bm = man["batch"]
    x = np.fromfile(os.path.join(d, bm["file"]), dtype=np.float32).reshape(bm["B"], bm["T"])
    xb = torch.from_numpy(x).to(dev)
    with torch.no_grad():
        out = mfcc(xb.unsqueeze(1)).squeeze(1).transpose(1, 2).contiguous()
    out.cpu().numpy().astype(np.float32).tofile(os.path.join(d, "ta_mfcc_batch.f32"))

    # variable lengths, one clip at a time
    vm = man["var"]
    v = np.fromfile(os.path.join(d, vm["file"]), dtype=np.float32).reshape(vm["B"], vm["T"])
    rows_m, rows_f = [], []
    with torch.no_grad():
        for b, n in enumerate(vm["lengths"]):
            clip = torch.from_numpy(v[b, :n].copy()).to(dev)
            if n > 200:  # n_fft // 2 < n for reflect padding
                rows_m.append(mfcc(clip).transpose(0, 1).cpu().numpy())
            if n >= 400:  # one 25 ms window
                rows_f.append(torchaudio.compliance.kaldi.fbank(clip.unsqueeze(0)).cpu().numpy())
    np.concatenate(rows_m).astype(np.float32).tofile(os.path.join(d, "ta_mfcc_var.f32"))
    np.concatenate(rows_f).astype(np.float32).tofile(os.path.join(d, "ta_fbank_var.f32"))

    # timing: 3 input sets of 256 x 10 s on the GPU
    reps = 5 if quick else 20
    g = torch.Generator(device=dev).manual_seed(3)
    sets = [torch.randn(bm["B"], bm["T"], device=dev, generator=g) * 0.1 for _ in range(3)]
    with torch.no_grad():
        t_clip = median_ms(lambda s: mfcc(s.unsqueeze(1)), sets, reps=reps)
        t_glob = median_ms(lambda s: mfcc(s), sets, reps=reps)
        spec = torchaudio.transforms.Spectrogram().to(dev)
        t_spec = median_ms(lambda s: spec(s), sets, reps=reps)
    res = {
        "torch": torch.__version__,
        "torchaudio": torchaudio.__version__,
        "device": torch.cuda.get_device_name(0),
        "mfcc_256x10s_ms": t_clip,
        "mfcc_256x10s_global_topdb_ms": t_glob,
        "spectrogram_256x10s_ms": t_spec,
        "reps": reps,
    }
    json.dump(res, open(os.path.join(d, "ta_results.json"), "w"), indent=1)
    print("torchaudio %s on %s: MFCC 256x10s %.3f ms (per-clip top_db), %.3f ms ([B,T]); Spectrogram %.3f ms"
          % (torchaudio.__version__, res["device"], t_clip, t_glob, t_spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
