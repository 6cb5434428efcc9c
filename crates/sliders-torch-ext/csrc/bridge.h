// Shared by the bridge's C++ files: the C error convention (docs/gpu.md#the-c-bridge).
// A bridge function returns nullptr on success, or a message the caller frees with
// sliders_ext_free_error; no C++ exception ever crosses into Rust.
#pragma once

#include <ATen/core/Tensor.h>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

namespace sliders_ext {

// A heap copy of `what` for Rust to read and free.
inline char* error_copy(const char* what) {
  size_t n = std::strlen(what);
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (out != nullptr) {
    std::memcpy(out, what, n + 1);
  }
  return out;
}

// Runs `f`, turning any exception into an error message.
template <typename F>
char* guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception& e) {
    return error_copy(e.what());
  } catch (...) {
    return error_copy("unknown C++ exception in the sliders libtorch bridge");
  }
}

// tch's tensor handles are `at::Tensor*`; this copies `n` of them (reference counts, not data).
inline std::vector<at::Tensor> tensors(at::Tensor* const* ptrs, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(*ptrs[i]);
  }
  return out;
}

}  // namespace sliders_ext
