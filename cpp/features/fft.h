// Real-input FFTs for the feature kernels (internal). FFTW3 single precision when the build has it
// (VOXQC_HAVE_FFTW), else a built-in mixed-radix FFT. Plans are made once per size and cached;
// the cache is thread-safe and forward() may run on many threads at once (FFTW's new-array
// execute on per-thread buffers from allocBuffer, which keep the plan's alignment).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace voxqc::features::detail {

class RealFft {
 public:
  virtual ~RealFft() = default;
  int size() const { return n_; }
  // in: size() floats from allocBuffer (not modified). out: (size()/2 + 1) complex values as
  // interleaved (re, im) floats, also from allocBuffer.
  virtual void forward(const float* in, float* out) const = 0;

  // The packed form, for even sizes with FFTW: the size/2-point complex FFT of the input read as
  // size/2 complex values z[m] = in[2m] + i in[2m+1] (Z: size floats from allocBuffer). Then
  // X[k] = (Z[k] + conj(Z[h-k])) / 2 + T[k] (Z[k] - conj(Z[h-k])) with h = size/2, Z[h] = Z[0]
  // and T[k] = twiddles()[k] = -i exp(-2 pi i k / size) / 2 (interleaved re, im; k < h).
  // A half-size complex FFT plus that split step is faster than FFTW's own r2c here (FFTW_ESTIMATE
  // picks slow r2c plans for powers of two), and the kernels fuse the split step with |X|^2.
  bool packed() const { return !twiddles_.empty(); }
  virtual void forwardPacked(const float* in, float* Z) const { (void)in, (void)Z; }
  const float* twiddles() const { return twiddles_.data(); }

 protected:
  explicit RealFft(int n) : n_(n) {}
  void makeTwiddles();
  int n_;
  std::vector<float> twiddles_;
};

// The cached FFT of size n (n >= 1) of the configured backend.
const RealFft& realFft(int n);
// A fresh built-in FFT of size n, whatever the backend (tests compare it with FFTW).
std::unique_ptr<RealFft> makeBuiltinRealFft(int n);
const char* realFftBackend();

// 64-byte aligned float buffers (fftwf_malloc with FFTW), for forward()'s arguments.
float* allocBuffer(size_t floats);
void freeBuffer(float* p);

struct AlignedBuffer {
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  ~AlignedBuffer() { freeBuffer(p); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  // Grows (contents lost) when n exceeds the capacity.
  float* resize(size_t n) {
    if (n > cap) {
      freeBuffer(p);
      p = allocBuffer(n);
      cap = n;
    }
    return p;
  }
  float* p = nullptr;
  size_t cap = 0;
};

}  // namespace voxqc::features::detail
