// Multi-tensor optimiser kernels (docs/gpu.md#multi-tensor-adam): one fused Adam launch and a
// foreach gradient clipping over all of a network's parameters, as torch.optim.Adam(fused=True)
// and torch.nn.utils.clip_grad_norm_(foreach=True) do.
#include "bridge.h"

#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_foreach_zero.h>
#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/stack.h>

using sliders_ext::guarded;
using sliders_ext::tensors;

extern "C" {

void sliders_ext_free_error(char* message) { std::free(message); }

// `_fused_adam_` over n parameters: no weight decay, no amsgrad, not maximising. `steps` holds
// the step count(s) the kernel reads for the bias corrections (already incremented).
char* sliders_ext_fused_adam(at::Tensor* const* params, at::Tensor* const* grads,
                             at::Tensor* const* exp_avgs, at::Tensor* const* exp_avg_sqs,
                             at::Tensor* const* steps, size_t n, double lr, double beta1,
                             double beta2, double eps) {
  return guarded([&] {
    at::_fused_adam_(tensors(params, n), tensors(grads, n), tensors(exp_avgs, n),
                     tensors(exp_avg_sqs, n), {}, tensors(steps, n), lr, beta1, beta2,
                     /*weight_decay=*/0.0, eps, /*amsgrad=*/false, /*maximize=*/false);
  });
}

// Scales n gradients in place so their global L2 norm is at most max_norm:
// coef = min(max_norm / (norm + 1e-6), 1), computed on the device.
char* sliders_ext_foreach_clip(at::Tensor* const* grads, size_t n, double max_norm) {
  return guarded([&] {
    auto list = tensors(grads, n);
    auto norms = at::_foreach_norm(list, 2);
    auto total = at::stack(norms).norm();
    auto coef = total.add(1e-6).reciprocal().mul(max_norm).clamp_max(1.0);
    at::_foreach_mul_(list, coef);
  });
}

// Zeroes n tensors in place.
char* sliders_ext_foreach_zero(at::Tensor* const* ts, size_t n) {
  return guarded([&] { at::_foreach_zero_(tensors(ts, n)); });
}

}  // extern "C"
