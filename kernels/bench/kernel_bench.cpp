// kernels/bench/kernel_bench.cpp: every op of the training step at GPT-2 124M shapes, timed by the
// harness (kernels/bench/harness.h); `gptcu bench kernels` runs it (usage in kernel_bench.h).
//
// Shapes, for N = B*T tokens (T = min(N, 1024), B = N / T), C = 768, NH = 12, V = Vp = 50304:
//   residual, layernorm, embedding        (N, C)
//   gelu                                  (N, 4C), the MLP's hidden activation
//   softmax                               (B*NH*T, T) rows, the attention probabilities
//   cross_entropy                         (N, Vp) logits
//   linear                                the five of a GPT-2 layer and head: qkv C->3C, attn_proj C->C,
//                                         fc C->4C (also with the GELU epilogue), fc_proj 4C->C,
//                                         lm_head C->Vp (tied wte, (OC, C) layout, no bias)
//   attention_interim                     (B, T, 3C) packed qkv, causal, the interim cuBLAS kernel
//   flash_attention                       not at GPT-2 shapes: the FlashAttention-2 paper's (B = 16384 / T,
//                                         C = NH * hs = 2048, T = 512 ... 8192, hs 64 and 128), bf16 only
//   adamw_update, sum_squares             all 124,475,904 parameters of GPT-2 124M with Vp = 50304
//
// Bytes moved, per op (s = sizeof(T), the minimal traffic: every input read once, every output
// written once, a "+=" output read and written) are written beside each row below. FLOPs:
// linear forward 2*N*C*OC, backward 4*N*C*OC (dinp and dW); attention forward (causal)
// 2*B*NH*T*T*hs (half of QK^T and PV), backward 2.5x the forward.
//
// The names and shape strings here are also those of bench/torch_kernels.py (same rows for
// PyTorch), so bench/compare_kernels.py can join the two CSVs on (op, shape): the op list and the
// shapes are written in both files, so a change here needs the same change there.
// `--op attention` selects every attention row (kernel_bench_group in kernel_bench.h).
#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/bench/harness.h"
#include "kernels/bench/kernel_bench.h"

namespace gptcu::bench {

namespace {

std::string str(int64_t x) { return std::to_string(x); }

// GPT-2 124M's parameter tensors (Vp = 50304, block 1024) as (elements, weight decay): matrices
// decay, biases and LayerNorm parameters do not. 124,475,904 in all.
std::vector<std::pair<int64_t, float>> gpt2_parameters() {
  const int64_t C = kBenchC;
  std::vector<std::pair<int64_t, float>> p;
  p.push_back({(int64_t)kBenchVp * C, 0.1f});   // wte
  p.push_back({(int64_t)kBenchMaxT * C, 0.1f});  // wpe
  for (int l = 0; l < kBenchLayers; l++) {
    p.push_back({C, 0.0f});                  // ln_1.weight
    p.push_back({C, 0.0f});                  // ln_1.bias
    p.push_back({C * 3 * C, 0.1f});          // attn.c_attn.weight
    p.push_back({3 * C, 0.0f});              // attn.c_attn.bias
    p.push_back({C * C, 0.1f});              // attn.c_proj.weight
    p.push_back({C, 0.0f});                  // attn.c_proj.bias
    p.push_back({C, 0.0f});                  // ln_2.weight
    p.push_back({C, 0.0f});                  // ln_2.bias
    p.push_back({C * 4 * C, 0.1f});          // mlp.c_fc.weight
    p.push_back({4 * C, 0.0f});              // mlp.c_fc.bias
    p.push_back({4 * C * C, 0.1f});          // mlp.c_proj.weight
    p.push_back({C, 0.0f});                  // mlp.c_proj.bias
  }
  p.push_back({C, 0.0f});  // ln_f.weight
  p.push_back({C, 0.0f});  // ln_f.bias
  return p;
}

// The linear layers of a GPT-2 block and its head.
struct LinearShape {
  const char* name;
  int C, OC;
  cuda::WeightLayout layout;
  bool bias;
};
std::vector<LinearShape> linear_shapes() {
  const int C = kBenchC;
  return {{"qkv", C, 3 * C, cuda::WeightLayout::in_out, true},
          {"attn_proj", C, C, cuda::WeightLayout::in_out, true},
          {"fc", C, 4 * C, cuda::WeightLayout::in_out, true},
          {"fc_proj", 4 * C, C, cuda::WeightLayout::in_out, true},
          {"lm_head", C, kBenchVp, cuda::WeightLayout::out_in, false}};
}

template <typename T>
void bench_tokens(Harness& h, int64_t tokens) {
  const int64_t T_ = bench_seq_len(tokens), B = tokens / T_;
  const int N = (int)tokens, C = kBenchC, NH = kBenchNH, V = kBenchV, Vp = kBenchVp, hs = C / NH;
  const double s = sizeof(T);
  cudaStream_t st = h.stream();
  const std::string shape_nc = "N=" + str(N) + " C=" + str(C);

  if (h.wants("residual_forward") || h.wants("residual_backward")) {
    const int64_t n = (int64_t)N * C;
    DevBuf<T> a(n), b(n), out(n), dout(n), da(n), db(n);
    for (T* p : {a.get(), b.get(), dout.get(), da.get(), db.get()}) h.normal(p, n);
    // read a, b; write out
    if (h.wants("residual_forward"))
      h.row_bytes("residual_forward", shape_nc, 3 * n * s,
                  [&] { cuda::residual_forward<T>(out, a, b, n, 1.0f, st); });
    // read dout; read + write da and db
    if (h.wants("residual_backward"))
      h.row_bytes("residual_backward", shape_nc, 5 * n * s,
                  [&] { cuda::residual_backward<T>(da, db, dout, n, 1.0f, st); });
  }

  if (h.wants("gelu_forward") || h.wants("gelu_backward")) {
    const int64_t n = (int64_t)N * 4 * C;
    const std::string shape = "N=" + str(N) + " C=" + str(4 * C);
    DevBuf<T> inp(n), out(n), dout(n), dinp(n);
    for (T* p : {inp.get(), dout.get(), dinp.get()}) h.normal(p, n);
    // read inp; write out
    if (h.wants("gelu_forward"))
      h.row_bytes("gelu_forward", shape, 2 * n * s, [&] { cuda::gelu_forward<T>(out, inp, n, st); });
    // read dout, inp; read + write dinp
    if (h.wants("gelu_backward"))
      h.row_bytes("gelu_backward", shape, 4 * n * s, [&] { cuda::gelu_backward<T>(dinp, dout, inp, n, st); });
  }

  if (h.wants("layernorm_forward") || h.wants("layernorm_backward") || h.wants("residual_layernorm_forward")) {
    const int64_t n = (int64_t)N * C;
    const float eps = 1e-5f;
    DevBuf<T> inp(n), out(n), w(C), b(C), dout(n), dinp(n), dw(C), db(C), inp2(n), res(n);
    DevBuf<float> mean(N), rstd(N);
    for (T* p : {inp.get(), dout.get(), dinp.get(), inp2.get()}) h.normal(p, n);
    h.normal(w.get(), C, 1.0f, 0.1f);
    for (T* p : {b.get(), dw.get(), db.get()}) h.normal(p, C, 0.0f, 0.1f);
    // read inp, w, b; write out, mean, rstd (fp32)
    if (h.wants("layernorm_forward"))
      h.row_bytes("layernorm_forward", shape_nc, 2 * n * s + 2 * C * s + 8.0 * N,
                  [&] { cuda::layernorm_forward<T>(out, mean, rstd, inp, w, b, N, C, eps, st); });
    if (h.wants("layernorm_backward")) {
      cuda::layernorm_forward<T>(out, mean, rstd, inp, w, b, N, C, eps, st);  // the saved statistics
      DevBuf<unsigned char> scratch(cuda::layernorm_backward_scratch_bytes(N, C));
      // read dout, inp, w, mean, rstd; read + write dinp, dw, db
      h.row_bytes("layernorm_backward", shape_nc, 4 * n * s + 5 * C * s + 8.0 * N, [&] {
        cuda::layernorm_backward<T>(dinp, dw, db, scratch, dout, inp, w, mean, rstd, N, C, st);
      });
    }
    // read a, b, w, bias; write res, out, mean, rstd
    if (h.wants("residual_layernorm_forward"))
      h.row_bytes("residual_layernorm_forward", shape_nc, 4 * n * s + 2 * C * s + 8.0 * N, [&] {
        cuda::residual_layernorm_forward<T>(res, out, mean, rstd, inp, inp2, w, b, N, C, eps, st);
      });
  }

  if (h.wants("softmax_forward") || h.wants("softmax_backward")) {
    const int rows = (int)(B * NH * T_), cols = (int)T_;
    const int64_t n = (int64_t)rows * cols;
    const std::string shape = "rows=" + str(rows) + " C=" + str(cols);
    DevBuf<T> inp(n), out(n), dout(n), dinp(n);
    for (T* p : {inp.get(), dout.get(), dinp.get()}) h.normal(p, n);
    // read inp; write out
    if (h.wants("softmax_forward"))
      h.row_bytes("softmax_forward", shape, 2 * n * s, [&] { cuda::softmax_forward<T>(out, inp, rows, cols, st); });
    if (h.wants("softmax_backward")) {
      cuda::softmax_forward<T>(out, inp, rows, cols, st);  // real probabilities
      // read dout, out; read + write dinp
      h.row_bytes("softmax_backward", shape, 4 * n * s,
                  [&] { cuda::softmax_backward<T>(dinp, dout, out, rows, cols, st); });
    }
  }

  if (h.wants("cross_entropy_forward") || h.wants("cross_entropy_backward") || h.wants("cross_entropy_fused")) {
    const int64_t n = (int64_t)N * Vp;
    const std::string shape = "N=" + str(N) + " V=" + str(V) + " Vp=" + str(Vp);
    DevBuf<T> logits(n), dlogits(n);
    DevBuf<int32_t> targets(N);
    DevBuf<float> losses(N), lse(N), dlosses(N), weights(N);
    h.normal(logits.get(), n);
    h.normal(dlogits.get(), n, 0.0f, 1e-3f);
    h.ints(targets, N, 0, V);
    h.constant(dlosses.get(), N, 1.0f / N);
    h.constant(weights.get(), N, 1.0f);
    // read logits[:, :V], targets; write losses, lse
    if (h.wants("cross_entropy_forward"))
      h.row_bytes("cross_entropy_forward", shape, (double)N * V * s + 12.0 * N,
                  [&] { cuda::cross_entropy_forward<T>(losses, lse, logits, targets, N, V, Vp, st); });
    if (h.wants("cross_entropy_backward")) {
      cuda::cross_entropy_forward<T>(losses, lse, logits, targets, N, V, Vp, st);  // the saved lse
      // read logits[:, :V], dlosses, lse, targets; read + write dlogits[:, :V]
      h.row_bytes("cross_entropy_backward", shape, 3.0 * N * V * s + 12.0 * N, [&] {
        cuda::cross_entropy_backward<T>(dlogits, dlosses, logits, lse, targets, N, V, Vp, st);
      });
    }
    // read logits[:, :V], targets, weights; write dlogits (all Vp columns), losses
    if (h.wants("cross_entropy_fused"))
      h.row_bytes("cross_entropy_fused", shape, (double)N * V * s + (double)N * Vp * s + 12.0 * N, [&] {
        cuda::cross_entropy_fused<T>(losses, dlogits, logits, targets, weights, 1.0f / N, N, V, Vp, st);
      });
  }

  if (h.wants("weighted_mean_forward") || h.wants("weighted_mean_backward")) {
    const std::string shape = "N=" + str(N);
    DevBuf<float> losses(N), weights(N), count(1), out(1), dout(1), dlosses(N);
    DevBuf<int32_t> targets(N);
    h.normal(losses.get(), N, 10.0f, 1.0f);
    h.normal(dlosses.get(), N, 0.0f, 1e-3f);
    h.constant(dout.get(), 1, 1.0f);
    h.ints(targets, N, 0, V);
    // read losses, targets; write weights (the mask is not given; the two scalars are not counted)
    if (h.wants("weighted_mean_forward"))
      h.row_bytes("weighted_mean_forward", shape, 12.0 * N, [&] {
        cuda::weighted_mean_forward(out, weights, count, losses, targets, nullptr, N, st);
      });
    if (h.wants("weighted_mean_backward")) {
      cuda::weighted_mean_forward(out, weights, count, losses, targets, nullptr, N, st);
      // read weights; read + write dlosses
      h.row_bytes("weighted_mean_backward", shape, 12.0 * N,
                  [&] { cuda::weighted_mean_backward(dlosses, dout, weights, count, N, st); });
    }
  }

  if (h.wants("embedding_forward") || h.wants("embedding_backward")) {
    const int64_t n = (int64_t)N * C;
    const std::string shape = "B=" + str(B) + " T=" + str(T_) + " C=" + str(C) + " Vp=" + str(Vp);
    DevBuf<T> wte((int64_t)Vp * C), wpe(T_ * C), out(n), dout(n), dwte((int64_t)Vp * C), dwpe(T_ * C);
    DevBuf<int32_t> tokens_d(N);
    h.normal(wte.get(), wte.size(), 0.0f, 0.02f);
    h.normal(wpe.get(), wpe.size(), 0.0f, 0.02f);
    h.normal(dout.get(), n);
    h.normal(dwte.get(), dwte.size(), 0.0f, 1e-3f);
    h.normal(dwpe.get(), dwpe.size(), 0.0f, 1e-3f);
    const auto toks = h.ints(tokens_d, N, 0, V);
    const double distinct = (double)std::set<int32_t>(toks.begin(), toks.end()).size();
    // read tokens, each distinct wte row once, wpe; write out
    if (h.wants("embedding_forward"))
      h.row_bytes("embedding_forward", shape, 4.0 * N + distinct * C * s + (double)T_ * C * s + n * s, [&] {
        cuda::embedding_forward<T>(out, tokens_d, wte, wpe, (int)B, (int)T_, C, nullptr, st);
      });
    if (h.wants("embedding_backward")) {
      DevBuf<unsigned char> scratch(cuda::embedding_backward_scratch_bytes((int)B, (int)T_, C));
      // read dout, tokens; read + write the touched dwte rows and dwpe
      h.row_bytes("embedding_backward", shape, n * s + 4.0 * N + 2 * distinct * C * s + 2.0 * T_ * C * s, [&] {
        cuda::embedding_backward<T>(dwte, dwpe, scratch, dout, tokens_d, (int)B, (int)T_, C, st);
      });
    }
  }

  if (h.wants("bias_backward")) {
    const int OC = 4 * C;
    const int64_t n = (int64_t)N * OC;
    DevBuf<T> dout(n), dbias(OC);
    DevBuf<unsigned char> scratch(cuda::bias_backward_scratch_bytes(N, OC));
    h.normal(dout.get(), n);
    h.normal(dbias.get(), OC, 0.0f, 1e-3f);
    // read dout; read + write dbias
    h.row_bytes("bias_backward", "N=" + str(N) + " OC=" + str(OC), n * s + 2.0 * OC * s,
                [&] { cuda::bias_backward<T>(dbias, scratch, dout, N, OC, st); });
  }

  if (h.wants("linear_forward") || h.wants("linear_forward_gelu") || h.wants("linear_backward")) {
    for (const LinearShape& L : linear_shapes()) {
      const bool gelu = std::string(L.name) == "fc";
      if (!h.wants("linear_forward") && !h.wants("linear_backward") && !(gelu && h.wants("linear_forward_gelu")))
        continue;
      const std::string shape = std::string(L.name) + " N=" + str(N) + " C=" + str(L.C) + " OC=" + str(L.OC);
      const double flops = 2.0 * N * L.C * L.OC;
      DevBuf<T> inp((int64_t)N * L.C), w((int64_t)L.C * L.OC), bias(L.OC), out((int64_t)N * L.OC);
      h.normal(inp.get(), inp.size());
      h.normal(w.get(), w.size(), 0.0f, 0.02f);
      h.normal(bias.get(), bias.size(), 0.0f, 0.02f);
      T* b = L.bias ? bias.get() : nullptr;
      if (h.wants("linear_forward"))
        h.row_flops("linear_forward", shape, flops, [&] {
          cuda::linear_forward<T>(out, inp, w, b, N, L.C, L.OC, L.layout, nullptr, st);
        });
      if (gelu && h.wants("linear_forward_gelu")) {
        DevBuf<T> pre((int64_t)N * L.OC);
        h.row_flops("linear_forward_gelu", shape, flops, [&] {
          cuda::linear_forward<T>(out, inp, w, b, N, L.C, L.OC, L.layout, pre, st);
        });
      }
      if (h.wants("linear_backward")) {
        DevBuf<T> dout((int64_t)N * L.OC), dinp(inp.size()), dw(w.size()), dbias(L.OC);
        DevBuf<unsigned char> scratch(cuda::linear_backward_scratch_bytes(N, L.OC));
        h.normal(dout.get(), dout.size());
        h.normal(dinp.get(), dinp.size(), 0.0f, 1e-3f);
        h.normal(dw.get(), dw.size(), 0.0f, 1e-3f);
        h.normal(dbias.get(), dbias.size(), 0.0f, 1e-3f);
        T* db = L.bias ? dbias.get() : nullptr;
        h.row_flops("linear_backward", shape, 2 * flops, [&] {
          cuda::linear_backward<T>(dinp, dw, db, scratch, dout, inp, w, N, L.C, L.OC, L.layout, st);
        });
      }
    }
  }

  // The interim kernel (cuBLAS + softmax), which the model runs for f32 and other head dims.
  if (h.wants("attention_interim_forward") || h.wants("attention_interim_backward")) {
    const std::string shape = "B=" + str(B) + " T=" + str(T_) + " C=" + str(C) + " NH=" + str(NH);
    const double flops = 2.0 * B * NH * T_ * T_ * hs;  // causal: half of 4*B*NH*T*T*hs
    DevBuf<T> qkv((int64_t)N * 3 * C), out((int64_t)N * C), att(B * NH * T_ * T_), dout((int64_t)N * C),
        dqkv((int64_t)N * 3 * C);
    DevBuf<unsigned char> scratch(cuda::attention_scratch_bytes((int)B, (int)T_, C, NH));
    h.normal(qkv.get(), qkv.size());
    h.normal(dout.get(), dout.size());
    h.normal(dqkv.get(), dqkv.size(), 0.0f, 1e-3f);
    if (h.wants("attention_interim_forward"))
      h.row_flops("attention_interim_forward", shape, flops,
                  [&] { cuda::attention_forward<T>(out, att, scratch, qkv, (int)B, (int)T_, C, NH, st); });
    if (h.wants("attention_interim_backward")) {
      cuda::attention_forward<T>(out, att, scratch, qkv, (int)B, (int)T_, C, NH, st);  // the saved att
      h.row_flops("attention_interim_backward", shape, 2.5 * flops, [&] {
        cuda::attention_backward<T>(dqkv, scratch, dout, qkv, att, (int)B, (int)T_, C, NH, st);
      });
    }
  }
}

// The flash attention kernel (bf16 only: skipped under --dtype f32; once, whatever --tokens) at the
// FlashAttention-2 paper's shapes (flash_bench_shapes(): 16k tokens, C = NH*hs = 2048, T = 512 ...
// 8192, hs 64 and 128), packed qkv (B, T, 3C) as in the model. Causal FLOPs as for the interim rows:
// forward 2*B*NH*T*T*hs, backward 2.5x, forward + backward 3.5x. The backward row includes its
// D = rowsum(dout * out) kernel; the fwdbwd row is one forward then one backward, as in training.
void bench_flash_attention(Harness& h) {
  if (!h.wants("flash_attention_forward") && !h.wants("flash_attention_backward") &&
      !h.wants("flash_attention_fwdbwd"))
    return;
  if (h.dtype() != "bf16") return;  // the kernel exists for bf16 only
  cudaStream_t st = h.stream();
  for (const FlashBenchShape& sh : flash_bench_shapes()) {
    const int B = sh.B, NH = sh.NH, T_ = sh.T, C = sh.NH * sh.hs;
    const int64_t N = (int64_t)B * T_;
    const std::string shape = flash_bench_shape_str(sh);
    const double flops = 2.0 * B * NH * T_ * T_ * sh.hs;
    DevBuf<bf16> qkv(N * 3 * C), out(N * C), dout(N * C), dqkv(N * 3 * C);
    DevBuf<float> lse((int64_t)B * NH * T_);
    DevBuf<unsigned char> scratch(cuda::flash_attention_backward_scratch_bytes(B, T_, C, NH));
    h.normal(qkv.get(), qkv.size());
    h.normal(dout.get(), dout.size());
    h.normal(dqkv.get(), dqkv.size(), 0.0f, 1e-3f);
    if (h.wants("flash_attention_forward"))
      h.row_flops("flash_attention_forward", shape, flops,
                  [&] { cuda::flash_attention_forward(out, lse, qkv, B, T_, C, NH, st); });
    if (h.wants("flash_attention_backward")) {
      cuda::flash_attention_forward(out, lse, qkv, B, T_, C, NH, st);  // the saved out and lse
      h.row_flops("flash_attention_backward", shape, 2.5 * flops, [&] {
        cuda::flash_attention_backward(dqkv, scratch, dout, qkv, out, lse, B, T_, C, NH, st);
      });
    }
    if (h.wants("flash_attention_fwdbwd"))
      h.row_flops("flash_attention_fwdbwd", shape, 3.5 * flops, [&] {
        cuda::flash_attention_forward(out, lse, qkv, B, T_, C, NH, st);
        cuda::flash_attention_backward(dqkv, scratch, dout, qkv, out, lse, B, T_, C, NH, st);
      });
  }
}

// The optimizer step and the gradient norm, over all of GPT-2 124M's parameters (once, whatever --tokens).
template <typename T>
void bench_parameters(Harness& h) {
  if (!h.wants("sum_squares") && !h.wants("adamw_update")) return;
  const auto params = gpt2_parameters();
  std::vector<cuda::AdamWChunk> chunks;
  int64_t n = 0;
  for (const auto& [size, wd] : params) {
    for (int64_t off = 0; off < size; off += cuda::adamw_chunk_elems)
      chunks.push_back({n + off, (int32_t)std::min<int64_t>(cuda::adamw_chunk_elems, size - off), wd});
    n += size;
  }
  const double s = sizeof(T);
  const std::string shape = "params=" + str(n);
  cudaStream_t st = h.stream();
  DevBuf<T> grads(n);
  DevBuf<float> norm_sq(1);
  DevBuf<unsigned char> scratch(cuda::grad_norm_scratch_bytes(n));
  h.normal(grads.get(), n, 0.0f, 1e-2f);
  // read grads
  if (h.wants("sum_squares"))
    h.row_bytes("sum_squares", shape, n * s, [&] { cuda::sum_squares<T>(norm_sq, scratch, grads, n, st); });
  if (h.wants("adamw_update")) {
    cuda::sum_squares<T>(norm_sq, scratch, grads, n, st);  // the norm the step clips by
    constexpr bool has_master = !std::is_same_v<T, float>;  // fp32 params are their own master weights
    DevBuf<T> p(n);
    DevBuf<float> master(has_master ? n : 0), m(n), v(n);
    DevBuf<cuda::AdamWChunk> chunks_d(chunks.size());
    h.normal(p.get(), n, 0.0f, 0.02f);
    if (has_master) h.normal(master.get(), n, 0.0f, 0.02f);
    h.normal(m.get(), n, 0.0f, 1e-3f);
    h.constant(v.get(), n, 1e-6f);
    h.sync();
    GPTCU_CUDA_CHECK(cudaMemcpy(chunks_d.get(), chunks.data(), chunks.size() * sizeof(cuda::AdamWChunk),
                                cudaMemcpyHostToDevice));
    float* master_p = has_master ? master.get() : nullptr;
    // with fp32 master weights: read master, grads, m, v; write master, m, v, params (rounded to T)
    // without (T = float): read params, grads, m, v; write params, m, v
    const double bytes = has_master ? n * (24.0 + 2 * s) : n * 28.0;
    h.row_bytes("adamw_update", shape, bytes, [&] {
      cuda::adamw_update<T>(p, master_p, grads, m, v, chunks_d, (int)chunks.size(), 6e-4f, 0.9f, 0.95f, 1e-8f, 1,
                            1.0f, norm_sq, st);
    });
  }
}

template <typename T>
void run_all(Harness& h, const KernelBenchOptions& o) {
  for (int64_t tokens : o.tokens) bench_tokens<T>(h, tokens);
  bench_flash_attention(h);
  bench_parameters<T>(h);
}

}  // namespace

void run_kernel_bench(const KernelBenchOptions& o, std::ostream& out) {
  KernelBenchOptions opts = o;
  check_kernel_bench_options(opts);
  Harness h(opts, out);
  h.measure_peaks();
  if (opts.dtype == "f32")
    run_all<float>(h, opts);
  else
    run_all<bf16>(h, opts);
}

}  // namespace gptcu::bench
