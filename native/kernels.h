// Portable entry points of the native kernels (called by addon.cc). Sizes and layouts follow
// src/backend/kernels.ts; all pointers are caller-owned, outputs are written in place.
#pragma once
#include <cstdint>

namespace ddar {

// C (m×n, row stride ldc) (+)= A·B with A(i,p) = a[i*rsA + p*csA], B(p,j) = b[p*rsB + j*csB].
struct GemmView {
  int64_t m, n, k;
  const float* a;
  int64_t rsA, csA;
  const float* b;
  int64_t rsB, csB;
  float* c;
  int64_t ldc;
  bool accumulate;
  // When set, B is virtual: packB writes rows [p0, p0+kc) × columns [j0, j0+ncols) of B into
  // dst (kc rows of nr floats, columns ≥ ncols zeroed), e.g. im2col fused into GEMM packing.
  void (*packB)(const void* ctx, int64_t p0, int64_t kc, int64_t j0, int64_t ncols, int nr,
                float* dst) = nullptr;
  const void* packCtx = nullptr;
};
void gemm(const GemmView& g);

struct MatmulArgs {
  int64_t batch, m, n, k;
  bool transA, transB;
  int64_t strideA, strideB;
  bool accumulate;
};
void matmul(const float* a, const float* b, float* out, const MatmulArgs& p);

}  // namespace ddar

namespace ddar {

struct AttnArgs {
  int64_t batch, heads, kvHeads, lq, lk, kvCap, dim, dimV;
  float scale;
  const int32_t* qLevel;  // both null, or both set
  const int32_t* kLevel;
  const float* bias;      // null when absent
  int64_t biasStrideB, biasStrideH;
};
void sdpa(const float* q, const float* k, const float* v, float* out, float* lse, const AttnArgs& p);
void sdpaBackward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                  const float* dout, float* dq, float* dk, float* dv, float* dBias, const AttnArgs& p);

}  // namespace ddar

namespace ddar {

void softmax(const float* x, float* out, int64_t rows, int64_t n);
void logSoftmax(const float* x, float* out, int64_t rows, int64_t n);
void crossEntropy(const float* logits, const int32_t* targets, int32_t ignoreIndex, float* loss,
                  float* lse, int64_t rows, int64_t n);
void rmsNorm(const float* x, const float* w, float eps, float* out, float* rstd, int64_t rows, int64_t n);
void layerNorm(const float* x, const float* w, const float* b, float eps, float* out, float* mean,
               float* rstd, int64_t rows, int64_t n);
void groupNorm(const float* x, const float* w, const float* b, float eps, float* out, float* mean,
               float* rstd, int64_t n, int64_t channels, int64_t groups, int64_t spatial);
// DD flow map over compact supports (flow.cc); bit-identical to the TypeScript reference.
double fdlibmExp(double x);
void flowMap(const int32_t* rowStart, const int32_t* idx, const double* logp, const float* codebook,
             const float* noise, const double* ts, int32_t* tokens, float* endpoints, float* finalWeight,
             int64_t rows, int d, int steps, bool heun, double pruneNats);

void rope(const float* x, const float* table, float* out, int64_t batch, int64_t seq, int64_t heads,
          int64_t dim, bool inverse);

// Elementwise op codes, in the order of UNARY_OPS / BINARY_OPS in src/backend/kernels.ts.
enum class Unary { Neg, Abs, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Silu, Gelu, GeluTanh, Relu,
                   Square, Recip, Sin, Cos, Count };
enum class Binary { Add, Sub, Mul, Div, Max, Min, Pow, Count };
void unary(Unary op, const float* x, float* out, int64_t n);
void unaryGrad(Unary op, const float* x, const float* dy, float* dx, int64_t n);
// Broadcast binary op: out (contiguous, shape) from a and b read through their strides.
void binary(Binary op, const float* a, const float* b, float* out, const int64_t* shape,
            const int64_t* aStrides, const int64_t* bStrides, int rank);
void where(const int32_t* cond, const float* a, const float* b, float* out, const int64_t* shape,
           const int64_t* cStrides, const int64_t* aStrides, const int64_t* bStrides, int rank);
// op: 0 = sum, 1 = max, 2 = min.
void reduce(int op, const float* x, float* out, int64_t outer, int64_t n, int64_t inner);
void argmax(const float* x, int32_t* out, int64_t outer, int64_t n, int64_t inner);
void permute(const float* x, const int64_t* shape, const int64_t* perm, int rank, float* out);
void gather(const float* x, const int32_t* idx, int64_t m, float* out, int64_t outer, int64_t axisLen,
            int64_t inner);
void scatterAdd(const float* dy, const int32_t* idx, int64_t m, float* dx, int64_t outer,
                int64_t axisLen, int64_t inner);

struct ConvArgs {
  int64_t n, cin, h, w, cout, kh, kw, strideH, strideW, padH, padW, oh, ow;
};
void conv2d(const float* x, const float* w, const float* bias, float* out, const ConvArgs& p);
// Forward 3×3 stride-1 pad-1 convolutions with ≥ 32 channels in and out (winograd.cc).
bool useWinograd(const ConvArgs& p);
void conv2dWinograd(const float* x, const float* w, const float* bias, float* out, const ConvArgs& p);
void conv2dGradInput(const float* dy, const float* w, float* dx, const ConvArgs& p);
void conv2dGradWeight(const float* x, const float* dy, float* dw, const ConvArgs& p);

}  // namespace ddar
