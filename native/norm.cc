// Row-wise softmax / log-softmax / cross-entropy and RMSNorm / LayerNorm / GroupNorm. Rows are
// split across the pool once a call has enough elements; statistics accumulate in double.
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threadpool.h"

namespace ddar {
namespace {

constexpr int64_t kGrainElems = 1 << 15;  // elements per thread before splitting pays off

template <class F>
void forRows(int64_t rows, int64_t n, F&& f) {
  parallelRange(rows, std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, n)),
                [&](int64_t b, int64_t e) {
                  for (int64_t r = b; r < e; r++) f(r);
                });
}

// Sum and sum of squares of (x - shift) with 8 independent double lanes (vectorisable).
void moments(const float* x, int64_t n, double shift, double& sum, double& sq) {
  double s[8] = {}, q[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) {
      double d = x[i + l] - shift;
      s[l] += d;
      q[l] += d * d;
    }
  for (; i < n; i++) {
    double d = x[i] - shift;
    s[0] += d;
    q[0] += d * d;
  }
  sum = sq = 0;
  for (int l = 0; l < 8; l++) sum += s[l], sq += q[l];
}

float rowLse(const float* x, int64_t n, float* tmp) {
  const SimdOps& S = simd();
  float m = S.maxv(x, n);
  if (m == -INFINITY) return m;
  std::copy(x, x + n, tmp);
  return m + std::log(S.expSub(tmp, m, n));
}

}  // namespace

void softmax(const float* x, float* out, int64_t rows, int64_t n) {
  forRows(rows, n, [&](int64_t r) {
    const SimdOps& S = simd();
    const float* xr = x + r * n;
    float* o = out + r * n;
    float m = S.maxv(xr, n);
    if (m == -INFINITY) {
      std::fill(o, o + n, 0.f);
      return;
    }
    if (o != xr) std::copy(xr, xr + n, o);
    float s = S.expSub(o, m, n);
    S.scale(o, 1.f / s, n);
  });
}

void logSoftmax(const float* x, float* out, int64_t rows, int64_t n) {
  forRows(rows, n, [&](int64_t r) {
    const SimdOps& S = simd();
    const float* xr = x + r * n;
    float* o = out + r * n;
    float m = S.maxv(xr, n);
    float lse = -INFINITY;
    if (m != -INFINITY) {
      if (o != xr) std::copy(xr, xr + n, o);
      lse = m + std::log(S.expSub(o, m, n));
    }
    for (int64_t j = 0; j < n; j++) o[j] = xr[j] - lse;
  });
}

void crossEntropy(const float* logits, const int32_t* targets, int32_t ignoreIndex, float* loss,
                  float* lse, int64_t rows, int64_t n) {
  parallelRange(rows, std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, n)),
                [&](int64_t b, int64_t e) {
                  float* tmp = scratch(kWork2).get(n);
                  for (int64_t r = b; r < e; r++) {
                    const float* xr = logits + r * n;
                    float l = rowLse(xr, n, tmp);
                    lse[r] = l;
                    loss[r] = targets[r] == ignoreIndex ? 0.f : l - xr[targets[r]];
                  }
                });
}

void rmsNorm(const float* x, const float* w, float eps, float* out, float* rstd, int64_t rows, int64_t n) {
  forRows(rows, n, [&](int64_t r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    double s, q;
    moments(xr, n, 0.0, s, q);
    const float rs = static_cast<float>(1.0 / std::sqrt(q / n + eps));
    rstd[r] = rs;
    if (w)
      for (int64_t j = 0; j < n; j++) o[j] = xr[j] * rs * w[j];
    else
      for (int64_t j = 0; j < n; j++) o[j] = xr[j] * rs;
  });
}

void layerNorm(const float* x, const float* w, const float* b, float eps, float* out, float* mean,
               float* rstd, int64_t rows, int64_t n) {
  forRows(rows, n, [&](int64_t r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    double s, q;
    moments(xr, n, xr[0], s, q);  // shifted by the first value for stability
    const double mu = xr[0] + s / n;
    const double var = std::max(0.0, q / n - (s / n) * (s / n));
    const float rs = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float m = static_cast<float>(mu);
    mean[r] = m;
    rstd[r] = rs;
    for (int64_t j = 0; j < n; j++) {
      float y = (xr[j] - m) * rs;
      if (w) y *= w[j];
      if (b) y += b[j];
      o[j] = y;
    }
  });
}

void groupNorm(const float* x, const float* w, const float* b, float eps, float* out, float* mean,
               float* rstd, int64_t n, int64_t channels, int64_t groups, int64_t spatial) {
  const int64_t cg = channels / groups, len = cg * spatial;
  forRows(n * groups, len, [&](int64_t r) {
    const int64_t bi = r / groups, g = r % groups;
    const int64_t off = (bi * channels + g * cg) * spatial;
    double s, q;
    moments(x + off, len, x[off], s, q);
    const double mu = x[off] + s / len;
    const double var = std::max(0.0, q / len - (s / len) * (s / len));
    const float rs = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float m = static_cast<float>(mu);
    mean[r] = m;
    rstd[r] = rs;
    for (int64_t c = 0; c < cg; c++) {
      const int64_t ch = g * cg + c;
      const float sc = rs * (w ? w[ch] : 1.f);
      const float sh = (b ? b[ch] : 0.f) - m * sc;
      const float* xr = x + off + c * spatial;
      float* o = out + off + c * spatial;
      for (int64_t i = 0; i < spatial; i++) o[i] = xr[i] * sc + sh;
    }
  });
}

void rope(const float* x, const float* table, float* out, int64_t batch, int64_t seq, int64_t heads,
          int64_t dim, bool inverse) {
  const int64_t half = dim / 2;
  const float sgn = inverse ? -1.f : 1.f;
  forRows(batch * seq, heads * dim, [&](int64_t r) {
    const float* tb = table + (r % seq) * half * 2;
    for (int64_t h = 0; h < heads; h++) {
      const float* xr = x + (r * heads + h) * dim;
      float* o = out + (r * heads + h) * dim;
      for (int64_t i = 0; i < half; i++) {
        const float c = tb[2 * i], s = sgn * tb[2 * i + 1];
        const float x0 = xr[2 * i], x1 = xr[2 * i + 1];
        o[2 * i] = x0 * c - x1 * s;
        o[2 * i + 1] = x0 * s + x1 * c;
      }
    }
  });
}

}  // namespace ddar
