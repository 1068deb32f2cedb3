#include "model/grader.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/runtime.h"

namespace voxqc::model {

std::vector<std::vector<size_t>> bucketByLength(const std::vector<int64_t>& lengths, int maxBatch,
                                                double maxPadRatio, int64_t maxBatchUnits) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<size_t>> out;
  std::vector<size_t> cur;
  int64_t shortest = 0;
  for (size_t i : order) {
    const int64_t len = std::max<int64_t>(lengths[i], 1);
    if (!cur.empty()) {
      const bool full = int64_t(cur.size()) >= std::max(1, maxBatch);
      const bool ratio = double(len) > maxPadRatio * double(std::max<int64_t>(shortest, 1));
      const bool units = maxBatchUnits > 0 && int64_t(cur.size() + 1) * len > maxBatchUnits;
      if (full || ratio || units) {
        out.push_back(std::move(cur));
        cur.clear();
      }
    }
    if (cur.empty()) shortest = len;
    cur.push_back(i);
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Grader::Grader(const ModelConfig& cfg, torch::Device device, GraderOptions options)
    : cfg_(cfg), device_(device), options_(options) {}

std::unique_ptr<Grader> Grader::fromConfig(const ModelConfig& cfg, const std::string& weightsPath,
                                           torch::Device device, GraderOptions options) {
  std::unique_ptr<Grader> g(new Grader(cfg, device, options));
  g->model_ = GraderModel(cfg);
  if (!weightsPath.empty()) loadWeights(g->model_, weightsPath);
  g->model_->to(device);
  g->model_->eval();
  return g;
}

std::unique_ptr<Grader> Grader::load(const std::string& dir, torch::Device device, GraderOptions options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::NotFound, "model directory " + dir + ": not found (expected config.json and model.pt)");
  const std::string cfgPath = (fs::path(dir) / "config.json").string();
  const std::string ptPath = (fs::path(dir) / "model.pt").string();
  ModelConfig cfg = ModelConfig::load(cfgPath);
  return fromConfig(cfg, ptPath, device, options);
}

ClipInput Grader::prepare(const GraderInput& in) const { return prepareClip(cfg_, in); }

ClipInput prepareClip(const ModelConfig& cfg_, const GraderInput& in) {
  ClipInput c;
  if (in.numSamples > 0 && in.samples == nullptr) throwInvalidArg("null samples pointer with numSamples > 0");
  for (size_t i = 0; i < in.numSamples; ++i)
    if (!std::isfinite(in.samples[i]))
      throwInvalidArg("sample " + std::to_string(i) + " is not finite (NaN or Inf)");
  c.feats = audioFeatures(cfg_, in.samples, in.numSamples);
  c.numSamples = int64_t(in.numSamples);
  if (in.text && cfg_.text.enabled) {
    c.hasText = true;
    c.textIds = tokenizeText(cfg_, *in.text);
  }
  if (in.video && cfg_.video.enabled && in.videoFrames > 0)
    c.video = prepareVideo(cfg_, in.video, in.videoFrames, in.videoHeight, in.videoWidth);
  else if (in.videoFrames > 0 && !in.video)
    throwInvalidArg("null video pointer with videoFrames > 0");
  c.metrics = metricVector(cfg_, [&](const std::string& name) {
    auto it = in.scores.find(name);
    return it == in.scores.end() ? std::nan("") : it->second;
  });
  return c;
}

std::vector<GradeOutput> Grader::grade(const std::vector<GraderInput>& inputs) {
  if (options_.threads > 0) useIntraOpThreads(options_.threads);
  std::vector<GradeOutput> out(inputs.size());
  if (inputs.empty()) return out;
  std::vector<int64_t> frames(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) frames[i] = featureFrames(cfg_, inputs[i].numSamples);
  c10::InferenceMode guard;
  for (const auto& group : bucketByLength(frames, options_.maxBatch, options_.maxPadRatio, options_.maxBatchFrames)) {
    std::vector<ClipInput> clips;
    clips.reserve(group.size());
    for (size_t i : group) {
      try {
        clips.push_back(prepare(inputs[i]));
      } catch (const Error& e) {
        throw Error(e.code(), "clip " + std::to_string(i) + ": " + e.what());
      }
    }
    std::vector<const ClipInput*> ptrs;
    for (const auto& c : clips) ptrs.push_back(&c);
    ModelBatch batch = collate(cfg_, ptrs);
    if (!device_.is_cpu()) batch = batch.to(device_);
    ModelOutput o = model_->forward(batch);
    at::Tensor gp = torch::softmax(o.gradeLogits, -1).to(at::kCPU).contiguous();
    at::Tensor fp = torch::sigmoid(o.flagLogits).to(at::kCPU).contiguous();
    at::Tensor snr = o.snrDb().to(at::kCPU).contiguous();
    const int64_t G = gp.size(1), NF = fp.size(1);
    for (size_t j = 0; j < group.size(); ++j) {
      GradeOutput& r = out[group[j]];
      r.gradeProbs.assign(gp.data_ptr<float>() + j * G, gp.data_ptr<float>() + (j + 1) * G);
      r.flagProbs.assign(fp.data_ptr<float>() + j * NF, fp.data_ptr<float>() + (j + 1) * NF);
      r.snrDb = snr.data_ptr<float>()[j];
      r.grade = int(std::max_element(r.gradeProbs.begin(), r.gradeProbs.end()) - r.gradeProbs.begin());
    }
  }
  return out;
}

}  // namespace voxqc::model
