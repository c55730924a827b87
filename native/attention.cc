// Fused scaled-dot-product attention (flash-attention structure on the CPU). A task is one
// (batch, head, block of QB queries); it walks the keys in blocks of KB with an online
// softmax: S = scale·Q·Kᵀ (+bias, masked) for the block, running max/sum per row, O rescaled
// and accumulated with P·V. Only a QB×KB score tile exists at a time. Key blocks that the
// level mask hides from every query of the block are skipped. The backward recomputes P
// from the saved log-sum-exp; one task per (batch, kv head) owns that head's dK/dV rows.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threadpool.h"

namespace ddar {
namespace {

constexpr int64_t QB = 64;
constexpr int64_t KB = 128;  // small enough that causal masks skip about half the tiles
constexpr float kNegInf = -INFINITY;

struct Block {
  int64_t b, h, g, i0, qn, j0, kn;
};

int32_t maxLevel(const int32_t* l, int64_t n) {
  int32_t m = l[0];
  for (int64_t i = 1; i < n; i++) m = std::max(m, l[i]);
  return m;
}
int32_t minLevel(const int32_t* l, int64_t n) {
  int32_t m = l[0];
  for (int64_t i = 1; i < n; i++) m = std::min(m, l[i]);
  return m;
}

// Scores of one tile into s (qn × KB, row stride KB): scale·q·kᵀ + bias, masked to -inf.
void scoreTile(const float* q, const float* k, const AttnArgs& p, const Block& t, float* s) {
  GemmView g{};
  g.m = t.qn, g.n = t.kn, g.k = p.dim;
  g.a = q + ((t.b * p.heads + t.h) * p.lq + t.i0) * p.dim, g.rsA = p.dim, g.csA = 1;
  g.b = k + ((t.b * p.kvHeads + t.g) * p.kvCap + t.j0) * p.dim, g.rsB = 1, g.csB = p.dim;
  g.c = s, g.ldc = KB, g.accumulate = false;
  gemm(g);
  const SimdOps& S = simd();
  for (int64_t i = 0; i < t.qn; i++) {
    float* row = s + i * KB;
    S.scale(row, p.scale, t.kn);
    if (p.bias) {
      const float* br = p.bias + t.b * p.biasStrideB + t.h * p.biasStrideH + (t.i0 + i) * p.lk + t.j0;
      for (int64_t j = 0; j < t.kn; j++) row[j] += br[j];
    }
    if (p.qLevel) {
      const int32_t ql = p.qLevel[t.i0 + i];
      const int32_t* kl = p.kLevel + t.j0;
      for (int64_t j = 0; j < t.kn; j++)
        if (kl[j] > ql) row[j] = kNegInf;
    }
  }
}

bool tileHidden(const AttnArgs& p, int64_t i0, int64_t qn, int64_t j0, int64_t kn) {
  return p.qLevel && minLevel(p.kLevel + j0, kn) > maxLevel(p.qLevel + i0, qn);
}

}  // namespace

void sdpa(const float* q, const float* k, const float* v, float* out, float* lse, const AttnArgs& p) {
  const int64_t qblocks = (p.lq + QB - 1) / QB;
  const int64_t group = p.heads / p.kvHeads;
  ThreadPool::get().run(p.batch * p.heads * qblocks, [&](int64_t task, int) {
    Block t{};
    t.b = task / (p.heads * qblocks);
    t.h = (task / qblocks) % p.heads;
    t.g = t.h / group;
    t.i0 = (task % qblocks) * QB;
    t.qn = std::min(QB, p.lq - t.i0);
    const SimdOps& S = simd();
    float* s = scratch(kWork1).get(QB * KB + 2 * QB);
    float* mrow = s + QB * KB;  // running max per query
    float* lrow = mrow + QB;    // running sum per query
    const int64_t rowBase = (t.b * p.heads + t.h) * p.lq + t.i0;
    float* o = out + rowBase * p.dimV;
    std::fill(o, o + t.qn * p.dimV, 0.f);
    std::fill(mrow, mrow + t.qn, kNegInf);
    std::fill(lrow, lrow + t.qn, 0.f);
    for (t.j0 = 0; t.j0 < p.lk; t.j0 += KB) {
      t.kn = std::min(KB, p.lk - t.j0);
      if (tileHidden(p, t.i0, t.qn, t.j0, t.kn)) continue;
      scoreTile(q, k, p, t, s);
      bool any = false;
      for (int64_t i = 0; i < t.qn; i++) {
        float* row = s + i * KB;
        const float mNew = std::max(mrow[i], S.maxv(row, t.kn));
        if (mNew == kNegInf) {  // everything masked so far: contributes nothing
          std::fill(row, row + t.kn, 0.f);
          continue;
        }
        any = true;
        const float alpha = mrow[i] == kNegInf ? 0.f : std::exp(mrow[i] - mNew);
        lrow[i] = lrow[i] * alpha + S.expSub(row, mNew, t.kn);
        if (alpha != 1.f) S.scale(o + i * p.dimV, alpha, p.dimV);
        mrow[i] = mNew;
      }
      if (!any) continue;
      GemmView g{};
      g.m = t.qn, g.n = p.dimV, g.k = t.kn;
      g.a = s, g.rsA = KB, g.csA = 1;
      g.b = v + ((t.b * p.kvHeads + t.g) * p.kvCap + t.j0) * p.dimV, g.rsB = p.dimV, g.csB = 1;
      g.c = o, g.ldc = p.dimV, g.accumulate = true;
      gemm(g);
    }
    for (int64_t i = 0; i < t.qn; i++) {
      if (mrow[i] == kNegInf) {
        if (lse) lse[rowBase + i] = kNegInf;
        continue;  // o row stays 0
      }
      S.scale(o + i * p.dimV, 1.f / lrow[i], p.dimV);
      if (lse) lse[rowBase + i] = mrow[i] + std::log(lrow[i]);
    }
  });
}

void sdpaBackward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                  const float* dout, float* dq, float* dk, float* dv, float* dBias, const AttnArgs& p) {
  const int64_t group = p.heads / p.kvHeads;
  std::memset(dq, 0, sizeof(float) * p.batch * p.heads * p.lq * p.dim);
  std::memset(dk, 0, sizeof(float) * p.batch * p.kvHeads * p.lk * p.dim);
  std::memset(dv, 0, sizeof(float) * p.batch * p.kvHeads * p.lk * p.dimV);
  if (dBias) std::memset(dBias, 0, sizeof(float) * p.batch * p.heads * p.lq * p.lk);
  ThreadPool::get().run(p.batch * p.kvHeads, [&](int64_t task, int) {
    const SimdOps& S = simd();
    float* s = scratch(kWork1).get(2 * QB * KB + QB);
    float* dp = s + QB * KB;
    float* dsum = dp + QB * KB;
    Block t{};
    t.b = task / p.kvHeads;
    t.g = task % p.kvHeads;
    for (t.h = t.g * group; t.h < (t.g + 1) * group; t.h++) {
      for (t.i0 = 0; t.i0 < p.lq; t.i0 += QB) {
        t.qn = std::min(QB, p.lq - t.i0);
        const int64_t rowBase = (t.b * p.heads + t.h) * p.lq + t.i0;
        for (int64_t i = 0; i < t.qn; i++)
          dsum[i] = S.dot(dout + (rowBase + i) * p.dimV, out + (rowBase + i) * p.dimV, p.dimV);
        for (t.j0 = 0; t.j0 < p.lk; t.j0 += KB) {
          t.kn = std::min(KB, p.lk - t.j0);
          if (tileHidden(p, t.i0, t.qn, t.j0, t.kn)) continue;
          scoreTile(q, k, p, t, s);
          for (int64_t i = 0; i < t.qn; i++) {  // P = exp(S - lse)
            float* row = s + i * KB;
            const float l = lse[rowBase + i];
            if (l == kNegInf) std::fill(row, row + t.kn, 0.f);
            else S.expSub(row, l, t.kn);
          }
          const float* vb = v + ((t.b * p.kvHeads + t.g) * p.kvCap + t.j0) * p.dimV;
          const float* kb = k + ((t.b * p.kvHeads + t.g) * p.kvCap + t.j0) * p.dim;
          const float* qb = q + rowBase * p.dim;
          const float* dob = dout + rowBase * p.dimV;
          GemmView g{};
          // dV[j] += Pᵀ·dO
          g.m = t.kn, g.n = p.dimV, g.k = t.qn;
          g.a = s, g.rsA = 1, g.csA = KB;
          g.b = dob, g.rsB = p.dimV, g.csB = 1;
          g.c = dv + ((t.b * p.kvHeads + t.g) * p.lk + t.j0) * p.dimV, g.ldc = p.dimV, g.accumulate = true;
          gemm(g);
          // dP = dO·Vᵀ
          g.m = t.qn, g.n = t.kn, g.k = p.dimV;
          g.a = dob, g.rsA = p.dimV, g.csA = 1;
          g.b = vb, g.rsB = 1, g.csB = p.dimV;
          g.c = dp, g.ldc = KB, g.accumulate = false;
          gemm(g);
          // dS = P ∘ (dP − rowsum(dO∘O)); dBias = dS; then dS *= scale
          for (int64_t i = 0; i < t.qn; i++) {
            float* pr = s + i * KB;
            float* dr = dp + i * KB;
            for (int64_t j = 0; j < t.kn; j++) dr[j] = pr[j] * (dr[j] - dsum[i]);
            if (dBias) std::memcpy(dBias + (rowBase + i) * p.lk + t.j0, dr, sizeof(float) * t.kn);
            S.scale(dr, p.scale, t.kn);
          }
          // dQ += dS·K
          g.m = t.qn, g.n = p.dim, g.k = t.kn;
          g.a = dp, g.rsA = KB, g.csA = 1;
          g.b = kb, g.rsB = p.dim, g.csB = 1;
          g.c = dq + rowBase * p.dim, g.ldc = p.dim, g.accumulate = true;
          gemm(g);
          // dK[j] += dSᵀ·Q
          g.m = t.kn, g.n = p.dim, g.k = t.qn;
          g.a = dp, g.rsA = 1, g.csA = KB;
          g.b = qb, g.rsB = p.dim, g.csB = 1;
          g.c = dk + ((t.b * p.kvHeads + t.g) * p.lk + t.j0) * p.dim, g.ldc = p.dim, g.accumulate = true;
          gemm(g);
        }
      }
    }
  });
}

}  // namespace ddar
