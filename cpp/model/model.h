// The learned grader: audio / text / video / metric-token encoders, a selectable fusion (early,
// late, interactive) and three heads (grade, rubric flags, SNR). libtorch C++ module.
//
//   audio  : log-mel [B,T,nMels] -> Conv1d(k3,s2)+GELU -> Conv1d(k3,s2)+GELU (x4, 40 ms/token)
//            -> + sinusoidal time position -> audio.layers pre-LN transformer layers
//   text   : UTF-8 bytes + BOS/EOS -> embedding + position -> text.layers layers
//   video  : per frame [frame, frame - previous] (2 channels) -> stride-2 CNN -> mean over the
//            image -> linear -> + time position (aligned with audio: frame f at f/fps seconds)
//            -> video.layers layers
//   metrics: K configured scores, token_k = W2 gelu(x_k w1_k + b1_k) + name_k (unknown: masked)
//   fusion : early: one sequence of all tokens (+ modality embeddings), fusionLayers layers,
//                   attention pooling
//            late: each modality attention-pooled alone, the (up to 4) pooled vectors combined
//                  by fusionLayers layers over them (absent modalities masked), pooled again
//            interactive: fusionLayers blocks, each: self-attention within every modality, then
//                  audio cross-attends to video, then to text, then to the metric tokens (each
//                  gated off for clips without that modality), FFN; pooled over all tokens
//   heads  : LN -> Linear+GELU -> grade (3 logits), flags (one logit each), SNR (dB)
// Masking: every padded position and every absent modality is excluded through key-padding
// masks and masked pooling (never zero-filled values the model could read); inputs are
// overwritten with 0 where masked, so their values cannot leak (tests check it).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "model/config.h"
#include "model/inputs.h"

namespace voxqc::model {

struct ModelOutput {
  at::Tensor gradeLogits;  // [B, 3]
  at::Tensor flagLogits;   // [B, nFlags]
  at::Tensor snrNorm;      // [B] (snrDb = snr.offset + snr.scale * snrNorm)
  at::Tensor snrDb() const;
  double snrOffset = 0, snrScale = 1;
};

class GraderModelImpl : public torch::nn::Module {
 public:
  explicit GraderModelImpl(const ModelConfig& cfg);
  ModelOutput forward(const ModelBatch& batch);
  const ModelConfig& config() const { return cfg_; }

  int64_t parameterCount() const;

 private:
  struct Impl;
  ModelConfig cfg_;
  std::shared_ptr<Impl> impl_;
};
TORCH_MODULE(GraderModel);

// Weights file (model.pt): torch::save-compatible archive of the module's parameters and buffers
// (nested by submodule, plain float32 tensors) plus a marker tensor "voxqc_format" = [1].
void saveWeights(GraderModel& model, const std::string& path);
// Loads weights into `model`: throws voxqc::Error naming `path` and the problem:
// NotFound (missing file), Decode (not a readable archive / not a voxqc weights file),
// InvalidArg (a parameter missing, of another shape or non-finite; extra tensors).
void loadWeights(GraderModel& model, const std::string& path);

// The flat parameter + buffer names and tensors in a stable order (for optimizers, checkpoints).
std::vector<std::pair<std::string, at::Tensor>> namedState(GraderModel& model);

}  // namespace voxqc::model
