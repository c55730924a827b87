// The instruction-set-specific inner loops, one table per level (simd_scalar.cc, simd_avx2.cc,
// simd_avx512.cc). Everything else is portable C++ that calls `simd()`; the table is chosen
// once from the CPU's features (cpu.cc), so no code path ever runs an unsupported instruction.
#pragma once
#include <cstdint>

namespace ddar {

struct SimdOps {
  const char* name;
  // GEMM micro-kernel over packed panels: a holds kc columns of mr values (row i of the tile
  // at a[p*mr + i]), b holds kc rows of nr values. c (mr×nr, row stride ldc) = or += a·b.
  int mr, nr;
  int mc, kc, nc;  // cache blocking for this level
  void (*gemmMicro)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc);
  // The same for only the first `rows` (< mr) rows of the tile (a keeps its mr stride).
  void (*gemmMicroRows)(int rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        bool acc);
  // Skinny GEMM, B transposed: out[i*ldo + j] (+)= dot(x[i*ldx ..], w[j*ldw ..]) over k, for
  // i < m, j < n.
  void (*gemvT)(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
                int64_t ldw, float* out, int64_t ldo, bool acc);
  // Skinny GEMM, B not transposed: out[i*ldo + j] (+)= sum_p x[i*ldx + p] * w[p*ldw + j].
  void (*gemvN)(int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* w,
                int64_t ldw, float* out, int64_t ldo, bool acc);
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float* y, float alpha, const float* x, int64_t n);  // y += alpha x
  void (*scale)(float* y, float alpha, int64_t n);                 // y *= alpha
  float (*maxv)(const float* x, int64_t n);                         // -inf when n == 0
  // x[i] = exp(x[i] - sub); returns the sum of the new values.
  float (*expSub)(float* x, float sub, int64_t n);
  // Vectorised unary ops built on exp: op is a Unary code (kernels.h) among Exp, Sigmoid, Silu,
  // GeluTanh; returns false (and writes nothing) for any other op.
  bool (*unaryFast)(int op, const float* x, float* out, int64_t n);
  // Optional (null: gemm.cc's portable loop). Packs a B panel from `cols` (≤ nr) rows of w
  // (row stride ldw, each read for kc consecutive values): dst[p*nr + j] = w[j*ldw + p] for
  // j < cols, 0 for cols ≤ j < nr (B transposed, e.g. nn.Linear weights [N, K]).
  void (*packBT)(const float* w, int64_t ldw, int64_t kc, int64_t cols, float* dst) = nullptr;
  // Optional: d[j] = lo ≤ j < hi ? s[j] : 0 for 0 ≤ j < n (s is read only inside [lo, hi)).
  void (*copyWindow)(float* d, const float* s, int64_t lo, int64_t hi, int64_t n) = nullptr;
};

// Unary codes handled by unaryFast (values of ddar::Unary).
constexpr int kUnaryExp = 2, kUnarySigmoid = 7, kUnarySilu = 8, kUnaryGeluTanh = 10;

const SimdOps& scalarOps();
const SimdOps* avx2Ops();    // nullptr when not compiled in (non-x86 builds)
const SimdOps* avx512Ops();  // likewise

// 0 = portable, 1 = AVX2+FMA, 2 = AVX-512 (F, VL, BW, DQ).
int cpuLevel();       // what this CPU (and OS) supports
int activeLevel();    // the level in use (≤ cpuLevel; lowered for tests with setLevel)
void setLevel(int level);
const SimdOps& simd();

}  // namespace ddar
