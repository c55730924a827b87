// AVX2 + FMA inner loops, compiled for that target with a pragma and used only when cpu.cc
// found the features. No standard-library headers after the pragma (see simd_avx512.cc).
#include "simd.h"

#if defined(__x86_64__) && !defined(DDAR_PORTABLE_ONLY)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace ddar {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;

// c[R×16] (=|+=) a·b (a packed with stride MR): with R = 6, 12 ymm accumulators, 2 loads of
// B and 6 broadcasts per k step.
template <int R>
void microRows(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  __m256 c0[R], c1[R];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    float* r = c + i * ldc;
    if (acc) {
      c0[i] = _mm256_add_ps(_mm256_loadu_ps(r), c0[i]);
      c1[i] = _mm256_add_ps(_mm256_loadu_ps(r + 8), c1[i]);
    }
    _mm256_storeu_ps(r, c0[i]);
    _mm256_storeu_ps(r + 8, c1[i]);
  }
}

void gemmMicro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  microRows<MR>(kc, a, b, c, ldc, acc);
}

void gemmMicroRows(int rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  switch (rows) {
    case 1: return microRows<1>(kc, a, b, c, ldc, acc);
    case 2: return microRows<2>(kc, a, b, c, ldc, acc);
    case 3: return microRows<3>(kc, a, b, c, ldc, acc);
    case 4: return microRows<4>(kc, a, b, c, ldc, acc);
    case 5: return microRows<5>(kc, a, b, c, ldc, acc);
    default: return microRows<MR>(kc, a, b, c, ldc, acc);
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int MX, int NW>
inline void dotBlock(int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                     float* out, int64_t ldo, bool acc) {
  __m256 s[MX][NW];
  for (int i = 0; i < MX; i++)
    for (int j = 0; j < NW; j++) s[i][j] = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 wv[NW];
#pragma GCC unroll 8
    for (int j = 0; j < NW; j++) wv[j] = _mm256_loadu_ps(w + j * ldw + p);
#pragma GCC unroll 8
    for (int i = 0; i < MX; i++) {
      __m256 xv = _mm256_loadu_ps(x + i * ldx + p);
#pragma GCC unroll 8
      for (int j = 0; j < NW; j++) s[i][j] = _mm256_fmadd_ps(xv, wv[j], s[i][j]);
    }
  }
  for (int i = 0; i < MX; i++)
    for (int j = 0; j < NW; j++) {
      float v = hsum(s[i][j]);
      for (int64_t q = p; q < k; q++) v += x[i * ldx + q] * w[j * ldw + q];
      float* o = out + i * ldo + j;
      *o = acc ? *o + v : v;
    }
}

template <int MX>
void gemvTRows(int64_t n, int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw,
               float* out, int64_t ldo, bool acc) {
  int64_t j = 0;
  for (; j + 3 <= n; j += 3) dotBlock<MX, 3>(k, x, ldx, w + j * ldw, ldw, out + j, ldo, acc);
  for (; j < n; j++) dotBlock<MX, 1>(k, x, ldx, w + j * ldw, ldw, out + j, ldo, acc);
}

void gemvT(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  for (int64_t j0 = 0; j0 < n; j0 += 12) {
    int64_t nb = n - j0 < 12 ? n - j0 : 12;
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

template <int MX>
inline void axpyStrip(int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw,
                      float* out, int64_t ldo, bool acc) {
  __m256 s[MX][4];
  for (int i = 0; i < MX; i++)
    for (int v = 0; v < 4; v++) s[i][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    __m256 wv[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) wv[v] = _mm256_loadu_ps(w + p * ldw + v * 8);
#pragma GCC unroll 8
    for (int i = 0; i < MX; i++) {
      __m256 xi = _mm256_broadcast_ss(x + i * ldx + p);
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) s[i][v] = _mm256_fmadd_ps(xi, wv[v], s[i][v]);
    }
  }
  for (int i = 0; i < MX; i++)
    for (int v = 0; v < 4; v++) {
      float* o = out + i * ldo + v * 8;
      _mm256_storeu_ps(o, acc ? _mm256_add_ps(_mm256_loadu_ps(o), s[i][v]) : s[i][v]);
    }
}

void gemvN(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    int64_t i = 0;
    for (; i + 3 <= m; i += 3) axpyStrip<3>(k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc);
    for (; i < m; i++) axpyStrip<1>(k, x + i * ldx, ldx, w + j, ldw, out + i * ldo + j, ldo, acc);
  }
  for (int64_t i = 0; i < m && j < n; i++)
    for (int64_t jj = j; jj < n; jj++) {
      float s = 0;
      for (int64_t p = 0; p < k; p++) s += x[i * ldx + p] * w[p * ldw + jj];
      out[i * ldo + jj] = acc ? out[i * ldo + jj] + s : s;
    }
}

float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

void axpy(float* y, float alpha, const float* x, int64_t n) {
  __m256 av = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += alpha * x[i];
}

void scale(float* y, float alpha, int64_t n) {
  __m256 av = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(av, _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] *= alpha;
}

float maxv(const float* x, int64_t n) {
  __m256 mv = _mm256_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  float m = hmax(mv);
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

inline __m256 exp256(__m256 x) {
  __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.72283f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  // 2^n for n in [-126, 128): n = 128 happens only at the clamp and overflows to inf.
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(tiny, res);
}

float expSub(float* x, float sub, int64_t n) {
  __m256 sv = _mm256_set1_ps(sub), acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), sv));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float s = hsum(acc);
  for (; i < n; i++) {
    float e = __builtin_expf(x[i] - sub);
    x[i] = e;
    s += e;
  }
  return s;
}

bool unaryFast(int op, const float* x, float* out, int64_t n) {
  if (op != kUnaryExp && op != kUnarySigmoid && op != kUnarySilu && op != kUnaryGeluTanh) return false;
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i), r;
    if (op == kUnaryExp) {
      r = exp256(v);
    } else {
      __m256 z = v;
      if (op == kUnaryGeluTanh) {
        __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
        z = _mm256_mul_ps(_mm256_set1_ps(2.f * 0.7978845608028654f),
                          _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, v));
      }
      __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), z))));
      r = op == kUnarySigmoid ? s : _mm256_mul_ps(v, s);
    }
    _mm256_storeu_ps(out + i, r);
  }
  for (; i < n; i++) {  // tail: same formulas in scalar code
    float v = x[i];
    if (op == kUnaryExp) { out[i] = __builtin_expf(v); continue; }
    float z = op == kUnaryGeluTanh ? 2.f * 0.7978845608028654f * (v + 0.044715f * v * v * v) : v;
    float s = 1.f / (1.f + __builtin_expf(-z));
    out[i] = op == kUnarySigmoid ? s : v * s;
  }
  return true;
}

const SimdOps kOps = {"avx2", MR, NR, 6 * 24, 256, 2048, gemmMicro, gemmMicroRows, gemvT, gemvN,
                      dot, axpy, scale, maxv, expSub, unaryFast};

}  // namespace

const SimdOps* avx2Ops() { return &kOps; }

}  // namespace ddar

#pragma GCC pop_options

#else
namespace ddar {
const SimdOps* avx2Ops() { return nullptr; }
}  // namespace ddar
#endif
