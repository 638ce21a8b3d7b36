// kernels/cuda/flash_attention_fwd.cu: causal flash-attention forward on tensor cores (bf16,
// head dims 64 and 128). The GPU twin of cpu::attention_forward without the T x T matrix:
//
//   qkv (B, T, 3C) packed [q | k | v]  ->  out (B, T, C), lse (B, NH, T) fp32
//   out[b, t, h*hs:(h+1)*hs] = sum_{j<=t} softmax_j(scale * q_t . k_j) v_j,   scale = 1/sqrt(hs)
//   lse[b, h, t]            = ln sum_{j<=t} exp(scale * q_t . k_j)            (for the backward)
//
// One block per (BR = 64 query rows, b, h): grid (B*NH, ceil(T/64)); the heaviest query tiles
// (the last ones, which see the most keys) are scheduled first. 4 warps; warp w owns query rows
// 16w..16w+15 from start to end, so inside the key loop a warp synchronises only with itself.
// Per key tile of BC = 64 keys (only tiles at or left of the diagonal are visited):
//   1. the block loads K and V (zero-filled past T) into shared memory
//   2. each warp: S = Q K^T for its 16 rows (WMMA, Q fragments held in registers) -> smem fp32
//   3. each warp, lanes 2r and 2r+1 on row r: causal/tail mask, running max m, p = exp2(s2 - m)
//      (bf16 into smem), running sum l, and the rescale of its O row by exp2(m_old - m_new)
//   4. each warp: O += P V (WMMA, O read from and written back to smem fp32)
// At the end: out = O / l (bf16, 16-byte stores) and lse = m ln2 + ln l.
// See docs/attention.md for the algorithm and the shared-memory layout.
#include "kernels/cuda/flash_attention.cuh"

namespace gptcu::cuda {
namespace flash {
namespace {

template <int HS>
struct FwdConfig {
  static constexpr int warps = 4;
  static constexpr int threads = warps * 32;
  static constexpr int br = kFrag * warps;  // query rows per block: 16 per warp
  static constexpr int bc = 64;             // keys per tile
  using Smem = FwdSmem<HS, br, bc>;
  static_assert(HS % kFrag == 0 && bc % kFrag == 0, "tiles are whole WMMA fragments");
  static_assert(bc % 2 == 0 && HS % 16 == 0, "lane pairs split rows in halves, 8-element chunks");
};

template <int HS>
__global__ void __launch_bounds__(FwdConfig<HS>::threads)
    flash_fwd_kernel(bf* out, float* lse, const bf* qkv, int T, int C, int NH, float scale_log2) {
  using Cfg = FwdConfig<HS>;
  using L = typename Cfg::Smem;
  constexpr int BR = Cfg::br, BC = Cfg::bc, THREADS = Cfg::threads;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sK = reinterpret_cast<bf*>(smem + L::k);
  bf* sV = reinterpret_cast<bf*>(smem + L::v);
  float* sS = reinterpret_cast<float*>(smem + L::s);
  bf* sP = reinterpret_cast<bf*>(smem + L::p);
  float* sO = reinterpret_cast<float*>(smem + L::o);

  const int bh = blockIdx.x, b = bh / NH, h = bh % NH;
  const int q0 = (gridDim.y - 1 - blockIdx.y) * BR;  // heaviest tiles first
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t ld = 3 * (int64_t)C;  // row stride of qkv
  const bf* q_base = qkv + (int64_t)b * T * ld + h * HS;
  const bf* k_base = q_base + C;
  const bf* v_base = q_base + 2 * C;

  // This warp's 16 rows of S, P and O, and the row r = lane/2 that this lane pair works on.
  float* s_w = sS + warp * kFrag * L::ld_s;
  bf* p_w = sP + warp * kFrag * L::ld_p;
  float* o_w = sO + warp * kFrag * L::ld_o;
  const int r = lane / 2, half = lane % 2;
  const int qi = q0 + warp * kFrag + r;  // this lane pair's query (may be >= T in the tail tile)
  float* s_row = s_w + r * L::ld_s;
  bf* p_row = p_w + r * L::ld_p;
  float* o_row = o_w + r * L::ld_o;

  // Q tile -> registers: staged through the K buffer (free until the first key tile).
  load_tile<BR, HS, THREADS>(sK, L::ld_kv, q_base + q0 * ld, ld, min(BR, T - q0));
  __syncthreads();
  FragArow q_frag[HS / kFrag];
#pragma unroll
  for (int kk = 0; kk < HS / kFrag; kk++)
    wmma::load_matrix_sync(q_frag[kk], sK + warp * kFrag * L::ld_kv + kk * kFrag, L::ld_kv);
  for (int c = half; c < HS; c += 2) o_row[c] = 0.0f;

  // Running max (log2 units) and running sum of row qi; both lanes of the pair hold the same values.
  float m = -INFINITY, l = 0.0f;

  // Causal: the last key any row of this tile sees is min(q0 + BR, T) - 1.
  const int n_kv = (min(q0 + BR, T) - 1) / BC + 1;
  for (int kt = 0; kt < n_kv; kt++) {
    const int k0 = kt * BC;
    __syncthreads();  // every warp is done with the previous K/V tile (and with the Q staging)
    load_tile<BC, HS, THREADS>(sK, L::ld_kv, k_base + k0 * ld, ld, min(BC, T - k0));
    load_tile<BC, HS, THREADS>(sV, L::ld_kv, v_base + k0 * ld, ld, min(BC, T - k0));
    __syncthreads();

    // 2. S (16 x BC) = Q K^T for this warp's rows. K (BC x HS, row-major) read as a col-major
    //    B (HS x BC) is K^T.
#pragma unroll
    for (int nt = 0; nt < BC / kFrag; nt++) {
      FragAcc acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < HS / kFrag; kk++) {
        FragBcol k_frag;
        wmma::load_matrix_sync(k_frag, sK + nt * kFrag * L::ld_kv + kk * kFrag, L::ld_kv);
        wmma::mma_sync(acc, q_frag[kk], k_frag, acc);
      }
      wmma::store_matrix_sync(s_w + nt * kFrag, acc, L::ld_s, wmma::mem_row_major);
    }
    __syncwarp();

    // 3. Online softmax of row qi over keys k0..k0+BC-1; the lane pair splits the columns
    //    (even / odd). Key j is valid when j <= qi (causal) and j < T (tail). Key 0 is valid for
    //    every row, so after tile 0, m is finite, and a fully masked row of a later tile leaves m,
    //    l and O unchanged (mx = -inf, p = 0, alpha = 1).
    float mx = -INFINITY;
    for (int j = half; j < BC; j += 2) {
      const int kj = k0 + j;
      if (kj <= qi && kj < T) mx = fmaxf(mx, s_row[j] * scale_log2);
    }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    const float m_new = fmaxf(m, mx);
    float sum = 0.0f;
    for (int j = half; j < BC; j += 2) {
      const int kj = k0 + j;
      const float p = (kj <= qi && kj < T) ? exp2f(s_row[j] * scale_log2 - m_new) : 0.0f;
      p_row[j] = __float2bfloat16_rn(p);
      sum += p;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    const float alpha = exp2f(m - m_new);  // 0 on the first tile (m = -inf), else <= 1
    l = alpha * l + sum;
    m = m_new;
    for (int c = half; c < HS; c += 2) o_row[c] *= alpha;
    __syncwarp();

    // 4. O (16 x HS) += P (16 x BC) V (BC x HS), O through shared memory.
#pragma unroll
    for (int nt = 0; nt < HS / kFrag; nt++) {
      FragAcc acc;
      wmma::load_matrix_sync(acc, o_w + nt * kFrag, L::ld_o, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < BC / kFrag; kk++) {
        FragArow p_frag;
        FragBrow v_frag;
        wmma::load_matrix_sync(p_frag, p_w + kk * kFrag, L::ld_p);
        wmma::load_matrix_sync(v_frag, sV + kk * kFrag * L::ld_kv + nt * kFrag, L::ld_kv);
        wmma::mma_sync(acc, p_frag, v_frag, acc);
      }
      wmma::store_matrix_sync(o_w + nt * kFrag, acc, L::ld_o, wmma::mem_row_major);
    }
    __syncwarp();
  }

  // Epilogue: row qi of out = O / l, 8 elements (16 bytes) per store, chunks split over the pair.
  if (qi < T) {
    const float inv_l = 1.0f / l;
    bf* out_row = out + ((int64_t)b * T + qi) * C + h * HS;
    for (int c8 = half; c8 < HS / 8; c8 += 2) {
      Vec<bf> v;
      for (int i = 0; i < 8; i++) v.set(i, o_row[c8 * 8 + i] * inv_l);
      v.store(out_row + c8 * 8);
    }
    if (half == 0) lse[(int64_t)bh * T + qi] = m * kLn2 + logf(l);
  }
}

template <int HS>
void launch_forward(bf* out, float* lse, const bf* qkv, int B, int T_, int C, int NH, cudaStream_t stream) {
  using Cfg = FwdConfig<HS>;
  const size_t smem = Cfg::Smem::bytes;
  allow_smem(flash_fwd_kernel<HS>, smem);
  const dim3 grid(B * NH, (T_ + Cfg::br - 1) / Cfg::br);
  const float scale_log2 = kLog2e / sqrtf((float)HS);
  flash_fwd_kernel<HS><<<grid, Cfg::threads, smem, stream>>>(out, lse, qkv, T_, C, NH, scale_log2);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace

}  // namespace flash

bool flash_attention_supported(int head_dim) { return head_dim == 64 || head_dim == 128; }

void flash_attention_forward(bf16* out, float* lse, const bf16* qkv, int B, int T_, int C, int NH,
                             cudaStream_t stream) {
  flash::check_args("flash_attention_forward", B, T_, C, NH, {out, qkv});  // 16-byte vectors
  if (B == 0 || T_ == 0) return;
  if (C / NH == 64)
    flash::launch_forward<64>(dev(out), lse, dev(qkv), B, T_, C, NH, stream);
  else
    flash::launch_forward<128>(dev(out), lse, dev(qkv), B, T_, C, NH, stream);
}

}  // namespace gptcu::cuda
