// Native tests of the CPU feature kernels (cpp/features): parity with torchaudio 0.13 on the golden
// fixtures of test/fixtures/features (generate.py), the libtorch-ops reference, batches, threads,
// a closed-form sine, and every bad-input error.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"
#include "features/features.h"
#include "features/fft.h"
#include "features/reference_ops.h"
// ATen (glog) defines CHECK macros of its own: the harness's are the ones meant here.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NEAR
#include "harness.h"

using namespace voxqc;
using namespace voxqc::features;

namespace {

const std::string& fixtureDir() {
  static const std::string dir = voxqc::test::repoDir() + "/test/fixtures/features";
  return dir;
}

std::vector<float> readF32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) VOXQC_FAIL("cannot open " << path);
  f.seekg(0, std::ios::end);
  const std::streamsize bytes = f.tellg();
  f.seekg(0);
  std::vector<float> v(static_cast<size_t>(bytes) / 4);
  f.read(reinterpret_cast<char*>(v.data()), bytes);
  return v;
}

struct FixtureCase {
  std::string name, kind, input, output;
  long frames = -1, bins = -1;
  bool expectError = false;
  std::map<std::string, std::string> opts;
};

std::vector<FixtureCase> loadIndex() {
  std::ifstream f(fixtureDir() + "/index.txt");
  if (!f) VOXQC_FAIL("missing " << fixtureDir() << "/index.txt (run test/fixtures/features/generate.py)");
  std::vector<FixtureCase> cases;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream toks(line);
    std::string tok;
    FixtureCase c;
    while (toks >> tok) {
      const size_t eq = tok.find('=');
      const std::string k = tok.substr(0, eq), v = tok.substr(eq + 1);
      if (k == "name") c.name = v;
      else if (k == "kind") c.kind = v;
      else if (k == "input") c.input = v;
      else if (k == "output") c.output = v;
      else if (k == "frames") c.frames = std::stol(v);
      else if (k == "bins") c.bins = std::stol(v);
      else if (k == "expectError") c.expectError = v == "1";
      else if (k.rfind("opt.", 0) == 0) c.opts[k.substr(4)] = v;
    }
    cases.push_back(c);
  }
  return cases;
}

bool asBool(const std::string& v) { return v == "true" || v == "1"; }

void setSpec(SpectrogramOptions& o, const std::string& k, const std::string& v) {
  if (k == "nFft") o.nFft = std::stoi(v);
  else if (k == "winLength") o.winLength = std::stoi(v);
  else if (k == "hopLength") o.hopLength = std::stoi(v);
  else if (k == "pad") o.pad = std::stoi(v);
  else if (k == "window") o.window = parseWindowType(v);
  else if (k == "power") o.power = std::stod(v);
  else if (k == "normalized") o.normalized = asBool(v);
  else if (k == "center") o.center = asBool(v);
  else if (k == "padMode") o.padMode = parsePadMode(v);
  else if (k == "onesided") o.onesided = asBool(v);
  else if (k == "sampleRate") o.sampleRate = std::stoi(v);
  else VOXQC_FAIL("unknown spectrogram option " << k);
}

void setMel(MelSpectrogramOptions& o, const std::string& k, const std::string& v) {
  if (k == "nMels") o.nMels = std::stoi(v);
  else if (k == "fMin") o.fMin = std::stod(v);
  else if (k == "fMax") o.fMax = std::stod(v);
  else if (k == "norm") o.norm = parseMelNorm(v);
  else if (k == "melScale") o.melScale = parseMelScale(v);
  else setSpec(o, k, v);
}

void setMfcc(MfccOptions& o, const std::string& k, const std::string& v) {
  if (k == "nMfcc") o.nMfcc = std::stoi(v);
  else if (k == "dctType") o.dctType = std::stoi(v);
  else if (k == "dctNorm") o.dctNorm = parseDctNorm(v);
  else if (k == "logMels") o.logMels = asBool(v);
  else setMel(o, k, v);
}

void setKaldi(KaldiFbankOptions& o, const std::string& k, const std::string& v) {
  if (k == "blackmanCoeff") o.blackmanCoeff = std::stod(v);
  else if (k == "dither") o.dither = std::stod(v);
  else if (k == "energyFloor") o.energyFloor = std::stod(v);
  else if (k == "frameLength") o.frameLength = std::stod(v);
  else if (k == "frameShift") o.frameShift = std::stod(v);
  else if (k == "highFreq") o.highFreq = std::stod(v);
  else if (k == "htkCompat") o.htkCompat = asBool(v);
  else if (k == "lowFreq") o.lowFreq = std::stod(v);
  else if (k == "minDuration") o.minDuration = std::stod(v);
  else if (k == "numMelBins") o.numMelBins = std::stoi(v);
  else if (k == "preemphasisCoefficient") o.preemphasisCoefficient = std::stod(v);
  else if (k == "rawEnergy") o.rawEnergy = asBool(v);
  else if (k == "removeDcOffset") o.removeDcOffset = asBool(v);
  else if (k == "roundToPowerOfTwo") o.roundToPowerOfTwo = asBool(v);
  else if (k == "sampleFrequency") o.sampleFrequency = std::stod(v);
  else if (k == "snipEdges") o.snipEdges = asBool(v);
  else if (k == "subtractMean") o.subtractMean = asBool(v);
  else if (k == "useEnergy") o.useEnergy = asBool(v);
  else if (k == "useLogFbank") o.useLogFbank = asBool(v);
  else if (k == "usePower") o.usePower = asBool(v);
  else if (k == "vtlnHigh") o.vtlnHigh = std::stod(v);
  else if (k == "vtlnLow") o.vtlnLow = std::stod(v);
  else if (k == "vtlnWarp") o.vtlnWarp = std::stod(v);
  else if (k == "windowType") o.windowType = parseKaldiWindowType(v);
  else VOXQC_FAIL("unknown kaldi option " << k);
}

void setKaldiMfcc(KaldiMfccOptions& o, const std::string& k, const std::string& v) {
  if (k == "numCeps") o.numCeps = std::stoi(v);
  else if (k == "cepstralLifter") o.cepstralLifter = std::stod(v);
  else setKaldi(o, k, v);
}

// One fixture case bound to its options: the fused kernel, its shape, the reference and batches.
struct Bound {
  std::function<FeatureShape(size_t)> shape;
  std::function<std::vector<float>(const std::vector<float>&)> fused;
  std::function<std::vector<float>(const std::vector<float>&)> reference;
  std::function<std::vector<std::vector<float>>(const std::vector<const float*>&, const std::vector<size_t>&)> batch;
};

template <class Opts>
Bound bindOpts(const Opts& o,
               FeatureShape (*shapeFn)(size_t, const Opts&),
               std::vector<float> (*fn)(const float*, size_t, const Opts&),
               at::Tensor (*refFn)(const at::Tensor&, const Opts&),
               std::vector<std::vector<float>> (*batchFn)(const std::vector<const float*>&,
                                                          const std::vector<size_t>&, const Opts&)) {
  Bound b;
  b.shape = [o, shapeFn](size_t n) { return shapeFn(n, o); };
  b.fused = [o, fn](const std::vector<float>& x) { return fn(x.data(), x.size(), o); };
  b.reference = [o, refFn](const std::vector<float>& x) {
    at::Tensor t = at::from_blob(const_cast<float*>(x.data()), {static_cast<int64_t>(x.size())}, at::kFloat);
    at::Tensor y = refFn(t, o).contiguous();
    return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  };
  b.batch = [o, batchFn](const std::vector<const float*>& c, const std::vector<size_t>& l) { return batchFn(c, l, o); };
  return b;
}

Bound bind(const FixtureCase& c) {
  if (c.kind == "spectrogram") {
    SpectrogramOptions o;
    for (auto& kv : c.opts) setSpec(o, kv.first, kv.second);
    return bindOpts<SpectrogramOptions>(o, spectrogramShape, spectrogram, ref::spectrogram, spectrogramBatch);
  }
  if (c.kind == "melSpectrogram") {
    MelSpectrogramOptions o;
    for (auto& kv : c.opts) setMel(o, kv.first, kv.second);
    return bindOpts<MelSpectrogramOptions>(o, melSpectrogramShape, melSpectrogram, ref::melSpectrogram,
                                           melSpectrogramBatch);
  }
  if (c.kind == "mfcc") {
    MfccOptions o;
    for (auto& kv : c.opts) setMfcc(o, kv.first, kv.second);
    return bindOpts<MfccOptions>(o, mfccShape, mfcc, ref::mfcc, mfccBatch);
  }
  if (c.kind == "kaldiFbank") {
    KaldiFbankOptions o;
    for (auto& kv : c.opts) setKaldi(o, kv.first, kv.second);
    return bindOpts<KaldiFbankOptions>(o, kaldiFbankShape, kaldiFbank, ref::kaldiFbank, kaldiFbankBatch);
  }
  if (c.kind == "kaldiMfcc") {
    KaldiMfccOptions o;
    for (auto& kv : c.opts) setKaldiMfcc(o, kv.first, kv.second);
    return bindOpts<KaldiMfccOptions>(o, kaldiMfccShape, kaldiMfcc, ref::kaldiMfcc, kaldiMfccBatch);
  }
  VOXQC_FAIL("unknown kind " << c.kind);
}

struct Diff {
  double relL2 = 0, maxAbsRatio = 0;
};

Diff compare(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0, maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
    maxDiff = std::max(maxDiff, std::fabs(d));
    maxRef = std::max(maxRef, std::fabs(static_cast<double>(want[i])));
  }
  Diff r;
  r.relL2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  r.maxAbsRatio = maxRef > 0 ? maxDiff / maxRef : maxDiff;
  return r;
}

constexpr double kRelL2 = 1e-4, kMaxAbsRatio = 1e-3;

// Runs every fixture case through `which` ("fused" or "reference") and checks the tolerances.
void checkFixtures(bool reference) {
  auto cases = loadIndex();
  CHECK(cases.size() >= 12);
  std::map<std::string, Diff> worst;
  int checked = 0, errors = 0;
  for (const auto& c : cases) {
    const std::vector<float> x = readF32(fixtureDir() + "/" + c.input);
    Bound b = bind(c);
    if (c.expectError) {
      CHECK_THROWS_CODE(b.shape(x.size()), ErrorCode::InvalidArg, "too short");
      if (reference) CHECK_THROWS_CODE(b.reference(x), ErrorCode::InvalidArg, "too short");
      else CHECK_THROWS_CODE(b.fused(x), ErrorCode::InvalidArg, "too short");
      ++errors;
      continue;
    }
    const FeatureShape s = b.shape(x.size());
    if (static_cast<long>(s.frames) != c.frames) VOXQC_FAIL(c.name << ": frames " << s.frames << " != " << c.frames);
    if (c.frames > 0 && static_cast<long>(s.bins) != c.bins) VOXQC_FAIL(c.name << ": bins " << s.bins << " != " << c.bins);
    const std::vector<float> want = readF32(fixtureDir() + "/" + c.output);
    const std::vector<float> got = reference ? b.reference(x) : b.fused(x);
    if (got.size() != want.size()) VOXQC_FAIL(c.name << ": " << got.size() << " values, fixture " << want.size());
    const Diff d = compare(got, want);
    if (std::getenv("VOXQC_FEATURES_VERBOSE"))
      std::printf("          %-45s relL2 %.3g  max ratio %.3g\n", c.name.c_str(), d.relL2, d.maxAbsRatio);
    Diff& w = worst[c.kind];
    w.relL2 = std::max(w.relL2, d.relL2);
    w.maxAbsRatio = std::max(w.maxAbsRatio, d.maxAbsRatio);
    if (!(d.relL2 <= kRelL2 && d.maxAbsRatio <= kMaxAbsRatio))
      VOXQC_FAIL(c.name << ": relative L2 " << d.relL2 << " (max " << kRelL2 << "), max|diff|/max|ref| "
                        << d.maxAbsRatio << " (max " << kMaxAbsRatio << ")");
    ++checked;
  }
  std::cout << "        " << (reference ? "libtorch-ops" : "fused") << " vs torchaudio: " << checked
            << " cases + " << errors << " expected errors; worst per kind:\n";
  for (auto& kv : worst)
    std::printf("          %-15s relL2 %.3g  max|diff|/max|ref| %.3g\n", kv.first.c_str(), kv.second.relL2,
                kv.second.maxAbsRatio);
}

std::vector<float> noise(size_t n, unsigned seed, float amp = 0.3f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, amp);
  std::vector<float> v(n);
  for (auto& s : v) s = g(rng);
  return v;
}

struct ThreadGuard {
  explicit ThreadGuard(int n) : before(intraOpThreads()) { useIntraOpThreads(n); }
  ~ThreadGuard() { useIntraOpThreads(before); }
  int before;
};

}  // namespace

VOXQC_TEST(features_fixtures_fused_match_torchaudio) { checkFixtures(false); }

VOXQC_TEST(features_fixtures_reference_ops_match_torchaudio) { checkFixtures(true); }

VOXQC_TEST(features_fused_vs_reference_ops) {
  // Every fixture case on a longer synthetic clip too (noise + a chirp), fused vs libtorch ops.
  std::vector<float> x = noise(48000, 7, 0.05f);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.5f * std::sin(0.002f * i + 1e-7f * i * i);
  double worstL2 = 0, worstMax = 0;
  for (const auto& c : loadIndex()) {
    if (c.expectError) continue;
    Bound b = bind(c);
    const Diff d = compare(b.fused(x), b.reference(x));
    worstL2 = std::max(worstL2, d.relL2);
    worstMax = std::max(worstMax, d.maxAbsRatio);
    if (!(d.relL2 <= kRelL2 && d.maxAbsRatio <= kMaxAbsRatio))
      VOXQC_FAIL(c.name << ": fused vs libtorch ops relL2 " << d.relL2 << ", max ratio " << d.maxAbsRatio);
  }
  std::printf("        fused vs libtorch-ops (3 s synthetic clip): worst relL2 %.3g, max ratio %.3g\n", worstL2,
              worstMax);
}

VOXQC_TEST(features_batch_equals_per_clip_and_threads_do_not_change_results) {
  // Clips of many lengths (one much longer, so the batch splits it by frames) through every kind.
  std::vector<std::vector<float>> clips;
  for (int i = 0; i < 9; ++i) clips.push_back(noise(2000 + 1234 * i, 100 + i));
  clips.push_back(noise(60000, 99));
  std::vector<const float*> ptrs;
  std::vector<size_t> lens;
  for (auto& c : clips) {
    ptrs.push_back(c.data());
    lens.push_back(c.size());
  }
  int kinds = 0;
  for (const auto& c : loadIndex()) {
    if (c.expectError) continue;
    Bound b = bind(c);
    std::vector<std::vector<float>> single, batched1, batchedN;
    {
      ThreadGuard g(1);
      for (auto& clip : clips) single.push_back(b.fused(clip));
      batched1 = b.batch(ptrs, lens);
    }
    {
      ThreadGuard g(std::max(2, hardwareThreads()));
      batchedN = b.batch(ptrs, lens);
      for (size_t i = 0; i < clips.size(); ++i) CHECK(b.fused(clips[i]) == single[i]);
    }
    for (size_t i = 0; i < clips.size(); ++i) {
      if (batched1[i] != single[i]) VOXQC_FAIL(c.name << ": 1-thread batch differs from per-clip, clip " << i);
      if (batchedN[i] != single[i]) VOXQC_FAIL(c.name << ": threaded batch differs from per-clip, clip " << i);
    }
    ++kinds;
  }
  CHECK(kinds >= 12);
}

VOXQC_TEST(features_batch_into_and_tensor_api) {
  std::vector<float> a = noise(16000, 1), b = noise(8000, 2);
  MfccOptions o;
  const FeatureShape sa = mfccShape(a.size(), o), sb = mfccShape(b.size(), o);
  CHECK_EQ(sa.frames, size_t(81));
  CHECK_EQ(sa.bins, size_t(40));
  std::vector<float> oa(sa.size()), ob(sb.size());
  mfccBatchInto({a.data(), b.data()}, {a.size(), b.size()}, o, {oa.data(), ob.data()});
  CHECK(oa == mfcc(a.data(), a.size(), o));
  CHECK(ob == mfcc(b.data(), b.size(), o));
  std::vector<float> into(sa.size());
  mfccInto(a.data(), a.size(), o, into.data());
  CHECK(into == oa);
  at::Tensor t = mfcc(at::from_blob(a.data(), {static_cast<int64_t>(a.size())}, at::kFloat), o);
  CHECK_EQ(t.size(0), int64_t(81));
  CHECK_EQ(t.size(1), int64_t(40));
  CHECK(std::equal(oa.begin(), oa.end(), t.data_ptr<float>()));
  KaldiFbankOptions k;
  at::Tensor tk = kaldiFbank(at::from_blob(a.data(), {static_cast<int64_t>(a.size())}, at::kFloat), k);
  CHECK_EQ(tk.size(0), int64_t(98));
  CHECK_EQ(tk.size(1), int64_t(23));
  // batch errors name the clip
  std::vector<float> bad = noise(4000, 3);
  bad[1600] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_CODE(mfccBatch({a.data(), bad.data()}, {a.size(), bad.size()}, o), ErrorCode::InvalidArg,
                    "clip 1: samples[1600] is NaN");
  CHECK_THROWS_CODE(mfccBatch({a.data()}, {a.size(), 5}, o), ErrorCode::InvalidArg, "1 clips but 2 lengths");
  CHECK_THROWS_CODE(mfccBatch({a.data(), b.data()}, {a.size(), 100}, o), ErrorCode::InvalidArg,
                    "clip 1: clip too short");
}

VOXQC_TEST(features_sine_closed_form) {
  // A sine exactly on bin k0 of a 512-point FFT: |X[k0]| = A N / 2 with a rectangular window,
  // A N / 4 with the periodic hann (its mean is 1/2) and A N / 8 on the two neighbours.
  const int N = 512, k0 = 32;
  const float A = 0.5f;
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = A * static_cast<float>(std::sin(2 * M_PI * k0 * i / N + 0.3));
  SpectrogramOptions o;
  o.nFft = N;
  o.hopLength = 160;
  o.center = false;
  o.power = 1.0;
  o.window = WindowType::rectangular;
  const FeatureShape s = spectrogramShape(x.size(), o);
  auto y = spectrogram(x.data(), x.size(), o);
  for (size_t t = 0; t < s.frames; ++t) {
    const float* row = &y[t * s.bins];
    CHECK_NEAR(row[k0], A * N / 2, 1e-3 * A * N / 2);
    for (size_t k = 0; k < s.bins; ++k)
      if (k != size_t(k0)) CHECK(row[k] < 1e-3 * A * N);
  }
  o.window = WindowType::hann;
  o.power = 2.0;
  y = spectrogram(x.data(), x.size(), o);
  for (size_t t = 0; t < s.frames; ++t) {
    const float* row = &y[t * s.bins];
    CHECK_NEAR(row[k0], std::pow(A * N / 4, 2), 1e-3 * std::pow(A * N / 4, 2));
    CHECK_NEAR(row[k0 - 1], std::pow(A * N / 8, 2), 1e-3 * std::pow(A * N / 4, 2));
    CHECK_NEAR(row[k0 + 1], std::pow(A * N / 8, 2), 1e-3 * std::pow(A * N / 4, 2));
    CHECK(row[k0 + 3] < 1e-6 * row[k0]);
  }
  // normalized: divided by sqrt(sum w^2) = sqrt(3N/8) for the periodic hann
  o.normalized = true;
  auto yn = spectrogram(x.data(), x.size(), o);
  CHECK_NEAR(yn[k0] / y[k0], 1.0 / (3.0 * N / 8), 1e-5);
  // the mel filter containing 1 kHz carries the energy
  MelSpectrogramOptions m;
  m.nFft = N;
  m.nMels = 40;
  auto mel = melSpectrogram(x.data(), x.size(), m);
  const size_t mid = mel.size() / 40 / 2 * 40;
  const size_t peak = std::max_element(mel.begin() + mid, mel.begin() + mid + 40) - (mel.begin() + mid);
  const double hzPerMel = 2595.0 * std::log10(1.0 + 8000.0 / 700.0) / 41;
  const double melOf1k = 2595.0 * std::log10(1.0 + 1000.0 / 700.0);
  CHECK(std::fabs((peak + 1) * hzPerMel - melOf1k) <= hzPerMel);
}

VOXQC_TEST(features_builtin_fft_matches_fftw) {
  for (int n : {1, 2, 3, 5, 16, 256, 400, 401, 512, 882, 1024}) {
    auto builtin = voxqc::features::detail::makeBuiltinRealFft(n);
    const voxqc::features::detail::RealFft& cached = voxqc::features::detail::realFft(n);
    std::vector<float> x = noise(n, n);
    voxqc::features::detail::AlignedBuffer in(n), o1(2 * (n / 2 + 1)), o2(2 * (n / 2 + 1));
    std::copy(x.begin(), x.end(), in.p);
    builtin->forward(in.p, o1.p);
    cached.forward(in.p, o2.p);
    // the DFT by definition, in double
    double worst = 0, scale = 0;
    for (int k = 0; k <= n / 2; ++k) {
      double re = 0, im = 0;
      for (int j = 0; j < n; ++j) {
        re += x[j] * std::cos(2 * M_PI * double(k) * j / n);
        im -= x[j] * std::sin(2 * M_PI * double(k) * j / n);
      }
      scale = std::max(scale, std::hypot(re, im));
      worst = std::max({worst, std::fabs(double(o1.p[2 * k]) - re), std::fabs(double(o1.p[2 * k + 1]) - im),
                        std::fabs(double(o2.p[2 * k]) - re), std::fabs(double(o2.p[2 * k + 1]) - im)});
    }
    if (worst > 1e-5 * std::max(1.0, scale)) VOXQC_FAIL("FFT size " << n << ": error " << worst << " (scale " << scale << ")");
  }
  std::cout << "        fft backend " << fftBackend() << ", simd " << simdPath() << "\n";
}

VOXQC_TEST(features_bad_inputs) {
  std::vector<float> x = noise(16000, 5);
  const auto code = ErrorCode::InvalidArg;
  // samples
  std::vector<float> nan = x;
  nan[8000] = std::numeric_limits<float>::quiet_NaN();
  MfccOptions m;
  CHECK_THROWS_CODE(mfcc(nan.data(), nan.size(), m), code, "samples[8000] is NaN (at 0.5 s");
  std::vector<float> inf = x;
  inf[12] = -std::numeric_limits<float>::infinity();
  KaldiFbankOptions kf;
  kf.sampleFrequency = 8000;
  CHECK_THROWS_CODE(kaldiFbank(inf.data(), inf.size(), kf), code, "samples[12] is infinite (at 0.0015 s");
  CHECK_THROWS_CODE(spectrogram(x.data(), 0, SpectrogramOptions{}), code, "empty input");
  CHECK_THROWS_CODE(kaldiMfcc(x.data(), 0, KaldiMfccOptions{}), code, "empty input");
  CHECK_THROWS_CODE(spectrogramShape(0, SpectrogramOptions{}), code, "empty input");
  // spectrogram options
  SpectrogramOptions s;
  s.sampleRate = 0;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.sampleRate must be > 0 Hz; got 0");
  s = {};
  s.nFft = 0;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.nFft must be between 1 and 262144; got 0");
  s.nFft = 2147483647;  // once a filterbank build that never ended (found by the fuzzer)
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.nFft must be between 1 and 262144; got 2147483647");
  s = {};
  s.winLength = 500;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.winLength must be between 1 and nFft (400)");
  s = {};
  s.hopLength = -3;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.hopLength must be > 0");
  s = {};
  s.nFft = 1;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "hopLength must be > 0; the default winLength / 2 is 0");
  s = {};
  s.power = 0;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.power must be a finite number > 0");
  s = {};
  s.pad = -1;
  CHECK_THROWS_CODE(spectrogram(x.data(), x.size(), s), code, "SpectrogramOptions.pad must be between 0 and 16777216");
  s = {};
  s.center = false;
  CHECK_THROWS_CODE(spectrogram(x.data(), 399, s), code, "center=false needs at least nFft = 400");
  CHECK_EQ(spectrogramShape(400, s).frames, size_t(1));
  s = {};
  CHECK_THROWS_CODE(spectrogram(x.data(), 200, s), code, "padMode 'reflect' needs more than nFft / 2 = 200");
  CHECK_EQ(spectrogramShape(201, s).frames, size_t(2));
  s.padMode = PadMode::circular;
  CHECK_THROWS_CODE(spectrogramShape(199, s), code, "padMode 'circular' needs at least nFft / 2 = 200");
  s.padMode = PadMode::constant;
  CHECK_EQ(spectrogramShape(1, s).frames, size_t(1));
  // mel options
  MelSpectrogramOptions mo;
  mo.fMax = 8001;
  CHECK_THROWS_CODE(melSpectrogram(x.data(), x.size(), mo), code,
                    "MelSpectrogramOptions.fMax must be at most the Nyquist frequency sampleRate / 2 = 8000 Hz; got 8001");
  mo = {};
  mo.nMels = 0;
  CHECK_THROWS_CODE(melSpectrogram(x.data(), x.size(), mo), code, "MelSpectrogramOptions.nMels must be between 1 and 16384; got 0");
  mo = {};
  mo.fMin = 9000;
  CHECK_THROWS_CODE(melSpectrogram(x.data(), x.size(), mo), code, "MelSpectrogramOptions.fMin must be below fMax (8000 Hz); got 9000");
  mo = {};
  mo.sampleRate = -16000;
  CHECK_THROWS_CODE(melSpectrogram(x.data(), x.size(), mo), code, "sampleRate must be > 0 Hz");
  mo = {};
  mo.onesided = false;
  CHECK_THROWS_CODE(melSpectrogram(x.data(), x.size(), mo), code, "onesided must be true");
  // mfcc options
  m = {};
  m.nMels = 40;
  m.nMfcc = 41;
  CHECK_THROWS_CODE(mfcc(x.data(), x.size(), m), code, "MfccOptions.nMfcc must be between 1 and nMels (40); got 41");
  m = {};
  m.dctType = 3;
  CHECK_THROWS_CODE(mfcc(x.data(), x.size(), m), code, "MfccOptions.dctType must be 2");
  // kaldi options
  KaldiFbankOptions k;
  k.dither = 1.0;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.dither must be 0");
  k = {};
  k.vtlnWarp = 0.9;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.vtlnWarp must be 1.0");
  k = {};
  k.sampleFrequency = 0;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.sampleFrequency must be > 0 Hz");
  k = {};
  k.highFreq = 9000;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.highFreq must be in (0, Nyquist = 8000 Hz]");
  k = {};
  k.numMelBins = 3;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.numMelBins must be > 3");
  k = {};
  k.frameShift = 0.01;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "KaldiFbankOptions.frameShift must be at least one sample");
  k = {};
  k.roundToPowerOfTwo = false;
  k.sampleFrequency = 22050;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "an even number of samples");
  k = {};
  k.preemphasisCoefficient = 1.5;
  CHECK_THROWS_CODE(kaldiFbank(x.data(), x.size(), k), code, "preemphasisCoefficient must be between 0 and 1");
  k = {};
  CHECK_THROWS_CODE(kaldiFbank(x.data(), 399, k), code, "clip too short: 399 samples (0.0249375 s)");
  k.snipEdges = false;
  CHECK_THROWS_CODE(kaldiFbankShape(100, k), code, "frameLength 25 ms = 400 samples");
  k = {};
  k.minDuration = 2.0;
  CHECK_EQ(kaldiFbankShape(x.size(), k).frames, size_t(0));
  CHECK(kaldiFbank(x.data(), x.size(), k).empty());
  KaldiMfccOptions km;
  km.numCeps = 24;
  CHECK_THROWS_CODE(kaldiMfcc(x.data(), x.size(), km), code, "KaldiMfccOptions.numCeps must be between 1 and numMelBins (23); got 24");
  // option names
  CHECK_THROWS_CODE(parseWindowType("hanning"), code, "window must be one of 'hann', 'hamming'");
  CHECK_THROWS_CODE(parsePadMode("edge"), code, "padMode must be one of");
  CHECK_THROWS_CODE(parseKaldiWindowType("hann"), code, "windowType must be one of 'povey'");
  CHECK(parseMelScale("slaney") == MelScale::slaney);
  CHECK(std::string(toString(DctNorm::ortho)) == "ortho");
  // the tensor API checks its tensor
  CHECK_THROWS_CODE(mfcc(at::zeros({2, 100}), MfccOptions{}), code, "1-D tensor");
  CHECK_THROWS_CODE(mfcc(at::zeros({1000}, at::kDouble), MfccOptions{}), code, "float32");
}
