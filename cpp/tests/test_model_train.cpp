// Native tests of the grader's training (cpp/train): a smoke run on a synthetic prepared dataset
// that the test writes (validation accuracy above chance, falling loss, final files that load),
// checkpoint + resume giving the same weights as an uninterrupted run, seed reproducibility,
// the speaker split, the learning-rate schedule and clear errors for bad data / options.
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/runtime.h"
#include "model/grader.h"
#include "model/model.h"
#include "train/data.h"
#include "train/synth.h"
#include "train/train.h"
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NEAR
#include "harness.h"

using namespace voxqc;
using namespace voxqc::train;
using voxqc::model::Fusion;
using voxqc::model::ModelConfig;
namespace fs = std::filesystem;

namespace {

ModelConfig tinyConfig(Fusion f) {
  ModelConfig c;
  c.fusion = f;
  c.dModel = 32;
  c.heads = 4;
  c.ffDim = 64;
  c.dropout = 0.1;
  c.fusionLayers = 1;
  c.audio.nMels = 32;
  c.audio.layers = 1;
  c.text.layers = 1;
  c.video.layers = 1;
  c.video.height = 24;
  c.video.width = 32;
  c.video.channels = {8, 16};
  return c;
}

std::string tempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("voxqc_test_train_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

struct ThreadsGuard {
  int before = intraOpThreads();
  ~ThreadsGuard() { useIntraOpThreads(before); }
};

// Every parameter of two weights files equal (bitwise).
bool sameWeights(const ModelConfig& cfg, const std::string& a, const std::string& b) {
  model::GraderModel ma(cfg), mb(cfg);
  model::loadWeights(ma, a);
  model::loadWeights(mb, b);
  auto pa = model::namedState(ma), pb = model::namedState(mb);
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i].second, pb[i].second)) return false;
  return true;
}

}  // namespace

VOXQC_TEST(model_train_lr_schedule) {
  TrainOptions o;
  o.outDir = "x";
  o.lr = 1e-3;
  o.warmupSteps = 10;
  o.minLrRatio = 0.1;
  CHECK_NEAR(learningRate(o, 0, 100), 1e-4, 1e-12);
  CHECK_NEAR(learningRate(o, 9, 100), 1e-3, 1e-12);
  CHECK_NEAR(learningRate(o, 10, 100), 1e-3, 1e-12);
  CHECK_NEAR(learningRate(o, 55, 100), 1e-3 * (0.1 + 0.9 * 0.5), 1e-9);
  CHECK_NEAR(learningRate(o, 100, 100), 1e-4, 1e-12);
  TrainOptions bad;
  CHECK_THROWS_CODE(bad.validate(), ErrorCode::InvalidArg, "outDir");
  bad.outDir = "x";
  bad.selectBy = "f2";
  CHECK_THROWS_CODE(bad.validate(), ErrorCode::InvalidArg, "selectBy");
}

VOXQC_TEST(model_train_speaker_split_and_manifest_errors) {
  const std::string dir = tempDir("split");
  SynthOptions so;
  so.speakers = 20;
  so.clipsPerSpeaker = 2;
  so.seconds = 0.3;
  const std::string mf = writeSyntheticDataset(dir, so);
  ModelConfig cfg = tinyConfig(Fusion::Early);
  auto ex = readManifest(resolveManifest(dir), cfg);
  CHECK_EQ(ex.size(), size_t(40));
  SplitInfo s = assignSplits(ex, 0.25);
  CHECK_EQ(s.trainExamples + s.valExamples, int64_t(40));
  CHECK(s.valSpeakers >= 1);
  CHECK(s.trainSpeakers >= 1);
  CHECK_EQ(s.assignedByHash, int64_t(40));
  std::set<std::string> tr, va;
  for (const auto& e : ex) (e.split == "val" ? va : tr).insert(e.speaker);
  for (const auto& spk : va) CHECK(!tr.count(spk));
  // deterministic
  auto ex2 = readManifest(mf, cfg);
  assignSplits(ex2, 0.25);
  for (size_t i = 0; i < ex.size(); ++i) CHECK_EQ(ex[i].split, ex2[i].split);
  // errors name the file and line
  {
    std::ofstream(dir + "/bad.jsonl") << "{\"id\":\"a\",\"audio\":\"" << ex[0].audioPath
                                      << "\",\"label\":{\"grade\":\"great\"}}\n";
    CHECK_THROWS_CODE(readManifest(dir + "/bad.jsonl", cfg), ErrorCode::InvalidArg, "bad.jsonl line 1");
    std::ofstream(dir + "/bad2.jsonl") << "{\"id\":\"a\",\"audio\":\"" << ex[0].audioPath
                                       << "\",\"label\":{\"grade\":\"low\",\"flags\":[\"hum\"]}}\n";
    CHECK_THROWS_CODE(readManifest(dir + "/bad2.jsonl", cfg), ErrorCode::InvalidArg, "unknown flag \"hum\"");
    std::ofstream(dir + "/bad3.jsonl") << "{\"id\":\"a\",\"audio\":\"/nonexistent.wav\",\"label\":{\"grade\":\"low\"}}\n";
    CHECK_THROWS_CODE(readManifest(dir + "/bad3.jsonl", cfg), ErrorCode::NotFound, "/nonexistent.wav");
  }
  fs::remove_all(dir);
}

VOXQC_TEST(model_train_smoke_learns_synthetic_grades) {
  ThreadsGuard tg;
  const std::string dir = tempDir("smoke");
  SynthOptions so;
  so.speakers = 12;
  so.clipsPerSpeaker = 9;
  so.seconds = 0.8;
  so.videoFraction = 0.3;
  const std::string data = dir + "/data";
  writeSyntheticDataset(data, so);
  ModelConfig cfg = tinyConfig(Fusion::Interactive);
  TrainOptions o;
  o.outDir = dir + "/out";
  o.epochs = 8;
  o.batchSize = 8;
  o.lr = 3e-3;
  o.valFraction = 0.35;  // speakers spk4 and spk6 hash below it
  o.seed = 11;
  std::vector<std::string> phases;
  TrainResult r = voxqc::train::train(data, cfg, o, [&](const TrainProgress& p) { phases.push_back(p.phase); });
  CHECK(!r.cancelled);
  CHECK(r.valExamples > 0 && r.trainExamples > 0);
  CHECK_EQ(r.trainExamples + r.valExamples, int64_t(108));
  CHECK_EQ(int(r.history.size()), 8);
  std::printf("        split: train %lld (%lld speakers), val %lld (%lld speakers)\n",
              static_cast<long long>(r.trainExamples), static_cast<long long>(r.trainSpeakers),
              static_cast<long long>(r.valExamples), static_cast<long long>(r.valSpeakers));
  for (const auto& h : r.history)
    std::printf("        epoch %d: train loss %.4f, val accuracy %.3f macro-F1 %.3f loss %.4f\n", h.epoch, h.trainLoss,
                h.val.accuracy, h.val.macroF1, h.val.loss);
  CHECK(r.history.back().trainLoss < 0.8 * r.history.front().trainLoss);
  CHECK(r.bestEpoch >= 1);
  CHECK(r.best.accuracy > 0.6);  // chance: 1/3
  CHECK(phases.front() == "data" && phases.back() == "done");
  CHECK(fs::exists(r.modelPath) && fs::exists(r.configPath) && fs::exists(r.metricsPath));
  {
    std::ifstream f(r.metricsPath);
    nlohmann::json m = nlohmann::json::parse(f);
    CHECK_EQ(m["bestEpoch"].get<int>(), r.bestEpoch);
    CHECK(m["val"]["confusion"]["rowsTruthColsPredicted"].size() == 3);
    CHECK(m["val"]["flags"].contains("noisy"));
  }
  // The final model loads and grades its own validation clips like the training eval did.
  auto g = model::Grader::load(o.outDir);
  std::vector<float> s = loadWavMono(data + "/c0.wav", 16000);
  model::GraderInput in;
  in.samples = s.data();
  in.numSamples = s.size();
  auto out = g->grade({in});
  CHECK_EQ(out[0].gradeProbs.size(), size_t(3));
  fs::remove_all(dir);
}

VOXQC_TEST(model_train_resume_equals_uninterrupted_and_seed_reproduces) {
  ThreadsGuard tg;
  const std::string dir = tempDir("resume");
  SynthOptions so;
  so.speakers = 6;
  so.clipsPerSpeaker = 6;
  so.seconds = 0.5;
  so.explicitSplit = true;
  so.videoFraction = 0.3;
  const std::string data = dir + "/data";
  writeSyntheticDataset(data, so);
  ModelConfig cfg = tinyConfig(Fusion::Early);
  TrainOptions o;
  o.epochs = 3;
  o.batchSize = 6;
  o.threads = 1;
  o.seed = 5;
  o.progressEvery = 1;
  // A: uninterrupted.
  o.outDir = dir + "/a";
  TrainResult a = voxqc::train::train(data, cfg, o);
  CHECK_EQ(a.steps, int64_t(15));  // 30 training clips / 6 x 3 epochs
  // B: cancelled mid-epoch at step 3, resumed, cancelled again at step 7 (after an epoch's
  // evaluation and checkpoint), resumed to the end.
  o.outDir = dir + "/b";
  for (int64_t stopAt : {int64_t(3), int64_t(7)}) {
    std::atomic<bool> cancel{false};
    TrainResult part = voxqc::train::train(data, cfg, o, [&](const TrainProgress& p) {
      if (p.phase == "train" && p.step == stopAt) cancel = true;
    }, &cancel);
    CHECK(part.cancelled);
    CHECK_EQ(part.steps, stopAt);
    CHECK(!fs::exists(o.outDir + "/model.pt"));
  }
  TrainResult b = voxqc::train::train(data, cfg, o);
  CHECK(!b.cancelled);
  CHECK_EQ(b.resumedFromStep, int64_t(7));
  CHECK_EQ(b.steps, a.steps);
  CHECK_EQ(b.bestEpoch, a.bestEpoch);
  for (size_t i = 0; i < a.history.size(); ++i) {
    CHECK_EQ(a.history[i].trainLoss, b.history[i].trainLoss);
    CHECK_EQ(a.history[i].val.loss, b.history[i].val.loss);
  }
  CHECK(sameWeights(cfg, a.modelPath, b.modelPath));
  CHECK(sameWeights(cfg, dir + "/a/checkpoints/../best.pt", dir + "/b/best.pt"));
  // C: a fresh run with the same seed gives the same weights; another seed does not.
  o.outDir = dir + "/c";
  TrainResult c = voxqc::train::train(data, cfg, o);
  CHECK(sameWeights(cfg, a.modelPath, c.modelPath));
  o.outDir = dir + "/d";
  o.seed = 6;
  TrainResult d = voxqc::train::train(data, cfg, o);
  CHECK(!sameWeights(cfg, a.modelPath, d.modelPath));
  // A checkpoint of another configuration is not resumed silently.
  ModelConfig other = cfg;
  other.dModel = 48;
  o.outDir = dir + "/a";
  o.seed = 5;
  CHECK_THROWS_CODE(voxqc::train::train(data, other, o), ErrorCode::InvalidArg, "other settings");
  fs::remove_all(dir);
}
