// The N-API layer: unwraps typed arrays (no copies: Float32Array/Int32Array data pointers,
// byteOffset included) and integers, checks that every array is long enough for the sizes it
// is given, and calls the portable kernels. Errors are JS exceptions that name the op.
#include <napi.h>

#include <cstdint>
#include <string>

#include "kernels.h"
#include "simd.h"
#include "threadpool.h"

namespace {

using ddar::AttnArgs;
using ddar::ConvArgs;

struct Args {
  const Napi::CallbackInfo& info;
  const char* op;

  [[noreturn]] void fail(const std::string& msg) const {
    throw Napi::TypeError::New(info.Env(), std::string("[") + op + "] " + msg);
  }
  int64_t i64(size_t i) const {
    if (!info[i].IsNumber()) fail("argument " + std::to_string(i) + ": expected a number");
    return info[i].As<Napi::Number>().Int64Value();
  }
  int64_t size(size_t i) const {
    int64_t v = i64(i);
    if (v < 0) fail("argument " + std::to_string(i) + ": expected a size ≥ 0, got " + std::to_string(v));
    return v;
  }
  double f64(size_t i) const {
    if (!info[i].IsNumber()) fail("argument " + std::to_string(i) + ": expected a number");
    return info[i].As<Napi::Number>().DoubleValue();
  }
  bool flag(size_t i) const { return info[i].ToBoolean().Value(); }
  bool isNull(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }

  template <class T, napi_typedarray_type TYPE>
  T* typed(size_t i, int64_t need, const char* name, const char* typeName) const {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != TYPE)
      fail(std::string(name) + ": expected a " + typeName);
    auto arr = info[i].As<Napi::TypedArrayOf<T>>();
    if (static_cast<int64_t>(arr.ElementLength()) < need)
      fail(std::string(name) + ": expected at least " + std::to_string(need) + " elements, got " +
           std::to_string(arr.ElementLength()));
    return arr.Data();
  }
  float* f32(size_t i, int64_t need, const char* name) const {
    return typed<float, napi_float32_array>(i, need, name, "Float32Array");
  }
  float* f32OrNull(size_t i, int64_t need, const char* name) const {
    return isNull(i) ? nullptr : f32(i, need, name);
  }
  int32_t* i32(size_t i, int64_t need, const char* name) const {
    return typed<int32_t, napi_int32_array>(i, need, name, "Int32Array");
  }
  double* f64arr(size_t i, int64_t need, const char* name) const {
    return typed<double, napi_float64_array>(i, need, name, "Float64Array");
  }
  int64_t length(size_t i) const {
    if (!info[i].IsTypedArray()) fail("argument " + std::to_string(i) + ": expected a typed array");
    return static_cast<int64_t>(info[i].As<Napi::TypedArray>().ElementLength());
  }
  // A small integer list (shape, strides, perm) into dst; returns its length.
  int ints(size_t i, int64_t* dst, const char* name) const {
    if (!info[i].IsArray()) fail(std::string(name) + ": expected an array of integers");
    auto a = info[i].As<Napi::Array>();
    if (a.Length() > 16) fail(std::string(name) + ": rank above 16 is not supported");
    for (uint32_t j = 0; j < a.Length(); j++) {
      Napi::Value v = a[j];
      if (!v.IsNumber()) fail(std::string(name) + ": expected integers");
      dst[j] = v.As<Napi::Number>().Int64Value();
    }
    return static_cast<int>(a.Length());
  }
};

// Highest element offset reached through (shape, strides), plus one (0 for an empty shape).
int64_t extent(const int64_t* shape, const int64_t* strides, int rank) {
  int64_t hi = 0;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 0) return 0;
    hi += (shape[i] - 1) * strides[i];
  }
  return hi + 1;
}

template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, F&& body) {
  Args a{info, op};
  try {
    body(a);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("[") + op + "] " + e.what());
  }
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  static const char* names[] = {"scalar", "avx2", "avx512"};
  o.Set("simd", names[ddar::activeLevel()]);
  o.Set("cpuSimd", names[ddar::cpuLevel()]);
  o.Set("threads", ddar::ThreadPool::get().threads());
  return o;
}

Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  return guarded(info, "setSimd", [](Args& a) { ddar::setLevel(static_cast<int>(a.i64(0))); });
}

// matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB, accumulate)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  return guarded(info, "matmul", [](Args& a) {
    ddar::MatmulArgs p{a.size(3), a.size(4), a.size(5), a.size(6), a.flag(7), a.flag(8),
                       a.size(9), a.size(10), a.flag(11)};
    if (p.batch == 0 || p.m == 0 || p.n == 0) return;
    const float* A = a.f32(0, (p.batch - 1) * p.strideA + p.m * p.k, "a");
    const float* B = a.f32(1, (p.batch - 1) * p.strideB + p.k * p.n, "b");
    float* out = a.f32(2, p.batch * p.m * p.n, "out");
    ddar::matmul(A, B, out, p);
  });
}

AttnArgs attnArgs(Args& a, size_t at) {
  AttnArgs p{};
  p.batch = a.size(at), p.heads = a.size(at + 1), p.kvHeads = a.size(at + 2);
  p.lq = a.size(at + 3), p.lk = a.size(at + 4), p.kvCap = a.size(at + 5);
  p.dim = a.size(at + 6), p.dimV = a.size(at + 7);
  p.scale = static_cast<float>(a.f64(at + 8));
  if (p.kvHeads == 0 || p.heads % p.kvHeads != 0) a.fail("heads must be a multiple of kvHeads");
  if (p.kvCap < p.lk) a.fail("kvCap must be ≥ lk");
  const bool levels = !a.isNull(at + 9) && !a.isNull(at + 10);
  p.qLevel = levels ? a.i32(at + 9, p.lq, "qLevel") : nullptr;
  p.kLevel = levels ? a.i32(at + 10, p.lk, "kLevel") : nullptr;
  p.biasStrideB = a.i64(at + 12), p.biasStrideH = a.i64(at + 13);
  if (!a.isNull(at + 11)) {
    int64_t need = (p.batch - 1) * p.biasStrideB + (p.heads - 1) * p.biasStrideH + p.lq * p.lk;
    p.bias = a.f32(at + 11, need, "bias");
  }
  return p;
}

// sdpa(q, k, v, out, lse|null, batch, heads, kvHeads, lq, lk, kvCap, dim, dimV, scale,
//      qLevel|null, kLevel|null, bias|null, biasStrideB, biasStrideH)
Napi::Value Sdpa(const Napi::CallbackInfo& info) {
  return guarded(info, "sdpa", [](Args& a) {
    AttnArgs p = attnArgs(a, 5);
    const float* q = a.f32(0, p.batch * p.heads * p.lq * p.dim, "q");
    const float* k = a.f32(1, p.batch * p.kvHeads * p.kvCap * p.dim, "k");
    const float* v = a.f32(2, p.batch * p.kvHeads * p.kvCap * p.dimV, "v");
    float* out = a.f32(3, p.batch * p.heads * p.lq * p.dimV, "out");
    float* lse = a.f32OrNull(4, p.batch * p.heads * p.lq, "lse");
    ddar::sdpa(q, k, v, out, lse, p);
  });
}

// sdpaBackward(q, k, v, out, lse, dout, dq, dk, dv, dBias|null, <attention args as in sdpa>)
Napi::Value SdpaBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "sdpaBackward", [](Args& a) {
    AttnArgs p = attnArgs(a, 10);
    const int64_t nq = p.batch * p.heads * p.lq;
    const float* q = a.f32(0, nq * p.dim, "q");
    const float* k = a.f32(1, p.batch * p.kvHeads * p.kvCap * p.dim, "k");
    const float* v = a.f32(2, p.batch * p.kvHeads * p.kvCap * p.dimV, "v");
    const float* out = a.f32(3, nq * p.dimV, "out");
    const float* lse = a.f32(4, nq, "lse");
    const float* dout = a.f32(5, nq * p.dimV, "dout");
    float* dq = a.f32(6, nq * p.dim, "dq");
    float* dk = a.f32(7, p.batch * p.kvHeads * p.lk * p.dim, "dk");
    float* dv = a.f32(8, p.batch * p.kvHeads * p.lk * p.dimV, "dv");
    float* dBias = a.f32OrNull(9, nq * p.lk, "dBias");
    ddar::sdpaBackward(q, k, v, out, lse, dout, dq, dk, dv, dBias, p);
  });
}

// softmax / logSoftmax(x, out, rows, n)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guarded(info, "softmax", [](Args& a) {
    int64_t rows = a.size(2), n = a.size(3);
    ddar::softmax(a.f32(0, rows * n, "x"), a.f32(1, rows * n, "out"), rows, n);
  });
}
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  return guarded(info, "logSoftmax", [](Args& a) {
    int64_t rows = a.size(2), n = a.size(3);
    ddar::logSoftmax(a.f32(0, rows * n, "x"), a.f32(1, rows * n, "out"), rows, n);
  });
}

// crossEntropy(logits, targets, ignoreIndex, loss, lse, rows, n)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info, "crossEntropy", [](Args& a) {
    int64_t rows = a.size(5), n = a.size(6);
    const int32_t ignore = static_cast<int32_t>(a.i64(2));
    const int32_t* t = a.i32(1, rows, "targets");
    for (int64_t r = 0; r < rows; r++)
      if (t[r] != ignore && (t[r] < 0 || t[r] >= n))
        a.fail("targets[" + std::to_string(r) + "] = " + std::to_string(t[r]) + " is outside [0, " +
               std::to_string(n) + ")");
    ddar::crossEntropy(a.f32(0, rows * n, "logits"), t, ignore, a.f32(3, rows, "loss"),
                       a.f32(4, rows, "lse"), rows, n);
  });
}

// rmsNorm(x, weight|null, eps, out, rstd, rows, n)
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "rmsNorm", [](Args& a) {
    int64_t rows = a.size(5), n = a.size(6);
    ddar::rmsNorm(a.f32(0, rows * n, "x"), a.f32OrNull(1, n, "weight"), static_cast<float>(a.f64(2)),
                  a.f32(3, rows * n, "out"), a.f32(4, rows, "rstd"), rows, n);
  });
}

// layerNorm(x, weight|null, bias|null, eps, out, mean, rstd, rows, n)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "layerNorm", [](Args& a) {
    int64_t rows = a.size(7), n = a.size(8);
    ddar::layerNorm(a.f32(0, rows * n, "x"), a.f32OrNull(1, n, "weight"), a.f32OrNull(2, n, "bias"),
                    static_cast<float>(a.f64(3)), a.f32(4, rows * n, "out"), a.f32(5, rows, "mean"),
                    a.f32(6, rows, "rstd"), rows, n);
  });
}

// groupNorm(x, weight|null, bias|null, eps, out, mean, rstd, n, channels, groups, spatial)
Napi::Value GroupNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "groupNorm", [](Args& a) {
    int64_t n = a.size(7), c = a.size(8), g = a.size(9), s = a.size(10);
    if (g == 0 || c % g != 0) a.fail("channels must be a multiple of groups");
    ddar::groupNorm(a.f32(0, n * c * s, "x"), a.f32OrNull(1, c, "weight"), a.f32OrNull(2, c, "bias"),
                    static_cast<float>(a.f64(3)), a.f32(4, n * c * s, "out"), a.f32(5, n * g, "mean"),
                    a.f32(6, n * g, "rstd"), n, c, g, s);
  });
}

// rope(x, table, out, batch, seq, heads, dim, inverse)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  return guarded(info, "rope", [](Args& a) {
    int64_t b = a.size(3), l = a.size(4), h = a.size(5), d = a.size(6);
    if (d % 2 != 0) a.fail("dim must be even");
    ddar::rope(a.f32(0, b * l * h * d, "x"), a.f32(1, l * d, "table"), a.f32(2, b * l * h * d, "out"),
               b, l, h, d, a.flag(7));
  });
}

// flowMap(rowStart, idx, logp, codebook, noise, times, tokens, endpoints, finalWeight,
//         rows, d, steps, heun, pruneNats)
Napi::Value FlowMap(const Napi::CallbackInfo& info) {
  return guarded(info, "flowMap", [](Args& a) {
    int64_t rows = a.size(9), d = a.size(10), steps = a.size(11);
    if (d < 1 || steps < 1) a.fail("d and steps must be positive");
    const int32_t* rowStart = a.i32(0, rows + 1, "rowStart");
    int64_t total = a.length(1);
    if (a.length(2) < total) a.fail("logp: expected one entry per support index");
    for (int64_t r = 0; r < rows; r++)
      if (rowStart[r] < 0 || rowStart[r + 1] < rowStart[r] || rowStart[r + 1] > total) a.fail("rowStart is not a valid partition");
    int64_t V = a.length(3) / d;
    const int32_t* idx = a.i32(1, total, "idx");
    for (int64_t e = 0; e < total; e++)
      if (idx[e] < 0 || idx[e] >= V) a.fail("idx: codebook index out of range");
    ddar::flowMap(rowStart, idx, a.f64arr(2, total, "logp"), a.f32(3, V * d, "codebook"), a.f32(4, rows * d, "noise"),
                  a.f64arr(5, steps + 1, "times"), a.i32(6, rows, "tokens"), a.f32(7, rows * d, "endpoints"),
                  a.f32(8, rows, "finalWeight"), rows, static_cast<int>(d), static_cast<int>(steps), a.flag(12),
                  a.f64(13));
  });
}

// exp64(in, out): fdlibm exp on every element (tests compare it with Math.exp bit for bit).
Napi::Value Exp64(const Napi::CallbackInfo& info) {
  return guarded(info, "exp64", [](Args& a) {
    int64_t n = a.length(0);
    const double* in = a.f64arr(0, n, "in");
    double* out = a.f64arr(1, n, "out");
    for (int64_t i = 0; i < n; i++) out[i] = ddar::fdlibmExp(in[i]);
  });
}

// unary(opIndex, x, out) ; unaryGrad(opIndex, x, dy, dx)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, "unary", [](Args& a) {
    int64_t op = a.i64(0), n = a.length(1);
    if (op < 0 || op >= static_cast<int64_t>(ddar::Unary::Count)) a.fail("unknown op");
    ddar::unary(static_cast<ddar::Unary>(op), a.f32(1, 0, "x"), a.f32(2, n, "out"), n);
  });
}
Napi::Value UnaryGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "unaryGrad", [](Args& a) {
    int64_t op = a.i64(0), n = a.length(1);
    if (op < 0 || op >= static_cast<int64_t>(ddar::Unary::Count)) a.fail("unknown op");
    ddar::unaryGrad(static_cast<ddar::Unary>(op), a.f32(1, 0, "x"), a.f32(2, n, "dy"), a.f32(3, n, "dx"), n);
  });
}

// binary(opIndex, a, b, out, shape, aStrides, bStrides)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, "binary", [](Args& a) {
    int64_t op = a.i64(0);
    if (op < 0 || op >= static_cast<int64_t>(ddar::Binary::Count)) a.fail("unknown op");
    int64_t shape[16], as[16], bs[16];
    int rank = a.ints(4, shape, "shape");
    if (a.ints(5, as, "aStrides") != rank || a.ints(6, bs, "bStrides") != rank) a.fail("strides must match the rank");
    int64_t total = 1;
    for (int i = 0; i < rank; i++) total *= shape[i];
    ddar::binary(static_cast<ddar::Binary>(op), a.f32(1, extent(shape, as, rank), "a"),
                 a.f32(2, extent(shape, bs, rank), "b"), a.f32(3, total, "out"), shape, as, bs, rank);
  });
}

// where(cond, a, b, out, shape, condStrides, aStrides, bStrides)
Napi::Value Where(const Napi::CallbackInfo& info) {
  return guarded(info, "where", [](Args& a) {
    int64_t shape[16], cs[16], as[16], bs[16];
    int rank = a.ints(4, shape, "shape");
    if (a.ints(5, cs, "condStrides") != rank || a.ints(6, as, "aStrides") != rank ||
        a.ints(7, bs, "bStrides") != rank)
      a.fail("strides must match the rank");
    int64_t total = 1;
    for (int i = 0; i < rank; i++) total *= shape[i];
    ddar::where(a.i32(0, extent(shape, cs, rank), "cond"), a.f32(1, extent(shape, as, rank), "a"),
                a.f32(2, extent(shape, bs, rank), "b"), a.f32(3, total, "out"), shape, cs, as, bs, rank);
  });
}

// reduce(opIndex 0 sum | 1 max | 2 min, x, out, outer, n, inner) ; argmax(x, out, outer, n, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return guarded(info, "reduce", [](Args& a) {
    int64_t op = a.i64(0), o = a.size(3), n = a.size(4), r = a.size(5);
    if (op < 0 || op > 2) a.fail("unknown op");
    ddar::reduce(static_cast<int>(op), a.f32(1, o * n * r, "x"), a.f32(2, o * r, "out"), o, n, r);
  });
}
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  return guarded(info, "argmax", [](Args& a) {
    int64_t o = a.size(2), n = a.size(3), r = a.size(4);
    ddar::argmax(a.f32(0, o * n * r, "x"), a.i32(1, o * r, "out"), o, n, r);
  });
}

// permute(x, shape, perm, out)
Napi::Value Permute(const Napi::CallbackInfo& info) {
  return guarded(info, "permute", [](Args& a) {
    int64_t shape[16], perm[16];
    int rank = a.ints(1, shape, "shape");
    if (a.ints(2, perm, "perm") != rank) a.fail("perm must match the rank");
    int64_t total = 1;
    bool seen[16] = {};
    for (int i = 0; i < rank; i++) {
      total *= shape[i];
      if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]]) a.fail("perm is not a permutation");
      seen[perm[i]] = true;
    }
    ddar::permute(a.f32(0, total, "x"), shape, perm, rank, a.f32(3, total, "out"));
  });
}

// gather(x, idx, out, outer, axisLen, inner) ; scatterAdd(dy, idx, dx, outer, axisLen, inner)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guarded(info, "gather", [](Args& a) {
    int64_t o = a.size(3), len = a.size(4), r = a.size(5), m = a.length(1);
    const int32_t* idx = a.i32(1, m, "idx");
    for (int64_t i = 0; i < m; i++)
      if (idx[i] < 0 || idx[i] >= len) a.fail("idx[" + std::to_string(i) + "] is out of range");
    ddar::gather(a.f32(0, o * len * r, "x"), idx, m, a.f32(2, o * m * r, "out"), o, len, r);
  });
}
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  return guarded(info, "scatterAdd", [](Args& a) {
    int64_t o = a.size(3), len = a.size(4), r = a.size(5), m = a.length(1);
    const int32_t* idx = a.i32(1, m, "idx");
    for (int64_t i = 0; i < m; i++)
      if (idx[i] < 0 || idx[i] >= len) a.fail("idx[" + std::to_string(i) + "] is out of range");
    ddar::scatterAdd(a.f32(0, o * m * r, "dy"), idx, m, a.f32(2, o * len * r, "dx"), o, len, r);
  });
}

ConvArgs convArgs(Args& a, size_t at) {
  ConvArgs p{};
  int64_t* f[] = {&p.n, &p.cin, &p.h, &p.w, &p.cout, &p.kh, &p.kw, &p.strideH, &p.strideW,
                  &p.padH, &p.padW, &p.oh, &p.ow};
  for (size_t i = 0; i < 13; i++) *f[i] = a.size(at + i);
  if (p.strideH < 1 || p.strideW < 1) a.fail("strides must be ≥ 1");
  if (p.oh != (p.h + 2 * p.padH - p.kh) / p.strideH + 1 || p.ow != (p.w + 2 * p.padW - p.kw) / p.strideW + 1 ||
      p.h + 2 * p.padH < p.kh || p.w + 2 * p.padW < p.kw)
    a.fail("output size does not match the input, kernel, stride and padding");
  return p;
}

// conv2d(x, w, bias|null, out, n, cin, h, w, cout, kh, kw, strideH, strideW, padH, padW, oh, ow)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2d", [](Args& a) {
    ConvArgs p = convArgs(a, 4);
    ddar::conv2d(a.f32(0, p.n * p.cin * p.h * p.w, "x"), a.f32(1, p.cout * p.cin * p.kh * p.kw, "w"),
                 a.f32OrNull(2, p.cout, "bias"), a.f32(3, p.n * p.cout * p.oh * p.ow, "out"), p);
  });
}
// conv2dGradInput(dy, w, dx, <13 sizes>) ; conv2dGradWeight(x, dy, dw, <13 sizes>)
Napi::Value Conv2dGradInput(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dGradInput", [](Args& a) {
    ConvArgs p = convArgs(a, 3);
    ddar::conv2dGradInput(a.f32(0, p.n * p.cout * p.oh * p.ow, "dy"), a.f32(1, p.cout * p.cin * p.kh * p.kw, "w"),
                          a.f32(2, p.n * p.cin * p.h * p.w, "dx"), p);
  });
}
Napi::Value Conv2dGradWeight(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2dGradWeight", [](Args& a) {
    ConvArgs p = convArgs(a, 3);
    ddar::conv2dGradWeight(a.f32(0, p.n * p.cin * p.h * p.w, "x"), a.f32(1, p.n * p.cout * p.oh * p.ow, "dy"),
                           a.f32(2, p.cout * p.cin * p.kh * p.kw, "dw"), p);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ddar::ThreadPool::get();  // start the workers (reads DDAR_THREADS once)
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd));
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("sdpa", Napi::Function::New(env, Sdpa));
  exports.Set("sdpaBackward", Napi::Function::New(env, SdpaBackward));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("rmsNorm", Napi::Function::New(env, RmsNorm));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("groupNorm", Napi::Function::New(env, GroupNorm));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("flowMap", Napi::Function::New(env, FlowMap));
  exports.Set("exp64", Napi::Function::New(env, Exp64));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("unaryGrad", Napi::Function::New(env, UnaryGrad));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("where", Napi::Function::New(env, Where));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argmax", Napi::Function::New(env, Argmax));
  exports.Set("permute", Napi::Function::New(env, Permute));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dGradInput", Napi::Function::New(env, Conv2dGradInput));
  exports.Set("conv2dGradWeight", Napi::Function::New(env, Conv2dGradWeight));
  return exports;
}

}  // namespace

NODE_API_MODULE(ddar_native, Init)
