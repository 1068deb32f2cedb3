// Native tests of the fused attention op (cpp/attention): parity of forward and gradients with
// the matmul-softmax-matmul reference on random inputs and key-padding masks (self, cross, odd
// lengths, all-padded rows, one-key sequences, causal), with the default and with tiny block sizes
// (every tail path), a float64 finite-difference gradient check, the module against the same
// module on the reference op, threads, memory that does not grow with Lq x Lk, and bad inputs.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "attention/attention.h"
#include "core/error.h"
#include "core/runtime.h"
// ATen (glog) defines CHECK macros of its own: the harness's are the ones meant here.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NEAR
#include "harness.h"

using namespace voxqc;
using namespace voxqc::attention;

namespace {

constexpr double kTol = 1e-5;

// max |a - b| / max |b| (0 when both are 0).
double relErr(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor bd = b.to(at::kDouble), ad = a.to(at::kDouble);
  const double num = (ad - bd).abs().max().item<double>();
  const double den = bd.abs().max().item<double>();
  if (den == 0) return num;
  return num / den;
}

struct AttnCase {
  const char* name;
  int64_t B, H, Lq, Lk, D;
  bool causal;
  int mask;  // 0 none, 1 clip lengths (tail padded, one clip empty when B > 2), 2 scattered, 3 all padded
};

const std::vector<AttnCase>& cases() {
  static const std::vector<AttnCase> c = {
      {"self 77", 3, 2, 77, 77, 32, false, 1},
      {"self 131 D64 scattered", 2, 2, 131, 131, 64, false, 2},
      {"cross 50->131 D64", 2, 3, 50, 131, 64, false, 1},
      {"cross 200->75 D128", 2, 1, 200, 75, 128, false, 1},
      {"cross 129->300 D16", 1, 2, 129, 300, 16, false, 2},
      {"D20 odd", 2, 2, 37, 53, 20, false, 1},
      {"one key", 3, 2, 9, 1, 32, false, 1},
      {"one query one key", 1, 1, 1, 1, 16, false, 0},
      {"no mask 150", 2, 2, 150, 150, 32, false, 0},
      {"all padded", 2, 2, 20, 30, 32, false, 3},
      {"causal self 100", 2, 2, 100, 100, 48, false, 1},
      {"causal self 100 x", 2, 2, 100, 100, 48, true, 1},
      {"causal 70->45", 2, 1, 70, 45, 32, true, 2},
      {"causal 30->90", 2, 2, 30, 90, 32, true, 0},
      {"causal 257 scattered", 1, 2, 257, 257, 64, true, 2},
  };
  return c;
}

at::Tensor makeMask(const AttnCase& c, std::mt19937& rng) {
  if (c.mask == 0) return at::Tensor();
  at::Tensor m = at::zeros({c.B, c.Lk}, at::kBool);
  bool* p = m.data_ptr<bool>();
  std::uniform_int_distribution<int64_t> len(1, c.Lk);
  std::bernoulli_distribution coin(0.4);
  for (int64_t b = 0; b < c.B; ++b) {
    int64_t n = len(rng);
    if (c.mask == 1 && b == 1 && c.B > 2) n = 0;  // an empty clip
    for (int64_t t = 0; t < c.Lk; ++t) {
      if (c.mask == 1) p[b * c.Lk + t] = t >= n;
      if (c.mask == 2) p[b * c.Lk + t] = coin(rng);
      if (c.mask == 3) p[b * c.Lk + t] = true;
    }
  }
  return m;
}

// q as a transposed view of [B, Lq, H, D] (as after a projection), k contiguous, v sliced.
struct Inputs {
  at::Tensor q, k, v, mask, grad;
};

Inputs makeInputs(const AttnCase& c, std::mt19937& rng, at::ScalarType dtype = at::kFloat) {
  Inputs in;
  at::manual_seed(static_cast<uint64_t>(rng()));
  auto o = at::TensorOptions().dtype(dtype);
  in.q = (at::randn({c.B, c.Lq, c.H, c.D}, o) * 1.5).transpose(1, 2);
  in.k = at::randn({c.B, c.H, c.Lk, c.D}, o) * 1.5;
  in.v = at::randn({c.B, c.H, c.Lk, 2 * c.D}, o).slice(3, 0, 2 * c.D, 2);  // stride 2 in D
  in.grad = at::randn({c.B, c.H, c.Lq, c.D}, o);
  in.mask = makeMask(c, rng);
  return in;
}

c10::optional<at::Tensor> opt(const at::Tensor& t) {
  return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt;
}

struct Errs {
  double out = 0, dq = 0, dk = 0, dv = 0;
  double fused64 = 0, ref64 = 0;  // worst over out/dq/dk/dv vs the float64 reference: fused, reference
};

Errs compare(const AttnCase& c, std::mt19937& rng) {
  Inputs in = makeInputs(c, rng);
  auto leaf = [](const at::Tensor& t) { return t.detach().requires_grad_(true); };
  at::Tensor q1 = leaf(in.q), k1 = leaf(in.k), v1 = leaf(in.v);
  at::Tensor q2 = leaf(in.q), k2 = leaf(in.k), v2 = leaf(in.v);
  at::Tensor o1 = fusedAttention(q1, k1, v1, opt(in.mask), 0, c.causal);
  at::Tensor o2 = referenceAttention(q2, k2, v2, opt(in.mask), 0, c.causal);
  auto g1 = torch::autograd::grad({o1}, {q1, k1, v1}, {in.grad});
  auto g2 = torch::autograd::grad({o2}, {q2, k2, v2}, {in.grad});
  Errs e;
  e.out = relErr(o1, o2);
  e.dq = relErr(g1[0], g2[0]);
  e.dk = relErr(g1[1], g2[1]);
  e.dv = relErr(g1[2], g2[2]);
  for (const auto& t : {o1, g1[0], g1[1], g1[2]})
    if (!t.isfinite().all().item<bool>()) VOXQC_FAIL(c.name << ": non-finite values");
  // For the record: both fp32 results against the float64 reference on the same inputs.
  at::Tensor q3 = leaf(in.q.to(at::kDouble)), k3 = leaf(in.k.to(at::kDouble)), v3 = leaf(in.v.to(at::kDouble));
  at::Tensor o3 = referenceAttention(q3, k3, v3, opt(in.mask), 0, c.causal);
  auto g3 = torch::autograd::grad({o3}, {q3, k3, v3}, {in.grad.to(at::kDouble)});
  e.fused64 = std::max({relErr(o1, o3), relErr(g1[0], g3[0]), relErr(g1[1], g3[1]), relErr(g1[2], g3[2])});
  e.ref64 = std::max({relErr(o2, o3), relErr(g2[0], g3[0]), relErr(g2[1], g3[1]), relErr(g2[2], g3[2])});
  return e;
}

void parityAll(const char* label) {
  std::mt19937 rng(1234);
  Errs worst;
  for (const AttnCase& c : cases()) {
    for (int rep = 0; rep < 2; ++rep) {
      Errs e = compare(c, rng);
      if (!(e.out <= kTol && e.dq <= kTol && e.dk <= kTol && e.dv <= kTol))
        VOXQC_FAIL(label << " " << c.name << ": rel err out " << e.out << " dq " << e.dq << " dk " << e.dk << " dv "
                         << e.dv);
      worst.out = std::max(worst.out, e.out);
      worst.dq = std::max(worst.dq, e.dq);
      worst.dk = std::max(worst.dk, e.dk);
      worst.dv = std::max(worst.dv, e.dv);
      worst.fused64 = std::max(worst.fused64, e.fused64);
      worst.ref64 = std::max(worst.ref64, e.ref64);
    }
  }
  std::printf("        %s [%s, blocks %d,%d]: worst rel err vs fp32 reference: out %.2e dq %.2e dk %.2e dv %.2e;\n"
              "          vs fp64 reference: fused %.2e, fp32 reference %.2e\n",
              label, kernelName(), blockSizes().first, blockSizes().second, worst.out, worst.dq, worst.dk, worst.dv,
              worst.fused64, worst.ref64);
}

struct BlockGuard {
  BlockGuard(int bq, int bk) { setBlockSizes(bq, bk); }
  ~BlockGuard() { setBlockSizes(0, 0); }
};

// Counts the bytes libtorch's CPU allocator hands out (current and peak) while installed.
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

struct CountingScope {
  c10::Allocator* base = c10::GetCPUAllocator();
  CountingAllocator counting{base};
  CountingScope() {
    CountingAllocator::current() = 0;
    CountingAllocator::peak() = 0;
    c10::SetCPUAllocator(&counting, 255);
  }
  ~CountingScope() { c10::SetCPUAllocator(base, 255); }
  size_t peak() const { return CountingAllocator::peak().load(); }
};

}  // namespace

VOXQC_TEST(attention_parity_default_blocks) {
  BlockGuard g(0, 0);
  parityAll("default");
}

VOXQC_TEST(attention_parity_small_blocks) {
  {
    BlockGuard g(5, 16);  // odd query block, 2 register tiles of keys
    parityAll("small");
  }
  {
    BlockGuard g(13, 8);
    parityAll("small");
  }
}

VOXQC_TEST(attention_parity_generic_kernels_double) {
  // float64 end to end (the generic loops), against the float64 reference: near machine precision.
  std::mt19937 rng(99);
  BlockGuard g(7, 24);
  for (const AttnCase& c : cases()) {
    Inputs in = makeInputs(c, rng, at::kDouble);
    auto leaf = [](const at::Tensor& t) { return t.detach().requires_grad_(true); };
    at::Tensor q1 = leaf(in.q), k1 = leaf(in.k), v1 = leaf(in.v), q2 = leaf(in.q), k2 = leaf(in.k), v2 = leaf(in.v);
    at::Tensor o1 = fusedAttention(q1, k1, v1, opt(in.mask), 0.3, c.causal);
    at::Tensor o2 = referenceAttention(q2, k2, v2, opt(in.mask), 0.3, c.causal);
    CHECK(o1.scalar_type() == at::kDouble);
    auto g1 = torch::autograd::grad({o1}, {q1, k1, v1}, {in.grad});
    auto g2 = torch::autograd::grad({o2}, {q2, k2, v2}, {in.grad});
    CHECK(relErr(o1, o2) < 1e-12);
    for (int i = 0; i < 3; ++i)
      if (!(relErr(g1[i], g2[i]) < 1e-11)) VOXQC_FAIL(c.name << ": grad " << i << " rel err " << relErr(g1[i], g2[i]));
  }
}

VOXQC_TEST(attention_gradcheck_finite_differences_double) {
  // Central differences of f = sum(out * g) w.r.t. every element of q, k, v (float64).
  std::mt19937 rng(7);
  for (bool causal : {false, true}) {
    AttnCase c{"tiny", 2, 2, 5, 6, 3, causal, 1};
    at::manual_seed(3);
    at::Tensor q = at::randn({2, 2, 5, 3}, at::kDouble), k = at::randn({2, 2, 6, 3}, at::kDouble),
               v = at::randn({2, 2, 6, 3}, at::kDouble), g = at::randn({2, 2, 5, 3}, at::kDouble);
    at::Tensor mask = at::zeros({2, 6}, at::kBool);
    mask[0].slice(0, 4, 6).fill_(true);  // clip 0: 4 keys
    mask[1][0] = true;                   // clip 1: first key padded (causal row 0 is then empty)
    mask[1][3] = true;
    auto f = [&](const at::Tensor& qq, const at::Tensor& kk, const at::Tensor& vv) {
      return (fusedAttention(qq, kk, vv, mask, 0.7, causal) * g).sum().item<double>();
    };
    at::Tensor ql = q.clone().requires_grad_(true), kl = k.clone().requires_grad_(true),
               vl = v.clone().requires_grad_(true);
    auto grads = torch::autograd::grad({fusedAttention(ql, kl, vl, mask, 0.7, causal)}, {ql, kl, vl}, {g});
    const double h = 1e-6;
    double worst = 0;
    at::Tensor* ins[3] = {&q, &k, &v};
    for (int which = 0; which < 3; ++which) {
      at::Tensor flat = ins[which]->view({-1});
      at::Tensor gflat = grads[which].contiguous().view({-1});
      for (int64_t i = 0; i < flat.numel(); ++i) {
        const double x0 = flat[i].item<double>();
        flat[i] = x0 + h;
        const double fp = f(q, k, v);
        flat[i] = x0 - h;
        const double fm = f(q, k, v);
        flat[i] = x0;
        const double numeric = (fp - fm) / (2 * h);
        const double analytic = gflat[i].item<double>();
        const double err = std::fabs(numeric - analytic) / std::max(1.0, std::fabs(numeric));
        worst = std::max(worst, err);
        if (err > 1e-7)
          VOXQC_FAIL("causal " << causal << " input " << which << " element " << i << ": numeric " << numeric
                               << " analytic " << analytic);
      }
    }
    std::printf("        finite differences (causal %d): worst error %.2e\n", causal ? 1 : 0, worst);
    (void)c;
  }
}

VOXQC_TEST(attention_empty_rows_are_zero_with_zero_gradients) {
  at::manual_seed(5);
  at::Tensor q = at::randn({3, 2, 10, 16}).requires_grad_(true);
  at::Tensor k = at::randn({3, 2, 12, 16}).requires_grad_(true);
  at::Tensor v = at::randn({3, 2, 12, 16}).requires_grad_(true);
  at::Tensor mask = at::zeros({3, 12}, at::kBool);
  mask[1].fill_(true);  // clip 1 has no keys
  at::Tensor out = fusedAttention(q, k, v, mask);
  CHECK(out[1].abs().max().item<double>() == 0);
  CHECK(out[0].abs().max().item<double>() > 0);
  auto g = torch::autograd::grad({out}, {q, k, v}, {at::ones_like(out)});
  CHECK(g[0][1].abs().max().item<double>() == 0);
  CHECK(g[1][1].abs().max().item<double>() == 0);
  CHECK(g[2][1].abs().max().item<double>() == 0);
  for (const auto& t : g) CHECK(t.isfinite().all().item<bool>());
  // The reference follows the same convention.
  at::Tensor ref = referenceAttention(q, k, v, mask);
  CHECK(ref.isfinite().all().item<bool>());
  CHECK(relErr(out, ref) <= kTol);
  // Padded keys get no gradient.
  at::Tensor m2 = at::zeros({3, 12}, at::kBool);
  m2.slice(1, 9, 12).fill_(true);
  auto g2 = torch::autograd::grad({fusedAttention(q, k, v, m2)}, {k, v}, {at::ones_like(out)});
  CHECK(g2[0].slice(2, 9, 12).abs().max().item<double>() == 0);
  CHECK(g2[1].slice(2, 9, 12).abs().max().item<double>() == 0);
  // No keys at all (Lk = 0).
  at::Tensor k0 = at::randn({3, 2, 0, 16}), v0 = at::randn({3, 2, 0, 16});
  CHECK(fusedAttention(q.detach(), k0, v0).abs().max().item<double>() == 0);
}

VOXQC_TEST(attention_module_matches_reference_module) {
  at::manual_seed(11);
  std::mt19937 rng(11);
  for (bool cross : {false, true}) {
    auto opts = MultiHeadAttentionOptions(64, 4);
    if (cross) opts.kDim(48).vDim(48);
    MultiHeadAttention fused(opts);
    auto refImpl = std::dynamic_pointer_cast<MultiHeadAttentionImpl>(fused->clone());
    refImpl->options.kernel(AttentionKernel::Reference);
    const int64_t B = 3, Lq = 70, Lk = cross ? 33 : 70;
    at::Tensor x = at::randn({B, Lq, 64});
    at::Tensor kv = cross ? at::randn({B, Lk, 48}) : x;
    at::Tensor mask = at::zeros({B, Lk}, at::kBool);
    mask[0].slice(0, Lk - 10, Lk).fill_(true);
    mask[2].slice(0, Lk / 2, Lk).fill_(true);
    at::Tensor y1 = fused->forward(x, kv, kv, mask);
    at::Tensor y2 = refImpl->forward(x, kv, kv, mask);
    CHECK(y1.sizes() == y2.sizes());
    const double e = relErr(y1, y2);
    if (!(e <= kTol)) VOXQC_FAIL("module forward rel err " << e);
    // Parameter gradients agree too. The key projection's bias has a zero gradient in exact
    // arithmetic (softmax is shift-invariant per row), so it is compared on the scale of the
    // other gradients rather than on its own (rounding-noise) scale.
    at::Tensor g = at::randn_like(y1);
    auto n1 = fused->named_parameters(), n2 = refImpl->named_parameters();
    std::vector<at::Tensor> p1, p2;
    for (const auto& kv1 : n1) p1.push_back(kv1.value());
    for (const auto& kv2 : n2) p2.push_back(kv2.value());
    auto d1 = torch::autograd::grad({y1}, p1, {g});
    auto d2 = torch::autograd::grad({y2}, p2, {g});
    CHECK_EQ(d1.size(), d2.size());
    double globalScale = 0;
    for (const auto& t : d2) globalScale = std::max(globalScale, t.abs().max().item<double>());
    for (size_t i = 0; i < d1.size(); ++i) {
      const std::string name = n1.pairs()[i].first;
      const double e2 = name == "kProj.bias" ? (d1[i] - d2[i]).abs().max().item<double>() / globalScale
                                             : relErr(d1[i], d2[i]);
      if (!(e2 <= kTol)) VOXQC_FAIL("module param grad " << name << " rel err " << e2);
    }
  }
  // Causal self-attention through the module.
  MultiHeadAttention m(32, 2);
  auto r = std::dynamic_pointer_cast<MultiHeadAttentionImpl>(m->clone());
  r->options.kernel(AttentionKernel::Reference);
  at::Tensor x = at::randn({2, 40, 32});
  CHECK(relErr(m->forward(x, x, x, {}, true), r->forward(x, x, x, {}, true)) <= kTol);
}

VOXQC_TEST(attention_threads_agree) {
  const int before = intraOpThreads();
  std::mt19937 rng(21);
  AttnCase c{"threads", 1, 1, 300, 400, 32, false, 1};  // B*H = 1: the backward splits keys in chunks
  Inputs in = makeInputs(c, rng);
  std::vector<at::Tensor> res[2];
  for (int t : {1, 2}) {
    useIntraOpThreads(t);
    at::Tensor q = in.q.detach().requires_grad_(true), k = in.k.detach().requires_grad_(true),
               v = in.v.detach().requires_grad_(true);
    at::Tensor o = fusedAttention(q, k, v, opt(in.mask));
    auto g = torch::autograd::grad({o}, {q, k, v}, {in.grad});
    res[t - 1] = {o, g[0], g[1], g[2]};
  }
  useIntraOpThreads(before);
  CHECK(res[0][0].equal(res[1][0]));  // forward: same arithmetic per row whatever the threads
  for (int i = 1; i < 4; ++i) CHECK(relErr(res[0][i], res[1][i]) <= 1e-6);
}

VOXQC_TEST(attention_memory_does_not_scale_with_lq_lk) {
  // Lq = Lk = 4096, 2 heads: one score matrix alone would be 64 MiB per head (128 MiB in all).
  const int64_t B = 1, H = 2, L = 4096, D = 32;
  at::manual_seed(17);
  at::Tensor q = at::randn({B, H, L, D}), k = at::randn({B, H, L, D}), v = at::randn({B, H, L, D});
  at::Tensor mask = at::zeros({B, L}, at::kBool);
  mask.slice(1, L - 300, L).fill_(true);
  at::Tensor g = at::randn({B, H, L, D});
  at::Tensor ql = q.clone().requires_grad_(true), kl = k.clone().requires_grad_(true),
             vl = v.clone().requires_grad_(true);
  size_t peak = 0;
  at::Tensor out, dq;
  {
    CountingScope counting;
    out = fusedAttention(ql, kl, vl, mask);
    auto grads = torch::autograd::grad({out}, {ql, kl, vl}, {g});
    dq = grads[0];
    peak = counting.peak();
  }
  const double scoreBytes = static_cast<double>(B * H * L * L * 4);
  std::printf("        L=4096 fwd+bwd: peak %.1f MiB allocated through libtorch (scores would be %.0f MiB)\n",
              peak / 1048576.0, scoreBytes / 1048576.0);
  CHECK(peak > 0);
  CHECK(static_cast<double>(peak) < scoreBytes / 8);
  // Spot-check 64 query rows against the reference (full keys, small score matrix).
  at::Tensor rows = q.slice(2, 1000, 1064).requires_grad_(true);
  at::Tensor ref = referenceAttention(rows, k, v, mask);
  CHECK(relErr(out.slice(2, 1000, 1064), ref) <= kTol);
}

VOXQC_TEST(attention_double_backward_throws) {
  at::Tensor q = at::randn({1, 1, 4, 16}).requires_grad_(true);
  at::Tensor k = at::randn({1, 1, 4, 16}).requires_grad_(true);
  at::Tensor v = at::randn({1, 1, 4, 16}).requires_grad_(true);
  at::Tensor out = fusedAttention(q, k, v);
  bool threw = false;
  try {
    torch::autograd::grad({out.sum()}, {q}, {}, true, /*create_graph=*/true);
  } catch (const std::exception& e) {
    threw = std::string(e.what()).find("double backward") != std::string::npos;
  }
  CHECK(threw);
}

VOXQC_TEST(attention_bad_inputs) {
  at::Tensor q = at::randn({2, 2, 5, 16}), k = at::randn({2, 2, 7, 16}), v = at::randn({2, 2, 7, 16});
  const auto E = ErrorCode::InvalidArg;
  CHECK_THROWS_CODE(fusedAttention(q[0], k, v), E, "q must be 4-D");
  CHECK_THROWS_CODE(fusedAttention(q, k.to(at::kDouble), v), E, "share one dtype");
  CHECK_THROWS_CODE(fusedAttention(q.to(at::kHalf), k.to(at::kHalf), v.to(at::kHalf)), E, "float32 or float64");
  CHECK_THROWS_CODE(fusedAttention(q, at::randn({2, 2, 7, 8}), v), E, "head dim");
  CHECK_THROWS_CODE(fusedAttention(q, k, at::randn({2, 2, 6, 16})), E, "same length Lk");
  CHECK_THROWS_CODE(fusedAttention(q, at::randn({1, 2, 7, 16}), at::randn({1, 2, 7, 16})), E, "batch and head");
  CHECK_THROWS_CODE(fusedAttention(q, k, v, at::zeros({2, 7}, at::kFloat)), E, "bool");
  CHECK_THROWS_CODE(fusedAttention(q, k, v, at::zeros({2, 5}, at::kBool)), E, "keyPadding must be [B, Lk] = [2, 7]");
  CHECK_THROWS_CODE(fusedAttention(q, k, v, {}, std::nan("")), E, "scale must be finite");
  CHECK_THROWS_CODE(referenceAttention(q, k, at::Tensor()), E, "undefined");
  CHECK_THROWS_CODE(MultiHeadAttention(30, 4), E, "multiple of numHeads");
  MultiHeadAttention m(32, 4);
  CHECK_THROWS_CODE(m->forward(at::randn({2, 5, 31}), at::randn({2, 5, 32}), at::randn({2, 5, 32})), E,
                    "query must be [B, Lq, 32]");
  // Empty batch / empty queries are fine.
  CHECK(fusedAttention(at::randn({0, 2, 5, 16}), at::randn({0, 2, 7, 16}), at::randn({0, 2, 7, 16})).numel() == 0);
  CHECK(fusedAttention(at::randn({2, 2, 0, 16}), k, v).size(2) == 0);
}
