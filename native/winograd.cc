// Forward 3×3 stride-1 pad-1 convolution by Winograd F(2×2, 3×3) (Lavin & Gray 2016): each
// 2×2 block of outputs comes from a 4×4 input tile d as Y = Aᵀ [Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B)] A,
// i.e. 16 products of [Cout × Cin]·[Cin × tiles] instead of 9 of [Cout × Cin]·[Cin × pixels]:
// 2.25× fewer multiplications. All transforms are additions and halvings (exact in binary),
// so rounding differs from the direct path only through the GEMM sums.
//
// Layout: the weights are transformed once per call straight into the micro-kernel's packed A
// format U[ξ][co panel][ci][MR] (ξ = 4i + j, zero rows past Cout). Output tile rows are split
// into blocks handed to the pool; per block, one thread transforms the input tiles straight
// into packed B panels V[ξ][panel][ci][NR] (tiles as columns), runs the 16 products with the
// SIMD micro-kernel into M[ξ][Cout][tiles], and inverse-transforms M into the output (+ bias).
// Blocks are sized so that V and M stay near the thread's L2.
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threadpool.h"

namespace ddar {
namespace {

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// U = G g Gᵀ for every (co, ci), written as packed A panels.
void transformWeights(const float* w, const ConvArgs& p, int mr, float* u) {
  const int64_t cin = p.cin, cpan = ceilDiv(p.cout, mr);
  const int64_t xiStride = cpan * cin * mr;  // floats per ξ
  parallelRange(cpan, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; q++)
      for (int64_t ci = 0; ci < cin; ci++)
        for (int r = 0; r < mr; r++) {
          const int64_t co = q * mr + r;
          float* d = u + (q * cin + ci) * mr + r;
          if (co >= p.cout) {
            for (int x = 0; x < 16; x++) d[x * xiStride] = 0.f;
            continue;
          }
          const float* g = w + (co * cin + ci) * 9;
          float t[4][3];  // G g
          for (int c = 0; c < 3; c++) {
            const float g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
            t[0][c] = g0;
            t[1][c] = 0.5f * (g0 + g1 + g2);
            t[2][c] = 0.5f * (g0 - g1 + g2);
            t[3][c] = g2;
          }
          for (int i = 0; i < 4; i++) {
            const float a = t[i][0], b = t[i][1], c = t[i][2];
            d[(4 * i + 0) * xiStride] = a;
            d[(4 * i + 1) * xiStride] = 0.5f * (a + b + c);
            d[(4 * i + 2) * xiStride] = 0.5f * (a - b + c);
            d[(4 * i + 3) * xiStride] = c;
          }
        }
  });
}

struct Plan {
  int mr, nr;
  int64_t th, tw;       // tile rows / columns per sample
  int64_t rowsPerBlock; // tile rows per block
  int64_t blocksPerSample;
  int64_t nbp;          // padded columns (tiles) per block, multiple of nr
  int64_t cpan;         // co panels
};

// One block: tile rows [ty0, ty1) of sample b.
void runBlock(const float* x, const float* u, const float* bias, float* out, const ConvArgs& p,
              const Plan& pl, int64_t b, int64_t ty0, int64_t ty1) {
  const SimdOps& S = simd();
  const int mr = pl.mr, nr = pl.nr;
  const int64_t cin = p.cin, cout = p.cout, H = p.h, W = p.w, tw = pl.tw;
  const int64_t ncols = (ty1 - ty0) * tw, npan = ceilDiv(ncols, nr), nbp = npan * nr;
  const int64_t vXi = npan * cin * nr;    // floats per ξ in V
  const int64_t coutp = pl.cpan * mr;
  const int64_t mXi = coutp * nbp;        // floats per ξ in M
  float* V = scratch(kWork0).get(static_cast<size_t>(16 * vXi));
  float* M = scratch(kWork1).get(static_cast<size_t>(16 * mXi));
  // Row buffers: even/odd columns of 4 input rows, then their vertical transforms.
  const int64_t L = tw + 1;
  float* buf = scratch(kGemmRows).get(static_cast<size_t>(16 * L + 64));
  float *e[4], *o[4], *te[4], *to[4];
  for (int r = 0; r < 4; r++) e[r] = buf + r * L, o[r] = buf + (4 + r) * L, te[r] = buf + (8 + r) * L, to[r] = buf + (12 + r) * L;

  // Input transform: V[ξ][col / nr][ci][col % nr] = (Bᵀ d B)[ξ] of tile col.
  const float* xb = x + b * cin * H * W;
  for (int64_t ci = 0; ci < cin; ci++) {
    const float* xc = xb + ci * H * W;
    for (int64_t ty = ty0; ty < ty1; ty++) {
      for (int r = 0; r < 4; r++) {
        const int64_t iy = 2 * ty - 1 + r;
        float *er = e[r], *orr = o[r];
        if (iy < 0 || iy >= H) {
          std::fill(er, er + L, 0.f);
          std::fill(orr, orr + L, 0.f);
          continue;
        }
        const float* xr = xc + iy * W;
        // e[k] = x[2k − 1], o[k] = x[2k] (zero outside [0, W)).
        er[0] = 0.f;
        const int64_t kIn = (W - 1) / 2;  // k ≤ kIn: 2k < W; also 2k−1 < W for k ≤ kIn
        for (int64_t k = 1; k <= kIn; k++) er[k] = xr[2 * k - 1];
        for (int64_t k = 0; k <= kIn; k++) orr[k] = xr[2 * k];
        for (int64_t k = kIn + 1; k < L; k++) {
          er[k] = 2 * k - 1 < W ? xr[2 * k - 1] : 0.f;
          orr[k] = 0.f;
        }
      }
      for (int64_t k = 0; k < L; k++) {
        te[0][k] = e[0][k] - e[2][k];
        te[1][k] = e[1][k] + e[2][k];
        te[2][k] = e[2][k] - e[1][k];
        te[3][k] = e[1][k] - e[3][k];
        to[0][k] = o[0][k] - o[2][k];
        to[1][k] = o[1][k] + o[2][k];
        to[2][k] = o[2][k] - o[1][k];
        to[3][k] = o[1][k] - o[3][k];
      }
      // Runs of tiles that fall into one B panel.
      const int64_t col0 = (ty - ty0) * tw;
      for (int64_t tx0 = 0; tx0 < tw;) {
        const int64_t col = col0 + tx0, q = col / nr, lane = col % nr;
        const int64_t n = std::min<int64_t>(tw - tx0, nr - lane);
        float* vb = V + (q * cin + ci) * nr + lane;
        for (int i = 0; i < 4; i++) {
          const float *E = te[i] + tx0, *O = to[i] + tx0;
          float* v0 = vb + (4 * i + 0) * vXi;
          float* v1 = vb + (4 * i + 1) * vXi;
          float* v2 = vb + (4 * i + 2) * vXi;
          float* v3 = vb + (4 * i + 3) * vXi;
          for (int64_t t = 0; t < n; t++) {
            v0[t] = E[t] - E[t + 1];
            v1[t] = O[t] + E[t + 1];
            v2[t] = E[t + 1] - O[t];
            v3[t] = O[t] - O[t + 1];
          }
        }
        tx0 += n;
      }
    }
    if (ncols < nbp) {  // unused columns of the last panel
      const int64_t lane = ncols % nr;
      for (int x = 0; x < 16; x++)
        std::fill(V + x * vXi + ((npan - 1) * cin + ci) * nr + lane,
                  V + x * vXi + ((npan - 1) * cin + ci) * nr + nr, 0.f);
    }
  }

  // 16 products M[ξ] = U[ξ] · V[ξ], K split by the level's kc.
  const int64_t KC = S.kc;
  for (int x = 0; x < 16; x++) {
    const float* Ux = u + x * pl.cpan * cin * mr;
    const float* Vx = V + x * vXi;
    float* Mx = M + x * mXi;
    for (int64_t k0 = 0; k0 < cin; k0 += KC) {
      const int64_t kc = std::min(KC, cin - k0);
      for (int64_t q = 0; q < npan; q++) {
        const float* bq = Vx + (q * cin + k0) * nr;
        for (int64_t cp = 0; cp < pl.cpan; cp++)
          S.gemmMicro(kc, Ux + (cp * cin + k0) * mr, bq, Mx + cp * mr * nbp + q * nr, nbp, k0 > 0);
      }
    }
  }

  // Output transform Y = Aᵀ m A (+ bias), clipped at the bottom / right edges.
  const int64_t OH = p.oh, OW = p.ow;
  float* ob = out + b * cout * OH * OW;
  for (int64_t co = 0; co < cout; co++) {
    const float bv = bias ? bias[co] : 0.f;
    for (int64_t ty = ty0; ty < ty1; ty++) {
      const int64_t col0 = (ty - ty0) * tw;
      const float* m[16];
      for (int x = 0; x < 16; x++) m[x] = M + x * mXi + co * nbp + col0;
      const int64_t oy = 2 * ty;
      float* r0 = ob + (co * OH + oy) * OW;
      float* r1 = oy + 1 < OH ? r0 + OW : nullptr;
      const int64_t full = OW / 2;  // tiles with both output columns inside
      for (int64_t t = 0; t < tw; t++) {
        float s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
          s0[j] = m[j][t] + m[4 + j][t] + m[8 + j][t];
          s1[j] = m[4 + j][t] - m[8 + j][t] - m[12 + j][t];
        }
        const float y00 = s0[0] + s0[1] + s0[2] + bv, y01 = s0[1] - s0[2] - s0[3] + bv;
        const float y10 = s1[0] + s1[1] + s1[2] + bv, y11 = s1[1] - s1[2] - s1[3] + bv;
        r0[2 * t] = y00;
        if (t < full) r0[2 * t + 1] = y01;
        if (r1) {
          r1[2 * t] = y10;
          if (t < full) r1[2 * t + 1] = y11;
        }
      }
    }
  }
}

}  // namespace

bool useWinograd(const ConvArgs& p) {
  return p.kh == 3 && p.kw == 3 && p.strideH == 1 && p.strideW == 1 && p.padH == 1 && p.padW == 1 &&
         p.oh == p.h && p.ow == p.w && p.cin >= 32 && p.cout >= 32 &&
         // Under ~128 tiles (16×16 images) the weight transform and the weights' trips through
         // the cache cost more than the saved multiplications (512→512 @16²: 46 vs 75 GFLOP/s).
         p.n * ((p.oh + 1) / 2) * ((p.ow + 1) / 2) >= 128;
}

void conv2dWinograd(const float* x, const float* w, const float* bias, float* out, const ConvArgs& p) {
  const SimdOps& S = simd();
  Plan pl;
  pl.mr = S.mr, pl.nr = S.nr;
  pl.th = ceilDiv(p.oh, 2), pl.tw = ceilDiv(p.ow, 2);
  pl.cpan = ceilDiv(p.cout, pl.mr);
  // Tiles per block: V (16·Cin·tiles floats) about 512 KB, at least one panel.
  const int64_t want = std::max<int64_t>(pl.nr, (int64_t{1} << 13) / p.cin);
  int64_t rows = std::max<int64_t>(1, std::min<int64_t>(pl.th, ceilDiv(want, pl.tw)));
  // Enough blocks for every thread (a couple each where the image allows).
  const int T = ThreadPool::get().available();
  const int64_t minBlocks = 2 * T;
  if (p.n * ceilDiv(pl.th, rows) < minBlocks)
    rows = std::max<int64_t>(1, std::min(rows, ceilDiv(pl.th * p.n, minBlocks)));
  pl.rowsPerBlock = rows;
  pl.blocksPerSample = ceilDiv(pl.th, rows);
  float* u = scratch(kWork2).get(static_cast<size_t>(16 * pl.cpan * pl.mr * p.cin));
  transformWeights(w, p, pl.mr, u);
  const int64_t nblocks = p.n * pl.blocksPerSample;
  ThreadPool::get().run(nblocks, [&](int64_t t, int) {
    const int64_t b = t / pl.blocksPerSample, blk = t % pl.blocksPerSample;
    const int64_t ty0 = blk * rows, ty1 = std::min(pl.th, ty0 + rows);
    runBlock(x, u, bias, out, p, pl, b, ty0, ty1);
  });
}

}  // namespace ddar
