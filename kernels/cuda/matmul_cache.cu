// kernels/cuda/matmul_cache.cu: the cuBLASLt plumbing behind matmul.cu and attention.cu (see
// matmul_cache.h): per-device handle and workspace, the algorithm cache, descriptor set-up, and the
// fallback GEMM kernel for problems cuBLASLt has no algorithm for.
//
// Compute type CUBLAS_COMPUTE_32F with fp32 alpha/beta for every dtype: fp32 inputs are multiplied
// in full fp32 (no TF32, so that fp32 mode is a parity mode), bf16 inputs on the tensor cores with
// fp32 accumulation.
//
// A problem cuBLASLt has no algorithm for (the heuristic says NOT_SUPPORTED / INVALID_VALUE or returns
// nothing; the answer is cached per key like an algorithm) runs in the fallback kernel, counted by
// fallback_count().
//
// Fallback kernel: 16 x 16 output tiles, one output per thread, op(A) and op(B) staged through
// shared memory 16 columns of k at a time, fp32 accumulation in k order (deterministic); batch
// items over gridDim.z (a grid-stride loop past 65535). Same epilogue semantics as cuBLASLt:
// D = alpha * op(A) op(B) + beta * D + bias; with GELU: aux = that value, D = gelu(aux).
#include <cublasLt.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/matmul_cache.h"

namespace gptcu::cuda::lt {
namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;

// set_deterministic(): restrict the heuristic to algorithms without a split-K reduction.
std::atomic<bool> g_deterministic{false};

struct DeviceContext {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
};

// The current device's handle and workspace, created on first use (never destroyed: they live
// as long as the process, and destroying them at exit could run after the driver has unloaded).
const DeviceContext& device_context(int device) {
  static std::mutex mutex;
  static std::map<int, DeviceContext> contexts;  // node-based: references stay valid
  std::lock_guard<std::mutex> lock(mutex);
  auto it = contexts.find(device);
  if (it == contexts.end()) {
    DeviceContext c;
    GPTCU_CUBLAS_CHECK(cublasLtCreate(&c.handle));
    const cudaError_t err = cudaMalloc(&c.workspace, kWorkspaceBytes);
    if (err != cudaSuccess) {
      cublasLtDestroy(c.handle);
      GPTCU_CUDA_CHECK(err);
    }
    it = contexts.emplace(device, c).first;
  }
  return it->second;
}

// Largest power of two (<= 256) dividing the address, and the batch stride in bytes when batched:
// what the algorithm may assume about every batch item's pointer.
uint32_t alignment(const void* p, int64_t stride_elems, int batch, size_t elem_bytes) {
  uint32_t a = 256;
  const uint64_t addr = reinterpret_cast<uintptr_t>(p);
  const uint64_t stride = batch > 1 ? (uint64_t)stride_elems * elem_bytes : 0;
  while (a > 1 && ((addr % a) != 0 || (stride % a) != 0)) a >>= 1;
  return a;
}

size_t type_bytes(cudaDataType_t t) { return t == CUDA_R_32F ? 4 : 2; }

cublasLtEpilogue_t lt_epilogue(Epilogue e) {
  switch (e) {
    case Epilogue::bias:
      return CUBLASLT_EPILOGUE_BIAS;
    case Epilogue::gelu_aux:
      return CUBLASLT_EPILOGUE_GELU_AUX;
    case Epilogue::gelu_aux_bias:
      return CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    case Epilogue::none:
    default:
      return CUBLASLT_EPILOGUE_DEFAULT;
  }
}

// Everything the algorithm choice may depend on.
using Key = std::array<int64_t, 24>;

Key make_key(int device, const Gemm& g) {
  const size_t ab = type_bytes(g.ab_type), db = type_bytes(g.d_type);
  return Key{device,
             g.m,
             g.n,
             g.k,
             g.batch,
             (int64_t)g.ab_type,
             (int64_t)g.d_type,
             g.a.trans,
             g.b.trans,
             g.a.ld,
             g.b.ld,
             g.ldd,
             g.batch > 1 ? g.a.batch_stride : 0,
             g.batch > 1 ? g.b.batch_stride : 0,
             g.batch > 1 ? g.stride_d : 0,
             (int64_t)g.epilogue,
             g.beta != 0.0f,
             alignment(g.a.ptr, g.a.batch_stride, g.batch, ab),
             alignment(g.b.ptr, g.b.batch_stride, g.batch, ab),
             alignment(g.d, g.stride_d, g.batch, db),
             g.bias ? alignment(g.bias, 0, 1, db) : 0,
             g.aux ? alignment(g.aux, 0, 1, db) : 0,
             g.aux_ld,
             g_deterministic.load() ? 1 : 0};
}

struct CachedAlgo {
  bool found = false;
  cublasLtMatmulAlgo_t algo{};
};

// cuBLASLt descriptors of one call, destroyed on scope exit (also when a check throws).
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  Descriptors() = default;
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
  ~Descriptors() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

void make_layout(cublasLtMatrixLayout_t* layout, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                 int batch, int64_t stride) {
  GPTCU_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(layout, type, (uint64_t)rows, (uint64_t)cols, ld));
  if (batch > 1) {
    const int32_t count = batch;
    GPTCU_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(*layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
    GPTCU_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(*layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                        &stride, sizeof(stride)));
  }
}

void make_descriptors(Descriptors& ds, const Gemm& g) {
  GPTCU_CUBLAS_CHECK(cublasLtMatmulDescCreate(&ds.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = g.a.trans ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g.b.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  GPTCU_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  GPTCU_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  const cublasLtEpilogue_t epi = lt_epilogue(g.epilogue);
  GPTCU_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
  const int32_t dtype = g.d_type;
  if (g.epilogue == Epilogue::bias || g.epilogue == Epilogue::gelu_aux_bias) {
    GPTCU_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof(g.bias)));
    GPTCU_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &dtype, sizeof(dtype)));
  }
  if (g.epilogue == Epilogue::gelu_aux || g.epilogue == Epilogue::gelu_aux_bias) {
    GPTCU_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &g.aux, sizeof(g.aux)));
    GPTCU_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(ds.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &g.aux_ld, sizeof(g.aux_ld)));
    // aux data type left at its default: the type of D
  }
  // stored shapes: A (m, k) or (k, m) when transposed; B (k, n) or (n, k); D (m, n)
  make_layout(&ds.a, g.ab_type, g.a.trans ? g.k : g.m, g.a.trans ? g.m : g.k, g.a.ld, g.batch, g.a.batch_stride);
  make_layout(&ds.b, g.ab_type, g.b.trans ? g.n : g.k, g.b.trans ? g.k : g.n, g.b.ld, g.batch, g.b.batch_stride);
  make_layout(&ds.d, g.d_type, g.m, g.n, g.ldd, g.batch, g.stride_d);
}

// The heuristic's first choice for this problem, or found = false when cuBLASLt has none.
CachedAlgo choose_algo(const DeviceContext& ctx, Descriptors& ds, const Gemm& g) {
  GPTCU_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&ds.pref));
  const uint64_t ws = kWorkspaceBytes;
  GPTCU_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const size_t ab = type_bytes(g.ab_type), db = type_bytes(g.d_type);
  const uint32_t al_a = alignment(g.a.ptr, g.a.batch_stride, g.batch, ab);
  const uint32_t al_b = alignment(g.b.ptr, g.b.batch_stride, g.batch, ab);
  const uint32_t al_d = alignment(g.d, g.stride_d, g.batch, db);
  GPTCU_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof(al_a)));
  GPTCU_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof(al_b)));
  GPTCU_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_d, sizeof(al_d)));
  GPTCU_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_d, sizeof(al_d)));
  if (g_deterministic.load()) {
    // No split-K: each output tile is summed by one thread block in one order. cuBLAS's own
    // guarantee is bitwise reproducibility for a given algorithm on one GPU model; this also rules
    // out the reductions across blocks whose order could depend on scheduling.
    const uint32_t scheme = CUBLASLT_REDUCTION_SCHEME_NONE;
    GPTCU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(ds.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                                            &scheme, sizeof(scheme)));
  }
  cublasLtMatmulHeuristicResult_t result{};
  int count = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(ctx.handle, ds.op, ds.a, ds.b, ds.d, ds.d, ds.pref, 1, &result, &count);
  CachedAlgo c;
  // no algorithm: NOT_SUPPORTED, or INVALID_VALUE for a combination this cuBLASLt refuses (odd leading
  // dimensions, say). Both are left to the caller's fallback; fallback_count() lets tests see it.
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || st == CUBLAS_STATUS_INVALID_VALUE ||
      (st == CUBLAS_STATUS_SUCCESS && count == 0))
    return c;
  GPTCU_CUBLAS_CHECK(st);
  c.found = true;
  c.algo = result.algo;
  return c;
}

// ---- the fallback kernel --------------------------------------------------------------------

constexpr int kTile = 16;

struct FallbackArgs {
  int m, n, k, batch;
  const void* a;
  const void* b;
  void* d;
  int64_t lda, ldb, ldd, sa, sb, sd;
  bool ta, tb, gelu;
  float alpha, beta;
  const void* bias;
  void* aux;
  int64_t aux_ld;
};

template <typename DA, typename DD>
__global__ void __launch_bounds__(kTile* kTile) gemm_fallback_kernel(FallbackArgs p) {
  __shared__ float as[kTile][kTile + 1];  // as[kk][r] = op(A)(row0 + r, k0 + kk)
  __shared__ float bs[kTile][kTile + 1];  // bs[kk][c] = op(B)(k0 + kk, col0 + c)
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row0 = blockIdx.x * kTile, col0 = blockIdx.y * kTile;
  const int i = row0 + tx, j = col0 + ty;  // this thread's element of D
  for (int bt = blockIdx.z; bt < p.batch; bt += gridDim.z) {
    const DA* A = static_cast<const DA*>(p.a) + bt * p.sa;
    const DA* B = static_cast<const DA*>(p.b) + bt * p.sb;
    DD* D = static_cast<DD*>(p.d) + bt * p.sd;
    float acc = 0.0f;
    for (int k0 = 0; k0 < p.k; k0 += kTile) {
      {  // op(A)(row0 + tx, k0 + ty)
        const int64_t r = row0 + tx, c = k0 + ty;
        as[ty][tx] = (r < p.m && c < p.k) ? load_f(p.ta ? A[r * p.lda + c] : A[c * p.lda + r]) : 0.0f;
      }
      {  // op(B)(k0 + tx, col0 + ty)
        const int64_t r = k0 + tx, c = col0 + ty;
        bs[tx][ty] = (r < p.k && c < p.n) ? load_f(p.tb ? B[r * p.ldb + c] : B[c * p.ldb + r]) : 0.0f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kTile; kk++) acc += as[kk][tx] * bs[kk][ty];
      __syncthreads();
    }
    if (i < p.m && j < p.n) {
      DD* dij = D + (int64_t)j * p.ldd + i;
      float v = p.alpha * acc;
      if (p.beta != 0.0f) v += p.beta * load_f(*dij);
      if (p.bias) v += load_f(static_cast<const DD*>(p.bias)[i]);
      if (p.gelu) {
        static_cast<DD*>(p.aux)[(int64_t)j * p.aux_ld + i] = store_f<DD>(v);
        v = gelu_f(v);
      }
      *dij = store_f<DD>(v);
    }
  }
}

std::atomic<uint64_t> g_fallbacks{0};

void gemm_fallback(const Gemm& g, cudaStream_t stream) {
  g_fallbacks.fetch_add(1, std::memory_order_relaxed);
  const int64_t gy = (g.n + kTile - 1) / kTile;
  if (gy > 65535) throw CudaError("lt::gemm fallback: n = " + std::to_string(g.n) + " is past the grid limit");
  FallbackArgs p{g.m,    g.n,    g.k,   g.batch, g.a.ptr, g.b.ptr, g.d,   g.a.ld,  g.b.ld, g.ldd, g.a.batch_stride,
                 g.b.batch_stride, g.stride_d, g.a.trans, g.b.trans, false, g.alpha, g.beta, nullptr, nullptr, 0};
  if (g.epilogue == Epilogue::bias || g.epilogue == Epilogue::gelu_aux_bias) p.bias = g.bias;
  if (g.epilogue == Epilogue::gelu_aux || g.epilogue == Epilogue::gelu_aux_bias) {
    p.gelu = true;
    p.aux = g.aux;
    p.aux_ld = g.aux_ld;
  }
  const dim3 block(kTile, kTile);
  const dim3 grid((unsigned)((g.m + kTile - 1) / kTile), (unsigned)gy, (unsigned)(g.batch < 65535 ? g.batch : 65535));
  if (g.ab_type == CUDA_R_32F && g.d_type == CUDA_R_32F)
    gemm_fallback_kernel<float, float><<<grid, block, 0, stream>>>(p);
  else if (g.ab_type == CUDA_R_16BF && g.d_type == CUDA_R_16BF)
    gemm_fallback_kernel<__nv_bfloat16, __nv_bfloat16><<<grid, block, 0, stream>>>(p);
  else if (g.ab_type == CUDA_R_16BF && g.d_type == CUDA_R_32F)
    gemm_fallback_kernel<__nv_bfloat16, float><<<grid, block, 0, stream>>>(p);
  else
    throw CudaError("lt::gemm fallback: unsupported type combination");
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace

bool gelu_aux_ok(const void* aux, int64_t aux_ld) {
  return aux_ld % 8 == 0 && reinterpret_cast<uintptr_t>(aux) % 16 == 0;
}

bool bias_ok(const void* bias) { return reinterpret_cast<uintptr_t>(bias) % 16 == 0; }

void set_deterministic(bool on) { g_deterministic.store(on); }
bool deterministic() { return g_deterministic.load(); }

uint64_t fallback_count() { return g_fallbacks.load(std::memory_order_relaxed); }

bool try_gemm(const Gemm& g, cudaStream_t stream) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return true;  // nothing to compute
  if (g.k <= 0) return false;

  int device = 0;
  GPTCU_CUDA_CHECK(cudaGetDevice(&device));
  const DeviceContext& ctx = device_context(device);
  Descriptors ds;
  make_descriptors(ds, g);

  static std::mutex mutex;
  static std::map<Key, CachedAlgo> cache;
  const Key key = make_key(device, g);
  CachedAlgo algo;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) algo = it->second, cached = true;
  }
  if (!cached) {  // two threads may both ask the heuristic the first time; they get the same answer
    algo = choose_algo(ctx, ds, g);
    std::lock_guard<std::mutex> lock(mutex);
    cache.emplace(key, algo);
  }
  if (!algo.found) return false;

  const float alpha = g.alpha, beta = g.beta;
  GPTCU_CUBLAS_CHECK(cublasLtMatmul(ctx.handle, ds.op, &alpha, g.a.ptr, ds.a, g.b.ptr, ds.b, &beta, g.d, ds.d, g.d,
                                    ds.d, &algo.algo, ctx.workspace, kWorkspaceBytes, stream));
  return true;
}

void gemm(const Gemm& g, cudaStream_t stream) {
  if (!try_gemm(g, stream)) gemm_fallback(g, stream);
}

}  // namespace gptcu::cuda::lt
