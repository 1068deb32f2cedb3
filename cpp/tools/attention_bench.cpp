// Benchmark of the fused attention op (cpp/attention) against the matmul-softmax-matmul reference
// (referenceAttention) on the learned grader's shapes: 4 heads, head dim 32 and 64, padded batches
// of clips whose lengths spread +-50% around a centre; self-attention over audio tokens, and
// cross-attention audio (Lq ~ 500) -> text (Lk ~ 100) and -> video (Lk ~ 75). Forward, and forward +
// backward (gradients w.r.t. q, k, v from a random upstream gradient); 1 and 2 threads; median of
// runs. Prints both medians, the ratio reference / fused, and the peak bytes each allocates through
// libtorch's CPU allocator during one call (a counting allocator is installed around it).
//
// Not part of the library build (cpp/tools is excluded). Build by hand against a built core, e.g.
//   g++ -O3 -DNDEBUG -std=gnu++17 -I cpp -isystem /usr/include/torch/csrc/api/include \
//     cpp/tools/attention_bench.cpp /tmp/ab/libvoxqc_core.a -o /tmp/attention_bench \
//     -ltorch -ltorch_cpu -lc10 -lfftw3f -lgomp -Wl,-rpath,/usr/lib/x86_64-linux-gnu
// Run:
//   /tmp/attention_bench [--runs R] [--ref-runs R] [--threads 1,2] [--only fused] [--quick]
//                        [--shape NAME]
// Block sizes: VOXQC_ATTENTION_BLOCKS=bq,bk in the environment (default 64,128).
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <ctime>
#include <string>
#include <vector>

#include "attention/attention.h"
#include "core/runtime.h"

using namespace voxqc;
using namespace voxqc::attention;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall = 0, cpu = 0;  // medians, seconds; cpu = process CPU time (all threads) per call
};

// Wall-clock and CPU-time medians. On a shared machine the CPU time of a 1-thread run is the
// steadier figure (it does not count time spent waiting for a core).
Timing timeRuns(int runs, const std::function<void()>& fn) {
  fn();  // warm-up: thread pool, page faults
  std::vector<double> w, c;
  for (int r = 0; r < runs; ++r) {
    const double c0 = cpuSeconds();
    auto a = std::chrono::steady_clock::now();
    fn();
    auto b = std::chrono::steady_clock::now();
    c.push_back(cpuSeconds() - c0);
    w.push_back(std::chrono::duration<double>(b - a).count());
  }
  return {median(w), median(c)};
}

class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* base) : base_(base) {}
  c10::DataPtr allocate(size_t n) const override {
    c10::DataPtr inner = base_->allocate(n);
    void* ptr = inner.get();
    auto* ctx = new Ctx{std::move(inner), n};
    const size_t now = current().fetch_add(n) + n;
    size_t p = peak().load();
    while (now > p && !peak().compare_exchange_weak(p, now)) {
    }
    return c10::DataPtr(ptr, ctx, &release, c10::Device(c10::DeviceType::CPU));
  }
  static std::atomic<size_t>& current() {
    static std::atomic<size_t> v{0};
    return v;
  }
  static std::atomic<size_t>& peak() {
    static std::atomic<size_t> v{0};
    return v;
  }

 private:
  struct Ctx {
    c10::DataPtr inner;
    size_t n;
  };
  static void release(void* p) {
    auto* ctx = static_cast<Ctx*>(p);
    current().fetch_sub(ctx->n);
    delete ctx;
  }
  c10::Allocator* base_;
};

// Peak bytes allocated through libtorch's CPU allocator while fn runs (beyond what was live before).
size_t peakBytes(const std::function<void()>& fn) {
  c10::Allocator* base = c10::GetCPUAllocator();
  CountingAllocator counting(base);
  CountingAllocator::current() = 0;
  CountingAllocator::peak() = 0;
  c10::SetCPUAllocator(&counting, 255);
  fn();
  c10::SetCPUAllocator(base, 255);
  return CountingAllocator::peak().load();
}

struct Shape {
  std::string name;
  int64_t B, H, D;
  int64_t lqCentre;  // query lengths spread +-50% (padded to the longest)
  int64_t lkCentre;  // key lengths spread +-50%; 0 = self-attention (keys = queries)
};

struct Batch {
  at::Tensor q, k, v, mask, grad;
  int64_t Lq = 0, Lk = 0;
};

Batch makeBatch(const Shape& s, std::mt19937& rng) {
  auto lengths = [&](int64_t centre) {
    std::uniform_int_distribution<int64_t> d(centre / 2, centre + centre / 2);
    std::vector<int64_t> n(static_cast<size_t>(s.B));
    for (auto& x : n) x = d(rng);
    return n;
  };
  std::vector<int64_t> nq = lengths(s.lqCentre);
  std::vector<int64_t> nk = s.lkCentre ? lengths(s.lkCentre) : nq;
  Batch b;
  b.Lq = *std::max_element(nq.begin(), nq.end());
  b.Lk = *std::max_element(nk.begin(), nk.end());
  at::manual_seed(rng());
  // q, k, v as the module makes them: [B, L, H, D] projections viewed as [B, H, L, D].
  b.q = at::randn({s.B, b.Lq, s.H, s.D}).transpose(1, 2);
  b.k = at::randn({s.B, b.Lk, s.H, s.D}).transpose(1, 2);
  b.v = at::randn({s.B, b.Lk, s.H, s.D}).transpose(1, 2);
  b.grad = at::randn({s.B, s.H, b.Lq, s.D});
  b.mask = at::zeros({s.B, b.Lk}, at::kBool);
  for (int64_t i = 0; i < s.B; ++i) b.mask[i].slice(0, nk[static_cast<size_t>(i)], b.Lk).fill_(true);
  return b;
}

using AttnFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                              const c10::optional<at::Tensor>&, double, bool);

void runForward(AttnFn fn, const Batch& b) {
  at::NoGradGuard ng;
  at::Tensor o = fn(b.q, b.k, b.v, b.mask, 0, false);
  (void)o;
}

void runForwardBackward(AttnFn fn, const Batch& b) {
  at::Tensor q = b.q.detach().requires_grad_(true), k = b.k.detach().requires_grad_(true),
             v = b.v.detach().requires_grad_(true);
  at::Tensor o = fn(q, k, v, b.mask, 0, false);
  auto g = torch::autograd::grad({o}, {q, k, v}, {b.grad});
  (void)g;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7, refRuns = 3;
  bool onlyFused = false, quick = false;
  std::string onlyShape;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--ref-runs" && i + 1 < argc) refRuns = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) onlyFused = std::string(argv[++i]) == "fused";
    else if (a == "--quick") quick = true;
    else if (a == "--shape" && i + 1 < argc) onlyShape = argv[++i];
    else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      std::string list = argv[++i];
      size_t p = 0;
      while (p < list.size()) {
        threads.push_back(std::atoi(list.c_str() + p));
        p = list.find(',', p);
        if (p == std::string::npos) break;
        ++p;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--runs R] [--ref-runs R] [--threads 1,2] [--only fused] [--quick] [--shape NAME]\n",
                   argv[0]);
      return 2;
    }
  }

  std::vector<Shape> shapes = {
      {"self-500-d32", 8, 4, 32, 500, 0},    {"self-500-d64", 8, 4, 64, 500, 0},
      {"self-1000-d32", 8, 4, 32, 1000, 0},  {"self-1000-d64", 8, 4, 64, 1000, 0},
      {"x-text-d32", 32, 4, 32, 500, 100},   {"x-text-d64", 32, 4, 64, 500, 100},
      {"x-video-d32", 32, 4, 32, 500, 75},   {"x-video-d64", 32, 4, 64, 500, 75},
  };
  if (quick) shapes = {{"self-500-d64", 8, 4, 64, 500, 0}, {"x-text-d64", 32, 4, 64, 500, 100}};

  std::printf("fused attention [%s, blocks %d,%d] vs reference (matmul-softmax-matmul); libtorch %s\n", kernelName(),
              blockSizes().first, blockSizes().second, runtimeInfo().torchVersion.c_str());
  std::printf("%-14s %3s %5s %5s %-7s %2s %10s %10s %7s | %10s %10s %7s | %8s %8s\n", "shape", "B", "Lq", "Lk", "pass",
              "th", "fused ms", "ref ms", "ref/fus", "fus cpu", "ref cpu", "ref/fus", "fus MiB", "ref MiB");
  std::mt19937 rng(42);
  for (const Shape& s : shapes) {
    Batch b = makeBatch(s, rng);
    if (!onlyShape.empty() && s.name.find(onlyShape) == std::string::npos) continue;
    for (int pass = 0; pass < 2; ++pass) {
      const char* passName = pass == 0 ? "fwd" : "fwd+bwd";
      auto call = [&](AttnFn fn) { return [&, fn] { pass == 0 ? runForward(fn, b) : runForwardBackward(fn, b); }; };
      useIntraOpThreads(1);
      const double fusMiB = peakBytes(call(&fusedAttention)) / 1048576.0;
      const double refMiB = onlyFused ? 0 : peakBytes(call(&referenceAttention)) / 1048576.0;
      for (int th : threads) {
        useIntraOpThreads(th);
        const Timing tf = timeRuns(runs, call(&fusedAttention));
        const Timing tr = onlyFused ? Timing{} : timeRuns(refRuns, call(&referenceAttention));
        std::printf("%-14s %3lld %5lld %5lld %-7s %2d %10.2f %10.2f %7.2f | %10.2f %10.2f %7.2f | %8.1f %8.1f\n",
                    s.name.c_str(), static_cast<long long>(s.B), static_cast<long long>(b.Lq),
                    static_cast<long long>(b.Lk), passName, th, tf.wall * 1e3, tr.wall * 1e3, tr.wall / tf.wall,
                    tf.cpu * 1e3, tr.cpu * 1e3, tr.cpu / tf.cpu, fusMiB, refMiB);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
