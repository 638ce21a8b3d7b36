// data/formats_yaml.cpp: chatterbot corpus YAML {categories, conversations: [[turn, ...], ...]}
// -> dialogues whose turns alternate user/assistant, starting with user.
#include <yaml-cpp/yaml.h>

#include "data/formats.h"

namespace gptcu {

void read_chatterbot_yaml(InputFile& in, ReadContext& ctx) {
  const std::string content = read_all(in);  // chatterbot files are small; YAML needs it whole
  YAML::Node root;
  try {
    root = YAML::Load(content);
  } catch (const YAML::Exception& e) {
    ctx.bad(ctx.stats.malformed, ctx.path + ":" + std::to_string(e.mark.line + 1), e.msg);
    return;
  }
  if (!root.IsMap() || !root["conversations"] || !root["conversations"].IsSequence()) {
    ctx.bad(ctx.stats.missing_fields, ctx.path + ":1", "no 'conversations' list");
    return;
  }
  for (const YAML::Node& conv : root["conversations"]) {
    const std::string where = ctx.path + ":" + std::to_string(conv.Mark().line + 1);
    if (!conv.IsSequence() || conv.size() < 2) {
      ctx.bad(ctx.stats.missing_fields, where, "a conversation is not a list of at least two turns");
      continue;
    }
    Record r;
    r.kind = RecordKind::dialogue;
    bool ok = true;
    for (size_t i = 0; i < conv.size() && ok; i++) {
      ok = conv[i].IsScalar();
      if (ok) r.messages.push_back({i % 2 == 0 ? "user" : "assistant", conv[i].as<std::string>()});
    }
    if (!ok) {
      ctx.bad(ctx.stats.missing_fields, where, "a turn is not a plain string");
      continue;
    }
    ctx.emit(std::move(r), where);
  }
}

}  // namespace gptcu
