// Persistent worker pool: one process-wide instance, sized from hardware_concurrency() or the
// DDAR_THREADS environment variable (read once, when the addon loads). Workers spin briefly
// after a job (kernels come in bursts) and then sleep on a condition variable. The caller's
// thread takes part in every job, so `threads()` counts it. A job issued from inside a job, or
// while another thread owns the pool, runs serially on the calling thread.
#pragma once
#include <cstdint>

namespace ddar {

class ThreadPool {
 public:
  static ThreadPool& get();
  int threads() const { return nthreads_; }
  // Threads a job issued now would get: 1 inside a running job (nested jobs run serially).
  int available() const;
  // Runs f(task, thread) for task in [0, ntasks), tasks handed out dynamically; thread is in
  // [0, threads()). Returns when every task is done. At most maxThreads threads take part.
  template <class F>
  void run(int64_t ntasks, F&& f, int maxThreads = 1 << 30) {
    auto call = [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); };
    runErased(ntasks, call, &f, maxThreads);
  }

 private:
  explicit ThreadPool(int nthreads);
  void runErased(int64_t ntasks, void (*call)(void*, int64_t, int), void* ctx, int maxThreads);
  int nthreads_;
};

// Splits [0, total) into at most `threads()` chunks, each at least `grain` long, and runs
// f(begin, end) on each; one chunk (no thread hand-off) when total < 2 * grain.
template <class F>
void parallelRange(int64_t total, int64_t grain, F&& f) {
  ThreadPool& pool = ThreadPool::get();
  int64_t chunks = grain > 0 ? total / grain : total;
  if (chunks > pool.threads()) chunks = pool.threads();
  if (chunks <= 1) {
    if (total > 0) f(int64_t{0}, total);
    return;
  }
  pool.run(chunks, [&](int64_t c, int) {
    int64_t b = total * c / chunks, e = total * (c + 1) / chunks;
    if (e > b) f(b, e);
  });
}

}  // namespace ddar
