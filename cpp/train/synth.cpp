#include "train/synth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "train/data.h"

namespace voxqc::train {

namespace fs = std::filesystem;

void writeWav16(const std::string& path, const std::vector<float>& s, int rate) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::NotFound, "cannot write " + path);
  auto u32 = [&](uint32_t v) {
    const char b[4] = {char(v & 255), char((v >> 8) & 255), char((v >> 16) & 255), char((v >> 24) & 255)};
    out.write(b, 4);
  };
  auto u16 = [&](uint16_t v) {
    const char b[2] = {char(v & 255), char((v >> 8) & 255)};
    out.write(b, 2);
  };
  const uint32_t data = uint32_t(s.size() * 2);
  out.write("RIFF", 4);
  u32(36 + data);
  out.write("WAVEfmt ", 8);
  u32(16);
  u16(1);
  u16(1);
  u32(uint32_t(rate));
  u32(uint32_t(rate) * 2);
  u16(2);
  u16(16);
  out.write("data", 4);
  u32(data);
  for (float x : s) {
    const int v = int(std::lrint(std::max(-1.0f, std::min(1.0f, x)) * 32767.0f));
    u16(uint16_t(int16_t(v)));
  }
}

std::string writeSyntheticDataset(const std::string& dir, const SynthOptions& o) {
  fs::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  std::normal_distribution<double> N(0.0, 1.0);
  const fs::path manifest = fs::path(dir) / "manifest.jsonl";
  std::ofstream mf(manifest, std::ios::trunc);
  const char* english[] = {"the quick brown fox", "hello world", "please call stella", "a clean test clip"};
  const char* chinese[] = {"你好世界", "今天天气很好", "请把书给我", "语音质量"};
  int clipNo = 0;
  // One labelled clip from a clean voice (already at -20 dBFS RMS) and its envelope.
  auto emit = [&](const std::vector<float>& voice, const std::vector<float>& env, const std::string& speaker,
                  int cls, const std::string& split) {
    const size_t n = voice.size();
    const double secs = double(n) / o.sampleRate;
    const bool clipping = cls == 2 && (clipNo / 3) % 2 == 1;
    double snr = cls == 0 ? 40.0 : cls == 1 ? 15.0 : 2.0;
    if (clipping) snr = 40.0;
    double pw = 0;
    for (float v : voice) pw += double(v) * v;
    const double noiseRms = std::sqrt(pw / double(std::max<size_t>(n, 1))) / std::pow(10.0, snr / 20.0);
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = voice[i] + float(noiseRms * N(rng));
    double clippedFrac = 0;
    if (clipping) {
      float peak = 0;
      for (float v : x) peak = std::max(peak, std::fabs(v));
      const float lim = 0.25f * peak;
      size_t k = 0;
      for (float& v : x)
        if (std::fabs(v) >= lim) v = v > 0 ? lim : -lim, ++k;
      clippedFrac = double(k) / double(std::max<size_t>(n, 1));
    }
    const std::string id = "c" + std::to_string(clipNo);
    const std::string wav = (fs::path(dir) / (id + ".wav")).string();
    writeWav16(wav, x, o.sampleRate);
    nlohmann::json j;
    j["id"] = id;
    j["audio"] = wav;
    j["speaker"] = speaker;
    j["source"] = o.speechFiles.empty() ? "synthetic" : "synthetic-degraded";
    if (U(rng) < o.textFraction) {
      j["text"] = (clipNo % 2) ? std::string(chinese[clipNo % 4]) : std::string(english[clipNo % 4]);
    } else {
      j["text"] = nullptr;
    }
    if (U(rng) < o.videoFraction && n > 0) {
      const int64_t F = int64_t(secs * 25.0), H = 48, W = 64;
      at::Tensor v = at::full({F, H, W}, 90, at::kByte);
      auto* p = v.data_ptr<uint8_t>();
      for (int64_t f = 0; f < F; ++f) {
        const size_t i = std::min(n - 1, size_t(double(f) / 25.0 * o.sampleRate));
        const double open = 4.0 + 14.0 * env[i];
        for (int64_t y = 0; y < H; ++y)
          for (int64_t xx = 0; xx < W; ++xx) {
            const double dy = (y - H / 2.0) / open, dx = (xx - W / 2.0) / 18.0;
            if (dx * dx + dy * dy < 1.0) p[(f * H + y) * W + xx] = 20;
          }
      }
      const std::string vx = (fs::path(dir) / (id + ".vxv")).string();
      writeVxv(vx, v);
      j["video"] = vx;
    } else {
      j["video"] = nullptr;
    }
    nlohmann::json sc = nlohmann::json::object();
    if (U(rng) < o.scoresFraction) {
      sc["snrDb"] = snr + 2.0 * N(rng);
      sc["clippedFraction"] = clippedFrac;
      sc["durationSec"] = secs;
      sc["truncatedStart"] = false;
    } else {
      sc["snrDb"] = nullptr;
      sc["durationSec"] = secs;
    }
    j["scores"] = sc;
    j["split"] = split.empty() ? nlohmann::json(nullptr) : nlohmann::json(split);
    nlohmann::json flags = nlohmann::json::array();
    if (cls == 1) flags.push_back("noisy");
    if (cls == 2) flags.push_back(clipping ? "clipping" : "low_snr");
    j["label"] = {{"grade", cls == 0 ? "high" : cls == 1 ? "medium" : "low"},
                  {"flags", flags},
                  {"truth", {{"snrDb", snr}}}};
    mf << j.dump() << "\n";
    ++clipNo;
  };
  auto normalise = [](std::vector<float>& v, double dbfs) {
    double pw = 0;
    for (float x : v) pw += double(x) * x;
    const double rms = std::sqrt(pw / double(std::max<size_t>(v.size(), 1)));
    const double gain = std::pow(10.0, dbfs / 20.0) / std::max(rms, 1e-9);
    for (float& x : v) x = float(x * gain);
  };
  if (!o.speechFiles.empty()) {
    for (size_t fi = 0; fi < o.speechFiles.size(); ++fi) {
      std::vector<float> voice = loadWavMono(o.speechFiles[fi], o.sampleRate);
      voice.resize(std::min(voice.size(), size_t(o.seconds * o.sampleRate)));
      normalise(voice, -20.0 - 6.0 * U(rng));
      // envelope: 20 ms RMS, scaled to [0, 1]
      std::vector<float> env(voice.size(), 0.f);
      const size_t hop = size_t(o.sampleRate / 50);
      float mx = 1e-9f;
      for (size_t s0 = 0; s0 < voice.size(); s0 += hop) {
        double e = 0;
        const size_t s1 = std::min(voice.size(), s0 + hop);
        for (size_t i = s0; i < s1; ++i) e += double(voice[i]) * voice[i];
        const float r = float(std::sqrt(e / double(std::max<size_t>(s1 - s0, 1))));
        for (size_t i = s0; i < s1; ++i) env[i] = r;
        mx = std::max(mx, r);
      }
      for (float& e : env) e /= mx;
      const std::string speaker = fi < o.speechSpeakers.size() ? o.speechSpeakers[fi] : "file" + std::to_string(fi);
      for (int cls = 0; cls < 3; ++cls) emit(voice, env, speaker, cls, "");
    }
    return manifest.string();
  }
  for (int sp = 0; sp < o.speakers; ++sp) {
    const std::string speaker = "spk" + std::to_string(sp);
    const double f0 = 95.0 + 150.0 * U(rng);
    for (int c = 0; c < o.clipsPerSpeaker; ++c) {
      const int cls = c % 3;  // 0 high, 1 medium, 2 low
      const double secs = o.seconds * (0.7 + 0.6 * U(rng));
      const size_t n = size_t(secs * o.sampleRate);
      std::vector<float> voice(n), env(n);
      const double syl = 3.0 + 2.0 * U(rng), ph = 6.28 * U(rng);
      for (size_t i = 0; i < n; ++i) {
        const double t = double(i) / o.sampleRate;
        const double e = std::pow(0.5 + 0.5 * std::sin(2 * M_PI * syl * t + ph), 2.0);
        const double f = f0 * (1.0 + 0.05 * std::sin(2 * M_PI * 0.7 * t));
        double v = 0;
        for (int h = 1; h <= 10; ++h) v += std::sin(2 * M_PI * f * h * t + h) / h;
        voice[i] = float(v * e);
        env[i] = float(e);
      }
      normalise(voice, -20.0);
      emit(voice, env, speaker, cls, o.explicitSplit ? (sp == o.speakers - 1 ? "val" : "train") : "");
    }
  }
  return manifest.string();
}

}  // namespace voxqc::train
