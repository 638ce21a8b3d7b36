// kernels/cuda/flash_attention.cuh: what the flash-attention forward (flash_attention_fwd.cu) and
// backward (flash_attention_bwd.cu) share: the WMMA fragment types, the shared-memory layouts,
// the tile loader, the per-warp "add a 16x16 fragment into global memory" epilogue and the host
// checks. Included by those two .cu files only. The algorithm is described in docs/attention.md.
//
// Conventions (both directions):
// - bf16 storage, fp32 arithmetic; tensor cores through WMMA bf16 16x16x16 fragments with fp32
//   accumulators (sm_80+). WMMA's accumulator layout is opaque, so everything that is row-wise
//   (softmax, masks, rescaling) goes through an fp32 tile in shared memory.
// - qkv (B, T, 3C) packed: for one (b, h), Q, K and V are (T, hs) matrices with row stride 3C,
//   at column offsets h*hs, C + h*hs, 2C + h*hs; they are read in place.
// - Scores are kept in "log2 units": s2 = (q . k) * scale * log2(e), so exp(x) becomes exp2(x2).
//   The saved lse is in natural-log units: lse = ln sum_j exp(scale * q . k_j).
// - Shared-memory rows are padded (bf16 rows by 8 elements, fp32 rows by 4) so that rows stay
//   16-byte aligned, WMMA's ldm rules hold (a multiple of 8 bf16 / 4 fp32) and successive rows
//   start on different banks. Every buffer starts on a 128-byte boundary (WMMA needs 32).
#pragma once
#include <mma.h>

#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda::flash {

namespace wmma = nvcuda::wmma;
using bf = __nv_bfloat16;

constexpr int kFrag = 16;              // the WMMA tile edge (m = n = k = 16)
constexpr int kPadBf16 = 8;            // padding of a bf16 row in shared memory (elements)
constexpr int kPadF32 = 4;             // padding of an fp32 row in shared memory (elements)
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

using FragArow = wmma::fragment<wmma::matrix_a, kFrag, kFrag, kFrag, bf, wmma::row_major>;
using FragAcol = wmma::fragment<wmma::matrix_a, kFrag, kFrag, kFrag, bf, wmma::col_major>;
using FragBrow = wmma::fragment<wmma::matrix_b, kFrag, kFrag, kFrag, bf, wmma::row_major>;
using FragBcol = wmma::fragment<wmma::matrix_b, kFrag, kFrag, kFrag, bf, wmma::col_major>;
using FragAcc = wmma::fragment<wmma::accumulator, kFrag, kFrag, kFrag, float>;

__host__ __device__ constexpr size_t align128(size_t bytes) { return (bytes + 127) / 128 * 128; }

// ---- shared-memory layouts (byte offsets into the dynamic shared memory of one block) --------

// Forward, one block = BR query rows (warp w owns rows 16w..16w+15) against BC keys at a time.
//   k   (max(BR,BC), HS) bf16  the key tile; also stages the Q tile once at the start
//   v   (BC, HS) bf16          the value tile
//   s   (BR, BC) fp32          the scores of the current key tile
//   p   (BR, BC) bf16          exp2(s2 - m): the unnormalised probabilities, the A of P V
//   o   (BR, HS) fp32          the output accumulator, rescaled row by row
template <int HS, int BR, int BC>
struct FwdSmem {
  static constexpr int ld_kv = HS + kPadBf16, ld_s = BC + kPadF32, ld_p = BC + kPadBf16, ld_o = HS + kPadF32;
  static constexpr int k_rows = BR > BC ? BR : BC;
  static constexpr size_t k = 0;
  static constexpr size_t v = k + align128((size_t)k_rows * ld_kv * 2);
  static constexpr size_t s = v + align128((size_t)BC * ld_kv * 2);
  static constexpr size_t p = s + align128((size_t)BR * ld_s * 4);
  static constexpr size_t o = p + align128((size_t)BR * ld_p * 2);
  static constexpr size_t bytes = o + align128((size_t)BR * ld_o * 4);
};

// Backward, both kernels: a BR x BC block of (query, key) pairs at a time.
//   q, dout  (BR, HS) bf16     the query rows and their output gradients
//   k, v     (BC, HS) bf16     the key rows
//   s, dp    (BR, BC) fp32     S = Q K^T and dP = dO V^T (raw, unscaled)
//   p        (BR, BC) bf16     P (only the dK/dV kernel, WITH_P: it is the A of dV = P^T dO)
//   ds       (BR, BC) bf16     dS = P * (dP - D) * scale
//   lse, d   (BR) fp32         the rows' lse (in log2 units) and D = rowsum(dO * O)
// After the main loop, s is reused as the per-warp 16x16 fp32 staging of the epilogue.
template <int HS, int BR, int BC, bool WITH_P>
struct BwdSmem {
  static constexpr int ld_t = HS + kPadBf16, ld_s = BC + kPadF32, ld_p = BC + kPadBf16;
  static constexpr size_t q = 0;
  static constexpr size_t dout = q + align128((size_t)BR * ld_t * 2);
  static constexpr size_t k = dout + align128((size_t)BR * ld_t * 2);
  static constexpr size_t v = k + align128((size_t)BC * ld_t * 2);
  static constexpr size_t s = v + align128((size_t)BC * ld_t * 2);
  static constexpr size_t dp = s + align128((size_t)BR * ld_s * 4);
  static constexpr size_t p = dp + align128((size_t)BR * ld_s * 4);
  static constexpr size_t ds = p + (WITH_P ? align128((size_t)BR * ld_p * 2) : 0);
  static constexpr size_t lse = ds + align128((size_t)BR * ld_p * 2);
  static constexpr size_t d = lse + align128((size_t)BR * 4);
  static constexpr size_t bytes = d + align128((size_t)BR * 4);
  static constexpr size_t s_bytes = (size_t)BR * ld_s * 4;
};

// ---- device helpers ----------------------------------------------------------------------

// Copies a ROWS x HS bf16 tile from global memory (row r at src + r * stride) into shared memory
// (row r at dst + r * ld), 16 bytes per thread per step; rows >= valid_rows are zero-filled (a
// partial tail tile: its zero rows give finite scores that the masks then discard; without the
// fill, stale shared memory could hold NaNs, and 0 * NaN = NaN). Every thread of the block calls
// it; the caller synchronises afterwards. src must be 16-byte aligned and stride a multiple of 8.
template <int ROWS, int HS, int THREADS>
__device__ __forceinline__ void load_tile(bf* dst, int ld, const bf* src, int64_t stride, int valid_rows) {
  constexpr int chunks = HS / 8;  // 16-byte chunks per row
  for (int idx = threadIdx.x; idx < ROWS * chunks; idx += THREADS) {
    const int r = idx / chunks, c = (idx % chunks) * 8;
    int4 val = make_int4(0, 0, 0, 0);
    if (r < valid_rows) val = *reinterpret_cast<const int4*>(src + r * stride + c);
    *reinterpret_cast<int4*>(dst + r * ld + c) = val;
  }
}

// dst[row0 + r, c] += frag[r, c] for the rows row0 + r < T (r, c < 16), where row t starts at
// col_base + t * stride. `stage` is this warp's own 16x16 fp32 shared-memory scratch (32-byte
// aligned). Warp-collective (every lane calls it, with the same arguments): each lane adds 8
// contiguous elements (one 16-byte read and write) of row lane/2. This is the project's
// backward rule: read, add in fp32, round, write.
__device__ __forceinline__ void add_frag_to_global(bf* col_base, int64_t stride, int row0, int T,
                                                   const FragAcc& frag, float* stage) {
  wmma::store_matrix_sync(stage, frag, kFrag, wmma::mem_row_major);
  __syncwarp();
  const int lane = threadIdx.x % 32, r = lane / 2, c = (lane % 2) * 8;
  if (row0 + r < T) {
    bf* p = col_base + (int64_t)(row0 + r) * stride + c;
    Vec<bf> g;
    *reinterpret_cast<int4*>(&g) = *reinterpret_cast<const int4*>(p);  // plain load: this kernel writes p
    for (int i = 0; i < 8; i++) g.set(i, g[i] + stage[r * kFrag + c + i]);
    g.store(p);
  }
  __syncwarp();  // the stage is overwritten by the next call
}

// ---- host helpers ------------------------------------------------------------------------

inline void check_args(const char* fn, int B, int T_, int C, int NH, std::initializer_list<const void*> ptrs) {
  auto fail = [&](const std::string& why) { throw std::invalid_argument(std::string(fn) + ": " + why); };
  if (B < 0 || T_ < 0 || C <= 0 || NH <= 0 || C % NH != 0)
    fail("bad shape B=" + std::to_string(B) + " T=" + std::to_string(T_) + " C=" + std::to_string(C) +
         " NH=" + std::to_string(NH));
  const int hs = C / NH;
  if (hs != 64 && hs != 128) fail("head dim " + std::to_string(hs) + " not supported (64 or 128)");
  for (const void* p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) fail("pointers must be 16-byte aligned");
  if ((int64_t)B * NH > 0x7fffffff) fail("B * NH too large for the grid");
  if ((T_ + 63) / 64 > 65535) fail("T too large for the grid (gridDim.y <= 65535 tiles)");
}

// Opts `kernel` in to `bytes` of dynamic shared memory (above the default 48 KB). Per device and
// per kernel; cheap, so it is done before every launch rather than cached (the current device
// may change between calls).
template <typename Kernel>
inline void allow_smem(Kernel kernel, size_t bytes) {
  GPTCU_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

}  // namespace gptcu::cuda::flash
