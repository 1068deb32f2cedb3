#include "train/train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/runtime.h"
#include "model/grader.h"
#include "model/model.h"
#include "train/data.h"

namespace voxqc::train {

namespace fs = std::filesystem;
using nlohmann::json;
using model::ClipInput;
using model::GraderModel;
using model::ModelBatch;
using model::ModelConfig;

void TrainOptions::validate() const {
  auto bad = [](const std::string& what) { throwInvalidArg("train options: " + what); };
  if (outDir.empty()) bad("outDir is required");
  if (epochs < 1 || epochs > 100000) bad("epochs must be in [1, 100000], got " + std::to_string(epochs));
  if (batchSize < 1 || batchSize > 4096) bad("batchSize must be in [1, 4096], got " + std::to_string(batchSize));
  if (maxBatchFrames < 1) bad("maxBatchFrames must be >= 1");
  if (bucketWindow < 1) bad("bucketWindow must be >= 1");
  if (!(lr > 0 && lr < 10)) bad("lr must be in (0, 10)");
  if (!(weightDecay >= 0 && weightDecay < 1)) bad("weightDecay must be in [0, 1)");
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) bad("beta1 and beta2 must be in [0, 1)");
  if (!(adamEps > 0)) bad("adamEps must be > 0");
  if (!(warmupFraction >= 0 && warmupFraction < 1)) bad("warmupFraction must be in [0, 1)");
  if (warmupSteps < 0) bad("warmupSteps must be >= 0");
  if (!(minLrRatio >= 0 && minLrRatio <= 1)) bad("minLrRatio must be in [0, 1]");
  if (!(gradClip >= 0)) bad("gradClip must be >= 0");
  if (!(maxPosWeight >= 1)) bad("maxPosWeight must be >= 1");
  if (!(flagLossWeight >= 0 && snrLossWeight >= 0)) bad("loss weights must be >= 0");
  if (!(valFraction >= 0 && valFraction < 1)) bad("valFraction must be in [0, 1)");
  if (selectBy != "macroF1" && selectBy != "accuracy" && selectBy != "loss")
    bad("selectBy must be \"macroF1\", \"accuracy\" or \"loss\", got \"" + selectBy + "\"");
  if (keepCheckpoints < 1) bad("keepCheckpoints must be >= 1");
  if (device != "cpu" && device != "cuda") bad("device must be \"cpu\" or \"cuda\", got \"" + device + "\"");
}

json TrainOptions::toJson() const {
  return {{"epochs", epochs},       {"batchSize", batchSize},         {"maxBatchFrames", maxBatchFrames},
          {"bucketWindow", bucketWindow}, {"lr", lr},                 {"weightDecay", weightDecay},
          {"beta1", beta1},         {"beta2", beta2},                 {"adamEps", adamEps},
          {"warmupFraction", warmupFraction}, {"warmupSteps", warmupSteps}, {"minLrRatio", minLrRatio},
          {"gradClip", gradClip},   {"classBalanced", classBalanced}, {"maxPosWeight", maxPosWeight},
          {"flagLossWeight", flagLossWeight}, {"snrLossWeight", snrLossWeight}, {"seed", seed},
          {"threads", threads},     {"valFraction", valFraction},     {"selectBy", selectBy},
          {"resume", resume},       {"keepCheckpoints", keepCheckpoints}, {"device", device}};
}

double learningRate(const TrainOptions& o, int64_t step, int64_t total) {
  total = std::max<int64_t>(total, 1);
  int64_t warm = o.warmupSteps > 0 ? o.warmupSteps : int64_t(std::llround(o.warmupFraction * double(total)));
  warm = std::min(std::max<int64_t>(warm, 0), total);
  if (step < warm) return o.lr * double(step + 1) / double(warm);
  const double span = double(std::max<int64_t>(total - warm, 1));
  const double prog = std::min(1.0, double(step - warm) / span);
  return o.lr * (o.minLrRatio + (1.0 - o.minLrRatio) * 0.5 * (1.0 + std::cos(M_PI * prog)));
}

namespace {

// ---- data ---------------------------------------------------------------------------------------

ClipInput loadClip(const ModelConfig& cfg, const Example& e) {
  try {
    std::vector<float> samples = loadWavMono(e.audioPath, cfg.audio.sampleRate);
    model::GraderInput in;
    in.samples = samples.data();
    in.numSamples = samples.size();
    in.text = e.text;
    in.scores = e.scores;
    at::Tensor video;
    if (!e.videoPath.empty() && cfg.video.enabled) {
      video = loadVxv(e.videoPath);
      in.video = video.data_ptr<uint8_t>();
      in.videoFrames = video.size(0);
      in.videoHeight = video.size(1);
      in.videoWidth = video.size(2);
    }
    return model::prepareClip(cfg, in);
  } catch (const Error& err) {
    throw Error(err.code(), "example \"" + e.id + "\" (manifest line " + std::to_string(e.line) + "): " + err.what());
  }
}

class ClipCache {
 public:
  ClipCache(const ModelConfig& cfg, const std::vector<Example>& ex, int64_t budgetBytes)
      : cfg_(cfg), ex_(ex), budget_(budgetBytes) {}
  // Returns a pointer valid until the next call with the same scratch vector cleared.
  const ClipInput* get(size_t i, std::vector<ClipInput>& scratch) {
    auto it = map_.find(i);
    if (it != map_.end()) return &it->second;
    ClipInput c = loadClip(cfg_, ex_[i]);
    int64_t bytes = c.feats.numel() * 4 + int64_t(c.textIds.size()) * 8 + int64_t(c.metrics.size()) * 4 +
                    (c.video.defined() ? c.video.numel() : 0) + 256;
    if (used_ + bytes <= budget_) {
      used_ += bytes;
      return &map_.emplace(i, std::move(c)).first->second;
    }
    scratch.push_back(std::move(c));
    return &scratch.back();
  }

 private:
  const ModelConfig& cfg_;
  const std::vector<Example>& ex_;
  int64_t budget_, used_ = 0;
  std::unordered_map<size_t, ClipInput> map_;
};

// Deterministic batches of one epoch: Fisher-Yates shuffle (own, so the order does not depend on
// the standard library), windows sorted by length, cut into batches, batch order shuffled.
std::vector<std::vector<size_t>> makeBatches(const std::vector<size_t>& items, const std::vector<Example>& ex,
                                             const ModelConfig& cfg, const TrainOptions& o, int epoch) {
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) * 0xBF58476D1CE4E5B9ULL + 1);
  auto uniform = [&](uint64_t n) { return n ? rng() % n : 0; };
  std::vector<size_t> order = items;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(uniform(i))]);
  const size_t window = size_t(o.batchSize) * size_t(o.bucketWindow);
  std::vector<std::vector<size_t>> batches;
  for (size_t s = 0; s < order.size(); s += window) {
    const size_t e = std::min(order.size(), s + window);
    std::stable_sort(order.begin() + long(s), order.begin() + long(e),
                     [&](size_t a, size_t b) { return ex[a].numSamples < ex[b].numSamples; });
    std::vector<size_t> cur;
    int64_t longest = 0;
    for (size_t k = s; k < e; ++k) {
      const int64_t frames = model::featureFrames(cfg, size_t(ex[order[k]].numSamples));
      const int64_t nl = std::max(longest, frames);
      if (!cur.empty() && (int64_t(cur.size()) >= o.batchSize || int64_t(cur.size() + 1) * nl > o.maxBatchFrames)) {
        batches.push_back(std::move(cur));
        cur.clear();
        longest = 0;
      }
      cur.push_back(order[k]);
      longest = std::max(longest, frames);
    }
    if (!cur.empty()) batches.push_back(std::move(cur));
  }
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[size_t(uniform(i))]);
  return batches;
}

// ---- loss ---------------------------------------------------------------------------------------

struct Targets {
  at::Tensor grade, flags, snrNorm, snrKnown;  // [B], [B,NF], [B], [B] float
};

Targets targetsOf(const std::vector<size_t>& idx, const std::vector<Example>& ex, const ModelConfig& cfg,
                  const at::Device& dev) {
  const int64_t B = int64_t(idx.size()), NF = int64_t(cfg.flags.size());
  Targets t;
  t.grade = at::empty({B}, at::kLong);
  t.flags = at::empty({B, NF}, at::kFloat);
  t.snrNorm = at::zeros({B}, at::kFloat);
  t.snrKnown = at::zeros({B}, at::kFloat);
  for (int64_t i = 0; i < B; ++i) {
    const Example& e = ex[idx[size_t(i)]];
    t.grade.data_ptr<int64_t>()[i] = e.grade;
    std::copy(e.flags.begin(), e.flags.end(), t.flags.data_ptr<float>() + i * NF);
    if (std::isfinite(e.snrDb)) {
      t.snrNorm.data_ptr<float>()[i] = float((e.snrDb - cfg.snr.offset) / cfg.snr.scale);
      t.snrKnown.data_ptr<float>()[i] = 1.0f;
    }
  }
  if (!dev.is_cpu()) {
    t.grade = t.grade.to(dev);
    t.flags = t.flags.to(dev);
    t.snrNorm = t.snrNorm.to(dev);
    t.snrKnown = t.snrKnown.to(dev);
  }
  return t;
}

struct LossWeights {
  at::Tensor classW, posW;
  double flagW = 1, snrW = 0.2;
};

// Batch training loss (scalar) and per-example evaluation losses (unweighted CE).
at::Tensor batchLoss(const model::ModelOutput& o, const Targets& t, const LossWeights& w, at::Tensor* perExample) {
  namespace F = torch::nn::functional;
  at::Tensor ce = F::cross_entropy(o.gradeLogits, t.grade, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  at::Tensor cw = w.classW.index_select(0, t.grade);
  at::Tensor bce = F::binary_cross_entropy_with_logits(
                       o.flagLogits, t.flags,
                       F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(w.posW).reduction(torch::kNone))
                       .mean(1);
  at::Tensor snr = F::smooth_l1_loss(o.snrNorm, t.snrNorm, F::SmoothL1LossFuncOptions().reduction(torch::kNone)) * t.snrKnown;
  if (perExample) *perExample = (ce + w.flagW * bce + w.snrW * snr).detach();
  return (ce * cw).sum() / cw.sum() + w.flagW * bce.mean() + w.snrW * snr.sum() / t.snrKnown.sum().clamp_min(1.0);
}

// ---- optimizer (AdamW, decoupled weight decay) ---------------------------------------------------

struct AdamW {
  std::vector<std::string> names;
  std::vector<at::Tensor> params, m, v;
  std::vector<bool> decay;
  int64_t t = 0;
  void init(GraderModel& model) {
    for (const auto& p : model->named_parameters(true)) {
      names.push_back(p.key());
      params.push_back(p.value());
      m.push_back(torch::zeros_like(p.value()));
      v.push_back(torch::zeros_like(p.value()));
      decay.push_back(p.value().dim() >= 2 && p.key().find("Emb") == std::string::npos &&
                      p.key().find("modality") == std::string::npos && p.key().find("metricName") == std::string::npos);
    }
  }
  void step(double lr, const TrainOptions& o) {
    torch::NoGradGuard ng;
    ++t;
    const double bc1 = 1.0 - std::pow(o.beta1, double(t)), bc2 = 1.0 - std::pow(o.beta2, double(t));
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor& p = params[i];
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      if (decay[i] && o.weightDecay > 0) p.mul_(1.0 - lr * o.weightDecay);
      m[i].mul_(o.beta1).add_(g, 1.0 - o.beta1);
      v[i].mul_(o.beta2).addcmul_(g, g, 1.0 - o.beta2);
      at::Tensor denom = (v[i] / bc2).sqrt_().add_(o.adamEps);
      p.addcdiv_(m[i], denom, -lr / bc1);
    }
  }
};

// ---- checkpoints ------------------------------------------------------------------------------

at::Tensor cpuRngState() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void setCpuRngState(const at::Tensor& s) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(s);
}

at::Tensor bytesTensor(const std::string& s) {
  at::Tensor t = at::empty({int64_t(s.size())}, at::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
  return t;
}

std::string tensorBytes(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU).to(at::kByte).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), size_t(c.numel()));
}

json vecJson(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? json(x) : json(nullptr));
  return a;
}
std::vector<double> jsonVec(const json& a) {
  std::vector<double> v;
  for (const auto& x : a) v.push_back(x.is_number() ? x.get<double>() : std::nan(""));
  return v;
}
double jnum(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::nan("");
}
json num(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

json rawMetrics(const EvalMetrics& m) {
  return {{"n", m.n},
          {"loss", num(m.loss)},
          {"accuracy", num(m.accuracy)},
          {"macroF1", num(m.macroF1)},
          {"gradeF1", vecJson(m.gradeF1)},
          {"confusion", m.confusion},
          {"flagF1", vecJson(m.flagF1)},
          {"flagSupport", m.flagSupport},
          {"flagMacroF1", num(m.flagMacroF1)},
          {"snrMae", num(m.snrMae)},
          {"snrCount", m.snrCount}};
}
EvalMetrics metricsFromRaw(const json& j) {
  EvalMetrics m;
  m.n = j.value("n", int64_t(0));
  m.loss = jnum(j, "loss");
  m.accuracy = jnum(j, "accuracy");
  m.macroF1 = jnum(j, "macroF1");
  m.gradeF1 = jsonVec(j["gradeF1"]);
  m.confusion = j["confusion"].get<std::vector<std::vector<int64_t>>>();
  m.flagF1 = jsonVec(j["flagF1"]);
  m.flagSupport = j["flagSupport"].get<std::vector<int64_t>>();
  m.flagMacroF1 = jnum(j, "flagMacroF1");
  m.snrMae = jnum(j, "snrMae");
  m.snrCount = j.value("snrCount", int64_t(0));
  return m;
}
json rawEpoch(const EpochRecord& r) {
  json j = {{"epoch", r.epoch}, {"step", r.step}, {"trainLoss", num(r.trainLoss)}, {"lr", r.lr},
            {"hasVal", r.hasVal}, {"seconds", r.seconds}};
  if (r.hasVal) j["val"] = rawMetrics(r.val);
  return j;
}
EpochRecord epochFromRaw(const json& j) {
  EpochRecord r;
  r.epoch = j["epoch"].get<int>();
  r.step = j["step"].get<int64_t>();
  r.trainLoss = jnum(j, "trainLoss");
  r.lr = jnum(j, "lr");
  r.hasVal = j.value("hasVal", false);
  r.seconds = jnum(j, "seconds");
  if (r.hasVal) r.val = metricsFromRaw(j["val"]);
  return r;
}

// What must match for a checkpoint to be resumed.
json fingerprint(const ModelConfig& cfg, const TrainOptions& o, size_t nTrain, size_t nVal) {
  json f = o.toJson();
  for (const char* k : {"threads", "resume", "keepCheckpoints", "device"}) f.erase(k);
  f["config"] = json::parse(cfg.toJson(0));
  f["trainExamples"] = nTrain;
  f["valExamples"] = nVal;
  return f;
}

struct RunState {
  int epoch = 0;            // epoch in progress (0-based)
  int64_t batch = 0;        // next batch index within that epoch
  int64_t step = 0;         // optimizer steps done
  double epochLossSum = 0;  // over the batches of the current epoch done so far
  int64_t epochLossCount = 0;
  std::vector<EpochRecord> history;
  int bestEpoch = 0;
  double bestScore = -std::numeric_limits<double>::infinity();
  double bestLoss = std::numeric_limits<double>::infinity();
  int64_t resumedFrom = 0;
};

std::string checkpointName(int64_t step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "ckpt-%010lld.pt", static_cast<long long>(step));
  return buf;
}

std::vector<fs::path> listCheckpoints(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n.rfind("ckpt-", 0) == 0 && e.path().extension() == ".pt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());  // zero-padded step: lexical = numeric
  return out;
}

void saveCheckpoint(const fs::path& dir, GraderModel& model, const AdamW& opt, const RunState& st,
                    const json& fp, int keep) {
  fs::create_directories(dir);
  json s = {{"format", "voxqc-checkpoint"}, {"version", 1},           {"epoch", st.epoch},
            {"batch", st.batch},            {"step", st.step},        {"epochLossSum", st.epochLossSum},
            {"epochLossCount", st.epochLossCount}, {"bestEpoch", st.bestEpoch},
            {"bestScore", num(st.bestScore)}, {"bestLoss", num(st.bestLoss)}, {"fingerprint", fp}};
  json h = json::array();
  for (const auto& r : st.history) h.push_back(rawEpoch(r));
  s["history"] = h;
  const fs::path path = dir / checkpointName(st.step);
  const fs::path tmp = dir / (checkpointName(st.step) + ".tmp");
  try {
    torch::serialize::OutputArchive ar, mAr, aM, aV;
    model->save(mAr);
    for (size_t i = 0; i < opt.params.size(); ++i) {
      aM.write("p" + std::to_string(i), opt.m[i].to(at::kCPU), true);
      aV.write("p" + std::to_string(i), opt.v[i].to(at::kCPU), true);
    }
    ar.write("model", mAr);
    ar.write("adam_m", aM);
    ar.write("adam_v", aV);
    ar.write("adam_t", torch::tensor({opt.t}), true);
    ar.write("rng", cpuRngState(), true);
    ar.write("state", bytesTensor(s.dump()), true);
    ar.save_to(tmp.string());
    fs::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error(ErrorCode::Native, "cannot write checkpoint " + path.string() + ": " + e.what());
  }
  auto all = listCheckpoints(dir);
  for (size_t i = 0; i + size_t(keep) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i], ec);
  }
}

// Loads a checkpoint; throws Error(Decode) when unreadable, Error(InvalidArg) when it belongs to
// another configuration / options.
void loadCheckpoint(const fs::path& path, GraderModel& model, AdamW& opt, RunState& st, const json& fp,
                    const at::Device& dev) {
  torch::serialize::InputArchive ar;
  json s;
  try {
    ar.load_from(path.string(), dev);
    at::Tensor t;
    ar.read("state", t, true);
    s = json::parse(tensorBytes(t));
  } catch (const std::exception& e) {
    throwDecode("checkpoint " + path.string() + ": not readable (" + std::string(e.what()).substr(0, 200) + ")");
  }
  if (s.value("format", "") != "voxqc-checkpoint")
    throwDecode("checkpoint " + path.string() + ": not a voxqc training checkpoint");
  if (s["fingerprint"] != fp) {
    std::string diff;
    const json& old = s["fingerprint"];
    for (auto it = fp.begin(); it != fp.end(); ++it)
      if (!old.contains(it.key()) || old[it.key()] != it.value()) diff += (diff.empty() ? "" : ", ") + it.key();
    throwInvalidArg("checkpoint " + path.string() + " was made by a run with other settings (" + diff +
                    "); use another output directory or resume=false to start over");
  }
  try {
    torch::serialize::InputArchive mAr, aM, aV;
    ar.read("model", mAr);
    model->load(mAr);
    ar.read("adam_m", aM);
    ar.read("adam_v", aV);
    torch::NoGradGuard ng;
    for (size_t i = 0; i < opt.params.size(); ++i) {
      at::Tensor m, v;
      aM.read("p" + std::to_string(i), m, true);
      aV.read("p" + std::to_string(i), v, true);
      if (m.sizes() != opt.m[i].sizes() || v.sizes() != opt.v[i].sizes())
        throwDecode("checkpoint " + path.string() + ": optimizer state of \"" + opt.names[i] + "\" has the wrong shape");
      opt.m[i].copy_(m);
      opt.v[i].copy_(v);
    }
    at::Tensor t, rng;
    ar.read("adam_t", t, true);
    opt.t = t.item<int64_t>();
    ar.read("rng", rng, true);
    setCpuRngState(rng.to(at::kCPU));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throwDecode("checkpoint " + path.string() + ": " + std::string(e.what()).substr(0, 200));
  }
  st.epoch = s["epoch"].get<int>();
  st.batch = s["batch"].get<int64_t>();
  st.step = s["step"].get<int64_t>();
  st.epochLossSum = s["epochLossSum"].get<double>();
  st.epochLossCount = s["epochLossCount"].get<int64_t>();
  st.bestEpoch = s["bestEpoch"].get<int>();
  st.bestScore = s["bestScore"].is_number() ? s["bestScore"].get<double>() : -std::numeric_limits<double>::infinity();
  st.bestLoss = s["bestLoss"].is_number() ? s["bestLoss"].get<double>() : std::numeric_limits<double>::infinity();
  st.history.clear();
  for (const auto& h : s["history"]) st.history.push_back(epochFromRaw(h));
  st.resumedFrom = st.step;
}

double selectionScore(const EvalMetrics& m, const std::string& by) {
  double v = by == "accuracy" ? m.accuracy : by == "loss" ? -m.loss : m.macroF1;
  return std::isfinite(v) ? v : -std::numeric_limits<double>::infinity();
}

EvalMetrics evaluate(GraderModel& model, const ModelConfig& cfg, const std::vector<Example>& ex,
                     const std::vector<size_t>& items, ClipCache& cache, const LossWeights& w, const TrainOptions& o,
                     const at::Device& dev) {
  MetricAccumulator acc(int(cfg.grades.size()), int(cfg.flags.size()));
  if (items.empty()) return acc.finish();
  model->eval();
  torch::NoGradGuard ng;
  std::vector<int64_t> lens;
  for (size_t i : items) lens.push_back(model::featureFrames(cfg, size_t(ex[i].numSamples)));
  for (const auto& group : model::bucketByLength(lens, o.batchSize * 2, 1e9, o.maxBatchFrames * 2)) {
    std::vector<size_t> idx;
    for (size_t g : group) idx.push_back(items[g]);
    std::vector<ClipInput> scratch;
    scratch.reserve(idx.size());
    std::vector<const ClipInput*> clips;
    for (size_t i : idx) clips.push_back(cache.get(i, scratch));
    ModelBatch b = model::collate(cfg, clips);
    if (!dev.is_cpu()) b = b.to(dev);
    model::ModelOutput out = model->forward(b);
    Targets t = targetsOf(idx, ex, cfg, dev);
    at::Tensor per;
    batchLoss(out, t, w, &per);
    at::Tensor pred = out.gradeLogits.argmax(1).to(at::kCPU);
    at::Tensor fp = torch::sigmoid(out.flagLogits).to(at::kCPU).contiguous();
    at::Tensor snr = out.snrDb().to(at::kCPU);
    per = per.to(at::kCPU);
    const int64_t NF = fp.size(1);
    for (size_t k = 0; k < idx.size(); ++k) {
      const Example& e = ex[idx[k]];
      acc.add(e.grade, int(pred[int64_t(k)].item<int64_t>()), e.flags, fp.data_ptr<float>() + int64_t(k) * NF, e.snrDb,
              snr[int64_t(k)].item<double>(), per[int64_t(k)].item<double>());
    }
  }
  return acc.finish();
}

}  // namespace

TrainResult train(const std::string& manifestArg, const ModelConfig& cfgIn, const TrainOptions& o,
                  ProgressFn onProgress, const std::atomic<bool>* cancel) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  o.validate();
  ModelConfig cfg = cfgIn;
  cfg.validate();
  if (o.threads > 0) useIntraOpThreads(o.threads);
  at::Device dev(at::kCPU);
  if (o.device == "cuda") {
    if (!torch::cuda::is_available()) throwInvalidArg("train options: device \"cuda\" requested but no CUDA device is available");
    dev = at::Device(at::kCUDA);
  }
  auto report = [&](TrainProgress p) {
    if (onProgress) {
      p.elapsedSec = elapsed();
      onProgress(p);
    }
  };

  // ---- data ----
  const std::string manifest = resolveManifest(manifestArg);
  std::vector<Example> ex = readManifest(manifest, cfg);
  const SplitInfo split = assignSplits(ex, o.valFraction);
  std::vector<size_t> trainIdx, valIdx;
  for (size_t i = 0; i < ex.size(); ++i) (ex[i].split == "val" ? valIdx : trainIdx).push_back(i);
  if (trainIdx.empty()) throwInvalidArg("manifest " + manifest + ": no training examples after the split");
  {
    TrainProgress p;
    p.phase = "data";
    p.epochs = o.epochs;
    std::ostringstream os;
    os << "data: " << ex.size() << " examples; train " << split.trainExamples << " (" << split.trainSpeakers
       << " speakers), val " << split.valExamples << " (" << split.valSpeakers << " speakers); "
       << split.assignedByHash << " split by speaker hash";
    p.message = os.str();
    report(p);
  }

  // ---- loss weights (from the training split) ----
  const int G = int(cfg.grades.size()), NF = int(cfg.flags.size());
  LossWeights w;
  w.flagW = o.flagLossWeight;
  w.snrW = o.snrLossWeight;
  {
    std::vector<double> cnt(size_t(G), 0), pos(size_t(NF), 0);
    for (size_t i : trainIdx) {
      cnt[size_t(ex[i].grade)] += 1;
      for (int f = 0; f < NF; ++f) pos[size_t(f)] += ex[i].flags[size_t(f)];
    }
    std::vector<float> cw(size_t(G), 1.0f), pw(size_t(NF), 1.0f);
    int present = 0;
    for (double c : cnt) present += c > 0;
    if (o.classBalanced) {
      for (int g = 0; g < G; ++g)
        if (cnt[size_t(g)] > 0) cw[size_t(g)] = float(double(trainIdx.size()) / (present * cnt[size_t(g)]));
      for (int f = 0; f < NF; ++f)
        if (pos[size_t(f)] > 0)
          pw[size_t(f)] = float(std::min(o.maxPosWeight, std::max(1.0, (double(trainIdx.size()) - pos[size_t(f)]) / pos[size_t(f)])));
    }
    w.classW = torch::tensor(cw).to(dev);
    w.posW = torch::tensor(pw).to(dev);
  }

  // ---- model + optimizer ----
  torch::manual_seed(o.seed);
  GraderModel model(cfg);
  model->to(dev);
  AdamW opt;
  opt.init(model);
  const fs::path out(o.outDir);
  const fs::path ckptDir = out / "checkpoints";
  fs::create_directories(out);
  const json fp = fingerprint(cfg, o, trainIdx.size(), valIdx.size());
  RunState st;
  if (o.resume) {
    auto cks = listCheckpoints(ckptDir);
    for (auto it = cks.rbegin(); it != cks.rend(); ++it) {
      try {
        loadCheckpoint(*it, model, opt, st, fp, dev);
        TrainProgress p;
        p.phase = "data";
        p.epochs = o.epochs;
        p.step = st.step;
        p.message = "resumed from " + it->string() + " (step " + std::to_string(st.step) + ")";
        report(p);
        break;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::InvalidArg) throw;  // another run's checkpoint: never overwrite silently
        TrainProgress p;
        p.phase = "data";
        p.message = std::string("skipping unreadable checkpoint: ") + e.what();
        report(p);
      }
    }
  }

  std::vector<std::vector<std::vector<size_t>>> epochBatches(size_t(o.epochs));
  int64_t totalSteps = 0;
  for (int e = 0; e < o.epochs; ++e) {
    epochBatches[size_t(e)] = makeBatches(trainIdx, ex, cfg, o, e);
    totalSteps += int64_t(epochBatches[size_t(e)].size());
  }
  ClipCache cache(cfg, ex, o.cacheMb * (int64_t(1) << 20));
  TrainResult res;
  res.outDir = out.string();
  res.trainExamples = split.trainExamples;
  res.valExamples = split.valExamples;
  res.trainSpeakers = split.trainSpeakers;
  res.valSpeakers = split.valSpeakers;
  res.parameters = model->parameterCount();
  res.resumedFromStep = st.resumedFrom;
  int64_t examplesSeen = 0;
  const double tTrain0 = elapsed();
  std::vector<at::Tensor> params = opt.params;

  for (int e = st.epoch; e < o.epochs; ++e) {
    const auto& batches = epochBatches[size_t(e)];
    const double tEpoch0 = elapsed();
    if (e != st.epoch) {
      st.batch = 0;
      st.epochLossSum = 0;
      st.epochLossCount = 0;
    }
    st.epoch = e;
    double lr = learningRate(o, st.step, totalSteps);
    for (int64_t bi = st.batch; bi < int64_t(batches.size()); ++bi) {
      if (cancel && cancel->load()) {
        st.batch = bi;
        saveCheckpoint(ckptDir, model, opt, st, fp, o.keepCheckpoints);
        res.cancelled = true;
        res.steps = st.step;
        res.epochsDone = e;
        res.history = st.history;
        res.bestEpoch = st.bestEpoch;
        if (st.bestEpoch > 0) res.best = st.history[size_t(st.bestEpoch - 1)].val;
        TrainProgress p;
        p.phase = "cancelled";
        p.epoch = e + 1;
        p.epochs = o.epochs;
        p.step = st.step;
        p.totalSteps = totalSteps;
        p.message = "cancelled at step " + std::to_string(st.step) + "; checkpoint saved, run again to resume";
        report(p);
        return res;
      }
      model->train();
      const auto& idx = batches[size_t(bi)];
      std::vector<ClipInput> scratch;
      scratch.reserve(idx.size());
      std::vector<const ClipInput*> clips;
      for (size_t i : idx) clips.push_back(cache.get(i, scratch));
      ModelBatch b = model::collate(cfg, clips);
      if (!dev.is_cpu()) b = b.to(dev);
      Targets t = targetsOf(idx, ex, cfg, dev);
      for (auto& p : params)
        if (p.grad().defined()) p.mutable_grad().zero_();
      model::ModelOutput outp = model->forward(b);
      at::Tensor loss = batchLoss(outp, t, w, nullptr);
      const double lv = loss.item<double>();
      if (!std::isfinite(lv))
        throw Error(ErrorCode::Native, "training diverged: loss is " + std::to_string(lv) + " at step " +
                                           std::to_string(st.step) + " (lower lr?)");
      loss.backward();
      if (o.gradClip > 0) torch::nn::utils::clip_grad_norm_(params, o.gradClip);
      lr = learningRate(o, st.step, totalSteps);
      opt.step(lr, o);
      ++st.step;
      st.epochLossSum += lv;
      ++st.epochLossCount;
      examplesSeen += int64_t(idx.size());
      if (o.progressEvery > 0 && (st.step % o.progressEvery == 0 || bi + 1 == int64_t(batches.size()))) {
        TrainProgress p;
        p.phase = "train";
        p.epoch = e + 1;
        p.epochs = o.epochs;
        p.step = st.step;
        p.totalSteps = totalSteps;
        p.loss = st.epochLossSum / double(std::max<int64_t>(st.epochLossCount, 1));
        p.lr = lr;
        p.examplesPerSec = double(examplesSeen) / std::max(1e-9, elapsed() - tTrain0);
        std::ostringstream os;
        os << "epoch " << e + 1 << "/" << o.epochs << " step " << st.step << "/" << totalSteps << " loss "
           << p.loss << " lr " << lr;
        p.message = os.str();
        report(p);
      }
    }
    // ---- end of epoch: evaluate, keep the best, checkpoint ----
    EpochRecord rec;
    rec.epoch = e + 1;
    rec.step = st.step;
    rec.trainLoss = st.epochLossSum / double(std::max<int64_t>(st.epochLossCount, 1));
    rec.lr = lr;
    if (!valIdx.empty()) {
      rec.hasVal = true;
      rec.val = evaluate(model, cfg, ex, valIdx, cache, w, o, dev);
      const double score = selectionScore(rec.val, o.selectBy);
      if (st.bestEpoch == 0 || score > st.bestScore || (score == st.bestScore && rec.val.loss < st.bestLoss)) {
        st.bestEpoch = e + 1;
        st.bestScore = score;
        st.bestLoss = rec.val.loss;
        model::saveWeights(model, (out / "best.pt").string());
      }
    }
    rec.seconds = elapsed() - tEpoch0;
    st.history.push_back(rec);
    if (rec.hasVal) {
      TrainProgress p;
      p.phase = "eval";
      p.epoch = e + 1;
      p.epochs = o.epochs;
      p.step = st.step;
      p.totalSteps = totalSteps;
      p.loss = rec.trainLoss;
      p.lr = lr;
      p.val = &st.history.back().val;
      std::ostringstream os;
      os << "epoch " << e + 1 << " val: accuracy " << rec.val.accuracy << " macro-F1 " << rec.val.macroF1 << " loss "
         << rec.val.loss << (st.bestEpoch == e + 1 ? " (best)" : "");
      p.message = os.str();
      report(p);
    }
    st.epoch = e + 1;
    st.batch = 0;
    st.epochLossSum = 0;
    st.epochLossCount = 0;
    saveCheckpoint(ckptDir, model, opt, st, fp, o.keepCheckpoints);
    {
      TrainProgress p;
      p.phase = "checkpoint";
      p.epoch = e + 1;
      p.epochs = o.epochs;
      p.step = st.step;
      p.totalSteps = totalSteps;
      p.message = "checkpoint " + (ckptDir / checkpointName(st.step)).string();
      report(p);
    }
  }

  // ---- final model ----
  const fs::path modelPath = out / "model.pt", cfgPath = out / "config.json", metricsPath = out / "metrics.json";
  if (st.bestEpoch > 0 && fs::exists(out / "best.pt")) {
    fs::copy_file(out / "best.pt", modelPath, fs::copy_options::overwrite_existing);
  } else {
    model::saveWeights(model, modelPath.string());
  }
  cfg.save(cfgPath.string());
  res.steps = st.step;
  res.epochsDone = o.epochs;
  res.history = st.history;
  res.bestEpoch = st.bestEpoch;
  if (st.bestEpoch > 0) res.best = st.history[size_t(st.bestEpoch - 1)].val;
  {
    json m;
    m["format"] = "voxqc-train-metrics";
    m["selectBy"] = o.selectBy;
    m["bestEpoch"] = st.bestEpoch;
    m["finalWeights"] = st.bestEpoch > 0 ? "best validation epoch" : "last epoch (no validation data)";
    if (st.bestEpoch > 0) m["val"] = res.best.toJson(cfg.grades, cfg.flags);
    m["split"] = {{"trainExamples", split.trainExamples}, {"valExamples", split.valExamples},
                  {"trainSpeakers", split.trainSpeakers}, {"valSpeakers", split.valSpeakers},
                  {"assignedByHash", split.assignedByHash}, {"valFraction", o.valFraction}};
    m["parameters"] = res.parameters;
    m["steps"] = st.step;
    m["resumedFromStep"] = st.resumedFrom;
    m["options"] = o.toJson();
    m["manifest"] = manifest;
    json h = json::array();
    for (const auto& r : st.history) {
      json e = {{"epoch", r.epoch}, {"step", r.step}, {"trainLoss", num(r.trainLoss)}, {"lr", r.lr}, {"seconds", r.seconds}};
      if (r.hasVal) e["val"] = r.val.toJson(cfg.grades, cfg.flags);
      h.push_back(e);
    }
    m["history"] = h;
    std::ofstream f(metricsPath, std::ios::trunc);
    f << m.dump(2) << "\n";
  }
  res.modelPath = modelPath.string();
  res.configPath = cfgPath.string();
  res.metricsPath = metricsPath.string();
  TrainProgress p;
  p.phase = "done";
  p.epoch = o.epochs;
  p.epochs = o.epochs;
  p.step = st.step;
  p.totalSteps = totalSteps;
  p.message = "done: " + res.modelPath + (st.bestEpoch ? " (best epoch " + std::to_string(st.bestEpoch) + ")" : "");
  report(p);
  return res;
}

}  // namespace voxqc::train
