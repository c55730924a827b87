// GEMM driver (GotoBLAS/BLIS structure): B is packed into kc×NR panels shared by all
// threads, each thread packs its own MC×kc block of A into MR×kc panels, and the SIMD table's
// register-blocked micro-kernel multiplies one A panel by one B panel. Loops: n by NC, k by
// KC, then tasks over (MC block of m) × (slice of the NC block) run on the pool. Skinny
// products (m ≤ 16, or ≤ 32 for x·Wᵀ: decode steps, VAR's first scales) skip packing and
// stream B once (gemvT/gemvN).
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threadpool.h"

namespace ddar {
namespace {

constexpr int64_t kSkinnyRows = 16;
constexpr int64_t kSkinnyRowsT = 32;

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Packs rows [i0, i0+mc) × cols [p0, p0+kc) of A into ceil(mc/MR) panels of kc×MR, zero-padded.
void packA(const GemmView& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - ir);
    const float* src = g.a + (i0 + ir) * g.rsA + p0 * g.csA;
    if (g.rsA == 1) {  // transposed A: MR contiguous values per k
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * g.csA;
        float* d = dst + p * mr;
        int64_t i = 0;
        for (; i < rows; i++) d[i] = s[i];
        for (; i < mr; i++) d[i] = 0.f;
      }
    } else {
      for (int64_t i = 0; i < rows; i++) {
        const float* s = src + i * g.rsA;
        for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = s[p * g.csA];
      }
      for (int64_t i = rows; i < mr; i++)
        for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = 0.f;
    }
    dst += kc * mr;
  }
}

// Packs panel `panel` (columns j0 + panel*NR …) of B rows [p0, p0+kc) into kc×NR, zero-padded.
void packBPanel(const GemmView& g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t panel,
                int nr, float* dst) {
  int64_t jr = panel * nr;
  int64_t cols = std::min<int64_t>(nr, nc - jr);
  const float* src = g.b + p0 * g.rsB + (j0 + jr) * g.csB;
  if (g.csB == 1) {
    for (int64_t p = 0; p < kc; p++) {
      std::memcpy(dst + p * nr, src + p * g.rsB, cols * sizeof(float));
      for (int64_t j = cols; j < nr; j++) dst[p * nr + j] = 0.f;
    }
  } else if (g.rsB == 1 && simd().packBT && nr == simd().nr) {  // nn.Linear weights [N, K]
    simd().packBT(src, g.csB, kc, cols, dst);
  } else {  // transposed B: each column j is contiguous along k; 16 k at a time keeps the
            // written rows of dst in L1
    for (int64_t p0 = 0; p0 < kc; p0 += 16) {
      const int64_t p1 = std::min<int64_t>(kc, p0 + 16);
      for (int64_t j = 0; j < cols; j++) {
        const float* s = src + j * g.csB;
        for (int64_t p = p0; p < p1; p++) dst[p * nr + j] = s[p * g.rsB];
      }
      for (int64_t p = p0; p < p1; p++)
        for (int64_t j = cols; j < nr; j++) dst[p * nr + j] = 0.f;
    }
  }
}

void gemmPacked(const GemmView& g) {
  const SimdOps& S = simd();
  ThreadPool& pool = ThreadPool::get();
  // Products under ~64K multiply-adds finish in microseconds: keep them on one thread.
  const int T = g.m * g.n * g.k < (int64_t{1} << 16) ? 1 : pool.available();
  const int mr = S.mr, nr = S.nr;
  const int64_t KC = S.kc, NC = S.nc;
  // MC: a multiple of MR near S.mc, chosen so the m blocks split evenly across threads.
  int64_t mblocksWanted = ceilDiv(g.m, S.mc);
  if (T > 1 && g.m >= 2 * mr * T) mblocksWanted = ceilDiv(mblocksWanted, T) * T;
  const int64_t MC = ceilDiv(ceilDiv(g.m, mblocksWanted), mr) * mr;
  const int64_t mblocks = ceilDiv(g.m, MC);

  float* bp = scratch(kPackB).get(static_cast<size_t>(KC) * ceilDiv(std::min(NC, g.n), nr) * nr);
  int64_t lastBlock[256];
  for (int64_t jc = 0; jc < g.n; jc += NC) {
    const int64_t nc = std::min(NC, g.n - jc);
    const int64_t npanels = ceilDiv(nc, nr);
    // About 4 tasks per thread (each ≥ 2 B panels), handed out dynamically: a thread that
    // another job preempts delays the call by one small task, not by half of the product.
    const int64_t jsplit =
        T > 1 ? std::max<int64_t>(1, std::min<int64_t>(npanels / 2, ceilDiv(4 * T, mblocks))) : 1;
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kc = std::min(KC, g.k - pc);
      const bool acc = g.accumulate || pc > 0;
      const int64_t packTasks = (kc * nc >= 32768 && T > 1) ? std::min<int64_t>(npanels, 4 * T) : 1;
      pool.run(packTasks, [&](int64_t t, int) {
        int64_t b = npanels * t / packTasks, e = npanels * (t + 1) / packTasks;
        for (int64_t q = b; q < e; q++) {
          if (g.packB)
            g.packB(g.packCtx, pc, kc, jc + q * nr, std::min<int64_t>(nr, nc - q * nr), nr, bp + q * kc * nr);
          else
            packBPanel(g, pc, kc, jc, nc, q, nr, bp + q * kc * nr);
        }
      });
      std::fill(lastBlock, lastBlock + 256, -1);
      pool.run(mblocks * jsplit, [&](int64_t t, int thread) {
        const int64_t ib = t / jsplit, jb = t % jsplit;
        const int64_t i0 = ib * MC, mc = std::min(MC, g.m - i0);
        float* ap = scratch(kPackA).get(static_cast<size_t>(MC) * KC);
        if (lastBlock[thread] != ib) {
          packA(g, i0, mc, pc, kc, mr, ap);
          lastBlock[thread] = ib;
        }
        alignas(64) float tile[32 * 64];
        const int64_t q0 = npanels * jb / jsplit, q1 = npanels * (jb + 1) / jsplit;
        for (int64_t q = q0; q < q1; q++) {
          const float* bq = bp + q * kc * nr;
          const int64_t j = jc + q * nr, cols = std::min<int64_t>(nr, g.n - j);
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const float* aq = ap + ir * kc;
            float* c = g.c + (i0 + ir) * g.ldc + j;
            const int64_t rows = std::min<int64_t>(mr, mc - ir);
            if (cols == nr) {
              if (rows == mr) S.gemmMicro(kc, aq, bq, c, g.ldc, acc);
              else S.gemmMicroRows(static_cast<int>(rows), kc, aq, bq, c, g.ldc, acc);
            } else {  // right edge: full-width tile into a buffer, copy the valid columns
              S.gemmMicroRows(static_cast<int>(rows), kc, aq, bq, tile, nr, false);
              for (int64_t i = 0; i < rows; i++)
                for (int64_t jj = 0; jj < cols; jj++)
                  c[i * g.ldc + jj] = acc ? c[i * g.ldc + jj] + tile[i * nr + jj] : tile[i * nr + jj];
            }
          }
        }
      }, T);
    }
  }
}

// m ≤ 16: out rows are few, so B is streamed once, split over columns across threads.
void gemmSkinny(const GemmView& g) {
  const SimdOps& S = simd();
  const float* x = g.a;
  int64_t ldx = g.rsA;
  if (g.csA != 1) {  // gather the few rows of A into contiguous scratch
    float* xs = scratch(kGemmRows).get(static_cast<size_t>(g.m * g.k));
    for (int64_t i = 0; i < g.m; i++)
      for (int64_t p = 0; p < g.k; p++) xs[i * g.k + p] = g.a[i * g.rsA + p * g.csA];
    x = xs;
    ldx = g.k;
  }
  const bool trans = g.rsB == 1;  // B(p,j) = b[j*csB + p]: rows of W contiguous along k
  const int64_t work = g.m * g.n * g.k;
  const int64_t grain = std::max<int64_t>(16, (int64_t{1} << 17) / std::max<int64_t>(1, g.m * g.k));
  // Units of 48 columns: whole dot blocks (16, 12, 8 or 6 W rows) on both sides of a split.
  // Up to 4 chunks per thread, handed out dynamically: when another job preempts one of our
  // threads, the others take over its share instead of waiting for it.
  const int64_t units = ceilDiv(g.n, 48);
  auto range = [&](int64_t b, int64_t e) {
    int64_t j0 = b * 48, j1 = std::min(g.n, e * 48);
    if (trans)
      S.gemvT(g.m, j1 - j0, g.k, x, ldx, g.b + j0 * g.csB, g.csB, g.c + j0, g.ldc, g.accumulate);
    else
      S.gemvN(g.m, j1 - j0, g.k, x, ldx, g.b + j0, g.rsB, g.c + j0, g.ldc, g.accumulate);
  };
  ThreadPool& pool = ThreadPool::get();
  const int64_t chunks = work >= (int64_t{1} << 18) && pool.available() > 1
                             ? std::min<int64_t>(units / ceilDiv(grain, 48), 4 * pool.available())
                             : 1;
  if (chunks <= 1) return range(0, units);
  pool.run(chunks, [&](int64_t c, int) { range(units * c / chunks, units * (c + 1) / chunks); });
}

}  // namespace

void gemm(const GemmView& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) {
    if (!g.accumulate)
      for (int64_t i = 0; i < g.m; i++) std::fill(g.c + i * g.ldc, g.c + i * g.ldc + g.n, 0.f);
    return;
  }
  // x·Wᵀ (W rows contiguous along k) stays on the dot-product path up to 32 rows: single
  // thread it beat packing at 18–32 rows (m = 24, 3072×1024: 96 vs 66 GFLOP/s).
  const int64_t skinny = g.rsB == 1 ? kSkinnyRowsT : kSkinnyRows;
  if (g.m <= skinny && !g.packB && (g.rsB == 1 || g.csB == 1)) {
    gemmSkinny(g);
    return;
  }
  gemmPacked(g);
}

void matmul(const float* a, const float* b, float* out, const MatmulArgs& p) {
  auto view = [&](int64_t t) {
    GemmView g;
    g.m = p.m, g.n = p.n, g.k = p.k;
    g.a = a + t * p.strideA;
    g.rsA = p.transA ? 1 : p.k;
    g.csA = p.transA ? p.m : 1;
    g.b = b + t * p.strideB;
    g.rsB = p.transB ? 1 : p.n;
    g.csB = p.transB ? p.k : 1;
    g.c = out + t * p.m * p.n;
    g.ldc = p.n;
    g.accumulate = p.accumulate;
    return g;
  };
  ThreadPool& pool = ThreadPool::get();
  const int64_t flops = p.m * p.n * p.k;
  // Many small products: one per task (each runs single-threaded inside the pool).
  if (p.batch > 1 && pool.available() > 1 && (flops < (int64_t{1} << 22) || p.batch >= 4 * pool.threads())) {
    pool.run(p.batch, [&](int64_t t, int) { gemm(view(t)); });
    return;
  }
  for (int64_t t = 0; t < p.batch; t++) gemm(view(t));
}

}  // namespace ddar
