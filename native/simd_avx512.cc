// AVX-512 inner loops (F, VL, BW, DQ + FMA), compiled for that target with a pragma and used
// only when cpu.cc found the features. No standard-library headers after the pragma: an
// inline library function instantiated here could be merged with the portable copy.
#include "simd.h"

#if defined(__x86_64__) && !defined(DDAR_PORTABLE_ONLY)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 false positives in avx512fintrin.h
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi2")

namespace ddar {
namespace {

constexpr int MR = 14;  // rows of a C tile (broadcast A values)
constexpr int NR = 32;  // columns (two zmm of B)

// c[R×NR] (=|+=) a·b over kc (a packed with stride MR): with R = MR, 28 accumulators, per
// k step 2 loads of B and 14 broadcasts of A.
template <int R>
void microRows(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += NR;
  }
  if (acc) {
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      float* r = c + i * ldc;
      _mm512_storeu_ps(r, _mm512_add_ps(_mm512_loadu_ps(r), c0[i]));
      _mm512_storeu_ps(r + 16, _mm512_add_ps(_mm512_loadu_ps(r + 16), c1[i]));
    }
  } else {
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      _mm512_storeu_ps(c + i * ldc, c0[i]);
      _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
    }
  }
}

void gemmMicro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  microRows<MR>(kc, a, b, c, ldc, acc);
}

void gemmMicroRows(int rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  switch (rows) {
#define R(N) case N: return microRows<N>(kc, a, b, c, ldc, acc);
    R(1) R(2) R(3) R(4) R(5) R(6) R(7) R(8) R(9) R(10) R(11) R(12) R(13)
#undef R
    default: return microRows<MR>(kc, a, b, c, ldc, acc);
  }
}

inline __mmask16 tailMask(int64_t r) { return r >= 16 ? 0xFFFF : (__mmask16)((1u << r) - 1); }

// MX rows of x against NW rows of w: MX·NW dot products of length k.
template <int MX, int NW>
inline void dotBlock(int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                     float* out, int64_t ldo, bool acc) {
  __m512 s[MX][NW];
  for (int i = 0; i < MX; i++)
    for (int j = 0; j < NW; j++) s[i][j] = _mm512_setzero_ps();
  int64_t p = 0;
  for (; p + 16 <= k; p += 16) {
    __m512 wv[NW];
#pragma GCC unroll 16
    for (int j = 0; j < NW; j++) wv[j] = _mm512_loadu_ps(w + j * ldw + p);
#pragma GCC unroll 16
    for (int i = 0; i < MX; i++) {
      __m512 xv = _mm512_loadu_ps(x + i * ldx + p);
#pragma GCC unroll 16
      for (int j = 0; j < NW; j++) s[i][j] = _mm512_fmadd_ps(xv, wv[j], s[i][j]);
    }
  }
  if (p < k) {
    __mmask16 m = tailMask(k - p);
    __m512 wv[NW];
#pragma GCC unroll 16
    for (int j = 0; j < NW; j++) wv[j] = _mm512_maskz_loadu_ps(m, w + j * ldw + p);
#pragma GCC unroll 16
    for (int i = 0; i < MX; i++) {
      __m512 xv = _mm512_maskz_loadu_ps(m, x + i * ldx + p);
#pragma GCC unroll 16
      for (int j = 0; j < NW; j++) s[i][j] = _mm512_fmadd_ps(xv, wv[j], s[i][j]);
    }
  }
  for (int i = 0; i < MX; i++)
    for (int j = 0; j < NW; j++) {
      float v = _mm512_reduce_add_ps(s[i][j]);
      float* o = out + i * ldo + j;
      *o = acc ? *o + v : v;
    }
}

// W rows per dot block for MX rows of x: as many concurrent W streams as the 32 registers
// allow (MX·NW accumulators); more streams in flight read DRAM faster (decode is bandwidth
// bound: 12 streams ≈ 17.5 GB/s vs 4 ≈ 14 GB/s single thread on the EPYC).
template <int MX> struct DotRows { static constexpr int value = MX == 1 ? 16 : MX == 2 ? 12 : MX == 3 ? 8 : 6; };

template <int MX>
void gemvTRows(int64_t n, int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw,
               float* out, int64_t ldo, bool acc) {
  constexpr int NW = DotRows<MX>::value;
  int64_t j = 0;
  for (; j + NW <= n; j += NW) dotBlock<MX, NW>(k, x, ldx, w + j * ldw, ldw, out + j, ldo, acc);
  for (; j < n; j++) dotBlock<MX, 1>(k, x, ldx, w + j * ldw, ldw, out + j, ldo, acc);
}

void gemvT(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  switch (m) {  // few rows: stream W once, in wide blocks
    case 1: return gemvTRows<1>(n, k, x, ldx, w, ldw, out, ldo, acc);
    case 2: return gemvTRows<2>(n, k, x, ldx, w, ldw, out, ldo, acc);
    case 3: return gemvTRows<3>(n, k, x, ldx, w, ldw, out, ldo, acc);
    case 4: return gemvTRows<4>(n, k, x, ldx, w, ldw, out, ldo, acc);
    default: break;
  }
  // Blocks of 24 w rows stay in L1/L2 while every x row passes over them.
  for (int64_t j0 = 0; j0 < n; j0 += 24) {
    int64_t nb = n - j0 < 24 ? n - j0 : 24;
    const float* wb = w + j0 * ldw;
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) gemvTRows<4>(nb, k, x + i * ldx, ldx, wb, ldw, out + i * ldo + j0, ldo, acc);
    switch (m - i) {
      case 3: gemvTRows<3>(nb, k, x + i * ldx, ldx, wb, ldw, out + i * ldo + j0, ldo, acc); break;
      case 2: gemvTRows<2>(nb, k, x + i * ldx, ldx, wb, ldw, out + i * ldo + j0, ldo, acc); break;
      case 1: gemvTRows<1>(nb, k, x + i * ldx, ldx, wb, ldw, out + i * ldo + j0, ldo, acc); break;
      default: break;
    }
  }
}

// MX rows of out, one strip of up to 64 columns: out[i, j..] (+)= sum_p x[i,p] w[p, j..].
template <int MX>
inline void axpyStrip(int64_t cols, int64_t k, const float* x, int64_t ldx, const float* w,
                      int64_t ldw, float* out, int64_t ldo, bool acc) {
  __mmask16 mk[4];
  for (int v = 0; v < 4; v++) mk[v] = cols > v * 16 ? tailMask(cols - v * 16) : 0;
  __m512 s[MX][4];
  for (int i = 0; i < MX; i++)
    for (int v = 0; v < 4; v++) s[i][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    __m512 wv[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) wv[v] = _mm512_maskz_loadu_ps(mk[v], w + p * ldw + v * 16);
#pragma GCC unroll 8
    for (int i = 0; i < MX; i++) {
      __m512 xi = _mm512_set1_ps(x[i * ldx + p]);
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) s[i][v] = _mm512_fmadd_ps(xi, wv[v], s[i][v]);
    }
  }
  for (int i = 0; i < MX; i++)
    for (int v = 0; v < 4; v++) {
      float* o = out + i * ldo + v * 16;
      __m512 r = acc ? _mm512_add_ps(_mm512_maskz_loadu_ps(mk[v], o), s[i][v]) : s[i][v];
      _mm512_mask_storeu_ps(o, mk[v], r);
    }
}

void gemvN(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  for (int64_t j = 0; j < n; j += 64) {
    int64_t cols = n - j < 64 ? n - j : 64;
    int64_t i = 0;
    for (; i + 5 <= m; i += 5) axpyStrip<5>(cols, k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc);
    switch (m - i) {
      case 4: axpyStrip<4>(cols, k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc); break;
      case 3: axpyStrip<3>(cols, k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc); break;
      case 2: axpyStrip<2>(cols, k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc); break;
      case 1: axpyStrip<1>(cols, k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc); break;
      default: break;
    }
  }
}

float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float* y, float alpha, const float* x, int64_t n) {
  __m512 av = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    __m512 r = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
    _mm512_mask_storeu_ps(y + i, m, r);
  }
}

void scale(float* y, float alpha, int64_t n) {
  __m512 av = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, y + i)));
  }
}

float maxv(const float* x, int64_t n) {
  __m512 mv = _mm512_set1_ps(-__builtin_inff());
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    mv = _mm512_mask_max_ps(mv, m, mv, _mm512_maskz_loadu_ps(m, x + i));
  }
  return _mm512_reduce_max_ps(mv);
}

// exp with Cephes' polynomial on [-ln2/2, ln2/2] and scalef for 2^n (≈1 ulp; 0 below -104).
inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(88.72283f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500E-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-103.5f), _CMP_GT_OQ);
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(p, n));
}

float expSub(float* x, float sub, int64_t n) {
  __m512 sv = _mm512_set1_ps(sub), acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
    _mm512_mask_storeu_ps(x + i, m, e);
    acc = _mm512_mask_add_ps(acc, m, acc, e);
  }
  return _mm512_reduce_add_ps(acc);
}

// x·sigmoid(c·(x + d·x³)) family: exp → e^x; sigmoid; silu = x·σ(x); gelu_tanh = x·σ(2u).
bool unaryFast(int op, const float* x, float* out, int64_t n) {
  if (op != kUnaryExp && op != kUnarySigmoid && op != kUnarySilu && op != kUnaryGeluTanh) return false;
  const __m512 one = _mm512_set1_ps(1.f);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tailMask(n - i);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i), r;
    if (op == kUnaryExp) {
      r = exp512(v);
    } else {
      __m512 z = v;  // sigmoid argument
      if (op == kUnaryGeluTanh) {
        __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
        z = _mm512_mul_ps(_mm512_set1_ps(2.f * 0.7978845608028654f),
                          _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, v));
      }
      __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), z))));
      r = op == kUnarySigmoid ? s : _mm512_mul_ps(v, s);
    }
    _mm512_mask_storeu_ps(out + i, m, r);
  }
  return true;
}

// In-register 16×16 transpose: r[i] lane j ← r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // r[4i + c], 128-bit lane L: rows 4i..4i+3 of column 4L + c.
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // 4×4 transpose of 128-bit lanes among r[c], r[4+c], r[8+c], r[12+c].
#pragma GCC unroll 4
  for (int c = 0; c < 4; c++) {
    t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
    t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; c++) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
  }
}

void packBT(const float* w, int64_t ldw, int64_t kc, int64_t cols, float* dst) {
  for (int h = 0; h < NR / 16; h++) {
    const float* wh = w + h * 16 * ldw;
    const int64_t rows = cols - h * 16;  // valid rows of this half (may be ≤ 0)
    for (int64_t p = 0; p < kc; p += 16) {
      const __mmask16 m = tailMask(kc - p);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(m, wh + i * ldw + p) : _mm512_setzero_ps();
      transpose16(r);
      float* d = dst + p * NR + h * 16;
      const int64_t q1 = kc - p < 16 ? kc - p : 16;
      for (int64_t q = 0; q < q1; q++) _mm512_store_ps(d + q * NR, r[q]);
    }
  }
}

void copyWindow(float* d, const float* s, int64_t lo, int64_t hi, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tailMask(n - j);
    const int64_t a = lo - j, b = hi - j;  // valid lanes [a, b)
    __mmask16 v = 0;
    if (b > 0 && a < 16) v = (__mmask16)(tailMask(b) & ~(a > 0 ? tailMask(a) : (__mmask16)0));
    _mm512_mask_storeu_ps(d + j, m, _mm512_maskz_loadu_ps(v, s + j));
  }
}

const SimdOps kOps = {"avx512", MR, NR, 14 * 12, 384, 3072, gemmMicro, gemmMicroRows, gemvT, gemvN,
                      dot, axpy, scale, maxv, expSub, unaryFast, packBT, copyWindow};

}  // namespace

const SimdOps* avx512Ops() { return &kOps; }

}  // namespace ddar

#pragma GCC pop_options

#else
namespace ddar {
const SimdOps* avx512Ops() { return nullptr; }
}  // namespace ddar
#endif
