// Unary ops and their derivatives, broadcasting binary ops, where, reductions and argmax.
// Large arrays are split across the pool; broadcasting walks the output row by row with
// fast paths for same-shape operands, a row broadcast over the last axis and scalars.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "simd.h"
#include "threadpool.h"

namespace ddar {
namespace {

constexpr int64_t kGrain = 1 << 15;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

inline float sigmoidf(float x) {
  if (x >= 0) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}

template <Unary OP>
inline float applyUnary(float x) {
  switch (OP) {
    case Unary::Neg: return -x;
    case Unary::Abs: return std::fabs(x);
    case Unary::Exp: return std::exp(x);
    case Unary::Log: return std::log(x);
    case Unary::Sqrt: return std::sqrt(x);
    case Unary::Rsqrt: return 1.f / std::sqrt(x);
    case Unary::Tanh: return std::tanh(x);
    case Unary::Sigmoid: return sigmoidf(x);
    case Unary::Silu: return x * sigmoidf(x);
    case Unary::Gelu: return 0.5f * x * (1.f + std::erf(x * kInvSqrt2));
    case Unary::GeluTanh: return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    case Unary::Relu: return x > 0 ? x : 0.f;
    case Unary::Square: return x * x;
    case Unary::Recip: return 1.f / x;
    case Unary::Sin: return std::sin(x);
    case Unary::Cos: return std::cos(x);
    default: return x;
  }
}

template <Unary OP>
inline float derivative(float x) {
  switch (OP) {
    case Unary::Neg: return -1.f;
    case Unary::Abs: return x > 0 ? 1.f : x < 0 ? -1.f : 0.f;
    case Unary::Exp: return std::exp(x);
    case Unary::Log: return 1.f / x;
    case Unary::Sqrt: return 0.5f / std::sqrt(x);
    case Unary::Rsqrt: return -0.5f / (x * std::sqrt(x));
    case Unary::Tanh: { float t = std::tanh(x); return 1.f - t * t; }
    case Unary::Sigmoid: { float s = sigmoidf(x); return s * (1.f - s); }
    case Unary::Silu: { float s = sigmoidf(x); return s * (1.f + x * (1.f - s)); }
    case Unary::Gelu:
      return 0.5f * (1.f + std::erf(x * kInvSqrt2)) + x * std::exp(-0.5f * x * x) * kInvSqrt2Pi;
    case Unary::GeluTanh: {
      float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
      float t = std::tanh(u);
      float du = kSqrt2OverPi * (1.f + 3.f * 0.044715f * x * x);
      return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * du;
    }
    case Unary::Relu: return x > 0 ? 1.f : 0.f;
    case Unary::Square: return 2.f * x;
    case Unary::Recip: return -1.f / (x * x);
    case Unary::Sin: return std::cos(x);
    case Unary::Cos: return -std::sin(x);
    default: return 0.f;
  }
}

template <Unary OP>
void unaryT(const float* x, float* out, int64_t n) {
  parallelRange(n, kGrain, [&](int64_t b, int64_t e) {
    if (simd().unaryFast(static_cast<int>(OP), x + b, out + b, e - b)) return;
    for (int64_t i = b; i < e; i++) out[i] = applyUnary<OP>(x[i]);
  });
}

template <Unary OP>
void unaryGradT(const float* x, const float* dy, float* dx, int64_t n) {
  parallelRange(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) dx[i] = dy[i] * derivative<OP>(x[i]);
  });
}

template <Binary OP>
inline float applyBinary(float a, float b) {
  switch (OP) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Max: return a >= b ? a : b;
    case Binary::Min: return a <= b ? a : b;
    case Binary::Pow: return std::pow(a, b);
    default: return a;
  }
}

// Visits every output row (last axis) in [rowBegin, rowEnd) with per-operand offsets.
template <int NOPS, class F>
void forRows(const int64_t* shape, const int64_t* const* strides, int rank, int64_t rowBegin,
             int64_t rowEnd, F&& body) {
  int64_t idx[16] = {};
  int64_t off[NOPS] = {};
  int64_t rem = rowBegin;
  for (int ax = rank - 2; ax >= 0; ax--) {
    idx[ax] = rem % shape[ax];
    rem /= shape[ax];
    for (int t = 0; t < NOPS; t++) off[t] += idx[ax] * strides[t][ax];
  }
  const int64_t len = rank > 0 ? shape[rank - 1] : 1;
  for (int64_t row = rowBegin; row < rowEnd; row++) {
    body(row * len, off, len);
    for (int ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      for (int t = 0; t < NOPS; t++) off[t] += strides[t][ax];
      if (idx[ax] < shape[ax]) break;
      for (int t = 0; t < NOPS; t++) off[t] -= strides[t][ax] * shape[ax];
      idx[ax] = 0;
    }
  }
}

template <Binary OP>
void binaryT(const float* a, const float* b, float* out, const int64_t* shape, const int64_t* as,
             const int64_t* bs, int rank) {
  int64_t total = 1;
  for (int i = 0; i < rank; i++) total *= shape[i];
  if (total == 0) return;
  // Same layout, contiguous: one flat loop.
  bool aFlat = true, bFlat = true;
  int64_t st = 1;
  for (int i = rank - 1; i >= 0; i--) {
    if (shape[i] != 1) {
      aFlat = aFlat && as[i] == st;
      bFlat = bFlat && bs[i] == st;
    }
    st *= shape[i];
  }
  if (aFlat && bFlat) {
    parallelRange(total, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) out[i] = applyBinary<OP>(a[i], b[i]);
    });
    return;
  }
  const int64_t len = rank > 0 ? shape[rank - 1] : 1;
  const int64_t rows = total / len;
  const int64_t sa = rank > 0 ? as[rank - 1] : 0, sb = rank > 0 ? bs[rank - 1] : 0;
  const int64_t* strides[2] = {as, bs};
  parallelRange(rows, std::max<int64_t>(1, kGrain / len), [&](int64_t lo, int64_t hi) {
    forRows<2>(shape, strides, rank, lo, hi, [&](int64_t o, const int64_t* off, int64_t n) {
      const float* ap = a + off[0];
      const float* bp = b + off[1];
      float* op = out + o;
      if (sa == 1 && sb == 1)
        for (int64_t j = 0; j < n; j++) op[j] = applyBinary<OP>(ap[j], bp[j]);
      else if (sa == 1 && sb == 0)
        for (int64_t j = 0; j < n; j++) op[j] = applyBinary<OP>(ap[j], bp[0]);
      else if (sa == 0 && sb == 1)
        for (int64_t j = 0; j < n; j++) op[j] = applyBinary<OP>(ap[0], bp[j]);
      else
        for (int64_t j = 0; j < n; j++) op[j] = applyBinary<OP>(ap[j * sa], bp[j * sb]);
    });
  });
}

}  // namespace

void unary(Unary op, const float* x, float* out, int64_t n) {
  switch (op) {
#define U(NAME) case Unary::NAME: return unaryT<Unary::NAME>(x, out, n);
    U(Neg) U(Abs) U(Exp) U(Log) U(Sqrt) U(Rsqrt) U(Tanh) U(Sigmoid) U(Silu) U(Gelu) U(GeluTanh)
    U(Relu) U(Square) U(Recip) U(Sin) U(Cos)
#undef U
    default: return;
  }
}

void unaryGrad(Unary op, const float* x, const float* dy, float* dx, int64_t n) {
  switch (op) {
#define U(NAME) case Unary::NAME: return unaryGradT<Unary::NAME>(x, dy, dx, n);
    U(Neg) U(Abs) U(Exp) U(Log) U(Sqrt) U(Rsqrt) U(Tanh) U(Sigmoid) U(Silu) U(Gelu) U(GeluTanh)
    U(Relu) U(Square) U(Recip) U(Sin) U(Cos)
#undef U
    default: return;
  }
}

void binary(Binary op, const float* a, const float* b, float* out, const int64_t* shape,
            const int64_t* aStrides, const int64_t* bStrides, int rank) {
  switch (op) {
#define B(NAME) case Binary::NAME: return binaryT<Binary::NAME>(a, b, out, shape, aStrides, bStrides, rank);
    B(Add) B(Sub) B(Mul) B(Div) B(Max) B(Min) B(Pow)
#undef B
    default: return;
  }
}

void where(const int32_t* cond, const float* a, const float* b, float* out, const int64_t* shape,
           const int64_t* cs, const int64_t* as, const int64_t* bs, int rank) {
  int64_t total = 1;
  for (int i = 0; i < rank; i++) total *= shape[i];
  if (total == 0) return;
  const int64_t len = rank > 0 ? shape[rank - 1] : 1;
  const int64_t sc = rank > 0 ? cs[rank - 1] : 0, sa = rank > 0 ? as[rank - 1] : 0,
                sb = rank > 0 ? bs[rank - 1] : 0;
  const int64_t* strides[3] = {cs, as, bs};
  parallelRange(total / len, std::max<int64_t>(1, kGrain / len), [&](int64_t lo, int64_t hi) {
    forRows<3>(shape, strides, rank, lo, hi, [&](int64_t o, const int64_t* off, int64_t n) {
      for (int64_t j = 0; j < n; j++)
        out[o + j] = cond[off[0] + j * sc] != 0 ? a[off[1] + j * sa] : b[off[2] + j * sb];
    });
  });
}

void reduce(int op, const float* x, float* out, int64_t outer, int64_t n, int64_t inner) {
  parallelRange(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * inner)),
                [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; o++) {
      const float* base = x + o * n * inner;
      float* dst = out + o * inner;
      if (op == 0) {
        if (inner == 1) {  // 8 lanes in double: vectorisable, and accurate for long rows
          double s[8] = {};
          int64_t i = 0;
          for (; i + 8 <= n; i += 8)
            for (int l = 0; l < 8; l++) s[l] += base[i + l];
          for (; i < n; i++) s[0] += base[i];
          dst[0] = static_cast<float>(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
          continue;
        }
        std::fill(dst, dst + inner, 0.f);
        for (int64_t i = 0; i < n; i++)
          for (int64_t r = 0; r < inner; r++) dst[r] += base[i * inner + r];
      } else {
        const bool isMax = op == 1;
        std::fill(dst, dst + inner, isMax ? -INFINITY : INFINITY);
        for (int64_t i = 0; i < n; i++)
          for (int64_t r = 0; r < inner; r++) {
            float v = base[i * inner + r];
            float& d = dst[r];
            if (std::isnan(v) || (isMax ? v > d : v < d)) d = v;
          }
      }
    }
  });
}

void argmax(const float* x, int32_t* out, int64_t outer, int64_t n, int64_t inner) {
  parallelRange(outer * inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n)),
                [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
      const int64_t o = t / inner, r = t % inner;
      const float* base = x + o * n * inner + r;
      float best = -INFINITY;
      int32_t bi = 0;
      for (int64_t i = 0; i < n; i++) {
        float v = base[i * inner];
        if (v > best || (std::isnan(v) && !std::isnan(best))) {
          best = v;
          bi = static_cast<int32_t>(i);
        }
      }
      out[t] = bi;
    }
  });
}

}  // namespace ddar

namespace ddar {
static_assert(static_cast<int>(Unary::Exp) == kUnaryExp && static_cast<int>(Unary::Sigmoid) == kUnarySigmoid &&
                  static_cast<int>(Unary::Silu) == kUnarySilu && static_cast<int>(Unary::GeluTanh) == kUnaryGeluTanh,
              "unaryFast codes must match ddar::Unary");
}  // namespace ddar
