// cli/data_cmd.cpp: `gptcu data synth`: write a generated corpus (no download needed).
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/check.h"
#include "data/synthetic.h"

namespace gptcu::cli {

void register_data(CLI::App& app) {
  struct Args {
    std::string out;
    int lines = 20000, max_operand = 99;
    uint64_t seed = 1337;
  };
  auto args = std::make_shared<Args>();
  CLI::App* data = app.add_subcommand("data", "data preparation");
  data->require_subcommand(1);
  CLI::App* synth = data->add_subcommand("synth", "write a generated addition corpus (\"47+38=85\" per line)");
  synth->add_option("--out", args->out, "output text file")->required();
  synth->add_option("--lines", args->lines, "number of lines")->check(CLI::Range(1, 1 << 30));
  synth->add_option("--max-operand", args->max_operand, "largest operand")->check(CLI::Range(1, 1 << 30));
  synth->add_option("--seed", args->seed, "random seed");
  synth->callback([args]() {
    const std::string text = synth_addition_corpus(args->lines, args->max_operand, args->seed);
    std::ofstream out(args->out, std::ios::binary | std::ios::trunc);
    GPTCU_USER_CHECK(out.good(), "cannot write '", args->out, "'");
    out << text;
    out.flush();
    GPTCU_USER_CHECK(out.good(), "error writing '", args->out, "'");
    std::cout << "wrote " << args->lines << " lines (" << text.size() << " bytes) to " << args->out << "\n";
  });
}

}  // namespace gptcu::cli
