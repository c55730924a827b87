// Reusable, 64-byte aligned per-thread scratch buffers: grown on demand, never shrunk, so hot
// paths allocate nothing after warm-up.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ddar {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(data_); }
  float* get(size_t n) {
    if (n > cap_) {
      std::free(data_);
      size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      cap_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t cap_ = 0;
};

// Slot s of the calling thread's scratch (slots let one kernel hold several buffers).
enum ScratchSlot { kPackA, kPackB, kGemmRows, kWork0, kWork1, kWork2, kSlots };
inline Scratch& scratch(ScratchSlot s) {
  thread_local Scratch buffers[kSlots];
  return buffers[s];
}

}  // namespace ddar
