// Portable inner loops: plain C++ that the compiler auto-vectorises for the baseline target
// (SSE2 on x86-64, NEON on aarch64). Used when the CPU has neither AVX2 nor AVX-512.
#include <cmath>

#include "simd.h"

namespace ddar {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

void gemmMicroRows(int rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  float t[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < rows; i++) {
      float ai = a[i];
      for (int j = 0; j < NR; j++) t[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < NR; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}

void gemmMicro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  gemmMicroRows(MR, kc, a, b, c, ldc, acc);
}

float dot(const float* a, const float* b, int64_t n) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) s[l] += a[i + l] * b[i + l];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; i++) r += a[i] * b[i];
  return r;
}

void gemvT(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  for (int64_t j = 0; j < n; j++)
    for (int64_t i = 0; i < m; i++) {
      float v = dot(x + i * ldx, w + j * ldw, k);
      float* o = out + i * ldo + j;
      *o = acc ? *o + v : v;
    }
}

void axpy(float* y, float alpha, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void gemvN(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
           int64_t ldw, float* out, int64_t ldo, bool acc) {
  for (int64_t i = 0; i < m; i++) {
    float* o = out + i * ldo;
    if (!acc)
      for (int64_t j = 0; j < n; j++) o[j] = 0;
    for (int64_t p = 0; p < k; p++) axpy(o, x[i * ldx + p], w + p * ldw, n);
  }
}

void scale(float* y, float alpha, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] *= alpha;
}

float maxv(const float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

float expSub(float* x, float sub, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - sub);
    s += x[i];
  }
  return s;
}

bool unaryFast(int, const float*, float*, int64_t) { return false; }

const SimdOps kOps = {"scalar", MR, NR, 4 * 32, 256, 1024, gemmMicro, gemmMicroRows, gemvT, gemvN,
                      dot, axpy, scale, maxv, expSub, unaryFast};

}  // namespace

const SimdOps& scalarOps() { return kOps; }

}  // namespace ddar
