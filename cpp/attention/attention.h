// voxqc fused attention (CPU): multi-head scaled dot-product attention for self- and
// cross-attention over batches of clips of different lengths, with an online softmax over key
// blocks (FlashAttention-2 style), so no Lq x Lk score matrix is ever stored, forward or backward.
//
// Semantics (fusedAttention and referenceAttention agree on all of them):
//   out[b,h,i,:] = sum_j softmax_j(scale * q[b,h,i,:] . k[b,h,j,:] over allowed j) * v[b,h,j,:]
//   where key j is allowed for query row i iff
//     - keyPadding is absent, or keyPadding[b,j] == false (true = padded key, ignored), and
//     - causal == false, or j <= i (top-left aligned, as torch's tril(ones(Lq, Lk)); with
//       Lq > Lk, rows i >= Lk see every key).
//   A row with no allowed key (every key padded, e.g. an empty clip; or causal with all its keys
//   padded) has output 0, and the gradients that flow through it are 0 (no NaN).
//   scale == 0 means 1/sqrt(D).
//
// Inputs: q [B, H, Lq, D], k and v [B, H, Lk, D], all float32 (or all float64), CPU, any
// strides (e.g. a transpose(1, 2) of a projection's [B, L, H, D] view). keyPadding: [B, Lk]
// bool. Returns a contiguous [B, H, Lq, D] tensor of the input dtype. fusedAttention is
// differentiable w.r.t. q, k and v (a torch::autograd::Function whose backward recomputes the
// scores blockwise from q, k and the saved per-row logsumexp); double backward is not supported
// (it throws). Threads: libtorch's intra-op pool (voxqc::useIntraOpThreads).
// Errors: voxqc::Error with ErrorCode::InvalidArg for wrong ranks, shapes, dtypes or devices.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <tuple>

namespace voxqc::attention {

at::Tensor fusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const c10::optional<at::Tensor>& keyPadding = {}, double scale = 0,
                          bool causal = false);

// The plain matmul-softmax-matmul formulation (masked_fill -inf, softmax, matmul) with the same
// conventions (all-masked rows give 0), built from libtorch ops: for tests and benchmarks. It
// stores the full [B, H, Lq, Lk] score and probability matrices.
at::Tensor referenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const c10::optional<at::Tensor>& keyPadding = {}, double scale = 0,
                              bool causal = false);

// ---- lower level (tests, benchmarks) ----------------------------------------------------------

// The raw kernels, no autograd. Forward returns (out [B,H,Lq,D], lse [B,H,Lq]): lse is the
// per-row logsumexp of the scaled, masked scores (-inf for rows with no allowed key).
std::tuple<at::Tensor, at::Tensor> fusedAttentionForward(const at::Tensor& q, const at::Tensor& k,
                                                         const at::Tensor& v,
                                                         const c10::optional<at::Tensor>& keyPadding,
                                                         double scale, bool causal);
// Backward from the forward's out and lse and the upstream gradient gradOut [B,H,Lq,D]:
// returns (dq, dk, dv) in the shapes of q, k, v (contiguous).
std::tuple<at::Tensor, at::Tensor, at::Tensor> fusedAttentionBackward(
    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
    const c10::optional<at::Tensor>& keyPadding, double scale, bool causal, const at::Tensor& out,
    const at::Tensor& lse, const at::Tensor& gradOut);

// Block sizes of the tiling (rows of q per task, keys per inner block). Defaults 64 and 128 (see
// attention.cpp for why). Process-wide; tests set small ones to cover every tail path. Values
// are clamped: queryBlock to 1..1024, keyBlock to 8..1024 and rounded up to a multiple of 8.
// Passing 0 restores a default.
void setBlockSizes(int queryBlock, int keyBlock);
std::pair<int, int> blockSizes();
// "avx2+fma" or "generic": the float32 inner kernels in use (env VOXQC_ATTENTION_SIMD=generic
// forces the portable ones).
const char* kernelName();

// ---- module ------------------------------------------------------------------------------------

enum class AttentionKernel { Fused, Reference };

struct MultiHeadAttentionOptions {
  MultiHeadAttentionOptions(int64_t dModel, int64_t numHeads) : dModel_(dModel), numHeads_(numHeads) {}
  TORCH_ARG(int64_t, dModel);
  TORCH_ARG(int64_t, numHeads);
  // Feature sizes of key and value inputs (cross-attention from another modality); 0 = dModel.
  TORCH_ARG(int64_t, kDim) = 0;
  TORCH_ARG(int64_t, vDim) = 0;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(AttentionKernel, kernel) = AttentionKernel::Fused;
};

// Multi-head attention with q/k/v/out linear projections around fusedAttention (or, with
// kernel(Reference), referenceAttention: same parameters, same results). Self-attention:
// forward(x, x, x, padding); cross-attention: forward(audio, text, text, textPadding).
// query [B, Lq, dModel]; key [B, Lk, kDim]; value [B, Lk, vDim]; keyPadding [B, Lk] bool
// (true = padded). Returns [B, Lq, dModel]. Head size dModel / numHeads (must divide).
class MultiHeadAttentionImpl : public torch::nn::Cloneable<MultiHeadAttentionImpl> {
 public:
  MultiHeadAttentionImpl(int64_t dModel, int64_t numHeads)
      : MultiHeadAttentionImpl(MultiHeadAttentionOptions(dModel, numHeads)) {}
  explicit MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options);

  void reset() override;

  at::Tensor forward(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                     const c10::optional<at::Tensor>& keyPadding = {}, bool causal = false);

  MultiHeadAttentionOptions options;
  torch::nn::Linear qProj{nullptr}, kProj{nullptr}, vProj{nullptr}, outProj{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace voxqc::attention
