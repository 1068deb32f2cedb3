// voxqc on the GPU: the at::Tensor API over the CUDA kernels (cpp/cuda/kernels.h).
//
// Built into voxqc_core always; the implementations live in cpp/cuda/*_torch.cpp, compiled only
// when the core is built against a CUDA libtorch (VOXQC_WITH_CUDA=1). In a CPU build every
// function below except compiled() / available() throws voxqc::Error(ErrorCode::Unsupported) with
// a message that says how to get a CUDA build, so `device: 'cuda'` in the JS API gives a clear
// error instead of a link or load failure.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "features/options.h"

namespace voxqc::cuda {

// The CUDA kernels were compiled into this build (VOXQC_WITH_CUDA).
bool compiled();
// compiled() and a CUDA device is usable now.
bool available();
// Throws voxqc::Error(Unsupported) saying why `what` cannot run on CUDA here (no CUDA build, or
// no device); returns when it can.
void requireAvailable(const char* what);

// ---- features ----------------------------------------------------------------------------------
// A batch of clips in, one packed result out: values is float32 on the samples' CUDA device,
// [totalFrames][bins], clip c's rows are frameOffsets[c] .. frameOffsets[c+1] (host vector).
// Row layout and values are those of the CPU kernels (features.h): [frames][bins].
struct FeatureBatch {
  at::Tensor values;
  std::vector<int64_t> frameOffsets;
  int64_t bins = 0;
  size_t size() const { return frameOffsets.empty() ? 0 : frameOffsets.size() - 1; }
  at::Tensor clip(size_t c) const;  // a [frames_c][bins] view of values
};

// samples: float32 [B, T] (clips padded to T; CPU tensors are copied to the current CUDA device)
// or [T] (one clip). lengths: samples of each clip (<= T); empty means every clip is T long.
// Options are validated exactly as on the CPU (same messages, prefixed "clip i: " for lengths).
// checkFinite: reject NaN/Inf samples as the CPU kernels do (one extra pass and a sync); false
// lets them propagate.
FeatureBatch spectrogramBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                              const features::SpectrogramOptions& opts, bool checkFinite = true);
FeatureBatch melSpectrogramBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                                 const features::MelSpectrogramOptions& opts, bool checkFinite = true);
FeatureBatch mfccBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                       const features::MfccOptions& opts, bool checkFinite = true);
FeatureBatch kaldiFbankBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                             const features::KaldiFbankOptions& opts, bool checkFinite = true);
FeatureBatch kaldiMfccBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths,
                            const features::KaldiMfccOptions& opts, bool checkFinite = true);

// ---- attention ---------------------------------------------------------------------------------
// The CUDA twin of voxqc::attention::fusedAttention (same semantics, see attention.h): q
// [B,H,Lq,D], k, v [B,H,Lk,D] on one CUDA device, float32 / float16 / bfloat16, D <= 64 (a
// multiple of 8 for 16-bit types); keyPadding [B,Lk] bool, true = padded. Differentiable w.r.t.
// q, k, v (an autograd Function; double backward throws). Returns a contiguous [B,H,Lq,D].
at::Tensor fusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const c10::optional<at::Tensor>& keyPadding = {}, double scale = 0,
                          bool causal = false);
// Raw kernels, no autograd: (out, lse [B,H,Lq] float32) and (dq, dk, dv). forceSimt: skip the
// tensor-core forward (tests).
std::tuple<at::Tensor, at::Tensor> fusedAttentionForward(const at::Tensor& q, const at::Tensor& k,
                                                         const at::Tensor& v,
                                                         const c10::optional<at::Tensor>& keyPadding,
                                                         double scale, bool causal, bool forceSimt = false);
std::tuple<at::Tensor, at::Tensor, at::Tensor> fusedAttentionBackward(
    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
    const c10::optional<at::Tensor>& keyPadding, double scale, bool causal, const at::Tensor& out,
    const at::Tensor& lse, const at::Tensor& gradOut);

// ---- end-to-end grading (HOOK) -----------------------------------------------------------------
// TODO(model): batched grading on the GPU with the shipped model. The model does not exist yet;
// when it does, this takes the batch of clips, computes features with the batch functions
// above, runs the model (its attention through fusedAttention) on the clips' device and returns
// per-clip scores. Until then it throws voxqc::Error(Unsupported, "... no shipped model ...").
at::Tensor gradeBatch(const at::Tensor& samples, const std::vector<int64_t>& lengths);

// The __CUDA_ARCH__ the kernels run as on the current device (900 = the sm_90 image), 0 if none.
int kernelArch();

}  // namespace voxqc::cuda
