#include "model/inputs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "features/features.h"
#include "features/options.h"

namespace voxqc::model {

namespace {
features::MelSpectrogramOptions melOptions(const ModelConfig& cfg) {
  features::MelSpectrogramOptions o;
  o.nFft = cfg.audio.nFft;
  o.winLength = cfg.audio.winLength;
  o.hopLength = cfg.audio.hopLength;
  o.nMels = cfg.audio.nMels;
  o.sampleRate = cfg.audio.sampleRate;
  o.power = 2.0;
  o.center = true;
  o.padMode = features::PadMode::reflect;
  return o;
}
}  // namespace

int64_t featureFrames(const ModelConfig& cfg, size_t n) {
  n = std::max<size_t>(n, size_t(cfg.audio.nFft));
  return int64_t(n / size_t(cfg.audio.hopLength)) + 1;
}

int64_t subsampledLength(int64_t frames) {
  if (frames <= 0) return 0;
  int64_t l1 = (frames - 1) / 2 + 1;
  return (l1 - 1) / 2 + 1;
}

at::Tensor audioFeatures(const ModelConfig& cfg, const float* samples, size_t n) {
  const auto opts = melOptions(cfg);
  std::vector<float> padded;
  if (n < size_t(cfg.audio.nFft)) {
    padded.assign(size_t(cfg.audio.nFft), 0.0f);
    if (n) std::copy(samples, samples + n, padded.begin());
    samples = padded.data();
    n = padded.size();
  }
  const auto shape = features::melSpectrogramShape(n, opts);
  at::Tensor out = at::empty({int64_t(shape.frames), int64_t(shape.bins)}, at::kFloat);
  features::melSpectrogramInto(samples, n, opts, out.data_ptr<float>());
  const float off = float(cfg.audio.featOffset), inv = float(1.0 / cfg.audio.featScale);
  float* p = out.data_ptr<float>();
  for (int64_t i = 0, N = out.numel(); i < N; ++i) p[i] = (std::log(p[i] + 1e-6f) - off) * inv;
  return out;
}

std::vector<int64_t> tokenizeText(const ModelConfig& cfg, const std::string& text) {
  size_t keep = std::min(text.size(), size_t(std::max(0, cfg.text.maxBytes - 2)));
  // Do not cut inside a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
  if (keep < text.size())
    while (keep > 0 && (uint8_t(text[keep]) & 0xC0) == 0x80) --keep;
  std::vector<int64_t> ids;
  ids.reserve(keep + 2);
  ids.push_back(kTokBos);
  for (size_t i = 0; i < keep; ++i) ids.push_back(int64_t(uint8_t(text[i])));
  ids.push_back(kTokEos);
  return ids;
}

at::Tensor prepareVideo(const ModelConfig& cfg, const uint8_t* frames, int64_t F, int64_t H, int64_t W) {
  if (F < 0 || H <= 0 || W <= 0)
    throwInvalidArg("video frames: need F >= 0 frames of H x W > 0 pixels, got F=" + std::to_string(F) +
                    " H=" + std::to_string(H) + " W=" + std::to_string(W));
  if (F > 0 && frames == nullptr) throwInvalidArg("video frames: null pointer for " + std::to_string(F) + " frames");
  const int64_t h = cfg.video.height, w = cfg.video.width;
  if (F == 0) return at::zeros({0, h, w}, at::kByte);
  at::Tensor src = at::from_blob(const_cast<uint8_t*>(frames), {F, H, W}, at::kByte);
  if (H == h && W == w) return src.clone();
  at::NoGradGuard ng;
  at::Tensor f = src.to(at::kFloat).unsqueeze(1);  // [F,1,H,W]
  f = torch::nn::functional::interpolate(
      f, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  return f.squeeze(1).round().clamp(0, 255).to(at::kByte).contiguous();
}

std::vector<float> metricVector(const ModelConfig& cfg, const std::function<double(const std::string&)>& lookup) {
  std::vector<float> out(cfg.metrics.size());
  for (size_t i = 0; i < cfg.metrics.size(); ++i) out[i] = float(cfg.metrics[i].normalize(lookup(cfg.metrics[i].name)));
  return out;
}

ModelBatch ModelBatch::to(const at::Device& device) const {
  ModelBatch b;
  auto mv = [&](const at::Tensor& t) { return t.defined() ? t.to(device) : t; };
  b.audio = mv(audio);
  b.audioLen = mv(audioLen);
  b.text = mv(text);
  b.textLen = mv(textLen);
  b.video = mv(video);
  b.videoLen = mv(videoLen);
  b.metrics = mv(metrics);
  return b;
}

ModelBatch collate(const ModelConfig& cfg, const std::vector<const ClipInput*>& clips) {
  const int64_t B = int64_t(clips.size());
  if (B == 0) throwInvalidArg("collate: empty batch");
  const int64_t M = cfg.audio.nMels, K = int64_t(cfg.metrics.size());
  int64_t T = 1, Lt = 0, F = 0;
  for (const ClipInput* c : clips) {
    if (!c->feats.defined() || c->feats.dim() != 2 || c->feats.size(1) != M)
      throwInvalidArg("collate: clip features must be [T, " + std::to_string(M) + "]");
    T = std::max(T, c->feats.size(0));
    if (cfg.text.enabled && c->hasText) Lt = std::max(Lt, int64_t(c->textIds.size()));
    if (cfg.video.enabled && c->video.defined()) F = std::max(F, c->video.size(0));
    if (int64_t(c->metrics.size()) != K)
      throwInvalidArg("collate: clip has " + std::to_string(c->metrics.size()) + " metric values, config has " +
                      std::to_string(K));
  }
  ModelBatch b;
  b.audio = at::zeros({B, T, M}, at::kFloat);
  b.audioLen = at::zeros({B}, at::kLong);
  b.textLen = at::zeros({B}, at::kLong);
  b.videoLen = at::zeros({B}, at::kLong);
  if (Lt > 0) b.text = at::zeros({B, Lt}, at::kLong);
  if (F > 0) b.video = at::zeros({B, F, cfg.video.height, cfg.video.width}, at::kByte);
  if (K > 0) b.metrics = at::empty({B, K}, at::kFloat);
  auto* al = b.audioLen.data_ptr<int64_t>();
  auto* tl = b.textLen.data_ptr<int64_t>();
  auto* vl = b.videoLen.data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i) {
    const ClipInput* c = clips[size_t(i)];
    const int64_t t = c->feats.size(0);
    b.audio[i].narrow(0, 0, t).copy_(c->feats);
    al[i] = t;
    if (Lt > 0 && c->hasText) {
      const int64_t n = int64_t(c->textIds.size());
      std::copy(c->textIds.begin(), c->textIds.end(), b.text.data_ptr<int64_t>() + i * Lt);
      tl[i] = n;
    }
    if (F > 0 && c->video.defined() && c->video.size(0) > 0) {
      const int64_t f = c->video.size(0);
      b.video[i].narrow(0, 0, f).copy_(c->video);
      vl[i] = f;
    }
    if (K > 0) std::copy(c->metrics.begin(), c->metrics.end(), b.metrics.data_ptr<float>() + i * K);
  }
  return b;
}

}  // namespace voxqc::model
