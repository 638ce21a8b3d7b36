// kernels/cuda/flash_attention_bwd.cu: causal flash-attention backward on tensor cores (bf16,
// head dims 64 and 128), deterministic (no atomics). The GPU twin of cpu::attention_backward,
// recomputing the probabilities from the forward's lse instead of reading a saved T x T matrix:
//
//   inputs  dout (B, T, C), qkv (B, T, 3C), out (B, T, C), lse (B, NH, T) fp32
//   output  dqkv (B, T, 3C) += [dQ | dK | dV]   (the project's backward rule: read, add, write)
//
// Per (b, h), with S = Q K^T, scale = 1/sqrt(hs):
//   P_ij = exp(scale S_ij - lse_i) for j <= i, else 0       (recomputed, fp32)
//   D_i  = rowsum(dO_i * O_i)  (= sum_j P_ij dP_ij)           (kernel 1: flash_bwd_d_kernel)
//   dP = dO V^T;  dS = P * (dP - D) * scale
//   dV = P^T dO;  dK = dS^T Q                                 (kernel 2: one block per key tile)
//   dQ = dS K                                                 (kernel 3: one block per query tile)
// Kernels 2 and 3 both recompute S, P, dP and dS (the simple deterministic two-pass scheme): each
// block owns the rows it writes, loops over the other dimension in a fixed order and accumulates in
// fp32 WMMA fragments, then adds them into dqkv once. Both use BR = BC = 64 and 8 warps; one step
// of either loop is
//   phase 1  S and dP (64 x 64 each, fp32) into shared memory, fragments split over the warps
//   phase 2  P and dS (bf16) elementwise from S, dP, lse, D, with the causal and tail masks
//   phase 3  the products into this block's accumulator fragments, split over the warps
// with a __syncthreads between phases. Scratch: D (B, NH, T) fp32.
// See docs/attention.md for the algorithm and the shared-memory layout.
#include "kernels/cuda/flash_attention.cuh"

namespace gptcu::cuda {
namespace flash {
namespace {

template <int HS>
struct BwdConfig {
  static constexpr int warps = 8;
  static constexpr int threads = warps * 32;
  static constexpr int br = 64;  // query rows per step
  static constexpr int bc = 64;  // key rows per step
  static constexpr int s_frags = (br / kFrag) * (bc / kFrag);        // fragments of S (and of dP)
  static constexpr int kv_frags = (bc / kFrag) * (HS / kFrag) / warps;  // dK (and dV) fragments per warp
  static constexpr int q_frags = (br / kFrag) * (HS / kFrag) / warps;   // dQ fragments per warp
  static_assert(s_frags % warps == 0, "S fragments split evenly over the warps");
  static_assert((bc / kFrag) * (HS / kFrag) % warps == 0 && (br / kFrag) * (HS / kFrag) % warps == 0,
                "accumulator fragments split evenly over the warps");
};

// ---- kernel 1: D[b, h, t] = sum_c dout[b, t, h*hs + c] * out[b, t, h*hs + c] ---------------
// One warp per (b, t, h) row, 2 elements (one bf16x2) per lane per step, fp32; grid-stride.
__global__ void flash_bwd_d_kernel(float* d, const bf* dout, const bf* out, int B, int T, int NH, int hs) {
  const int64_t rows = (int64_t)B * T * NH;
  const int lane = threadIdx.x % 32, warps_per_block = blockDim.x / 32;
  for (int64_t row = blockIdx.x * (int64_t)warps_per_block + threadIdx.x / 32; row < rows;
       row += (int64_t)gridDim.x * warps_per_block) {
    // row = (b*T + t)*NH + h: consecutive warps read consecutive heads of one (b, t) row of out
    const int h = (int)(row % NH);
    const int64_t bt = row / NH;
    const int t = (int)(bt % T), b = (int)(bt / T);
    const bf* o = out + bt * NH * hs + h * hs;
    const bf* g = dout + bt * NH * hs + h * hs;
    float sum = 0.0f;
    for (int c = 2 * lane; c < hs; c += 64) {
      const float2 of = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(o + c));
      const float2 gf = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(g + c));
      sum += of.x * gf.x + of.y * gf.y;
    }
    sum = warp_sum(sum);
    if (lane == 0) d[((int64_t)b * NH + h) * T + t] = sum;
  }
}

// ---- what kernels 2 and 3 share ------------------------------------------------------------

// Phase 1: S = Q K^T and dP = dO V^T (BR x BC, fp32, unscaled) into sS and sdP. Fragment f of
// each product goes to warp f % warps.
template <int HS, class L>
__device__ __forceinline__ void scores_and_dp(float* sS, float* sdP, const bf* sQ, const bf* sdO, const bf* sK,
                                              const bf* sV) {
  using Cfg = BwdConfig<HS>;
  constexpr int NT = Cfg::bc / kFrag;
  const int warp = threadIdx.x / 32;
  for (int f = warp; f < Cfg::s_frags; f += Cfg::warps) {
    const int mt = f / NT, nt = f % NT;  // query fragment row, key fragment column
    FragAcc s_acc, dp_acc;
    wmma::fill_fragment(s_acc, 0.0f);
    wmma::fill_fragment(dp_acc, 0.0f);
#pragma unroll 1
    for (int kk = 0; kk < HS / kFrag; kk++) {
      FragArow a;
      FragBcol bt;  // K (or V) rows read as a col-major B: K^T (V^T)
      wmma::load_matrix_sync(a, sQ + mt * kFrag * L::ld_t + kk * kFrag, L::ld_t);
      wmma::load_matrix_sync(bt, sK + nt * kFrag * L::ld_t + kk * kFrag, L::ld_t);
      wmma::mma_sync(s_acc, a, bt, s_acc);
      wmma::load_matrix_sync(a, sdO + mt * kFrag * L::ld_t + kk * kFrag, L::ld_t);
      wmma::load_matrix_sync(bt, sV + nt * kFrag * L::ld_t + kk * kFrag, L::ld_t);
      wmma::mma_sync(dp_acc, a, bt, dp_acc);
    }
    wmma::store_matrix_sync(sS + mt * kFrag * L::ld_s + nt * kFrag, s_acc, L::ld_s, wmma::mem_row_major);
    wmma::store_matrix_sync(sdP + mt * kFrag * L::ld_s + nt * kFrag, dp_acc, L::ld_s, wmma::mem_row_major);
  }
}

// Phase 2: P_ij = exp2(S_ij * scale_log2 - lse2_i) and dS_ij = P_ij (dP_ij - D_i) scale for the
// query q0 + i and key k0 + j, both zero unless key <= query < T (causal; a padded query row of the
// tail tile; a padded key row has key > every real query). P is written only when STORE_P.
template <int HS, class L, bool STORE_P>
__device__ __forceinline__ void probs_and_ds(bf* sP, bf* sdS, const float* sS, const float* sdP, const float* sLse,
                                             const float* sD, int q0, int k0, int T, float scale, float scale_log2) {
  using Cfg = BwdConfig<HS>;
  for (int idx = threadIdx.x; idx < Cfg::br * Cfg::bc; idx += Cfg::threads) {
    const int i = idx / Cfg::bc, j = idx % Cfg::bc;
    const int qi = q0 + i, kj = k0 + j;
    float p = 0.0f, ds = 0.0f;
    if (kj <= qi && qi < T) {
      p = exp2f(sS[i * L::ld_s + j] * scale_log2 - sLse[i]);
      ds = p * (sdP[i * L::ld_s + j] - sD[i]) * scale;
    }
    if constexpr (STORE_P) sP[i * L::ld_p + j] = __float2bfloat16_rn(p);
    sdS[i * L::ld_p + j] = __float2bfloat16_rn(ds);
  }
}

// lse (natural log) -> log2 units, and D, for the BR query rows from q0 (0 past T).
template <int HS>
__device__ __forceinline__ void load_row_stats(float* sLse, float* sD, const float* lse_bh, const float* d_bh, int q0,
                                               int T) {
  using Cfg = BwdConfig<HS>;
  for (int i = threadIdx.x; i < Cfg::br; i += Cfg::threads) {
    const bool ok = q0 + i < T;
    sLse[i] = ok ? lse_bh[q0 + i] * kLog2e : 0.0f;
    sD[i] = ok ? d_bh[q0 + i] : 0.0f;
  }
}

// ---- kernel 2: dK, dV for one key tile, looping over the query tiles that see it ------------
// grid (B*NH, ceil(T/BC)); key tile 0 (seen by every query: the most work) is scheduled first.
template <int HS>
__global__ void __launch_bounds__(BwdConfig<HS>::threads)
    flash_bwd_dkdv_kernel(bf* dqkv, const bf* dout, const bf* qkv, const float* lse, const float* d, int T, int C,
                          int NH, float scale, float scale_log2) {
  using Cfg = BwdConfig<HS>;
  using L = BwdSmem<HS, Cfg::br, Cfg::bc, true>;
  constexpr int BR = Cfg::br, BC = Cfg::bc, THREADS = Cfg::threads, NHT = HS / kFrag;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sQ = reinterpret_cast<bf*>(smem + L::q);
  bf* sdO = reinterpret_cast<bf*>(smem + L::dout);
  bf* sK = reinterpret_cast<bf*>(smem + L::k);
  bf* sV = reinterpret_cast<bf*>(smem + L::v);
  float* sS = reinterpret_cast<float*>(smem + L::s);
  float* sdP = reinterpret_cast<float*>(smem + L::dp);
  bf* sP = reinterpret_cast<bf*>(smem + L::p);
  bf* sdS = reinterpret_cast<bf*>(smem + L::ds);
  float* sLse = reinterpret_cast<float*>(smem + L::lse);
  float* sD = reinterpret_cast<float*>(smem + L::d);

  const int bh = blockIdx.x, b = bh / NH, h = bh % NH;
  const int k0 = blockIdx.y * BC;
  const int warp = threadIdx.x / 32;
  const int64_t ld = 3 * (int64_t)C;
  const bf* q_base = qkv + (int64_t)b * T * ld + h * HS;
  const bf* do_base = dout + (int64_t)b * T * C + h * HS;
  const float* lse_bh = lse + (int64_t)bh * T;
  const float* d_bh = d + (int64_t)bh * T;

  load_tile<BC, HS, THREADS>(sK, L::ld_t, q_base + C + k0 * ld, ld, min(BC, T - k0));
  load_tile<BC, HS, THREADS>(sV, L::ld_t, q_base + 2 * C + k0 * ld, ld, min(BC, T - k0));

  // This warp's accumulator fragments: g = warp + warps * i -> rows (keys) g / NHT, columns g % NHT.
  FragAcc dk_acc[Cfg::kv_frags], dv_acc[Cfg::kv_frags];
#pragma unroll
  for (int i = 0; i < Cfg::kv_frags; i++) {
    wmma::fill_fragment(dk_acc[i], 0.0f);
    wmma::fill_fragment(dv_acc[i], 0.0f);
  }

  // Causal: only queries >= k0 see these keys: query tiles from k0 / BR to the last.
  for (int qt = k0 / BR; qt * BR < T; qt++) {
    const int q0 = qt * BR;
    __syncthreads();  // the previous step's phase 3 is done with sQ, sdO, sP, sdS
    load_tile<BR, HS, THREADS>(sQ, L::ld_t, q_base + q0 * ld, ld, min(BR, T - q0));
    load_tile<BR, HS, THREADS>(sdO, L::ld_t, do_base + q0 * (int64_t)C, C, min(BR, T - q0));
    load_row_stats<HS>(sLse, sD, lse_bh, d_bh, q0, T);
    __syncthreads();
    scores_and_dp<HS, L>(sS, sdP, sQ, sdO, sK, sV);
    __syncthreads();
    probs_and_ds<HS, L, true>(sP, sdS, sS, sdP, sLse, sD, q0, k0, T, scale, scale_log2);
    __syncthreads();
    // Phase 3: dV (BC x HS) += P^T dO and dK += dS^T Q. P (BR x BC, row-major) read as a
    // col-major A (BC x BR) is P^T; the same for dS.
#pragma unroll
    for (int i = 0; i < Cfg::kv_frags; i++) {
      const int g = warp + Cfg::warps * i, mt = g / NHT, nt = g % NHT;
#pragma unroll 1
      for (int kk = 0; kk < BR / kFrag; kk++) {
        FragAcol at;
        FragBrow bm;
        wmma::load_matrix_sync(at, sP + kk * kFrag * L::ld_p + mt * kFrag, L::ld_p);
        wmma::load_matrix_sync(bm, sdO + kk * kFrag * L::ld_t + nt * kFrag, L::ld_t);
        wmma::mma_sync(dv_acc[i], at, bm, dv_acc[i]);
        wmma::load_matrix_sync(at, sdS + kk * kFrag * L::ld_p + mt * kFrag, L::ld_p);
        wmma::load_matrix_sync(bm, sQ + kk * kFrag * L::ld_t + nt * kFrag, L::ld_t);
        wmma::mma_sync(dk_acc[i], at, bm, dk_acc[i]);
      }
    }
  }

  // Epilogue: dqkv[k rows] += dK, dqkv[v rows] += dV; the S buffer becomes per-warp staging.
  __syncthreads();
  float* stage = reinterpret_cast<float*>(smem + L::s) + warp * kFrag * kFrag;
  bf* dk_base = dqkv + (int64_t)b * T * ld + C + h * HS;
  bf* dv_base = dk_base + C;
#pragma unroll
  for (int i = 0; i < Cfg::kv_frags; i++) {
    const int g = warp + Cfg::warps * i, mt = g / NHT, nt = g % NHT;
    add_frag_to_global(dk_base + nt * kFrag, ld, k0 + mt * kFrag, T, dk_acc[i], stage);
    add_frag_to_global(dv_base + nt * kFrag, ld, k0 + mt * kFrag, T, dv_acc[i], stage);
  }
}

// ---- kernel 3: dQ for one query tile, looping over the key tiles it sees --------------------
// grid (B*NH, ceil(T/BR)); the last query tiles (the most keys) are scheduled first.
template <int HS>
__global__ void __launch_bounds__(BwdConfig<HS>::threads)
    flash_bwd_dq_kernel(bf* dqkv, const bf* dout, const bf* qkv, const float* lse, const float* d, int T, int C,
                        int NH, float scale, float scale_log2) {
  using Cfg = BwdConfig<HS>;
  using L = BwdSmem<HS, Cfg::br, Cfg::bc, false>;
  constexpr int BR = Cfg::br, BC = Cfg::bc, THREADS = Cfg::threads, NHT = HS / kFrag;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sQ = reinterpret_cast<bf*>(smem + L::q);
  bf* sdO = reinterpret_cast<bf*>(smem + L::dout);
  bf* sK = reinterpret_cast<bf*>(smem + L::k);
  bf* sV = reinterpret_cast<bf*>(smem + L::v);
  float* sS = reinterpret_cast<float*>(smem + L::s);
  float* sdP = reinterpret_cast<float*>(smem + L::dp);
  bf* sdS = reinterpret_cast<bf*>(smem + L::ds);
  float* sLse = reinterpret_cast<float*>(smem + L::lse);
  float* sD = reinterpret_cast<float*>(smem + L::d);

  const int bh = blockIdx.x, b = bh / NH, h = bh % NH;
  const int q0 = (gridDim.y - 1 - blockIdx.y) * BR;
  const int warp = threadIdx.x / 32;
  const int64_t ld = 3 * (int64_t)C;
  const bf* q_base = qkv + (int64_t)b * T * ld + h * HS;

  load_tile<BR, HS, THREADS>(sQ, L::ld_t, q_base + q0 * ld, ld, min(BR, T - q0));
  load_tile<BR, HS, THREADS>(sdO, L::ld_t, dout + ((int64_t)b * T + q0) * C + h * HS, C, min(BR, T - q0));
  load_row_stats<HS>(sLse, sD, lse + (int64_t)bh * T, d + (int64_t)bh * T, q0, T);

  // This warp's dQ fragments: g = warp + warps * i -> rows (queries) g / NHT, columns g % NHT.
  FragAcc dq_acc[Cfg::q_frags];
#pragma unroll
  for (int i = 0; i < Cfg::q_frags; i++) wmma::fill_fragment(dq_acc[i], 0.0f);

  // Causal: keys up to min(q0 + BR, T) - 1.
  const int n_kv = (min(q0 + BR, T) - 1) / BC + 1;
  for (int kt = 0; kt < n_kv; kt++) {
    const int k0 = kt * BC;
    __syncthreads();  // the previous step's phase 3 is done with sK, sdS
    load_tile<BC, HS, THREADS>(sK, L::ld_t, q_base + C + k0 * ld, ld, min(BC, T - k0));
    load_tile<BC, HS, THREADS>(sV, L::ld_t, q_base + 2 * C + k0 * ld, ld, min(BC, T - k0));
    __syncthreads();
    scores_and_dp<HS, L>(sS, sdP, sQ, sdO, sK, sV);
    __syncthreads();
    probs_and_ds<HS, L, false>(nullptr, sdS, sS, sdP, sLse, sD, q0, k0, T, scale, scale_log2);
    __syncthreads();
    // Phase 3: dQ (BR x HS) += dS (BR x BC) K (BC x HS).
#pragma unroll
    for (int i = 0; i < Cfg::q_frags; i++) {
      const int g = warp + Cfg::warps * i, mt = g / NHT, nt = g % NHT;
#pragma unroll 1
      for (int kk = 0; kk < BC / kFrag; kk++) {
        FragArow a;
        FragBrow bm;
        wmma::load_matrix_sync(a, sdS + mt * kFrag * L::ld_p + kk * kFrag, L::ld_p);
        wmma::load_matrix_sync(bm, sK + kk * kFrag * L::ld_t + nt * kFrag, L::ld_t);
        wmma::mma_sync(dq_acc[i], a, bm, dq_acc[i]);
      }
    }
  }

  __syncthreads();
  float* stage = reinterpret_cast<float*>(smem + L::s) + warp * kFrag * kFrag;
  bf* dq_base = dqkv + (int64_t)b * T * ld + h * HS;
#pragma unroll
  for (int i = 0; i < Cfg::q_frags; i++) {
    const int g = warp + Cfg::warps * i, mt = g / NHT, nt = g % NHT;
    add_frag_to_global(dq_base + nt * kFrag, ld, q0 + mt * kFrag, T, dq_acc[i], stage);
  }
}

template <int HS>
void launch_backward(bf* dqkv, float* d, const bf* dout, const bf* qkv, const float* lse, int B, int T_, int C,
                     int NH, cudaStream_t stream) {
  using Cfg = BwdConfig<HS>;
  using Ldkdv = BwdSmem<HS, Cfg::br, Cfg::bc, true>;
  using Ldq = BwdSmem<HS, Cfg::br, Cfg::bc, false>;
  static_assert(Cfg::warps * kFrag * kFrag * sizeof(float) <= Ldq::s_bytes, "epilogue staging fits in S");
  const float scale = 1.0f / sqrtf((float)HS), scale_log2 = scale * kLog2e;

  allow_smem(flash_bwd_dkdv_kernel<HS>, Ldkdv::bytes);
  const dim3 grid_kv(B * NH, (T_ + Cfg::bc - 1) / Cfg::bc);
  flash_bwd_dkdv_kernel<HS><<<grid_kv, Cfg::threads, Ldkdv::bytes, stream>>>(dqkv, dout, qkv, lse, d, T_, C, NH,
                                                                             scale, scale_log2);
  GPTCU_CUDA_CHECK_LAUNCH();

  allow_smem(flash_bwd_dq_kernel<HS>, Ldq::bytes);
  const dim3 grid_q(B * NH, (T_ + Cfg::br - 1) / Cfg::br);
  flash_bwd_dq_kernel<HS><<<grid_q, Cfg::threads, Ldq::bytes, stream>>>(dqkv, dout, qkv, lse, d, T_, C, NH, scale,
                                                                        scale_log2);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace flash

size_t flash_attention_backward_scratch_bytes(int B, int T_, int C, int NH) {
  (void)C;
  return flash::align128((size_t)B * NH * T_ * sizeof(float));  // D (B, NH, T)
}

void flash_attention_backward(bf16* dqkv, void* scratch, const bf16* dout, const bf16* qkv, const bf16* out,
                              const float* lse, int B, int T_, int C, int NH, cudaStream_t stream) {
  flash::check_args("flash_attention_backward", B, T_, C, NH, {dqkv, dout, qkv, out});  // 16-byte vectors
  if (!dqkv || B == 0 || T_ == 0) return;
  const int hs = C / NH;
  float* d = static_cast<float*>(scratch);

  constexpr int d_threads = 256;
  flash::flash_bwd_d_kernel<<<grid_for((int64_t)B * T_ * NH, d_threads / 32), d_threads, 0, stream>>>(
      d, dev(dout), dev(out), B, T_, NH, hs);
  GPTCU_CUDA_CHECK_LAUNCH();

  if (hs == 64)
    flash::launch_backward<64>(dev(dqkv), d, dev(dout), dev(qkv), lse, B, T_, C, NH, stream);
  else
    flash::launch_backward<128>(dev(dqkv), d, dev(dout), dev(qkv), lse, B, T_, C, NH, stream);
}

}  // namespace gptcu::cuda
