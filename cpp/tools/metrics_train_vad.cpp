// Trains the speech-activity MLP of cpp/metrics/vad.cpp from ../shared/corpus only (no downloads)
// and writes models/vad/vad_mlp.bin plus cpp/metrics/vad_weights.inc (the copy compiled into the
// library). Reproducible: every random choice comes from fixed seeds (std::mt19937_64 and
// torch::manual_seed), and libtorch runs on one thread so reductions happen in one order.
//
// Data: the TUNING split of cpp/tests/test_metrics_corpus.h (LJSpeech, Thorsten, CMU ARCTIC,
// DeepSpeech smoke, SpeechBrain samples, Picovoice Eagle, Speech Commands, Silero test, FSDD,
// audiomentations' VCTK clip, JFK); LibriSpeech, Picovoice Leopard, WeNet and FunASR stay out
// for the tests. Each clip becomes kVariants mixtures: 0-1 s of leading/trailing silence, a level
// of -45..-15 dBFS, and (85%) noise at -5..30 dB SNR (rubric SNR: P.56 level over mean noise
// power) from the FIRST half of a corpus noise recording, synthetic white/pink/brown noise, or
// babble made of other tuning clips. Labels: P.56 activity of the clean clip without hangover
// (envelope above the P.56 threshold), one per 10 ms frame by majority.
//
// Build (from a configured build dir such as /tmp/mb, after `make voxqc_core`):
//   g++ -O2 -std=c++17 -I cpp $(torch include flags) cpp/tools/metrics_train_vad.cpp \
//       /tmp/mb/libvoxqc_core.a -ltorch -ltorch_cpu -lc10 -lfftw3f -o /tmp/metrics_train_vad
// Run from the repository root: /tmp/metrics_train_vad [corpusDir]
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>

#include "../tests/test_metrics_corpus.h"
#include "metrics/frames.h"
#include "simulate/plant.h"

using namespace voxqc;
namespace md = voxqc::metrics::detail;

namespace {

constexpr int kVariants = 5;
constexpr uint64_t kSeed = 20240611;

std::vector<std::string> trainingFiles(const std::string& corpus) {
  std::vector<std::string> out;
  const char* dirs[] = {"speech/coqui_tts_ljspeech",        "speech/thorsten_voice_de",
                        "speech/pyroomacoustics_samples",   "speech/deepspeech_smoke",
                        "speech/speechbrain_samples/speech_harvard_2spk",
                        "speech/speechbrain_samples/speech_misc",
                        "speech/picovoice_eagle_speakers",  "speech/speech_commands_sc09",
                        "speech/silero_vad_test",           "speech/fsdd_spoken_digits",
                        "speech/audiomentations_fixtures",  "speech/openai_whisper_jfk"};
  for (const char* d : dirs) {
    auto f = mtest::listFiles(corpus, d);
    // FSDD has 120 near-identical digit clips: a third of them is plenty.
    if (std::string(d).find("fsdd") != std::string::npos) {
      std::vector<std::string> g;
      for (size_t i = 0; i < f.size(); i += 3) g.push_back(f[i]);
      f = g;
    }
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<float> colouredNoise(size_t n, int kind, std::mt19937_64& rng) {
  auto w = simulate::whiteNoise(n, 0.0, rng());
  if (kind == 0) return w;
  std::vector<float> y(n);
  if (kind == 1) {  // pink (Paul Kellet's filter)
    double b0 = 0, b1 = 0, b2 = 0;
    for (size_t i = 0; i < n; ++i) {
      b0 = 0.99765 * b0 + w[i] * 0.0990460;
      b1 = 0.96300 * b1 + w[i] * 0.2965164;
      b2 = 0.57000 * b2 + w[i] * 1.0526913;
      y[i] = float(b0 + b1 + b2 + w[i] * 0.1848);
    }
  } else {  // brown
    double acc = 0;
    for (size_t i = 0; i < n; ++i) {
      acc = 0.995 * acc + 0.1 * w[i];
      y[i] = float(acc);
    }
  }
  return y;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string corpus = argc > 1 ? argv[1] : "../shared/corpus";
  at::set_num_threads(1);
  torch::manual_seed(kSeed);
  std::mt19937_64 rng(kSeed);
  auto uni = [&](double a, double b) { return a + (b - a) * (double(rng() >> 11) * 0x1.0p-53); };

  // Speech.
  std::vector<std::vector<float>> clips;
  for (const auto& f : trainingFiles(corpus)) {
    auto a = mtest::loadAudio(f);
    if (!a.ok() || a.x.size() < size_t(a.rate) / 4) continue;
    auto b = mtest::toRate(a, md::kWorkRate);
    if (b.x.size() > 30 * 16000) b.x.resize(30 * 16000);
    if (!std::isfinite(simulate::activeSpeechLevelDbfs(b.x.data(), b.x.size(), 16000))) continue;
    clips.push_back(std::move(b.x));
  }
  std::cerr << "speech clips: " << clips.size() << "\n";
  // Noise (first halves).
  std::vector<std::vector<float>> noises;
  for (const auto& nf : mtest::noiseFiles()) {
    auto a = mtest::noiseHalf(corpus, nf.path, 16000, 0);
    if (a.ok()) noises.push_back(std::move(a.x));
  }
  std::cerr << "noise recordings: " << noises.size() << "\n";

  // Validation: every 10th clip.
  std::vector<float> X, Xv;
  std::vector<float> Y, Yv;
  for (size_t ci = 0; ci < clips.size(); ++ci) {
    const bool val = ci % 10 == 9;
    for (int v = 0; v < kVariants; ++v) {
      const auto& c = clips[ci];
      const size_t lead = rng() % 2 ? size_t(uni(0, 1.0) * 16000) : 0;
      const size_t trail = rng() % 2 ? size_t(uni(0, 1.0) * 16000) : 0;
      std::vector<float> clean = simulate::padSilence(c.data(), c.size(), lead, trail);
      const double lvl = simulate::activeSpeechLevelDbfs(clean.data(), clean.size(), 16000);
      simulate::applyGain(clean.data(), clean.size(), uni(-45, -15) - lvl);
      std::vector<float> mix = clean;
      const double r = uni(0, 1);
      if (r >= 0.15) {
        std::vector<float> nz;
        const double kind = uni(0, 1);
        if (kind < 0.6) {
          nz = noises[rng() % noises.size()];
        } else if (kind < 0.8) {
          nz = colouredNoise(clean.size(), int(rng() % 3), rng);
        } else {
          nz.assign(clean.size(), 0.0f);
          for (int k = 0; k < 4; ++k) {
            const auto& o = clips[rng() % clips.size()];
            if (&o == &c) continue;
            const double ol = simulate::activeSpeechLevelDbfs(o.data(), o.size(), 16000);
            const double g = std::pow(10.0, (-25 - ol) / 20);
            for (size_t i = 0; i < nz.size(); ++i) nz[i] += float(g * o[i % o.size()]);
          }
        }
        mix = simulate::mixAtSnr(clean.data(), clean.size(), 16000, nz.data(), nz.size(),
                                 uni(-5, 30), size_t(rng() % nz.size()));
      }
      auto mask = simulate::activeSpeechMask(clean.data(), clean.size(), 16000, false);
      auto fr = md::analyzeFrames(mix.data(), mix.size());
      auto feat = md::vadFeatures(fr);
      for (size_t t = 0; t < fr.count; ++t) {
        if (!val && (t + v) % 2) continue;  // every other frame for training
        size_t on = 0, tot = 0;
        for (size_t i = t * md::kHop; i < std::min(mask.size(), (t + 1) * md::kHop); ++i, ++tot) on += mask[i];
        const float y = tot && 2 * on >= tot ? 1.0f : 0.0f;
        auto& XX = val ? Xv : X;
        auto& YY = val ? Yv : Y;
        XX.insert(XX.end(), feat.begin() + t * md::kFeatureDims, feat.begin() + (t + 1) * md::kFeatureDims);
        YY.push_back(y);
      }
    }
  }
  const int64_t D = md::kFeatureDims;
  const int64_t N = int64_t(Y.size()), Nv = int64_t(Yv.size());
  std::cerr << "frames: train " << N << ", validation " << Nv << "\n";
  auto Xt = torch::from_blob(X.data(), {N, D}).clone();
  auto Yt = torch::from_blob(Y.data(), {N, 1}).clone();
  auto Xvt = torch::from_blob(Xv.data(), {Nv, D}).clone();
  auto Yvt = torch::from_blob(Yv.data(), {Nv, 1}).clone();
  auto mean = Xt.mean(0);
  auto sd = Xt.std(0).clamp_min(1e-3);
  Xt = (Xt - mean) / sd;
  Xvt = (Xvt - mean) / sd;
  std::cerr << "speech share: " << Yt.mean().item<float>() << "\n";

  const int64_t H1 = 64, H2 = 32;
  torch::nn::Sequential net(torch::nn::Linear(D, H1), torch::nn::ReLU(), torch::nn::Linear(H1, H2),
                            torch::nn::ReLU(), torch::nn::Linear(H2, 1));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3).weight_decay(1e-5));
  const int epochs = 10;
  const int64_t B = 512;
  for (int ep = 0; ep < epochs; ++ep) {
    net->train();
    auto perm = torch::randperm(N, torch::kLong);
    double lossSum = 0;
    int64_t steps = 0;
    if (ep == 7) static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr(5e-4);
    for (int64_t s = 0; s < N; s += B) {
      auto idx = perm.slice(0, s, std::min(N, s + B));
      auto xb = Xt.index_select(0, idx), yb = Yt.index_select(0, idx);
      auto loss = torch::binary_cross_entropy_with_logits(net->forward(xb), yb);
      opt.zero_grad();
      loss.backward();
      opt.step();
      lossSum += loss.item<double>();
      ++steps;
    }
    net->eval();
    torch::NoGradGuard ng;
    auto pv = torch::sigmoid(net->forward(Xvt));
    const double acc = ((pv > 0.5).to(torch::kFloat) == Yvt).to(torch::kFloat).mean().item<double>();
    std::cerr << "epoch " << ep << " loss " << lossSum / steps << " val frame acc " << acc << "\n";
  }

  // Export.
  md::VadModel m;
  m.inDims = int(D);
  m.h1 = int(H1);
  m.h2 = int(H2);
  auto vec = [](const torch::Tensor& t) {
    auto c = t.contiguous().to(torch::kFloat);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  auto params = net->parameters();
  m.mean = vec(mean);
  m.stdev = vec(sd);
  m.w1 = vec(params[0]);
  m.b1 = vec(params[1]);
  m.w2 = vec(params[2]);
  m.b2 = vec(params[3]);
  m.w3 = vec(params[4]);
  m.b3 = vec(params[5]);
  std::filesystem::create_directories("models/vad");
  md::saveVadModel(m, "models/vad/vad_mlp.bin");
  std::ofstream inc("cpp/metrics/vad_weights.inc");
  inc << "// Generated by cpp/tools/metrics_train_vad.cpp (seed " << kSeed
      << "); same numbers as models/vad/vad_mlp.bin. Do not edit.\n";
  inc << "static const int kVadDims[3] = {" << m.inDims << ", " << m.h1 << ", " << m.h2 << "};\n";
  inc << "static const float kVadWeights[] = {\n";
  inc << std::setprecision(9);
  int col = 0;
  for (const auto* v : {&m.mean, &m.stdev, &m.w1, &m.b1, &m.w2, &m.b2, &m.w3, &m.b3})
    for (float f : *v) {
      inc << f << "f,";
      if (++col % 8 == 0) inc << "\n";
    }
  inc << "};\n";
  std::cerr << "wrote models/vad/vad_mlp.bin and cpp/metrics/vad_weights.inc\n";
  return 0;
}
