// Model inputs: one clip prepared for the grader (features, tokens, frames, metric values) and a
// padded batch of such clips with its masks. Shared by inference (Grader) and training.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/config.h"

namespace voxqc::model {

// Text tokens: UTF-8 bytes 0..255, then these specials.
constexpr int64_t kTokBos = 256;
constexpr int64_t kTokEos = 257;
constexpr int64_t kTextVocab = 259;  // 256 bytes + BOS + EOS + 1 reserved

// One clip, ready to batch (CPU tensors).
struct ClipInput {
  at::Tensor feats;          // [T, nMels] float: (log(mel + 1e-6) - featOffset) / featScale
  bool hasText = false;
  std::vector<int64_t> textIds;  // BOS, bytes..., EOS (only when hasText)
  at::Tensor video;          // [F, H, W] uint8 at the config's size; undefined when absent
  std::vector<float> metrics;    // K normalised values (ModelConfig::metrics order), NaN = unknown
  int64_t numSamples = 0;    // audio length (for bucketing)
};

// Log-mel features of 16 kHz (config rate) mono samples. Clips shorter than nFft are zero-padded
// to nFft samples first (so even an empty clip gives frames). Throws Error(InvalidArg) for NaN/Inf.
at::Tensor audioFeatures(const ModelConfig& cfg, const float* samples, size_t n);

// Number of frames audioFeatures gives for n samples, and tokens after the x4 subsampling.
int64_t featureFrames(const ModelConfig& cfg, size_t n);
int64_t subsampledLength(int64_t frames);

// UTF-8 text -> BOS + bytes (cut to maxBytes - 2 at a character boundary) + EOS.
std::vector<int64_t> tokenizeText(const ModelConfig& cfg, const std::string& text);

// Frames [F][H][W] uint8 -> [F, cfg.video.height, cfg.video.width] uint8 (bilinear when resized).
at::Tensor prepareVideo(const ModelConfig& cfg, const uint8_t* frames, int64_t F, int64_t H, int64_t W);

// Metric vector in config order from a lookup that returns NaN for unknown names.
std::vector<float> metricVector(const ModelConfig& cfg, const std::function<double(const std::string&)>& lookup);

// A padded batch. Lengths 0 mean "absent" (text, video). Tensors of a modality that no clip in
// the batch has are left undefined.
struct ModelBatch {
  at::Tensor audio;     // [B, T, nMels] float, zeros past audioLen
  at::Tensor audioLen;  // [B] int64 frames (>= 1)
  at::Tensor text;      // [B, Lt] int64, 0 past textLen
  at::Tensor textLen;   // [B] int64, 0 = no text
  at::Tensor video;     // [B, F, H, W] uint8, 0 past videoLen
  at::Tensor videoLen;  // [B] int64 frames, 0 = no video
  at::Tensor metrics;   // [B, K] float normalised, NaN = unknown (undefined when K == 0)
  int64_t size() const { return audio.defined() ? audio.size(0) : 0; }
  ModelBatch to(const at::Device& device) const;
};

ModelBatch collate(const ModelConfig& cfg, const std::vector<const ClipInput*>& clips);

}  // namespace voxqc::model
