// Data movement: permute (strided copy, last output axis innermost), gather and scatter-add
// along one axis of [outer, axisLen, inner].
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "threadpool.h"

namespace ddar {

void permute(const float* x, const int64_t* shape, const int64_t* perm, int rank, float* out) {
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  int64_t inStride[16], oShape[16], oStride[16];
  int64_t acc = 1;
  for (int i = rank - 1; i >= 0; i--) {
    inStride[i] = acc;
    acc *= shape[i];
  }
  const int64_t total = acc;
  if (total == 0) return;
  for (int i = 0; i < rank; i++) {
    oShape[i] = shape[perm[i]];
    oStride[i] = inStride[perm[i]];
  }
  const int64_t last = oShape[rank - 1], ls = oStride[rank - 1];
  parallelRange(total / last, std::max<int64_t>(1, (int64_t{1} << 15) / last), [&](int64_t lo, int64_t hi) {
    int64_t idx[16] = {};
    int64_t src = 0, rem = lo;
    for (int ax = rank - 2; ax >= 0; ax--) {
      idx[ax] = rem % oShape[ax];
      rem /= oShape[ax];
      src += idx[ax] * oStride[ax];
    }
    for (int64_t row = lo; row < hi; row++) {
      float* o = out + row * last;
      if (ls == 1) std::memcpy(o, x + src, sizeof(float) * last);
      else
        for (int64_t j = 0; j < last; j++) o[j] = x[src + j * ls];
      for (int ax = rank - 2; ax >= 0; ax--) {
        idx[ax]++;
        src += oStride[ax];
        if (idx[ax] < oShape[ax]) break;
        src -= oStride[ax] * oShape[ax];
        idx[ax] = 0;
      }
    }
  });
}

void gather(const float* x, const int32_t* idx, int64_t m, float* out, int64_t outer, int64_t axisLen,
            int64_t inner) {
  parallelRange(outer * m, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, inner)),
                [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
      const int64_t o = t / m, i = t % m;
      std::memcpy(out + t * inner, x + (o * axisLen + idx[i]) * inner, sizeof(float) * inner);
    }
  });
}

void scatterAdd(const float* dy, const int32_t* idx, int64_t m, float* dx, int64_t outer,
                int64_t axisLen, int64_t inner) {
  // Indices may repeat, so threads split the outer axis (or the inner one when outer is 1).
  if (outer > 1) {
    parallelRange(outer, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, m * inner)),
                  [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; o++)
        for (int64_t i = 0; i < m; i++) {
          float* d = dx + (o * axisLen + idx[i]) * inner;
          const float* s = dy + (o * m + i) * inner;
          for (int64_t r = 0; r < inner; r++) d[r] += s[r];
        }
    });
    return;
  }
  parallelRange(inner, std::max<int64_t>(64, (int64_t{1} << 15) / std::max<int64_t>(1, m)),
                [&](int64_t lo, int64_t hi) {
    for (int64_t i = 0; i < m; i++) {
      float* d = dx + idx[i] * inner;
      const float* s = dy + i * inner;
      for (int64_t r = lo; r < hi; r++) d[r] += s[r];
    }
  });
}

}  // namespace ddar
