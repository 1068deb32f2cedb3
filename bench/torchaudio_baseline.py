#!/usr/bin/python3
"""torchaudio baseline for cpp/tools/features_bench: times torchaudio.transforms.MFCC (defaults)
and torchaudio.compliance.kaldi.fbank (defaults) on one long clip and on many short clips, with
torch.set_num_threads(1) and with all threads. Prints JSON (median seconds, x-real-time).

Run with Debian's python (torch 1.13 + torchaudio 0.13):
    /usr/bin/python3 bench/torchaudio_baseline.py clip.f32 16000 [--clips 1000] [--seconds 5] [--runs 5]
clip.f32: raw little-endian float32 mono. The many-clips set is made of windows of --seconds into
the clip at the same offsets features_bench uses (i * 104729 mod (n - window + 1)).
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi


def median_time(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clip")
    ap.add_argument("rate", type=float)
    ap.add_argument("--clips", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    x = torch.from_numpy(np.fromfile(args.clip, dtype="<f4").copy())
    rate = args.rate
    n = x.numel()
    win = int(args.seconds * rate)
    clips = [x[(i * 104729) % (n - win + 1):][:win].reshape(1, -1) for i in range(args.clips)]
    long = x.reshape(1, -1)
    mfcc = torchaudio.transforms.MFCC(sample_rate=int(rate))

    def mfcc_long():
        with torch.inference_mode():
            mfcc(long)

    def fbank_long():
        with torch.inference_mode():
            kaldi.fbank(long, sample_frequency=rate)

    def mfcc_batch():
        with torch.inference_mode():
            for c in clips:
                mfcc(c)

    def fbank_batch():
        with torch.inference_mode():
            for c in clips:
                kaldi.fbank(c, sample_frequency=rate)

    results = {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "clipSeconds": n / rate,
               "batch": "%d x %g s" % (args.clips, args.seconds), "cpus": os.cpu_count(), "runs": {}}
    long_secs = n / rate
    batch_secs = args.clips * args.seconds
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for name, fn, audio, runs in [("mfcc_long", mfcc_long, long_secs, args.runs * 2),
                                      ("fbank_long", fbank_long, long_secs, args.runs * 2),
                                      ("mfcc_batch", mfcc_batch, batch_secs, max(1, args.runs // 2)),
                                      ("fbank_batch", fbank_batch, batch_secs, max(1, args.runs // 2))]:
            t = median_time(fn, runs)
            results["runs"]["%s_%dthread" % (name, threads)] = {
                "medianSeconds": t, "audioSeconds": audio, "xRealTime": audio / t}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
