// Run-time choice of the SIMD table. The detected level and the active level are the only
// state besides the thread pool.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "simd.h"

namespace ddar {
namespace {

int detect() {
#if defined(__x86_64__) && !defined(DDAR_PORTABLE_ONLY)
  __builtin_cpu_init();
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx512 && avx512Ops()) return 2;
  if (avx2 && avx2Ops()) return 1;
#endif
  return 0;
}

int initialLevel() {
  int level = detect();
  // DDAR_SIMD=scalar|avx2|avx512 caps the level (read once, at load), for comparisons.
  if (const char* env = std::getenv("DDAR_SIMD")) {
    int want = std::strcmp(env, "scalar") == 0 ? 0 : std::strcmp(env, "avx2") == 0 ? 1 : 2;
    if (want < level) level = want;
  }
  return level;
}

std::atomic<int>& level() {
  static std::atomic<int> l{initialLevel()};
  return l;
}

}  // namespace

int cpuLevel() {
  static const int detected = detect();
  return detected;
}

int activeLevel() { return level().load(std::memory_order_relaxed); }

void setLevel(int l) {
  if (l > cpuLevel()) l = cpuLevel();
  if (l < 0) l = 0;
  level().store(l);
}

const SimdOps& simd() {
  switch (activeLevel()) {
    case 2:
      return *avx512Ops();
    case 1:
      return *avx2Ops();
    default:
      return scalarOps();
  }
}

}  // namespace ddar
