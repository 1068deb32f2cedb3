// Parts of cpp/cuda/cuda.h that every build has: build/device queries, FeatureBatch::clip, and
// (in CPU builds, VOXQC_WITH_CUDA == 0) stubs that throw a clear ERR_UNSUPPORTED.
#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <string>

#include "core/error.h"
#include "cuda/cuda.h"

namespace voxqc::cuda {

bool compiled() { return VOXQC_WITH_CUDA != 0; }

bool available() { return compiled() && torch::cuda::is_available(); }

void requireAvailable(const char* what) {
  if (!compiled())
    throw Error(ErrorCode::Unsupported,
                std::string(what) +
                    ": device 'cuda' was requested but this voxqc build has no CUDA kernels (it was built "
                    "against a CPU-only libtorch). Rebuild against a CUDA libtorch, e.g. "
                    "TORCH_DIR=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') "
                    "npm run build:native, or use device 'cpu'.");
  if (!torch::cuda::is_available())
    throw Error(ErrorCode::Unsupported,
                std::string(what) +
                    ": device 'cuda' was requested but no CUDA device is usable (no GPU, no driver, or "
                    "CUDA_VISIBLE_DEVICES hides it); use device 'cpu'.");
}

at::Tensor FeatureBatch::clip(size_t c) const {
  if (c + 1 >= frameOffsets.size()) throwInvalidArg("FeatureBatch::clip: index out of range");
  return values.narrow(0, frameOffsets[c], frameOffsets[c + 1] - frameOffsets[c]);
}

#if !VOXQC_WITH_CUDA
FeatureBatch spectrogramBatch(const at::Tensor&, const std::vector<int64_t>&, const features::SpectrogramOptions&,
                              bool) {
  requireAvailable("spectrogram");
  return {};
}
FeatureBatch melSpectrogramBatch(const at::Tensor&, const std::vector<int64_t>&,
                                 const features::MelSpectrogramOptions&, bool) {
  requireAvailable("melSpectrogram");
  return {};
}
FeatureBatch mfccBatch(const at::Tensor&, const std::vector<int64_t>&, const features::MfccOptions&, bool) {
  requireAvailable("mfcc");
  return {};
}
FeatureBatch kaldiFbankBatch(const at::Tensor&, const std::vector<int64_t>&, const features::KaldiFbankOptions&,
                             bool) {
  requireAvailable("kaldiFbank");
  return {};
}
FeatureBatch kaldiMfccBatch(const at::Tensor&, const std::vector<int64_t>&, const features::KaldiMfccOptions&,
                            bool) {
  requireAvailable("kaldiMfcc");
  return {};
}
at::Tensor fusedAttention(const at::Tensor&, const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&,
                          double, bool) {
  requireAvailable("fusedAttention");
  return {};
}
std::tuple<at::Tensor, at::Tensor> fusedAttentionForward(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                         const c10::optional<at::Tensor>&, double, bool, bool) {
  requireAvailable("fusedAttention");
  return {};
}
std::tuple<at::Tensor, at::Tensor, at::Tensor> fusedAttentionBackward(const at::Tensor&, const at::Tensor&,
                                                                      const at::Tensor&,
                                                                      const c10::optional<at::Tensor>&, double, bool,
                                                                      const at::Tensor&, const at::Tensor&,
                                                                      const at::Tensor&) {
  requireAvailable("fusedAttention");
  return {};
}
at::Tensor gradeBatch(const at::Tensor&, const std::vector<int64_t>&) {
  requireAvailable("grade");
  return {};
}
int kernelArch() { return 0; }
#endif

}  // namespace voxqc::cuda
