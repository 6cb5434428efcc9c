// libtorch's global switches that tch does not bind (docs/gpu.md#the-c-bridge): deterministic
// cuDNN algorithms, which the CUDA tests comparing a graphed step with the eager one turn on so
// both pick the same, run-to-run identical convolution kernels.
#include "bridge.h"

#include <ATen/Context.h>

using sliders_ext::guarded;

extern "C" {

// torch.backends.cudnn.deterministic = on.
char* sliders_ext_set_deterministic_cudnn(int on) {
  return guarded([&] { at::globalContext().setDeterministicCuDNN(on != 0); });
}

// Reads torch.backends.cudnn.deterministic into *out (0 or 1).
char* sliders_ext_deterministic_cudnn(int* out) {
  return guarded([&] { *out = at::globalContext().deterministicCuDNN() ? 1 : 0; });
}

}  // extern "C"
