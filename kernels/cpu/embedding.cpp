// kernels/cpu/embedding.cpp: token + position embedding, CPU reference.
//
//   tokens (B, T), wte (Vp, C), wpe (maxT, C) with T <= maxT
//   out (B, T, C) = wte[tokens[b, t]] + wpe[pos[b, t]]
// where pos[b, t] = positions[b, t] when positions (B, T) is given (generation with a KV cache,
// where each row continues at its own position; every pos < maxT), else t.
// Backward (+= into every gradient given, nullptr = skip):
//   dwte[tokens[b, t]] += dout[b, t]   scattered in (b, t) order, threads split the columns
//   dwpe[t] += sum_b dout[b, t]        summed over b in order
// so repeated tokens are accumulated in a fixed order: deterministic, no atomics.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
constexpr int kColumnBlock = 64;  // columns per OpenMP task in the dwte scatter
}

template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int B, int T_,
                       int C, const int32_t* positions) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < T_; t++) {
      const T* e = wte + (int64_t)tokens[b * T_ + t] * C;
      const int64_t pos = positions ? positions[b * T_ + t] : t;
      const T* p = wpe + pos * C;
      T* o = out + ((int64_t)b * T_ + t) * C;
      for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
    }
  }
}

template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens, int B, int T_,
                        int C) {
  if (dwpe) {  // each position t sums its B rows in order
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T_; t++) {
      T* d = dwpe + (int64_t)t * C;
      for (int b = 0; b < B; b++) {
        const T* dy = dout + ((int64_t)b * T_ + t) * C;
        for (int c = 0; c < C; c++) d[c] += dy[c];
      }
    }
  }
  if (dwte) {  // a token may repeat: each thread owns a block of columns, rows in (b, t) order
    const int nblocks = (C + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblocks; blk++) {
      const int c0 = blk * kColumnBlock, c1 = std::min(C, c0 + kColumnBlock);
      for (int64_t bt = 0; bt < (int64_t)B * T_; bt++) {
        const T* dy = dout + bt * C;
        T* d = dwte + (int64_t)tokens[bt] * C;
        for (int c = c0; c < c1; c++) d[c] += dy[c];
      }
    }
  }
}

template void embedding_forward<float>(float*, const int32_t*, const float*, const float*, int, int,
                                       int, const int32_t*);
template void embedding_forward<double>(double*, const int32_t*, const double*, const double*, int,
                                        int, int, const int32_t*);
template void embedding_backward<float>(float*, float*, const float*, const int32_t*, int, int,
                                        int);
template void embedding_backward<double>(double*, double*, const double*, const int32_t*, int, int,
                                         int);

}  // namespace gptcu::cpu
