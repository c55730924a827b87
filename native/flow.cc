// The DD flow map kernel (twin of src/backend/ts/flow.ts): per row, integrate the
// flow-matching ODE from the noise vector to a codebook entry over the row's compact support.
// Results must be bit-identical to the TypeScript reference, so this file performs the same
// float64 operations in the same order (no FMA contraction: ISO -std=c++17 and no -mfma) and
// uses a port of fdlibm's exp — the algorithm V8's Math.exp uses (src/base/ieee754.cc) — so
// that exp agrees to the last bit. Rows are independent and split across the thread pool.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace ddar {

namespace {

inline uint32_t highWord(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return static_cast<uint32_t>(b >> 32);
}
inline uint32_t lowWord(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return static_cast<uint32_t>(b);
}
inline double fromWords(uint32_t hi, uint32_t lo) {
  uint64_t b = (static_cast<uint64_t>(hi) << 32) | lo;
  double x;
  std::memcpy(&x, &b, 8);
  return x;
}

}  // namespace

// exp(x) by fdlibm's e_exp.c (Sun Microsystems, 1993: "Permission to use, copy, modify, and
// distribute this software is freely granted, provided that this notice is preserved."), in
// the FreeBSD form V8 uses, with V8's special case for x = 1.
double fdlibmExp(double x) {
  static const double one = 1.0, halF[2] = {0.5, -0.5}, huge = 1.0e+300,
                      o_threshold = 7.09782712893383973096e+02,
                      u_threshold = -7.45133219101941108420e+02,
                      ln2HI[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01},
                      ln2LO[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10},
                      invln2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01,
                      P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                      P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08,
                      E = 2.718281828459045, twom1000 = 9.33263618503218878990e-302;
  volatile double hugeV = huge;
  double y, hi = 0.0, lo = 0.0, c, t, twopk;
  int32_t k = 0;
  uint32_t hx = highWord(x);
  int xsb = static_cast<int>((hx >> 31) & 1);
  hx &= 0x7fffffff;
  if (hx >= 0x40862E42) {  // |x| >= 709.78…
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | lowWord(x)) != 0) return x + x;  // NaN
      return xsb == 0 ? x : 0.0;                              // exp(±inf) = inf, 0
    }
    if (x > o_threshold) return hugeV * huge;       // overflow
    if (x < u_threshold) return twom1000 * twom1000;  // underflow
  }
  if (hx > 0x3fd62e42) {  // |x| > 0.5 ln2
    if (hx < 0x3FF0A2B2) {  // and |x| < 1.5 ln2
      if (x == 1.0) return E;
      hi = x - ln2HI[xsb];
      lo = ln2LO[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = static_cast<int32_t>(invln2 * x + halF[xsb]);
      t = k;
      hi = x - t * ln2HI[0];
      lo = t * ln2LO[0];
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {  // |x| < 2^-28
    if (hugeV + x > one) return one + x;
  } else {
    k = 0;
  }
  t = x * x;
  if (k >= -1021)
    twopk = fromWords(0x3ff00000 + (static_cast<uint32_t>(k) << 20), 0);
  else
    twopk = fromWords(0x3ff00000 + (static_cast<uint32_t>(k + 1000) << 20), 0);
  c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return one - ((x * c) / (c - 2.0) - x);
  y = one - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * 0x1p1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

namespace {

struct Support {
  int d;
  double pruneNats;
  std::vector<int32_t> idx;
  std::vector<double> logp, c, half, w, lw;
  int64_t size = 0;
  double lastMax = 0;

  Support(int64_t cap, int dim, double prune)
      : d(dim), pruneNats(prune), idx(cap), logp(cap), c(cap * dim), half(cap), w(cap), lw(cap) {}

  void load(const int32_t* gidx, const double* glogp, int64_t from, int64_t to, const float* codebook) {
    int64_t s = 0;
    for (int64_t e = from; e < to; e++) {
      int32_t k = gidx[e];
      idx[s] = k;
      logp[s] = glogp[e];
      double nn = 0;
      for (int j = 0; j < d; j++) {
        double v = codebook[static_cast<int64_t>(k) * d + j];
        c[s * d + j] = v;
        nn += v * v;
      }
      half[s] = nn / 2;
      s++;
    }
    size = s;
  }

  void prune() {
    double cut = lastMax - pruneNats;
    int64_t n = 0;
    for (int64_t s = 0; s < size; s++) {
      if (lw[s] < cut) continue;
      if (n != s) {
        idx[n] = idx[s];
        logp[n] = logp[s];
        half[n] = half[s];
        for (int j = 0; j < d; j++) c[n * d + j] = c[s * d + j];
      }
      n++;
    }
    size = n;
  }

  int64_t mean(const double* x, double t, double* m) {
    double inv = 1 / ((1 - t) * (1 - t));
    double mx = -INFINITY;
    int64_t best = 0;
    for (int64_t s = 0; s < size; s++) {
      double dot = 0;
      const double* cs = &c[s * d];
      for (int j = 0; j < d; j++) dot += x[j] * cs[j];
      double l = logp[s] + (t * dot - t * t * half[s]) * inv;
      w[s] = l;
      lw[s] = l;
      if (l > mx) {
        mx = l;
        best = s;
      }
    }
    double z = 0;
    for (int64_t s = 0; s < size; s++) {
      double e = fdlibmExp(w[s] - mx);
      w[s] = e;
      z += e;
    }
    lastMax = mx;
    for (int j = 0; j < d; j++) m[j] = 0;
    double iz = 1 / z;
    for (int64_t s = 0; s < size; s++) {
      double ws = w[s] * iz;
      w[s] = ws;
      if (ws == 0) continue;
      const double* cs = &c[s * d];
      for (int j = 0; j < d; j++) m[j] = m[j] + ws * cs[j];
    }
    return best;
  }
};

}  // namespace

void flowMap(const int32_t* rowStart, const int32_t* idx, const double* logp, const float* codebook,
             const float* noise, const double* ts, int32_t* tokens, float* endpoints, float* finalWeight,
             int64_t rows, int d, int steps, bool heun, double pruneNats) {
  int64_t maxSupport = 0;
  for (int64_t r = 0; r < rows; r++) maxSupport = std::max<int64_t>(maxSupport, rowStart[r + 1] - rowStart[r]);
  parallelRange(rows, 1, [&](int64_t r0, int64_t r1) {
    Support sup(maxSupport, d, pruneNats);
    std::vector<double> x(d), m(d), xp(d), m2(d);
    for (int64_t r = r0; r < r1; r++) {
      sup.load(idx, logp, rowStart[r], rowStart[r + 1], codebook);
      for (int j = 0; j < d; j++) x[j] = noise[r * d + j];
      int64_t best = 0;
      for (int i = 0; i < steps; i++) {
        double t = ts[i], t1 = ts[i + 1];
        best = sup.mean(x.data(), t, m.data());
        if (i > 0 && i < steps - 1) sup.prune();
        if (i == steps - 1) {
          for (int j = 0; j < d; j++) x[j] = m[j];
          break;
        }
        double a = (1 - t1) / (1 - t);
        double b = (t1 - t) / (1 - t);
        if (!heun) {
          for (int j = 0; j < d; j++) x[j] = a * x[j] + b * m[j];
        } else {
          double h = t1 - t;
          for (int j = 0; j < d; j++) xp[j] = a * x[j] + b * m[j];
          sup.mean(xp.data(), t1, m2.data());
          for (int j = 0; j < d; j++) {
            double v1 = (m[j] - x[j]) / (1 - t);
            double v2 = (m2[j] - xp[j]) / (1 - t1);
            x[j] = x[j] + 0.5 * h * (v1 + v2);
          }
        }
      }
      tokens[r] = sup.idx[best];
      finalWeight[r] = static_cast<float>(sup.w[best]);
      for (int j = 0; j < d; j++) endpoints[r * d + j] = static_cast<float>(x[j]);
    }
  });
}

}  // namespace ddar
