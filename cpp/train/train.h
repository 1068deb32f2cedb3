// Training of the learned grader (C++ on libtorch). One call runs (or resumes) a whole run:
//   train(manifest, config, options, onProgress, cancel)
// reads the prepared manifest (train/data.h), splits by speaker when the manifest does not,
// trains with AdamW + linear warm-up + cosine decay + gradient clipping on a class-balanced loss,
// evaluates on the validation split every epoch, checkpoints every epoch (and when cancelled),
// resumes from the newest checkpoint in outDir, and writes the best-on-validation weights as the
// final model: outDir/model.pt + config.json + metrics.json.
//
// Files in outDir:
//   checkpoints/ckpt-<step>.pt  model + optimizer moments + step/epoch/batch + RNG state + run
//                               state (newest `keepCheckpoints` kept)
//   best.pt                     weights of the best validation epoch so far
//   model.pt, config.json, metrics.json   the final model (written at the end of the run)
//
// Reproducibility: a fixed seed gives the same data order (a function of seed and epoch only),
// the same initialisation and the same dropout masks; with threads = 1 two runs give identical
// weights, and an interrupted + resumed run gives the same weights as an uninterrupted one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/config.h"
#include "train/metrics.h"

namespace voxqc::train {

struct TrainOptions {
  std::string outDir;              // required: where checkpoints and the final model go
  int epochs = 20;
  int batchSize = 16;              // clips per step (before the frame cap below)
  int64_t maxBatchFrames = 48000;  // cap on clips x longest clip's feature frames (10 ms each)
  int bucketWindow = 32;           // length bucketing: shuffle, then sort windows of this many batches
  double lr = 1e-3;                // peak learning rate
  double weightDecay = 0.01;       // AdamW decoupled decay (matrices only; not biases/norms)
  double beta1 = 0.9, beta2 = 0.98, adamEps = 1e-8;
  double warmupFraction = 0.05;    // of all steps (linear warm-up), unless warmupSteps > 0
  int64_t warmupSteps = 0;
  double minLrRatio = 0.05;        // cosine decays to lr * minLrRatio
  double gradClip = 1.0;           // max global L2 norm of the gradients (0 = off)
  bool classBalanced = true;       // grade CE weighted by inverse class frequency; flag BCE pos_weight
  double maxPosWeight = 10.0;      // cap of the flag pos_weight (neg/pos)
  double flagLossWeight = 1.0;
  double snrLossWeight = 0.2;      // smooth-L1 on the normalised SNR, masked when unknown
  uint64_t seed = 1234;
  int threads = 0;                 // intra-op threads (0 = libtorch's setting); 1 for bitwise reproducibility
  double valFraction = 0.1;        // share of speakers hashed into validation (split null)
  std::string selectBy = "macroF1";  // best epoch by "macroF1", "accuracy" or "loss" (val)
  bool resume = true;              // continue from the newest checkpoint in outDir when there is one
  int keepCheckpoints = 2;
  int64_t progressEvery = 10;      // steps between "train" progress events
  int64_t cacheMb = 2048;          // in-memory cache of prepared clips (features, tokens, frames)
  std::string device = "cpu";      // "cpu" or "cuda" (CUDA builds only; resume is bitwise only on CPU)

  void validate() const;           // Error(InvalidArg) naming the option
  nlohmann::json toJson() const;
};

struct EpochRecord {
  int epoch = 0;          // 1-based
  int64_t step = 0;       // global steps done at the end of the epoch
  double trainLoss = 0;   // mean training loss over the epoch
  double lr = 0;          // at the end of the epoch
  bool hasVal = false;
  EvalMetrics val;
  double seconds = 0;
};

struct TrainProgress {
  std::string phase;       // "data", "train", "eval", "checkpoint", "done", "cancelled"
  int epoch = 0;           // 1-based, current
  int epochs = 0;
  int64_t step = 0;        // global optimizer steps done
  int64_t totalSteps = 0;
  double loss = 0;         // running mean of the training loss in this epoch
  double lr = 0;
  double elapsedSec = 0;
  double examplesPerSec = 0;
  const EvalMetrics* val = nullptr;  // phase "eval": this epoch's validation metrics (valid
                                     // during the callback only; copy what you keep)
  std::string message;     // human-readable line
};

struct TrainResult {
  std::string outDir, modelPath, configPath, metricsPath;  // modelPath etc. empty when cancelled
  bool cancelled = false;
  int64_t resumedFromStep = 0;  // 0 when the run started fresh
  int epochsDone = 0;
  int64_t steps = 0;
  int bestEpoch = 0;            // 1-based; 0 = none (no validation data: the last epoch is used)
  EvalMetrics best;             // validation metrics of the best epoch
  std::vector<EpochRecord> history;
  int64_t trainExamples = 0, valExamples = 0, trainSpeakers = 0, valSpeakers = 0;
  int64_t parameters = 0;
};

using ProgressFn = std::function<void(const TrainProgress&)>;

// manifest: a .jsonl file or a directory holding manifest.jsonl. Throws voxqc::Error
// (InvalidArg / NotFound / Decode) for bad options, data or checkpoints; a cancelled run saves a
// checkpoint and returns with cancelled = true (call again to resume).
TrainResult train(const std::string& manifest, const model::ModelConfig& config, const TrainOptions& options,
                  ProgressFn onProgress = nullptr, const std::atomic<bool>* cancel = nullptr);

// Learning rate at optimizer step `step` (0-based) of `total` (warm-up then cosine).
double learningRate(const TrainOptions& o, int64_t step, int64_t total);

}  // namespace voxqc::train
