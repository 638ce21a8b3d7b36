// train/perf.h: the numbers behind the MFU in the progress line.
//
//   MFU = tokens/s x model FLOPs per token / peak FLOP/s
//
// Model FLOPs per token (forward + backward, PaLM's accounting with causal attention):
//   6 N + 6 L T C      N parameters (all of them, embeddings included), L layers, T the context,
//                      C the width: 6N for the matmuls with weights (2 forward + 4 backward per
//                      parameter), 6LTC for QK^T and PV (12LTC for full attention, halved by the mask)
// Recomputed activations are not counted (model FLOPs, not hardware FLOPs).
// Two peaks: the bf16 GEMM rate measured on the GPU at start-up (8192^3 cuBLASLt, the ceiling a
// real matmul reaches on this GPU at its clocks) and, separately, the datasheet's dense bf16 peak.
#pragma once
#include <string>

#include "core/tensor.h"
#include "model/gpt.h"

namespace gptcu {

double model_flops_per_token(const GPTConfig& config, int T);

// Median TFLOP/s of a bf16 8192 x 8192 x 8192 GEMM on `device` (about a second; random inputs, as
// zeros run faster). Throws on the CPU.
double measure_gemm_tflops(Device device);

// Dense bf16 tensor-core peak in TFLOP/s of the GPU named `device_name` (as cudaDeviceProp::name
// spells it: "NVIDIA H100 80GB HBM3", ...), or 0 when the name is not in the table.
double datasheet_bf16_tflops(const std::string& device_name);

}  // namespace gptcu
