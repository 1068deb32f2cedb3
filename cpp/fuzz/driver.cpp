// voxqc_fuzz: runs the fuzz targets (targets.h) without libFuzzer: N seeded structured-and-mutated
// cases per target, or replays input files. Each case must end in a result or a voxqc::Error.
//
//   voxqc_fuzz [--target NAME]... [--cases N] [--seed S] [--timeout-ms MS] [--crash-dir DIR]
//              [--json] [--write-seeds DIR] [--replay FILE|DIR]...
//
// Prints, per target: cases, results, rejected (voxqc::Error), unexpected exceptions, hangs, the
// slowest case. A crash (signal) or a hang (a case over --timeout-ms) writes the input to
// --crash-dir (default fuzz-crashes/) as <target>-<seed>.bin and exits non-zero; an unexpected
// exception is written there too and counted. Exit status 0 only when every case was clean.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/targets.h"

namespace fs = std::filesystem;
using namespace voxqc::fuzz;

namespace {

// State of the case in flight, for the signal handler and the watchdog.
std::vector<uint8_t> gInput;
char gCrashPath[4096];
std::atomic<int64_t> gCaseStartMs{-1};
std::atomic<bool> gDone{false};

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void writeInput(const char* path) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t off = 0;
  while (off < gInput.size()) {
    ssize_t w = ::write(fd, gInput.data() + off, gInput.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::close(fd);
}

void onSignal(int sig) {
  writeInput(gCrashPath);
  const char* msg = "\nvoxqc_fuzz: CRASH (signal) on the input written to ";
  (void)!::write(2, msg, std::strlen(msg));
  (void)!::write(2, gCrashPath, std::strlen(gCrashPath));
  (void)!::write(2, "\n", 1);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

struct Stats {
  uint64_t cases = 0, ok = 0, rejected = 0, unexpected = 0;
  int64_t slowestMs = 0;
  uint64_t slowestSeed = 0;
  double seconds = 0;
  std::map<std::string, uint64_t> messages;  // first words of rejection messages (a summary)
};

void usage() {
  std::cerr << "usage: voxqc_fuzz [--target NAME]... [--cases N] [--seed S] [--timeout-ms MS] [--crash-dir DIR] [--json]\n"
               "                  [--write-seeds DIR] [--replay FILE|DIR]...\ntargets:";
  for (const auto& t : targets()) std::cerr << " " << t.name;
  std::cerr << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> names, replay;
  uint64_t cases = 1000, seed = 1;
  int64_t timeoutMs = 20000;
  std::string crashDir = "fuzz-crashes", seedsDir;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--target") names.push_back(next());
    else if (a == "--cases") cases = std::stoull(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--timeout-ms") timeoutMs = std::stoll(next());
    else if (a == "--crash-dir") crashDir = next();
    else if (a == "--write-seeds") seedsDir = next();
    else if (a == "--replay") replay.push_back(next());
    else if (a == "--json") json = true;
    else {
      usage();
      return 2;
    }
  }
  std::vector<const Target*> chosen;
  if (names.empty() || (names.size() == 1 && names[0] == "all")) {
    for (const auto& t : targets()) chosen.push_back(&t);
  } else {
    for (const auto& n : names) {
      const Target* t = findTarget(n);
      if (!t) {
        std::cerr << "voxqc_fuzz: unknown target '" << n << "'\n";
        usage();
        return 2;
      }
      chosen.push_back(t);
    }
  }
  fs::create_directories(crashDir);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, onSignal);

  // The watchdog: a case that runs past the limit is a hang; its input is kept.
  std::thread watchdog([&] {
    while (!gDone.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      int64_t start = gCaseStartMs.load();
      if (start >= 0 && nowMs() - start > timeoutMs) {
        writeInput(gCrashPath);
        std::fprintf(stderr, "\nvoxqc_fuzz: HANG (a case ran over %lld ms) on the input written to %s\n",
                     static_cast<long long>(timeoutMs), gCrashPath);
        std::_Exit(3);
      }
    }
  });

  bool clean = true;
  auto runOne = [&](const Target& t, Stats& st, uint64_t caseSeed, const std::string& label) {
    std::snprintf(gCrashPath, sizeof gCrashPath, "%s/%s-%s.bin", crashDir.c_str(), t.name, label.c_str());
    const int64_t t0 = nowMs();
    gCaseStartMs.store(t0);
    std::string what;
    Outcome o = runCase(t, gInput.data(), gInput.size(), &what);
    gCaseStartMs.store(-1);
    const int64_t ms = nowMs() - t0;
    if (ms > st.slowestMs) st.slowestMs = ms, st.slowestSeed = caseSeed;
    ++st.cases;
    if (o == Outcome::Ok) ++st.ok;
    else if (o == Outcome::Rejected) {
      ++st.rejected;
      std::string key = what.substr(0, what.find_first_of(":(0123456789"));
      if (st.messages.size() < 64 || st.messages.count(key)) ++st.messages[key];
    } else {
      ++st.unexpected;
      clean = false;
      writeInput(gCrashPath);
      std::cerr << "voxqc_fuzz: " << t.name << " case " << label << ": unexpected exception: " << what << " (input: "
                << gCrashPath << ")\n";
    }
  };

  std::vector<std::pair<std::string, Stats>> all;
  for (const Target* t : chosen) {
    Stats st;
    const auto t0 = std::chrono::steady_clock::now();
    if (!replay.empty()) {
      for (const auto& r : replay) {
        std::vector<fs::path> files;
        if (fs::is_directory(r)) {
          fs::path dir = fs::path(r) / t->name;
          if (!fs::is_directory(dir)) dir = r;
          for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file()) files.push_back(e.path());
        } else {
          files.push_back(r);
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
          std::ifstream in(f, std::ios::binary);
          gInput.assign(std::istreambuf_iterator<char>(in), {});
          runOne(*t, st, 0, f.filename().string());
        }
      }
    } else {
      if (!seedsDir.empty()) fs::create_directories(fs::path(seedsDir) / t->name);
      for (uint64_t k = 0; k < cases; ++k) {
        const uint64_t s = seed * 1000003ull + k;
        gInput = t->generate(s);
        if (!seedsDir.empty() && k < 200) {
          std::ofstream(fs::path(seedsDir) / t->name / ("seed-" + std::to_string(s)), std::ios::binary)
              .write(reinterpret_cast<const char*>(gInput.data()), static_cast<std::streamsize>(gInput.size()));
        }
        runOne(*t, st, s, std::to_string(s));
      }
    }
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    all.emplace_back(t->name, st);
    if (json) {
      std::printf("{\"target\":\"%s\",\"cases\":%llu,\"ok\":%llu,\"rejected\":%llu,\"unexpected\":%llu,\"crashes\":0,"
                  "\"hangs\":0,\"seconds\":%.2f,\"slowestMs\":%lld}\n",
                  t->name, (unsigned long long)st.cases, (unsigned long long)st.ok, (unsigned long long)st.rejected,
                  (unsigned long long)st.unexpected, st.seconds, (long long)st.slowestMs);
    } else {
      std::printf("  %-10s %7llu cases  %7llu results  %7llu VoxqcErrors  %3llu unexpected  0 crashes  0 hangs  %6.1f s  slowest %lld ms (seed %llu)\n",
                  t->name, (unsigned long long)st.cases, (unsigned long long)st.ok, (unsigned long long)st.rejected,
                  (unsigned long long)st.unexpected, st.seconds, (long long)st.slowestMs,
                  (unsigned long long)st.slowestSeed);
    }
    std::fflush(stdout);
  }
  gDone.store(true);
  watchdog.join();
  return clean ? 0 : 1;
}
