// conv2d (groups = 1) as im2col + GEMM, in chunks of output rows so the column buffer stays
// a few MB: out[Cout, P] = W[Cout, Cin·KH·KW] · cols[Cin·KH·KW, P] for each chunk of P output
// pixels. 1×1 stride-1 unpadded convolutions use x directly. The backward kernels are the two
// transposed products (dcols = Wᵀ·dy then col2im; dW += dy·colsᵀ).
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "scratch.h"
#include "threadpool.h"

namespace ddar {
namespace {

constexpr int64_t kColsBudget = 1 << 21;  // floats per column buffer (8 MB)

bool isPointwise(const ConvArgs& p) {
  return p.kh == 1 && p.kw == 1 && p.strideH == 1 && p.strideW == 1 && p.padH == 0 && p.padW == 0;
}

int64_t rowsPerChunk(const ConvArgs& p) {
  const int64_t perRow = p.cin * p.kh * p.kw * p.ow;
  return std::max<int64_t>(1, std::min<int64_t>(p.oh, kColsBudget / std::max<int64_t>(1, perRow)));
}

// cols[(ci, ky, kx), (oy - oy0) * OW + ox] for output rows [oy0, oy1) of one sample.
void im2col(const float* x, const ConvArgs& p, int64_t oy0, int64_t oy1, float* cols) {
  const int64_t np = (oy1 - oy0) * p.ow;
  parallelRange(p.cin, 4, [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ci++)
      for (int64_t ky = 0; ky < p.kh; ky++)
        for (int64_t kx = 0; kx < p.kw; kx++) {
          float* dst = cols + ((ci * p.kh + ky) * p.kw + kx) * np;
          const float* xc = x + ci * p.h * p.w;
          for (int64_t oy = oy0; oy < oy1; oy++) {
            const int64_t iy = oy * p.strideH - p.padH + ky;
            float* d = dst + (oy - oy0) * p.ow;
            if (iy < 0 || iy >= p.h) {
              std::fill(d, d + p.ow, 0.f);
              continue;
            }
            const float* xr = xc + iy * p.w;
            for (int64_t ox = 0; ox < p.ow; ox++) {
              const int64_t ix = ox * p.strideW - p.padW + kx;
              d[ox] = (ix >= 0 && ix < p.w) ? xr[ix] : 0.f;
            }
          }
        }
  });
}

// dx (one sample) += col2im(dcols) for output rows [oy0, oy1).
void col2im(const float* cols, const ConvArgs& p, int64_t oy0, int64_t oy1, float* dx) {
  const int64_t np = (oy1 - oy0) * p.ow;
  parallelRange(p.cin, 4, [&](int64_t c0, int64_t c1) {
    for (int64_t ci = c0; ci < c1; ci++)
      for (int64_t ky = 0; ky < p.kh; ky++)
        for (int64_t kx = 0; kx < p.kw; kx++) {
          const float* src = cols + ((ci * p.kh + ky) * p.kw + kx) * np;
          float* xc = dx + ci * p.h * p.w;
          for (int64_t oy = oy0; oy < oy1; oy++) {
            const int64_t iy = oy * p.strideH - p.padH + ky;
            if (iy < 0 || iy >= p.h) continue;
            const float* s = src + (oy - oy0) * p.ow;
            float* xr = xc + iy * p.w;
            for (int64_t ox = 0; ox < p.ow; ox++) {
              const int64_t ix = ox * p.strideW - p.padW + kx;
              if (ix >= 0 && ix < p.w) xr[ix] += s[ox];
            }
          }
        }
  });
}

}  // namespace

void conv2d(const float* x, const float* w, const float* bias, float* out, const ConvArgs& p) {
  const int64_t ckk = p.cin * p.kh * p.kw, P = p.oh * p.ow;
  const bool pointwise = isPointwise(p);
  const int64_t rows = pointwise ? p.oh : rowsPerChunk(p);
  float* cols = pointwise ? nullptr : scratch(kWork0).get(static_cast<size_t>(ckk * rows * p.ow));
  for (int64_t b = 0; b < p.n; b++) {
    const float* xb = x + b * p.cin * p.h * p.w;
    float* ob = out + b * p.cout * P;
    for (int64_t oy0 = 0; oy0 < p.oh; oy0 += rows) {
      const int64_t oy1 = std::min(p.oh, oy0 + rows), np = (oy1 - oy0) * p.ow;
      if (!pointwise) im2col(xb, p, oy0, oy1, cols);
      GemmView g{};
      g.m = p.cout, g.n = np, g.k = ckk;
      g.a = w, g.rsA = ckk, g.csA = 1;
      g.b = pointwise ? xb + oy0 * p.ow : cols, g.rsB = pointwise ? P : np, g.csB = 1;
      g.c = ob + oy0 * p.ow, g.ldc = P, g.accumulate = false;
      gemm(g);
    }
    if (bias)
      for (int64_t co = 0; co < p.cout; co++) {
        float* o = ob + co * P;
        const float bv = bias[co];
        for (int64_t i = 0; i < P; i++) o[i] += bv;
      }
  }
}

void conv2dGradInput(const float* dy, const float* w, float* dx, const ConvArgs& p) {
  const int64_t ckk = p.cin * p.kh * p.kw, P = p.oh * p.ow;
  const bool pointwise = isPointwise(p);
  const int64_t rows = pointwise ? p.oh : rowsPerChunk(p);
  std::memset(dx, 0, sizeof(float) * p.n * p.cin * p.h * p.w);
  float* cols = pointwise ? nullptr : scratch(kWork0).get(static_cast<size_t>(ckk * rows * p.ow));
  for (int64_t b = 0; b < p.n; b++) {
    const float* dyb = dy + b * p.cout * P;
    float* dxb = dx + b * p.cin * p.h * p.w;
    for (int64_t oy0 = 0; oy0 < p.oh; oy0 += rows) {
      const int64_t oy1 = std::min(p.oh, oy0 + rows), np = (oy1 - oy0) * p.ow;
      GemmView g{};  // dcols[ckk, np] = Wᵀ · dy[:, chunk]
      g.m = ckk, g.n = np, g.k = p.cout;
      g.a = w, g.rsA = 1, g.csA = ckk;
      g.b = dyb + oy0 * p.ow, g.rsB = P, g.csB = 1;
      g.c = pointwise ? dxb + oy0 * p.ow : cols, g.ldc = pointwise ? P : np, g.accumulate = false;
      gemm(g);
      if (!pointwise) col2im(cols, p, oy0, oy1, dxb);
    }
  }
}

void conv2dGradWeight(const float* x, const float* dy, float* dw, const ConvArgs& p) {
  const int64_t ckk = p.cin * p.kh * p.kw, P = p.oh * p.ow;
  const bool pointwise = isPointwise(p);
  const int64_t rows = pointwise ? p.oh : rowsPerChunk(p);
  std::memset(dw, 0, sizeof(float) * p.cout * ckk);
  float* cols = pointwise ? nullptr : scratch(kWork0).get(static_cast<size_t>(ckk * rows * p.ow));
  for (int64_t b = 0; b < p.n; b++) {
    const float* xb = x + b * p.cin * p.h * p.w;
    const float* dyb = dy + b * p.cout * P;
    for (int64_t oy0 = 0; oy0 < p.oh; oy0 += rows) {
      const int64_t oy1 = std::min(p.oh, oy0 + rows), np = (oy1 - oy0) * p.ow;
      if (!pointwise) im2col(xb, p, oy0, oy1, cols);
      GemmView g{};  // dW[cout, ckk] += dy[:, chunk] · colsᵀ
      g.m = p.cout, g.n = ckk, g.k = np;
      g.a = dyb + oy0 * p.ow, g.rsA = P, g.csA = 1;
      g.b = pointwise ? xb + oy0 * p.ow : cols, g.rsB = 1, g.csB = pointwise ? P : np;
      g.c = dw, g.ldc = ckk, g.accumulate = true;
      gemm(g);
    }
  }
}

}  // namespace ddar
