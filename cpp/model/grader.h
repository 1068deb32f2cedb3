// Inference with the learned grader: load a model directory (config.json + model.pt) and grade
// clips (16 kHz mono samples, optional UTF-8 text, optional video frames, metric scores).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/config.h"
#include "model/model.h"

namespace voxqc::model {

// One clip to grade. Pointers are borrowed for the duration of grade().
struct GraderInput {
  const float* samples = nullptr;  // mono samples at config.audio.sampleRate (16 kHz), in [-1, 1]
  size_t numSamples = 0;
  std::optional<std::string> text;  // UTF-8 transcript; nullopt = no text
  const uint8_t* video = nullptr;   // grayscale frames [frames][height][width], row-major; null = no video
  int64_t videoFrames = 0, videoHeight = 0, videoWidth = 0;  // at config.video.fps (25)
  std::map<std::string, double> scores;  // metric name -> value (NaN or absent = unknown; bools 0/1)
};

struct GradeOutput {
  std::vector<float> gradeProbs;  // config.grades order: high, medium, low (softmax, sums to 1)
  std::vector<float> flagProbs;   // config.flags order (sigmoid each)
  float snrDb = 0;                // predicted SNR in dB
  int grade = 0;                  // argmax of gradeProbs
};

struct GraderOptions {
  int threads = 0;              // intra-op threads for grade() (0 = leave libtorch's setting)
  int maxBatch = 16;            // clips per forward pass
  double maxPadRatio = 1.25;    // a batch's longest clip is at most this x its shortest (bucketing)
  int64_t maxBatchFrames = 60000;  // cap on batch size x longest clip's feature frames
};

// Prepares one clip as the model sees it (features, text tokens, frames, metric values); what
// Grader::grade and training both use. Throws Error(InvalidArg) for invalid input.
ClipInput prepareClip(const ModelConfig& cfg, const GraderInput& input);

class Grader {
 public:
  // dir holds config.json and model.pt. Throws voxqc::Error naming the file and the problem:
  // NotFound (missing file), Decode (corrupt weights), InvalidArg (bad config, weights that do
  // not match the config).
  static std::unique_ptr<Grader> load(const std::string& dir, torch::Device device = torch::kCPU,
                                       GraderOptions options = {});
  // From a config and a weights file path (empty path = keep the random initialisation: tests).
  static std::unique_ptr<Grader> fromConfig(const ModelConfig& cfg, const std::string& weightsPath,
                                            torch::Device device = torch::kCPU, GraderOptions options = {});

  // Grades every clip; results in input order. Clips are sorted by length and batched (see
  // GraderOptions). May be called from several threads at once (inference only reads the module).
  // Invalid input (NaN samples, null pointers with a length, bad video shapes) throws
  // Error(InvalidArg) naming the clip index.
  std::vector<GradeOutput> grade(const std::vector<GraderInput>& inputs);

  // Prepare one clip (features, tokens, frames, metrics) as grade() does.
  ClipInput prepare(const GraderInput& input) const;

  const ModelConfig& config() const { return cfg_; }
  const std::vector<std::string>& gradeNames() const { return cfg_.grades; }
  const std::vector<std::string>& flagNames() const { return cfg_.flags; }
  int64_t parameterCount() const { return model_->parameterCount(); }
  GraderModel& module() { return model_; }
  GraderOptions& options() { return options_; }

 private:
  Grader(const ModelConfig& cfg, torch::Device device, GraderOptions options);
  ModelConfig cfg_;
  torch::Device device_;
  GraderOptions options_;
  GraderModel model_{nullptr};
};

// Batches `lengths` (indices into it) into groups of similar length: sorted by length, a new
// batch starts when maxBatch is reached, the longest would exceed maxPadRatio x the shortest, or
// batch size x longest > maxBatchUnits. Deterministic.
std::vector<std::vector<size_t>> bucketByLength(const std::vector<int64_t>& lengths, int maxBatch,
                                                double maxPadRatio, int64_t maxBatchUnits);

}  // namespace voxqc::model
