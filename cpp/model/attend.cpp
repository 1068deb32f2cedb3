#include "model/attend.h"

#include <atomic>
#include <cmath>
#include <limits>

// ---- SWITCH POINT: fused attention op ---------------------------------------------------------
// 1: the layers call voxqc::attention::fusedAttention (cpp/attention) on the CPU.
// 0: they use referenceAttend below everywhere (e.g. while cpp/attention is being rewritten).
#ifndef VOXQC_MODEL_FUSED_ATTENTION
#define VOXQC_MODEL_FUSED_ATTENTION 1
#endif
#if VOXQC_MODEL_FUSED_ATTENTION
#include "attention/attention.h"
#endif

namespace voxqc::model {

namespace {
std::atomic<int> gBackend{int(AttentionBackend::Fused)};
}

void setAttentionBackend(AttentionBackend backend) { gBackend.store(int(backend)); }
AttentionBackend attentionBackend() { return AttentionBackend(gBackend.load()); }
bool fusedAttentionCompiled() { return VOXQC_MODEL_FUSED_ATTENTION != 0; }

at::Tensor referenceAttend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const at::Tensor& keyPadding) {
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) * scale;  // [B,H,Lq,Lk]
  if (!keyPadding.defined()) return at::matmul(at::softmax(scores, -1), v);
  const int64_t B = q.size(0), Lk = k.size(2);
  at::Tensor mask = keyPadding.view({B, 1, 1, Lk});
  // Rows with no allowed key: fill their scores with 0 (finite softmax), then zero the weights.
  at::Tensor empty = mask.all(-1, /*keepdim=*/true);  // [B,1,1,1]
  scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity()).masked_fill(empty, 0.0);
  at::Tensor w = at::softmax(scores, -1).masked_fill(empty, 0.0);
  return at::matmul(w, v);
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& keyPadding) {
#if VOXQC_MODEL_FUSED_ATTENTION
  if (attentionBackend() == AttentionBackend::Fused && q.device().is_cpu() &&
      (q.scalar_type() == at::kFloat || q.scalar_type() == at::kDouble)) {
    c10::optional<at::Tensor> pad;
    if (keyPadding.defined()) pad = keyPadding;
    return voxqc::attention::fusedAttention(q, k, v, pad, 0.0, false);
  }
#endif
  return referenceAttend(q, k, v, keyPadding);
}

}  // namespace voxqc::model
