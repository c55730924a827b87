// conv2d (groups = 1) as GEMM over the im2col matrix cols[Cin·KH·KW, P] (P = OH·OW output
// pixels) without materialising it: the GEMM's B-panel packer reads x directly (fused
// im2col). Forward: out[Cout, P] = W · cols; weight gradient: dW += dy · colsᵀ. The input
// gradient computes dcols = Wᵀ·dy in chunks of output rows (a few MB) and scatters them back
// (col2im). 1×1 stride-1 unpadded convolutions use x as B directly.
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
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

struct PackCtx {
  const float* x;  // one sample [Cin, H, W]
  const ConvArgs* p;
};

void copyWindowPortable(float* d, const float* s, int64_t lo, int64_t hi, int64_t n) {
  lo = std::min(std::max<int64_t>(lo, 0), n);
  hi = std::max(std::min(hi, n), lo);
  for (int64_t j = 0; j < lo; j++) d[j] = 0.f;
  for (int64_t j = lo; j < hi; j++) d[j] = s[j];
  for (int64_t j = hi; j < n; j++) d[j] = 0.f;
}

// B = cols (forward): rows q = (ci, ky, kx) in [q0, q0+kc), columns = pixels [j0, j0+ncols).
// With stride 1 along x the panel's columns are a few runs of consecutive pixels of one output
// row each (segments), and each run reads consecutive input values: one masked copy per run.
void packCols(const void* ctx, int64_t q0, int64_t kc, int64_t j0, int64_t ncols, int nr, float* dst) {
  const PackCtx& c = *static_cast<const PackCtx*>(ctx);
  const ConvArgs& p = *c.p;
  const int64_t kk = p.kh * p.kw;
  if (p.strideW == 1) {
    auto copy = simd().copyWindow ? simd().copyWindow : copyWindowPortable;
    int64_t sj[64], sn[64], siy[64], six[64];
    int ns = 0;
    for (int64_t jj = 0; jj < ncols;) {
      const int64_t j = j0 + jj, oy = j / p.ow, ox = j % p.ow;
      const int64_t n = std::min(ncols - jj, p.ow - ox);
      sj[ns] = jj, sn[ns] = n, siy[ns] = oy * p.strideH - p.padH, six[ns] = ox - p.padW;
      ns++;
      jj += n;
    }
    int64_t ci = q0 / kk, ky = (q0 % kk) / p.kw, kx = q0 % p.kw;
    for (int64_t r = 0; r < kc; r++) {
      const float* xc = c.x + ci * p.h * p.w;
      float* d = dst + r * nr;
      for (int s = 0; s < ns; s++) {
        const int64_t iy = siy[s] + ky, ix = six[s] + kx, n = sn[s];
        if (iy < 0 || iy >= p.h) std::fill(d + sj[s], d + sj[s] + n, 0.f);
        else {
          const float* src = xc + iy * p.w + ix;
          // The next panels read the following lines of these ~kc input rows: too many
          // streams for the hardware prefetcher.
          __builtin_prefetch(src + 2 * nr);
          __builtin_prefetch(src + 2 * nr + 16);
          copy(d + sj[s], src, -ix, p.w - ix, n);
        }
      }
      for (int64_t jj = ncols; jj < nr; jj++) d[jj] = 0.f;
      if (++kx == p.kw) {
        kx = 0;
        if (++ky == p.kh) ky = 0, ci++;
      }
    }
    return;
  }
  int64_t iy0[64], ix0[64];
  for (int64_t jj = 0; jj < ncols; jj++) {
    const int64_t j = j0 + jj, oy = j / p.ow, ox = j % p.ow;
    iy0[jj] = oy * p.strideH - p.padH;
    ix0[jj] = ox * p.strideW - p.padW;
  }
  for (int64_t r = 0; r < kc; r++) {
    const int64_t q = q0 + r, ci = q / kk, ky = (q % kk) / p.kw, kx = q % p.kw;
    const float* xc = c.x + ci * p.h * p.w;
    float* d = dst + r * nr;
    for (int64_t jj = 0; jj < ncols; jj++) {
      const int64_t iy = iy0[jj] + ky, ix = ix0[jj] + kx;
      d[jj] = (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) ? xc[iy * p.w + ix] : 0.f;
    }
    for (int64_t jj = ncols; jj < nr; jj++) d[jj] = 0.f;
  }
}

// B = colsᵀ (weight gradient): rows = pixels [p0, p0+kc), columns q = (ci, ky, kx) [j0, j0+ncols).
void packColsT(const void* ctx, int64_t p0, int64_t kc, int64_t j0, int64_t ncols, int nr, float* dst) {
  const PackCtx& c = *static_cast<const PackCtx*>(ctx);
  const ConvArgs& p = *c.p;
  const int64_t kk = p.kh * p.kw;
  int64_t off[64], dy[64], dx[64];
  for (int64_t jj = 0; jj < ncols; jj++) {
    const int64_t q = j0 + jj;
    off[jj] = (q / kk) * p.h * p.w;
    dy[jj] = (q % kk) / p.kw - p.padH;
    dx[jj] = q % p.kw - p.padW;
  }
  int64_t oy = p0 / p.ow, ox = p0 % p.ow;
  for (int64_t r = 0; r < kc; r++) {
    float* d = dst + r * nr;
    const int64_t iyb = oy * p.strideH, ixb = ox * p.strideW;
    for (int64_t jj = 0; jj < ncols; jj++) {
      const int64_t iy = iyb + dy[jj], ix = ixb + dx[jj];
      d[jj] = (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) ? c.x[off[jj] + iy * p.w + ix] : 0.f;
    }
    for (int64_t jj = ncols; jj < nr; jj++) d[jj] = 0.f;
    if (++ox == p.ow) ox = 0, oy++;
  }
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

// Few output channels, stride 1 (e.g. the decoder's conv_out to RGB): packing would cost more
// than the product, so accumulate shifted input rows directly, output rows split over threads.
void conv2dDirect(const float* x, const float* w, float* out, const ConvArgs& p) {
  const SimdOps& S = simd();
  const int64_t P = p.oh * p.ow;
  parallelRange(p.n * p.oh, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t b = r / p.oh, oy = r % p.oh;
      for (int64_t co = 0; co < p.cout; co++) std::fill(out + (b * p.cout + co) * P + oy * p.ow, out + (b * p.cout + co) * P + (oy + 1) * p.ow, 0.f);
      for (int64_t ci = 0; ci < p.cin; ci++)
        for (int64_t ky = 0; ky < p.kh; ky++) {
          const int64_t iy = oy - p.padH + ky;
          if (iy < 0 || iy >= p.h) continue;
          const float* xr = x + ((b * p.cin + ci) * p.h + iy) * p.w;
          for (int64_t kx = 0; kx < p.kw; kx++) {
            const int64_t shift = kx - p.padW;  // ix = ox + shift
            const int64_t lo = std::max<int64_t>(0, -shift), hi = std::min<int64_t>(p.ow, p.w - shift);
            if (hi <= lo) continue;
            for (int64_t co = 0; co < p.cout; co++) {
              const float wv = w[((co * p.cin + ci) * p.kh + ky) * p.kw + kx];
              S.axpy(out + (b * p.cout + co) * P + oy * p.ow + lo, wv, xr + lo + shift, hi - lo);
            }
          }
        }
    }
  });
}

// Input gradient of conv2dDirect: dx[ci, iy, ix] += w · dy[co, oy, ix − shift], planes of dx
// (sample, input channel) split over threads.
void conv2dDirectGradInput(const float* dy, const float* w, float* dx, const ConvArgs& p) {
  const SimdOps& S = simd();
  const int64_t P = p.oh * p.ow;
  parallelRange(p.n * p.cin, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t b = r / p.cin, ci = r % p.cin;
      float* dxc = dx + r * p.h * p.w;
      for (int64_t co = 0; co < p.cout; co++)
        for (int64_t ky = 0; ky < p.kh; ky++)
          for (int64_t kx = 0; kx < p.kw; kx++) {
            const float wv = w[((co * p.cin + ci) * p.kh + ky) * p.kw + kx];
            const int64_t shift = kx - p.padW;
            const int64_t lo = std::max<int64_t>(0, -shift), hi = std::min<int64_t>(p.ow, p.w - shift);
            if (hi <= lo) continue;
            for (int64_t oy = 0; oy < p.oh; oy++) {
              const int64_t iy = oy - p.padH + ky;
              if (iy < 0 || iy >= p.h) continue;
              S.axpy(dxc + iy * p.w + lo + shift, wv, dy + (b * p.cout + co) * P + oy * p.ow + lo, hi - lo);
            }
          }
    }
  });
}

// Weight gradient of conv2dDirect: dw[co, ci, ky, kx] = Σ dot(dy row, shifted x row); the
// (co, ci) pairs are split over threads.
void conv2dDirectGradWeight(const float* x, const float* dy, float* dw, const ConvArgs& p) {
  const SimdOps& S = simd();
  const int64_t P = p.oh * p.ow;
  parallelRange(p.cout * p.cin, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t co = r / p.cin, ci = r % p.cin;
      for (int64_t ky = 0; ky < p.kh; ky++)
        for (int64_t kx = 0; kx < p.kw; kx++) {
          const int64_t shift = kx - p.padW;
          const int64_t lo = std::max<int64_t>(0, -shift), hi = std::min<int64_t>(p.ow, p.w - shift);
          double s = 0;
          for (int64_t b = 0; b < p.n && hi > lo; b++)
            for (int64_t oy = 0; oy < p.oh; oy++) {
              const int64_t iy = oy - p.padH + ky;
              if (iy < 0 || iy >= p.h) continue;
              s += S.dot(dy + (b * p.cout + co) * P + oy * p.ow + lo,
                         x + ((b * p.cin + ci) * p.h + iy) * p.w + lo + shift, hi - lo);
            }
          dw[((co * p.cin + ci) * p.kh + ky) * p.kw + kx] = static_cast<float>(s);
        }
    }
  });
}

bool useDirect(const ConvArgs& p) {
  return p.cout <= 8 && p.strideH == 1 && p.strideW == 1 && !isPointwise(p);
}

void conv2d(const float* x, const float* w, const float* bias, float* out, const ConvArgs& p) {
  if (useWinograd(p)) return conv2dWinograd(x, w, bias, out, p);
  const int64_t ckk = p.cin * p.kh * p.kw, P = p.oh * p.ow;
  const bool direct = useDirect(p);
  if (direct) conv2dDirect(x, w, out, p);
  for (int64_t b = 0; b < p.n; b++) {
    const float* xb = x + b * p.cin * p.h * p.w;
    float* ob = out + b * p.cout * P;
    PackCtx ctx{xb, &p};
    if (!direct) {
      GemmView g{};
      g.m = p.cout, g.n = P, g.k = ckk;
      g.a = w, g.rsA = ckk, g.csA = 1;
      g.b = xb, g.rsB = P, g.csB = 1;  // read directly when pointwise
      if (!isPointwise(p)) g.packB = packCols, g.packCtx = &ctx;
      g.c = ob, g.ldc = P, g.accumulate = false;
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
  if (useDirect(p)) return conv2dDirectGradInput(dy, w, dx, p);
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
  if (useDirect(p)) return conv2dDirectGradWeight(x, dy, dw, p);
  std::memset(dw, 0, sizeof(float) * p.cout * ckk);
  for (int64_t b = 0; b < p.n; b++) {
    const float* xb = x + b * p.cin * p.h * p.w;
    PackCtx ctx{xb, &p};
    GemmView g{};  // dW[cout, ckk] += dy[cout, P] · colsᵀ[P, ckk]
    g.m = p.cout, g.n = ckk, g.k = P;
    g.a = dy + b * p.cout * P, g.rsA = P, g.csA = 1;
    g.b = xb, g.rsB = 1, g.csB = P;  // read directly when pointwise
    if (!isPointwise(p)) g.packB = packColsT, g.packCtx = &ctx;
    g.c = dw, g.ldc = ckk, g.accumulate = true;
    gemm(g);
  }
}

}  // namespace ddar
