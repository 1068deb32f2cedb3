// Benchmark of the fused feature kernels (cpp/features) against the libtorch-ops pipelines
// (reference_ops), MFCC and Kaldi fbank, on one long clip and on many 5 s clips, with 1 thread and
// with all threads. Prints medians and x-real-time (seconds of audio per second of compute).
//
// Not part of the library build (cpp/tools is excluded). Build by hand against a built core, e.g.
//   g++ -O3 -DNDEBUG -std=gnu++17 -I cpp -isystem /usr/include/torch/csrc/api/include \
//     cpp/tools/features_bench.cpp build/libvoxqc_core.a -o /tmp/features_bench \
//     -ltorch -ltorch_cpu -lc10 -lfftw3f -Wl,-rpath,/usr/lib/x86_64-linux-gnu
// Run:
//   /tmp/features_bench [clip.f32 sampleRate] [--clips N] [--seconds S] [--runs R] [--only fused]
// clip.f32: raw little-endian float32 mono (e.g. a 60 s speech recording); without it a 60 s
// synthetic clip (noise + chirps) at 16 kHz is used. The many-clips set is made of windows of
// S seconds (default 5) into that clip at spread offsets (no copies).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "features/features.h"
#include "features/reference_ops.h"

using namespace voxqc;
using namespace voxqc::features;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double timeRuns(int runs, const std::function<void()>& fn) {
  fn();  // warm-up: plans, FFT plans, caches, thread pool
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    auto a = std::chrono::steady_clock::now();
    fn();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double>(b - a).count());
  }
  return median(t);
}

void report(const char* feature, const char* input, const char* impl, int threads, double secs, double audio) {
  std::printf("%-6s %-12s %-13s %2d thread%s  median %9.3f ms  %9.0fx real time\n", feature, input, impl, threads,
              threads == 1 ? " " : "s", secs * 1e3, audio / secs);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  double rate = 16000;
  int nClips = 1000, runs = 5;
  double clipSeconds = 5.0;
  bool onlyFused = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--clips" && i + 1 < argc) nClips = std::atoi(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) clipSeconds = std::atof(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) onlyFused = std::string(argv[++i]) == "fused";
    else if (path.empty()) path = a;
    else rate = std::atof(a.c_str());
  }
  std::vector<float> clip;
  if (!path.empty()) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    clip.resize(static_cast<size_t>(f.tellg()) / 4);
    f.seekg(0);
    f.read(reinterpret_cast<char*>(clip.data()), clip.size() * 4);
  } else {
    clip.resize(static_cast<size_t>(60 * rate));
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.f, 0.02f);
    for (size_t i = 0; i < clip.size(); ++i) {
      const double t = i / rate;
      clip[i] = g(rng) + 0.3f * static_cast<float>(std::sin(2 * M_PI * (200 + 300 * std::fmod(t, 2.0)) * t));
    }
  }
  const double clipSecs = clip.size() / rate;
  const size_t win = static_cast<size_t>(clipSeconds * rate);
  if (win > clip.size()) {
    std::fprintf(stderr, "the clip (%.1f s) is shorter than --seconds %.1f\n", clipSecs, clipSeconds);
    return 1;
  }
  std::vector<const float*> ptrs(nClips);
  std::vector<size_t> lens(nClips, win);
  for (int i = 0; i < nClips; ++i) ptrs[i] = clip.data() + (static_cast<size_t>(i) * 104729) % (clip.size() - win + 1);
  const double batchSecs = nClips * clipSeconds;

  MfccOptions mo;
  mo.sampleRate = static_cast<int>(rate);
  KaldiFbankOptions ko;
  ko.sampleFrequency = rate;
  const int all = hardwareThreads();
  std::printf("features_bench: %s clip %.1f s at %.0f Hz; batch %d x %.1f s; fft %s, simd %s; %s\n",
              path.empty() ? "synthetic" : path.c_str(), clipSecs, rate, nClips, clipSeconds, fftBackend(), simdPath(),
              runtimeInfo().parallelInfo.c_str());
  std::printf("MFCC: torchaudio.transforms.MFCC defaults (nFft 400, hop 200, 128 mels, 40 coefficients, dB)\n");
  std::printf("fbank: torchaudio.compliance.kaldi.fbank defaults (25/10 ms, 512-point FFT, 23 bins)\n");

  at::Tensor clipT = at::from_blob(clip.data(), {static_cast<int64_t>(clip.size())}, at::kFloat);
  std::vector<at::Tensor> clipTs;
  for (int i = 0; i < nClips; ++i)
    clipTs.push_back(at::from_blob(const_cast<float*>(ptrs[i]), {static_cast<int64_t>(win)}, at::kFloat));

  const FeatureShape ms = mfccShape(clip.size(), mo), ks = kaldiFbankShape(clip.size(), ko);
  std::vector<float> mout(ms.size()), kout(ks.size());
  std::vector<std::vector<float>> mbatch(nClips, std::vector<float>(mfccShape(win, mo).size()));
  std::vector<std::vector<float>> kbatch(nClips, std::vector<float>(kaldiFbankShape(win, ko).size()));
  std::vector<float*> mptr(nClips), kptr(nClips);
  for (int i = 0; i < nClips; ++i) {
    mptr[i] = mbatch[i].data();
    kptr[i] = kbatch[i].data();
  }
  const int refRuns = std::max(1, runs / 2);

  for (int threads : {1, all}) {
    useIntraOpThreads(threads);
    char longName[32];
    std::snprintf(longName, sizeof longName, "%.0f s clip", clipSecs);
    char batchName[32];
    std::snprintf(batchName, sizeof batchName, "%dx%.0f s", nClips, clipSeconds);
    report("mfcc", longName, "fused", threads,
           timeRuns(runs * 4, [&] { mfccInto(clip.data(), clip.size(), mo, mout.data()); }), clipSecs);
    if (!onlyFused)
      report("mfcc", longName, "libtorch-ops", threads, timeRuns(runs, [&] { ref::mfcc(clipT, mo); }), clipSecs);
    report("fbank", longName, "fused", threads,
           timeRuns(runs * 4, [&] { kaldiFbankInto(clip.data(), clip.size(), ko, kout.data()); }), clipSecs);
    if (!onlyFused)
      report("fbank", longName, "libtorch-ops", threads, timeRuns(runs, [&] { ref::kaldiFbank(clipT, ko); }),
             clipSecs);
    report("mfcc", batchName, "fused batch", threads, timeRuns(runs, [&] { mfccBatchInto(ptrs, lens, mo, mptr); }),
           batchSecs);
    if (!onlyFused)
      report("mfcc", batchName, "libtorch-ops", threads, timeRuns(refRuns, [&] {
               for (auto& t : clipTs) ref::mfcc(t, mo);
             }),
             batchSecs);
    report("fbank", batchName, "fused batch", threads,
           timeRuns(runs, [&] { kaldiFbankBatchInto(ptrs, lens, ko, kptr); }), batchSecs);
    if (!onlyFused)
      report("fbank", batchName, "libtorch-ops", threads, timeRuns(refRuns, [&] {
               for (auto& t : clipTs) ref::kaldiFbank(t, ko);
             }),
             batchSecs);
    if (all == 1) break;
  }
  return 0;
}
