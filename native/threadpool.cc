#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ddar {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

thread_local bool tInJob = false;

// Shared state of the pool (owned by the single ThreadPool instance through `state()`).
// A job is joined through `join` = (generation << 16) | seats left: a worker takes a seat
// with a CAS, and the caller closes the job by zeroing the seats once it has run out of
// tasks, then waits only for the workers that did take a seat. A descheduled worker that
// wakes up late finds no seat and never touches the job's fields.
struct PoolState {
  std::mutex mu;                      // guards sleeping on cv
  std::condition_variable cv;
  std::mutex owner;                   // held by the thread issuing a job
  std::atomic<uint64_t> generation{0};
  std::atomic<int> sleepers{0};
  std::atomic<uint64_t> join{0};
  std::atomic<int> finished{0};       // seated workers done with the current job
  std::atomic<int64_t> next{0};       // next task to hand out
  int64_t ntasks = 0;
  void (*call)(void*, int64_t, int) = nullptr;
  void* ctx = nullptr;
  std::vector<std::thread> workers;
};

PoolState& state() {
  static PoolState* s = new PoolState();  // never destroyed: workers outlive static teardown
  return *s;
}

void drain(PoolState& s, int thread) {
  for (;;) {
    int64_t t = s.next.fetch_add(1, std::memory_order_relaxed);
    if (t >= s.ntasks) break;
    s.call(s.ctx, t, thread);
  }
}

bool takeSeat(PoolState& s, uint64_t g) {
  uint64_t j = s.join.load(std::memory_order_acquire);
  while ((j >> 16) == (g & 0xFFFFFFFFFFFFull) && (j & 0xFFFF) != 0)
    if (s.join.compare_exchange_weak(j, j - 1, std::memory_order_acq_rel)) return true;
  return false;
}

void workerLoop(int id) {
  PoolState& s = state();
  tInJob = true;
  uint64_t seen = 0;
  for (;;) {
    // Spin for ~200 µs, then sleep until the generation changes.
    auto start = std::chrono::steady_clock::now();
    uint64_t g;
    for (int i = 0;; i++) {
      g = s.generation.load(std::memory_order_acquire);
      if (g != seen) break;
      cpuRelax();
      if ((i & 255) == 255 &&
          std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) {
        std::unique_lock<std::mutex> lk(s.mu);
        s.sleepers.fetch_add(1);
        s.cv.wait(lk, [&] { return s.generation.load(std::memory_order_acquire) != seen; });
        s.sleepers.fetch_sub(1);
        g = s.generation.load(std::memory_order_acquire);
        break;
      }
    }
    seen = g;
    if (takeSeat(s, g)) {
      drain(s, id);
      s.finished.fetch_add(1, std::memory_order_release);
    }
  }
}

int configuredThreads() {
  int n = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("DDAR_THREADS")) {
    int v = std::atoi(env);
    if (v > 0) n = v;
  }
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  return n;
}

}  // namespace

ThreadPool& ThreadPool::get() {
  static ThreadPool* pool = new ThreadPool(configuredThreads());
  return *pool;
}

ThreadPool::ThreadPool(int nthreads) : nthreads_(nthreads) {
  PoolState& s = state();
  for (int i = 1; i < nthreads; i++) s.workers.emplace_back(workerLoop, i);
  for (auto& w : s.workers) w.detach();
}

int ThreadPool::available() const { return tInJob ? 1 : nthreads_; }

void ThreadPool::runErased(int64_t ntasks, void (*call)(void*, int64_t, int), void* ctx,
                           int maxThreads) {
  if (ntasks <= 0) return;
  PoolState& s = state();
  int workers = nthreads_ - 1;
  if (maxThreads - 1 < workers) workers = maxThreads - 1;
  if (ntasks - 1 < workers) workers = static_cast<int>(ntasks - 1);
  std::unique_lock<std::mutex> own(s.owner, std::defer_lock);
  if (tInJob || workers <= 0 || !own.try_lock()) {
    for (int64_t t = 0; t < ntasks; t++) call(ctx, t, 0);
    return;
  }
  s.call = call;
  s.ctx = ctx;
  s.ntasks = ntasks;
  s.next.store(0, std::memory_order_relaxed);
  s.finished.store(0, std::memory_order_relaxed);
  uint64_t g = s.generation.load(std::memory_order_relaxed) + 1;
  s.join.store(((g & 0xFFFFFFFFFFFFull) << 16) | static_cast<uint64_t>(workers),
               std::memory_order_release);
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.generation.store(g, std::memory_order_release);
  }
  if (s.sleepers.load() > 0) s.cv.notify_all();
  tInJob = true;
  drain(s, 0);
  tInJob = false;
  uint64_t left = s.join.exchange((g & 0xFFFFFFFFFFFFull) << 16, std::memory_order_acq_rel);
  int seated = workers - static_cast<int>(left & 0xFFFF);
  for (int i = 0; s.finished.load(std::memory_order_acquire) != seated; i++) {
    if (i < 4096) cpuRelax();
    else std::this_thread::yield();
  }
}

}  // namespace ddar
