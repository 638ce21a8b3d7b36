// test/core/test_comm.cpp: where a process learns its rank (core/comm.h's environment parsing)
// and the single-process communicator. The MPI backend is tested under mpirun by test/dist/.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "core/comm.h"

using namespace gptcu;

namespace {
DistEnv parse(const std::map<std::string, std::string>& vars) {
  return parse_dist_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}
}  // namespace

TEST_CASE("dist env: nothing set is one process", "[comm]") {
  const DistEnv e = parse({});
  CHECK(e.rank == 0);
  CHECK(e.world == 1);
  CHECK(e.local_rank == 0);
  CHECK(e.source.empty());
}

TEST_CASE("dist env: torchrun's variables", "[comm]") {
  const DistEnv e = parse({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                           {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "29500"}});
  CHECK(e.source == "torchrun");
  CHECK(e.rank == 5);
  CHECK(e.world == 8);
  CHECK(e.local_rank == 1);
  CHECK(e.local_world == 4);
  CHECK(e.master_addr == "10.0.0.1");
  CHECK(e.master_port == 29500);
  // LOCAL_RANK unset: one node, the local rank is the rank
  CHECK(parse({{"RANK", "3"}, {"WORLD_SIZE", "4"}}).local_rank == 3);
}

TEST_CASE("dist env: Open MPI's and Slurm's variables, and precedence", "[comm]") {
  const DistEnv o = parse({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                           {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  CHECK(o.source == "openmpi");
  CHECK(o.launched_by_mpi());
  CHECK((o.rank == 3 && o.world == 4 && o.local_rank == 1 && o.local_world == 2));

  const DistEnv s = parse({{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "16"}, {"SLURM_STEP_NUM_TASKS", "8"},
                           {"SLURM_LOCALID", "2"}, {"SLURM_STEP_ID", "0"}, {"SLURM_STEP_TASKS_PER_NODE", "4(x2)"}});
  CHECK(s.source == "slurm");
  CHECK((s.rank == 6 && s.world == 8 && s.local_rank == 2 && s.local_world == 4));
  // a batch script's own shell (no job step) is not rank 0 of SLURM_NTASKS
  CHECK(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"}}).world == 1);

  // mpirun inside a Slurm allocation: mpirun's numbers win
  CHECK(parse({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"SLURM_PROCID", "0"},
               {"SLURM_NTASKS", "1"}, {"SLURM_STEP_ID", "0"}})
            .rank == 1);
  // scripts/launch.sh under mpirun sets both, agreeing
  CHECK(parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}}).rank == 1);
}

TEST_CASE("dist env: garbled or inconsistent values are UserErrors naming the variable", "[comm]") {
  CHECK_THROWS_WITH(parse({{"RANK", "2"}, {"WORLD_SIZE", "2"}}), Catch::Contains("rank 2 but world size 2"));
  CHECK_THROWS_WITH(parse({{"RANK", "0"}}), Catch::Contains("RANK and WORLD_SIZE go together"));
  CHECK_THROWS_WITH(parse({{"RANK", "one"}, {"WORLD_SIZE", "2"}}),
                    Catch::Contains("RANK='one' is not a non-negative integer"));
  CHECK_THROWS_WITH(parse({{"RANK", "0"}, {"WORLD_SIZE", "0"}}), Catch::Contains("world size is 0"));
  CHECK_THROWS_WITH(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}}),
                    Catch::Contains("but mpirun says rank 1 of 2"));
  CHECK_THROWS_WITH(parse({{"MASTER_PORT", "70000"}}), Catch::Contains("MASTER_PORT=70000 is not a port"));
  CHECK_THROWS_AS(parse({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}), UserError);
}

TEST_CASE("single-process communicator: collectives leave the answer in place", "[comm]") {
  auto c = make_single_communicator(Device{});
  CHECK(c->world() == 1);
  CHECK(c->name() == "single");
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  c->all_reduce(t, ReduceOp::avg);
  c->broadcast(t, 0);
  CHECK(t.to_vector() == std::vector<float>{1, 2, 3});
  Tensor out = Tensor::zeros({3});
  c->reduce_scatter(t, out, ReduceOp::sum);  // world 1: the whole vector is rank 0's block
  CHECK(out.to_vector() == std::vector<float>{1, 2, 3});
  Tensor gathered = Tensor::zeros({3});
  c->all_gather(t, gathered);
  CHECK(gathered.to_vector() == std::vector<float>{1, 2, 3});
  CHECK(c->all_reduce_host(2.5, ReduceOp::sum) == 2.5);
  // size and dtype mismatches are errors naming the op
  CHECK_THROWS_WITH(c->reduce_scatter(t, Tensor::zeros({2}), ReduceOp::sum), Catch::Contains("reduce_scatter"));
  CHECK_THROWS_WITH(c->all_reduce(Tensor::zeros({2}, DType::i32), ReduceOp::sum), Catch::Contains("not f32 or f64"));
  CHECK(communicator_backends().front() == "single");
}

TEST_CASE("GPTCU_COMM picks a backend the device can use", "[comm]") {
  auto want = [](const char* value, const char* device) {
    return requested_backend(Device::parse(device), [&](const char* name) -> const char* {
      return std::string(name) == "GPTCU_COMM" ? value : nullptr;
    });
  };
  CHECK(want(nullptr, "cpu") == "auto");
  CHECK(want("", "cuda") == "auto");
  CHECK(want("auto", "cpu") == "auto");
  CHECK(want("mpi", "cpu") == "mpi");
  CHECK(want("nccl", "cuda") == "nccl");
  CHECK(want("single", "cuda:1") == "single");
  CHECK_THROWS_WITH(want("gloo", "cpu"), Catch::Contains("GPTCU_COMM='gloo'") && Catch::Contains("auto, single, mpi or nccl"));
  CHECK_THROWS_WITH(want("nccl", "cpu"), Catch::Contains("GPTCU_COMM=nccl with device cpu"));
  CHECK_THROWS_WITH(want("mpi", "cuda"), Catch::Contains("GPTCU_COMM=mpi with device cuda"));
  CHECK_THROWS_AS(want("nccl", "cpu"), UserError);
}
