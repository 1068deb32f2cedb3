#include "features/fft.h"

#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>

#include "core/error.h"

#if defined(VOXQC_HAVE_FFTW) && VOXQC_HAVE_FFTW
#include <fftw3.h>
#define VOXQC_FEATURES_FFTW 1
#else
#define VOXQC_FEATURES_FFTW 0
#endif

namespace voxqc::features::detail {

namespace {

// --- built-in FFT: recursive mixed-radix decimation in time (kissfft's structure) in double ----
class BuiltinRealFft final : public RealFft {
 public:
  using cpx = std::complex<double>;

  explicit BuiltinRealFft(int n) : RealFft(n) {
    even_ = n % 2 == 0 && n >= 2;
    m_ = even_ ? n / 2 : n;  // complex FFT size
    tw_.resize(m_);
    for (int i = 0; i < m_; ++i) tw_[i] = std::polar(1.0, -2.0 * M_PI * i / m_);
    int rest = m_;
    for (int p = 2; rest > 1;) {
      if (rest % p == 0) {
        rest /= p;
        factors_.push_back(p);
        factors_.push_back(rest);
      } else {
        p = (p == 2) ? 3 : p + 2;
        if (p * p > rest) p = rest;
      }
    }
    if (factors_.empty()) {  // m_ == 1
      factors_.push_back(1);
      factors_.push_back(1);
    }
    if (even_) {
      post_.resize(m_ + 1);
      for (int k = 0; k <= m_; ++k) post_[k] = std::polar(1.0, -2.0 * M_PI * k / n);
    }
  }

  void forward(const float* in, float* out) const override {
    std::vector<cpx> z(m_), Z(m_);
    if (even_) {
      for (int k = 0; k < m_; ++k) z[k] = cpx(in[2 * k], in[2 * k + 1]);
    } else {
      for (int k = 0; k < m_; ++k) z[k] = cpx(in[k], 0.0);
    }
    if (m_ == 1) {
      Z[0] = z[0];
    } else {
      std::vector<cpx> scratch(64);
      work(Z.data(), z.data(), 1, factors_.data(), scratch);
    }
    if (even_) {
      const int h = m_;
      for (int k = 0; k <= h; ++k) {
        cpx a = Z[k % h];
        cpx b = std::conj(Z[(h - k) % h]);
        cpx e = 0.5 * (a + b);
        cpx o = cpx(0, -0.5) * (a - b);
        cpx X = e + post_[k] * o;
        out[2 * k] = static_cast<float>(X.real());
        out[2 * k + 1] = static_cast<float>(X.imag());
      }
    } else {
      for (int k = 0; k <= n_ / 2; ++k) {
        out[2 * k] = static_cast<float>(Z[k].real());
        out[2 * k + 1] = static_cast<float>(Z[k].imag());
      }
    }
  }

 private:
  void work(cpx* out, const cpx* in, size_t fstride, const int* factors, std::vector<cpx>& scratch) const {
    const int p = factors[0], m = factors[1];
    cpx* const beg = out;
    cpx* const end = out + p * m;
    if (m == 1) {
      for (cpx* o = out; o != end; ++o, in += fstride) *o = *in;
    } else {
      for (cpx* o = out; o != end; o += m, in += fstride) work(o, in, fstride * p, factors + 2, scratch);
    }
    // generic radix-p butterfly
    if (static_cast<int>(scratch.size()) < p) scratch.resize(p);
    for (int u = 0; u < m; ++u) {
      for (int q1 = 0, k = u; q1 < p; ++q1, k += m) scratch[q1] = beg[k];
      for (int q1 = 0, k = u; q1 < p; ++q1, k += m) {
        size_t twidx = 0;
        cpx acc = scratch[0];
        for (int q = 1; q < p; ++q) {
          twidx += fstride * k;
          twidx %= static_cast<size_t>(m_);
          acc += scratch[q] * tw_[twidx];
        }
        beg[k] = acc;
      }
    }
  }

  bool even_ = false;
  int m_ = 0;
  std::vector<cpx> tw_, post_;
  std::vector<int> factors_;
};

#if VOXQC_FEATURES_FFTW
std::mutex& fftwPlannerMutex() {
  static std::mutex m;
  return m;
}

// FFTW_ESTIMATE: the plan (and so every rounding) is the same in every process, unlike
// FFTW_MEASURE's timing-based choice; VOXQC_FFTW_PLANNER=measure|patient opts into those.
unsigned plannerFlags() {
  const char* env = std::getenv("VOXQC_FFTW_PLANNER");
  if (env && std::strcmp(env, "measure") == 0) return FFTW_MEASURE;
  if (env && std::strcmp(env, "patient") == 0) return FFTW_PATIENT;
  return FFTW_ESTIMATE;
}

class FftwRealFft final : public RealFft {
 public:
  explicit FftwRealFft(int n) : RealFft(n) {
    std::lock_guard<std::mutex> lock(fftwPlannerMutex());  // FFTW's planner is not thread-safe
    float* in = fftwf_alloc_real(n);
    fftwf_complex* out = fftwf_alloc_complex(n / 2 + 1);
    if (!in || !out) throw std::bad_alloc();
    plan_ = fftwf_plan_dft_r2c_1d(n, in, out, plannerFlags());
    if (n % 2 == 0 && n >= 4) {
      fftwf_complex* zin = fftwf_alloc_complex(n / 2);
      fftwf_complex* zout = fftwf_alloc_complex(n / 2);
      if (!zin || !zout) throw std::bad_alloc();
      half_ = fftwf_plan_dft_1d(n / 2, zin, zout, FFTW_FORWARD, plannerFlags());
      fftwf_free(zin);
      fftwf_free(zout);
      if (half_) makeTwiddles();
    }
    fftwf_free(in);
    fftwf_free(out);
    if (!plan_) throw Error(ErrorCode::Native, "FFTW could not plan a real FFT of size " + std::to_string(n));
  }
  void forwardPacked(const float* in, float* Z) const override {
    fftwf_execute_dft(half_, reinterpret_cast<fftwf_complex*>(const_cast<float*>(in)),
                      reinterpret_cast<fftwf_complex*>(Z));
  }
  // Plans live as long as the process (the cache never drops them).
  void forward(const float* in, float* out) const override {
    fftwf_execute_dft_r2c(plan_, const_cast<float*>(in), reinterpret_cast<fftwf_complex*>(out));
  }

 private:
  fftwf_plan plan_ = nullptr;
  fftwf_plan half_ = nullptr;
};
#endif

}  // namespace

void RealFft::makeTwiddles() {
  const int h = n_ / 2;
  twiddles_.resize(2 * static_cast<size_t>(h) + 16, 0.f);
  for (int k = 0; k < h; ++k) {
    const double th = 2.0 * M_PI * k / n_;
    twiddles_[2 * k] = static_cast<float>(-0.5 * std::sin(th));
    twiddles_[2 * k + 1] = static_cast<float>(-0.5 * std::cos(th));
  }
}

std::unique_ptr<RealFft> makeBuiltinRealFft(int n) { return std::make_unique<BuiltinRealFft>(n); }

const RealFft& realFft(int n) {
  if (n < 1) throw Error(ErrorCode::InvalidArg, "FFT size must be >= 1; got " + std::to_string(n));
  static std::mutex mutex;
  static auto* cache = new std::map<int, std::unique_ptr<RealFft>>();  // never destroyed
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache->find(n);
  if (it != cache->end()) return *it->second;
#if VOXQC_FEATURES_FFTW
  std::unique_ptr<RealFft> fft = std::make_unique<FftwRealFft>(n);
#else
  std::unique_ptr<RealFft> fft = makeBuiltinRealFft(n);
#endif
  const RealFft& ref = *fft;
  cache->emplace(n, std::move(fft));
  return ref;
}

const char* realFftBackend() { return VOXQC_FEATURES_FFTW ? "fftw3f" : "builtin"; }

float* allocBuffer(size_t floats) {
  if (floats == 0) floats = 1;
#if VOXQC_FEATURES_FFTW
  float* p = fftwf_alloc_real(floats);
#else
  float* p = static_cast<float*>(std::aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64));
#endif
  if (!p) throw std::bad_alloc();
  return p;
}

void freeBuffer(float* p) {
  if (!p) return;
#if VOXQC_FEATURES_FFTW
  fftwf_free(p);
#else
  std::free(p);
#endif
}

}  // namespace voxqc::features::detail
