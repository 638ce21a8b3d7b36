// kernels/cpu/residual.cpp: elementwise residual add, CPU reference.
//
//   out (n) = a (n) + alpha * b (n)
//   da (n) += dout,  db (n) += alpha * dout     (nullptr = skip)
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
constexpr int64_t kMinParallel = 1 << 15;  // below this, threads cost more than they save
}

template <typename T>
void residual_forward(T* out, const T* a, const T* b, int64_t n, T alpha) {
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + alpha * b[i];
}

template <typename T>
void residual_backward(T* da, T* db, const T* dout, int64_t n, T alpha) {
  if (da) {
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (int64_t i = 0; i < n; i++) da[i] += dout[i];
  }
  if (db) {
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (int64_t i = 0; i < n; i++) db[i] += alpha * dout[i];
  }
}

template void residual_forward<float>(float*, const float*, const float*, int64_t, float);
template void residual_forward<double>(double*, const double*, const double*, int64_t, double);
template void residual_backward<float>(float*, float*, const float*, int64_t, float);
template void residual_backward<double>(double*, double*, const double*, int64_t, double);

}  // namespace gptcu::cpu
