// Native tests of the learned grader's model (cpp/model): output shapes for every fusion mode and
// modality combination, masking (padded frames, absent modalities, batch == one by one), the
// fused and the reference attention giving the same outputs, gradients reaching every parameter,
// the weights file (round trip, clear errors for missing / corrupt / mismatched files), the
// committed models/tiny and models/broken, and the config file.
#include <torch/torch.h>

#include <cmath>
#include <set>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <time.h>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"
#include "model/attend.h"
#include "model/config.h"
#include "model/grader.h"
#include "model/inputs.h"
#include "model/linear.h"
#include "model/model.h"
// ATen (glog) defines CHECK macros of its own: the harness's are the ones meant here.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NEAR
#include "harness.h"

using namespace voxqc;
using namespace voxqc::model;
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

const Fusion kFusions[] = {Fusion::Early, Fusion::Late, Fusion::Interactive};

struct ClipData {
  std::vector<float> samples;
  std::optional<std::string> text;
  std::vector<uint8_t> video;
  int64_t F = 0, H = 0, W = 0;
  std::map<std::string, double> scores;
};

ClipData makeClip(uint64_t seed, double seconds, bool text, bool video, bool scores) {
  std::mt19937 rng{static_cast<uint32_t>(seed)};
  std::normal_distribution<float> n(0.f, 0.1f);
  ClipData c;
  c.samples.resize(size_t(seconds * 16000));
  const double f0 = 120 + 10 * double(seed % 7);
  for (size_t i = 0; i < c.samples.size(); ++i)
    c.samples[i] = float(0.3 * std::sin(2 * M_PI * f0 * double(i) / 16000.0)) + n(rng);
  if (text) c.text = seed % 2 ? std::string("今天天气很好 ok") : std::string("hello world");
  if (video) {
    c.F = int64_t(seconds * 25);
    c.H = 30;  // resized to the config's 24x32
    c.W = 40;
    c.video.resize(size_t(c.F * c.H * c.W));
    std::uniform_int_distribution<int> px(0, 255);
    for (auto& v : c.video) v = uint8_t(px(rng));
  }
  if (scores) {
    c.scores["snrDb"] = 12.5;
    c.scores["speechSec"] = seconds;
    c.scores["truncatedStart"] = 1.0;
    c.scores["clippedFraction"] = std::nan("");
  }
  return c;
}

GraderInput inputOf(const ClipData& c) {
  GraderInput in;
  in.samples = c.samples.data();
  in.numSamples = c.samples.size();
  in.text = c.text;
  if (!c.video.empty()) {
    in.video = c.video.data();
    in.videoFrames = c.F;
    in.videoHeight = c.H;
    in.videoWidth = c.W;
  }
  in.scores = c.scores;
  return in;
}

// The four modality combinations, of different lengths, in one batch.
std::vector<ClipData> mixedClips() {
  return {makeClip(1, 0.55, false, false, false), makeClip(2, 1.3, true, false, true),
          makeClip(3, 0.9, false, true, true), makeClip(4, 1.05, true, true, true)};
}

ModelBatch batchOf(const ModelConfig& cfg, const std::vector<ClipData>& clips) {
  std::vector<ClipInput> prepared;
  for (const auto& c : clips) prepared.push_back(prepareClip(cfg, inputOf(c)));
  std::vector<const ClipInput*> ptrs;
  for (const auto& p : prepared) ptrs.push_back(&p);
  return collate(cfg, ptrs);
}

double maxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

std::string tempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("voxqc_test_model_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

}  // namespace

VOXQC_TEST(model_config_roundtrip_and_errors) {
  ModelConfig c = tinyConfig(Fusion::Late);
  ModelConfig d = ModelConfig::fromJson(c.toJson());
  CHECK_EQ(d.toJson(), c.toJson());
  CHECK(ModelConfig::fromJson("{}").toJson() == ModelConfig().toJson());
  CHECK_EQ(int(ModelConfig().flags.size()), 12);
  CHECK_THROWS_CODE(ModelConfig::fromJson("{\"fusion\": \"middle\"}"), ErrorCode::InvalidArg, "fusion");
  CHECK_THROWS_CODE(ModelConfig::fromJson("{\"dModl\": 64}"), ErrorCode::InvalidArg, "unknown field \"dModl\"");
  CHECK_THROWS_CODE(ModelConfig::fromJson("{\"dModel\": 30, \"heads\": 4}"), ErrorCode::InvalidArg, "multiple of heads");
  CHECK_THROWS_CODE(ModelConfig::fromJson("{\"audio\": {\"nMels\": \"x\"}}"), ErrorCode::InvalidArg, "audio.nMels");
  CHECK_THROWS_CODE(ModelConfig::fromJson("{nope"), ErrorCode::InvalidArg, "not valid JSON");
  CHECK_THROWS_CODE(ModelConfig::load("/nonexistent/config.json"), ErrorCode::NotFound, "/nonexistent/config.json");
}

VOXQC_TEST(model_inputs) {
  ModelConfig c = tinyConfig(Fusion::Early);
  CHECK_EQ(featureFrames(c, 16000), int64_t(101));
  CHECK_EQ(subsampledLength(101), int64_t(26));
  std::vector<float> s(16000, 0.1f);
  at::Tensor f = audioFeatures(c, s.data(), s.size());
  CHECK_EQ(f.size(0), int64_t(101));
  CHECK_EQ(f.size(1), int64_t(32));
  at::Tensor e = audioFeatures(c, nullptr, 0);  // empty clip: zero-padded to one window
  CHECK(e.size(0) >= 1);
  CHECK(torch::isfinite(e).all().item<bool>());
  // UTF-8 aware truncation: never inside a character.
  c.text.maxBytes = 2 + 4;  // room for one 3-byte char plus one byte
  auto ids = tokenizeText(c, "你好");
  CHECK_EQ(ids.size(), size_t(2 + 3));
  CHECK_EQ(ids.front(), kTokBos);
  CHECK_EQ(ids.back(), kTokEos);
  auto m = metricVector(c, [](const std::string& n) { return n == "snrDb" ? 35.0 : std::nan(""); });
  CHECK_NEAR(m[0], 1.0, 1e-6);
  CHECK(std::isnan(m[1]));
}

VOXQC_TEST(model_shapes_every_fusion_and_modality_mix) {
  torch::manual_seed(0);
  for (Fusion f : kFusions) {
    ModelConfig cfg = tinyConfig(f);
    GraderModel m(cfg);
    m->eval();
    torch::NoGradGuard ng;
    auto clips = mixedClips();
    // each combination alone, and all four mixed in one batch
    for (int k = 0; k <= 4; ++k) {
      std::vector<ClipData> sel = k < 4 ? std::vector<ClipData>{clips[size_t(k)]} : clips;
      ModelBatch b = batchOf(cfg, sel);
      ModelOutput o = m->forward(b);
      const int64_t B = int64_t(sel.size());
      CHECK_EQ(o.gradeLogits.size(0), B);
      CHECK_EQ(o.gradeLogits.size(1), int64_t(3));
      CHECK_EQ(o.flagLogits.size(1), int64_t(12));
      CHECK_EQ(o.snrNorm.dim(), int64_t(1));
      CHECK_EQ(o.snrNorm.size(0), B);
      CHECK(torch::isfinite(o.gradeLogits).all().item<bool>());
      CHECK(torch::isfinite(o.flagLogits).all().item<bool>());
      CHECK(torch::isfinite(o.snrNorm).all().item<bool>());
    }
  }
}

VOXQC_TEST(model_masking_padded_and_absent_values_do_not_matter) {
  torch::manual_seed(1);
  for (Fusion f : kFusions) {
    ModelConfig cfg = tinyConfig(f);
    GraderModel m(cfg);
    m->eval();
    torch::NoGradGuard ng;
    ModelBatch b = batchOf(cfg, mixedClips());
    ModelOutput ref = m->forward(b);
    ModelBatch x = b;
    x.audio = b.audio.clone();
    x.text = b.text.clone();
    x.video = b.video.clone();
    const int64_t B = b.size();
    for (int64_t i = 0; i < B; ++i) {
      const int64_t al = b.audioLen[i].item<int64_t>(), tl = b.textLen[i].item<int64_t>(),
                    vl = b.videoLen[i].item<int64_t>();
      if (al < x.audio.size(1)) x.audio[i].narrow(0, al, x.audio.size(1) - al).normal_(0, 1e3);
      if (tl < x.text.size(1)) x.text[i].narrow(0, tl, x.text.size(1) - tl).random_(0, 256);
      if (vl < x.video.size(1)) x.video[i].narrow(0, vl, x.video.size(1) - vl).random_(0, 256);
    }
    ModelOutput o = m->forward(x);
    CHECK_EQ(maxDiff(o.gradeLogits, ref.gradeLogits), 0.0);
    CHECK_EQ(maxDiff(o.flagLogits, ref.flagLogits), 0.0);
    CHECK_EQ(maxDiff(o.snrNorm, ref.snrNorm), 0.0);
    // A present clip's values do matter (the test can see a change).
    ModelBatch y = b;
    y.audio = b.audio.clone();
    y.audio[0].narrow(0, 0, 5).add_(3.0);
    CHECK(maxDiff(m->forward(y).gradeLogits, ref.gradeLogits) > 1e-6);
  }
}

VOXQC_TEST(model_batch_equals_one_by_one) {
  torch::manual_seed(2);
  for (Fusion f : kFusions) {
    ModelConfig cfg = tinyConfig(f);
    GraderOptions go;
    go.maxPadRatio = 100;  // force one mixed batch
    auto g = Grader::fromConfig(cfg, "", torch::kCPU, go);
    auto clips = mixedClips();
    std::vector<GraderInput> ins;
    for (const auto& c : clips) ins.push_back(inputOf(c));
    auto all = g->grade(ins);
    CHECK_EQ(all.size(), size_t(4));
    for (size_t i = 0; i < clips.size(); ++i) {
      auto one = g->grade({ins[i]});
      double s = 0;
      for (int k = 0; k < 3; ++k) {
        CHECK_NEAR(one[0].gradeProbs[size_t(k)], all[i].gradeProbs[size_t(k)], 1e-5);
        s += all[i].gradeProbs[size_t(k)];
      }
      CHECK_NEAR(s, 1.0, 1e-5);
      for (int k = 0; k < 12; ++k) CHECK_NEAR(one[0].flagProbs[size_t(k)], all[i].flagProbs[size_t(k)], 1e-5);
      CHECK_NEAR(one[0].snrDb, all[i].snrDb, 1e-3);
    }
  }
}

VOXQC_TEST(model_fused_and_reference_attention_agree) {
  if (!fusedAttentionCompiled()) VOXQC_SKIP("fused attention not compiled in (switch in cpp/model/attend.cpp)");
  torch::manual_seed(3);
  for (Fusion f : kFusions) {
    ModelConfig cfg = tinyConfig(f);
    GraderModel m(cfg);
    m->eval();
    torch::NoGradGuard ng;
    ModelBatch b = batchOf(cfg, mixedClips());
    setAttentionBackend(AttentionBackend::Fused);
    ModelOutput a = m->forward(b);
    setAttentionBackend(AttentionBackend::Reference);
    ModelOutput r = m->forward(b);
    setAttentionBackend(AttentionBackend::Fused);
    CHECK(maxDiff(a.gradeLogits, r.gradeLogits) < 1e-4);
    CHECK(maxDiff(a.flagLogits, r.flagLogits) < 1e-4);
  }
}

// The oneDNN linear (forward and its hand-written backward) against at::linear.
VOXQC_TEST(model_linear_onednn_matches_aten) {
  if (!linearUsesOneDnn()) VOXQC_SKIP("libtorch without MKL-DNN: linear() is at::linear");
  torch::manual_seed(7);
  at::Tensor x = torch::randn({3, 17, 24}, torch::requires_grad());
  at::Tensor w = torch::randn({40, 24}, torch::requires_grad());
  at::Tensor b = torch::randn({40}, torch::requires_grad());
  at::Tensor g = torch::randn({3, 17, 40});
  at::Tensor y1 = linear(x, w, b);
  auto g1 = torch::autograd::grad({y1}, {x, w, b}, {g});
  setLinearOneDnn(false);
  at::Tensor y2 = linear(x, w, b);
  auto g2 = torch::autograd::grad({y2}, {x, w, b}, {g});
  setLinearOneDnn(true);
  CHECK(maxDiff(y1, y2) < 1e-4);
  for (int i = 0; i < 3; ++i) CHECK(maxDiff(g1[size_t(i)], g2[size_t(i)]) < 1e-3);
  CHECK_EQ(y1.size(2), int64_t(40));
}

// Inference products are row-padded (paddedRows) so oneDNN reuses its primitives: same result as
// at::linear for row counts around the bucket edges, and the buckets stay few and tight.
VOXQC_TEST(model_linear_padded_rows) {
  for (int64_t m : {1, 31, 32, 33, 63, 64, 65, 100, 129, 1000, 4097}) {
    const int64_t p = paddedRows(m);
    CHECK(p >= m);
    if (m > 32) CHECK(double(p) <= double(m) * 1.125 + 1);
  }
  std::set<int64_t> sizes;
  for (int64_t m = 1; m <= 4096; ++m) sizes.insert(paddedRows(m));
  CHECK(sizes.size() <= 60);  // 32, then 8 per octave from 32 to 4096
  if (!linearUsesOneDnn()) VOXQC_SKIP("libtorch without MKL-DNN: linear() is at::linear");
  torch::manual_seed(11);
  torch::NoGradGuard ng;
  at::Tensor w = torch::randn({40, 24}), b = torch::randn({40});
  for (int64_t m : {1, 33, 71, 129}) {
    at::Tensor x = torch::randn({m, 24});
    at::Tensor y = linear(x, w, b);
    CHECK_EQ(y.size(0), m);
    CHECK(maxDiff(y, at::linear(x, w, b)) < 1e-4);
  }
}

VOXQC_TEST(model_gradients_reach_every_parameter) {
  torch::manual_seed(4);
  for (Fusion f : kFusions) {
    ModelConfig cfg = tinyConfig(f);
    GraderModel m(cfg);
    m->train();
    ModelBatch b = batchOf(cfg, mixedClips());
    ModelOutput o = m->forward(b);
    (o.gradeLogits.sum() + o.flagLogits.sum() + o.snrNorm.sum()).backward();
    for (const auto& p : m->named_parameters(true)) {
      if (!p.value().grad().defined() || !torch::isfinite(p.value().grad()).all().item<bool>())
        VOXQC_FAIL(toString(f) << ": no finite gradient for " << p.key());
    }
  }
}

VOXQC_TEST(model_weights_roundtrip_and_clear_errors) {
  const std::string dir = tempDir("weights");
  torch::manual_seed(5);
  ModelConfig cfg = tinyConfig(Fusion::Interactive);
  GraderModel a(cfg);
  const std::string pt = dir + "/model.pt";
  saveWeights(a, pt);
  torch::manual_seed(6);
  GraderModel b(cfg);
  loadWeights(b, pt);
  a->eval();
  b->eval();
  {
    torch::NoGradGuard ng;
    ModelBatch batch = batchOf(cfg, mixedClips());
    CHECK_EQ(maxDiff(a->forward(batch).gradeLogits, b->forward(batch).gradeLogits), 0.0);
  }
  // missing
  CHECK_THROWS_CODE(loadWeights(b, dir + "/nope.pt"), ErrorCode::NotFound, "nope.pt");
  // not an archive
  {
    std::ofstream(dir + "/junk.pt") << "this is not a zip archive";
    CHECK_THROWS_CODE(loadWeights(b, dir + "/junk.pt"), ErrorCode::Decode, "junk.pt");
  }
  // truncated archive
  {
    std::ifstream in(pt, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/trunc.pt", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
    CHECK_THROWS_CODE(loadWeights(b, dir + "/trunc.pt"), ErrorCode::Decode, "trunc.pt");
  }
  // empty file
  {
    std::ofstream(dir + "/empty.pt");
    CHECK_THROWS_CODE(loadWeights(b, dir + "/empty.pt"), ErrorCode::Decode, "empty");
  }
  // an archive of another configuration
  {
    ModelConfig other = cfg;
    other.dModel = 48;
    GraderModel c(other);
    CHECK_THROWS_CODE(loadWeights(c, pt), ErrorCode::InvalidArg, "shape");
    ModelConfig early = cfg;
    early.fusion = Fusion::Early;
    GraderModel e(early);
    CHECK_THROWS_CODE(loadWeights(e, pt), ErrorCode::InvalidArg, "model.pt");
  }
  // a libtorch archive that is not ours
  {
    torch::serialize::OutputArchive ar;
    ar.write("x", torch::ones({3}));
    ar.save_to(dir + "/foreign.pt");
    CHECK_THROWS_CODE(loadWeights(b, dir + "/foreign.pt"), ErrorCode::Decode, "not a voxqc");
  }
  // Grader::load: missing directory / config
  CHECK_THROWS_CODE(Grader::load(dir + "/nodir"), ErrorCode::NotFound, "nodir");
  CHECK_THROWS_CODE(Grader::load(dir), ErrorCode::NotFound, "config.json");
  fs::remove_all(dir);
}

VOXQC_TEST(model_tiny_committed_loads_and_grades) {
  const std::string dir = test::repoDir() + "/models/tiny";
  if (!fs::exists(dir + "/model.pt")) VOXQC_FAIL("models/tiny/model.pt is missing");
  auto g = Grader::load(dir);
  CHECK_EQ(g->flagNames().size(), size_t(12));
  auto clips = mixedClips();
  std::vector<GraderInput> ins;
  for (const auto& c : clips) ins.push_back(inputOf(c));
  auto out = g->grade(ins);
  CHECK_EQ(out.size(), size_t(4));
  for (const auto& o : out) {
    CHECK_EQ(o.gradeProbs.size(), size_t(3));
    CHECK_EQ(o.flagProbs.size(), size_t(12));
    double s = o.gradeProbs[0] + o.gradeProbs[1] + o.gradeProbs[2];
    CHECK_NEAR(s, 1.0, 1e-5);
    CHECK(std::isfinite(o.snrDb));
  }
}

VOXQC_TEST(model_broken_committed_fails_clearly) {
  const std::string dir = test::repoDir() + "/models/broken";
  CHECK_THROWS_CODE(Grader::load(dir), ErrorCode::Decode, "models/broken/model.pt");
}

VOXQC_TEST(model_grade_rejects_bad_input) {
  auto g = Grader::fromConfig(tinyConfig(Fusion::Early), "");
  std::vector<float> s(1600, 0.f);
  s[100] = std::nanf("");
  GraderInput in;
  in.samples = s.data();
  in.numSamples = s.size();
  CHECK_THROWS_CODE(g->grade({in}), ErrorCode::InvalidArg, "clip 0");
  GraderInput nul;
  nul.numSamples = 10;
  CHECK_THROWS_CODE(g->grade({nul}), ErrorCode::InvalidArg, "null samples");
  GraderInput empty;  // an empty clip grades (no crash)
  CHECK_EQ(g->grade({empty}).size(), size_t(1));
}

// Speed of the default configuration (random weights) on one core for a 5 s audio-only clip.
// Prints the figure; the bound is loose because the test machines are shared.
VOXQC_TEST(model_speed_default_config_one_core) {
  const int before = intraOpThreads();
  useIntraOpThreads(1);
  for (Fusion f : kFusions) {
    ModelConfig cfg;
    cfg.fusion = f;
    torch::manual_seed(0);
    auto g = Grader::fromConfig(cfg, "");
    ClipData c = makeClip(9, 5.0, false, false, true);
    GraderInput in = inputOf(c);
    g->grade({in});  // warm-up
    const int reps = 10;
    auto cpu = [] {
      timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
    };
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu();
    for (int r = 0; r < reps; ++r) g->grade({in});
    const double sec = (cpu() - c0) / reps;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    std::printf("        %s: %lld params, 5 s clip: %.2f ms CPU = %.0fx real time (wall %.2f ms, 1 thread)\n",
                toString(f), static_cast<long long>(g->parameterCount()), sec * 1e3, 5.0 / sec, wall * 1e3);
    // Thread CPU time (the test machines are shared, so wall time is noisy); a loose bound.
    CHECK(5.0 / sec > 150);
  }
  useIntraOpThreads(before);
}
