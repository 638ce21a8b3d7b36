// cli/chat_cmd.cpp: `gptcu chat`: a terminal chat with a checkpoint, replies streamed as they
// are sampled.
//
//   gptcu chat --checkpoint runs/task/sft [--system "You are terse."] [--temperature 0.7] ...
//
// Each line read is a user message; the reply is printed token by token (eval/text_stream.h
// keeps multi-byte characters whole). The dialogue is rendered with the chat template
// (data/chat_template.h); when it no longer fits the context with room for a reply, the oldest
// turns are dropped (serve/dialogue.h) and a line says so; the system message stays. Commands:
// /reset, /system TEXT, /help, /quit; when even the system message and the new message leave less
// room than --max-new-tokens, the reply gets what is left (a line says so); end of input (Ctrl-D) leaves too. It reads any stdin,
// so a test can pipe lines in: replies go to stdout, one line each; notes go to stderr, and
// the "> " prompt appears only when stdin is a terminal. Reply i samples from stream (seed, i).
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/sampling.h"
#include "data/chat_template.h"
#include "eval/text_stream.h"
#include "serve/dialogue.h"

namespace gptcu::cli {
namespace {

constexpr const char* kHelp =
    "commands: /reset (forget the conversation), /system TEXT (set the system message; /system alone clears it),\n"
    "          /help, /quit (or end of input, Ctrl-D)";

void note(const std::string& s) { std::cerr << "(" << s << ")" << std::endl; }

}  // namespace

void register_chat(CLI::App& app) {
  struct Args {
    std::string checkpoint, system;
    SampleOptions opt;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("chat", "talk to a chat model in the terminal (streamed replies, multi-turn)");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)")->required();
  cmd->add_option("--system", args->system, "the system message");
  add_sampling_options(cmd, args->opt);
  cmd->callback([args, cmd]() {
    SamplingModel m = load_sampling_model(args->checkpoint);
    const ChatTemplate chat(m.tokenizer);  // UserError without the chat tokens
    const int block = m.model->config().block_size;
    SampleOptions opt = args->opt;
    if (cmd->count("--max-new-tokens") == 0) opt.max_new_tokens = std::min(opt.max_new_tokens, block / 2);
    GPTCU_USER_CHECK(opt.max_new_tokens >= 1 && opt.max_new_tokens < block, "--max-new-tokens must be in [1, ",
                     block - 1, "] for this model (context ", block, "), got ", opt.max_new_tokens);
    opt.stop_tokens = default_stop_tokens(m.tokenizer);
    opt.vocab_limit = m.tokenizer.vocab_size();
    const bool tty = isatty(STDIN_FILENO);
    std::cerr << "chat: " << args->checkpoint << " (context " << block << " tokens, replies up to " << opt.max_new_tokens
              << "); /help for commands" << std::endl;
    std::string system = args->system;
    std::vector<Message> history;  // user and assistant turns
    uint64_t turn = 0;
    std::string line;
    for (;;) {
      if (tty) std::cout << "> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      if (line[0] == '/') {
        const size_t space = line.find(' ');
        const std::string command = line.substr(0, space);
        std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
        rest.erase(0, rest.find_first_not_of(' '));  // all of it when it is only spaces
        if (command == "/quit" || command == "/exit") break;
        if (command == "/help") std::cerr << kHelp << std::endl;
        else if (command == "/reset") history.clear(), note("conversation cleared");
        else if (command == "/system") system = rest, note(rest.empty() ? "system message cleared" : "system message set");
        else note("unknown command " + command + "; /help lists them");
        continue;
      }
      history.push_back({"user", line});
      std::vector<Message> messages;
      if (!system.empty()) messages.push_back({"system", system});
      messages.insert(messages.end(), history.begin(), history.end());
      const FittedPrompt p = fit_dialogue(chat, messages, (size_t)(block - opt.max_new_tokens));
      if (p.dropped > 0) {
        history.erase(history.begin(), history.begin() + (ptrdiff_t)p.dropped);
        note("context full: dropped the " + std::to_string(p.dropped) + " oldest messages" + (system.empty() ? "" : "; the system message stays"));
      }
      SampleOptions o = opt;  // this reply's: a shorter one when only that makes it fit
      if (p.tokens.size() + o.max_new_tokens > (size_t)block) {
        if (p.tokens.size() < (size_t)block) {
          o.max_new_tokens = block - (int)p.tokens.size();
          note("the context is nearly full: this reply gets at most " + std::to_string(o.max_new_tokens) + " tokens");
        } else {
          note("the message does not fit the context of " + std::to_string(block) + " tokens: its first " +
               std::to_string(p.tokens.size() + o.max_new_tokens - block) + " tokens are cut");
        }
      }
      TextStream text(m.tokenizer);
      std::string reply;
      const auto& stops = opt.stop_tokens;
      o.stream_offset = turn++;
      o.on_token = [&](size_t, int32_t id) {
        if (std::find(stops.begin(), stops.end(), id) != stops.end()) return true;  // not part of the text
        const std::string piece = text.push(id);
        std::cout << piece << std::flush;
        reply += piece;
        return true;
      };
      const Generation g = generate_batch(*m.model, {p.tokens}, o)[0];
      const std::string tail = text.finish();
      std::cout << tail << std::endl;
      reply += tail;
      if (!g.stopped) note("the reply reached the limit of " + std::to_string(o.max_new_tokens) + " tokens");
      history.push_back({"assistant", reply});
    }
    if (tty) std::cout << std::endl;
  });
}

}  // namespace gptcu::cli
