// The CUDA-only part of the bridge, compiled only when the build finds CUDA (build.rs): CUDA graph
// capture and replay through libtorch's at::cuda::CUDAGraph (docs/gpu.md#cuda-graphs), and the
// caching allocator's peak-memory figure (what torch.cuda.max_memory_allocated reads). Capture runs on a side stream taken from
// libtorch's pool, as torch.cuda.graph does; warm-up iterations run on the same stream first.
#include "bridge.h"

// Only c10's exported functions switch and wait for streams (no inline guard classes), so the
// bridge calls nothing from the CUDA runtime directly and links against libtorch_cuda and
// libc10_cuda alone.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <optional>

using sliders_ext::guarded;

struct SlidersGraph {
  int device;
  c10::cuda::CUDAStream stream;
  // The stream that was current before the side stream was made current.
  std::optional<c10::cuda::CUDAStream> previous;
  at::cuda::CUDAGraph graph;

  explicit SlidersGraph(int d)
      : device(d), stream(c10::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(d))) {}
};

extern "C" {

char* sliders_ext_graph_new(int device, SlidersGraph** out) {
  return guarded([&] { *out = new SlidersGraph(device); });
}

void sliders_ext_graph_free(SlidersGraph* g) { delete g; }

// Makes the graph's side stream current, after the work already queued on the current stream.
char* sliders_ext_graph_enter_stream(SlidersGraph* g) {
  return guarded([&] {
    g->previous.emplace(c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(g->device)));
    c10::cuda::device_synchronize();
    c10::cuda::setCurrentCUDAStream(g->stream);
  });
}

// Restores the previous stream, after the side stream's work.
char* sliders_ext_graph_leave_stream(SlidersGraph* g) {
  return guarded([&] {
    c10::cuda::device_synchronize();
    if (g->previous) {
      c10::cuda::setCurrentCUDAStream(*g->previous);
      g->previous.reset();
    }
  });
}

char* sliders_ext_graph_capture_begin(SlidersGraph* g) {
  return guarded([&] { g->graph.capture_begin(); });
}

char* sliders_ext_graph_capture_end(SlidersGraph* g) {
  return guarded([&] { g->graph.capture_end(); });
}

char* sliders_ext_graph_replay(SlidersGraph* g) {
  return guarded([&] { g->graph.replay(); });
}

// The most bytes libtorch's allocator has had allocated on `device` since the last reset.
char* sliders_ext_cuda_peak_allocated(int device, int64_t* out) {
  return guarded([&] {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    *out = stats.allocated_bytes[0].peak;  // index 0: all pools together
  });
}

char* sliders_ext_cuda_reset_peak(int device) {
  return guarded(
      [&] { c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device)); });
}

}  // extern "C"
