// voxqc grader tool (built by hand, not by CMake):
//   g++ -O2 -std=c++17 -I cpp -I /usr/include/torch/csrc/api/include cpp/tools/train_tool.cpp \
//       -o /tmp/train_tool /tmp/gb/libvoxqc_core.a -ltorch -ltorch_cpu -lc10 -lfftw3f -lgomp -lpthread
// Commands:
//   train_tool make-tiny REPO_DIR         write models/tiny (random tiny model) and models/broken
//   train_tool stats [CONFIG.json]        parameters, weights file size and 1-thread speed per fusion
//   train_tool synth DIR [speakers clips seconds videoFraction [LIST]]   write a synthetic prepared
//                    dataset (LIST: "speaker<TAB>wav" lines of real speech to degrade instead)
//   train_tool train --data D --config C.json --out O [--epochs N] [--batch N] [--lr X] [--seed N]
//                    [--threads N] [--val-fraction X] [--no-resume]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"
#include "model/grader.h"
#include "model/model.h"
#include "train/synth.h"
#include "train/train.h"

using namespace voxqc;
using namespace voxqc::model;
namespace fs = std::filesystem;

static ModelConfig tinyConfig() {
  ModelConfig c;
  c.fusion = Fusion::Interactive;
  c.dModel = 32;
  c.heads = 4;
  c.ffDim = 64;
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

static double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

static int makeTiny(const std::string& repo) {
  const fs::path tiny = fs::path(repo) / "models" / "tiny", broken = fs::path(repo) / "models" / "broken";
  fs::create_directories(tiny);
  fs::create_directories(broken);
  torch::manual_seed(1);
  ModelConfig cfg = tinyConfig();
  GraderModel m(cfg);
  saveWeights(m, (tiny / "model.pt").string());
  cfg.save((tiny / "config.json").string());
  // broken: the same config, the weights file cut in half (a truncated download).
  cfg.save((broken / "config.json").string());
  std::ifstream in(tiny / "model.pt", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(broken / "model.pt", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  std::printf("models/tiny: %lld parameters, model.pt %zu bytes; models/broken/model.pt %zu bytes\n",
              static_cast<long long>(m->parameterCount()), bytes.size(), bytes.size() / 2);
  return 0;
}

static int stats(const std::string& cfgPath) {
  useIntraOpThreads(1);
  ModelConfig base = cfgPath.empty() ? ModelConfig() : ModelConfig::load(cfgPath);
  std::vector<float> s(5 * 16000);
  for (size_t i = 0; i < s.size(); ++i) s[i] = 0.1f * std::sin(0.05f * float(i)) + 0.01f * float((i * 7919) % 13) / 13.0f;
  for (Fusion f : {Fusion::Early, Fusion::Late, Fusion::Interactive}) {
    ModelConfig cfg = base;
    cfg.fusion = f;
    torch::manual_seed(0);
    auto g = Grader::fromConfig(cfg, "");
    const std::string pt = "/tmp/voxqc_stats_model.pt";
    saveWeights(g->module(), pt);
    const auto bytes = fs::file_size(pt);
    fs::remove(pt);
    GraderInput in;
    in.samples = s.data();
    in.numSamples = s.size();
    in.scores = {{"snrDb", 30.0}, {"speechSec", 4.0}};
    g->grade({in});
    const int reps = 20;
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpuNow();
    for (int r = 0; r < reps; ++r) g->grade({in});
    const double cpu = (cpuNow() - c0) / reps;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    // batched throughput: 16 clips of 5 s
    std::vector<GraderInput> many(16, in);
    g->grade(many);
    const double c1 = cpuNow();
    g->grade(many);
    const double cpuB = (cpuNow() - c1) / 16;
    std::printf("%-11s params %8lld  model.pt %6.2f MB  5 s clip: %.2f ms CPU (%.0fx), wall %.2f ms (%.0fx); "
                "batch of 16: %.2f ms CPU/clip (%.0fx)\n",
                toString(f), static_cast<long long>(g->parameterCount()), double(bytes) / 1e6, cpu * 1e3, 5.0 / cpu,
                wall * 1e3, 5.0 / wall, cpuB * 1e3, 5.0 / cpuB);
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      std::fprintf(stderr, "usage: train_tool make-tiny|stats|synth|train ...\n");
      return 2;
    }
    const std::string cmd = argv[1];
    if (cmd == "make-tiny") return makeTiny(argc > 2 ? argv[2] : ".");
    if (cmd == "stats") return stats(argc > 2 ? argv[2] : "");
    if (cmd == "synth") {
      train::SynthOptions so;
      if (argc > 3) so.speakers = std::atoi(argv[3]);
      if (argc > 4) so.clipsPerSpeaker = std::atoi(argv[4]);
      if (argc > 5) so.seconds = std::atof(argv[5]);
      if (argc > 6) so.videoFraction = std::atof(argv[6]);
      // train_tool synth DIR 0 0 SECONDS VIDEOFRACTION LIST: LIST has "speaker<TAB>wav path" lines
      if (argc > 7) {
        std::ifstream list(argv[7]);
        std::string line;
        while (std::getline(list, line)) {
          const auto tab = line.find('\t');
          if (tab == std::string::npos) continue;
          so.speechSpeakers.push_back(line.substr(0, tab));
          so.speechFiles.push_back(line.substr(tab + 1));
        }
      }
      std::printf("%s\n", train::writeSyntheticDataset(argv[2], so).c_str());
      return 0;
    }
    if (cmd == "train") {
      std::string data, cfgPath, out;
      train::TrainOptions o;
      for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
          if (i + 1 >= argc) throw Error(ErrorCode::InvalidArg, a + " needs a value");
          return argv[++i];
        };
        if (a == "--data") data = next();
        else if (a == "--config") cfgPath = next();
        else if (a == "--out") o.outDir = next();
        else if (a == "--epochs") o.epochs = std::stoi(next());
        else if (a == "--batch") o.batchSize = std::stoi(next());
        else if (a == "--lr") o.lr = std::stod(next());
        else if (a == "--seed") o.seed = std::stoull(next());
        else if (a == "--threads") o.threads = std::stoi(next());
        else if (a == "--val-fraction") o.valFraction = std::stod(next());
        else if (a == "--no-resume") o.resume = false;
        else throw Error(ErrorCode::InvalidArg, "unknown option " + a);
      }
      ModelConfig cfg = cfgPath.empty() ? ModelConfig() : ModelConfig::load(cfgPath);
      auto r = train::train(data, cfg, o, [](const train::TrainProgress& p) {
        std::printf("[%7.1fs] %s\n", p.elapsedSec, p.message.c_str());
        std::fflush(stdout);
      });
      std::printf("best epoch %d: accuracy %.3f macro-F1 %.3f -> %s\n", r.bestEpoch, r.best.accuracy, r.best.macroF1,
                  r.modelPath.c_str());
      return 0;
    }
    std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
