// data/bpe_tokenizer.h: byte-level BPE, tiktoken's algorithm, one class for every vocabulary.
//
// A tokenizer is three things: the token byte strings in rank order (rank = id), a pre-split
// regex (run through PCRE2 with JIT), and special tokens (string -> id, ids above the ranks).
// Encoding splits the text with the regex, then within each piece repeatedly merges the
// adjacent pair whose concatenation has the lowest rank (tiktoken's byte_pair_merge), so the
// ids are exactly tiktoken's for GPT-2, cl100k_base and o200k_base.
//
//   BpeTokenizer tok = BpeTokenizer::load("../shared/data/tokenizers/cl100k_base.tiktoken");
//   std::vector<int32_t> ids = tok.encode("hello 世界");
//   std::string back = tok.decode(ids);      // == "hello 世界"
//
// Specs accepted by load():
//   "byte"                      256 byte tokens (id = byte value) + <|endoftext|> = 256
//   DIR                         GPT-2 format: DIR/encoder.json + DIR/vocab.bpe (merges checked
//                               against the encoder as tiktoken does), <|endoftext|> = 50256
//   FILE.tiktoken               base64 token, space, rank per line; FILE.meta.json beside it
//                               holds {"pat_str": REGEX, "special_tokens": {TOKEN: ID}}
//   PREFIX                      PREFIX.tiktoken (+ PREFIX.meta.json), what save(PREFIX) wrote
// save(PREFIX) writes PREFIX.tiktoken + PREFIX.meta.json in that same format, which Python's
// tiktoken reads too (tiktoken.load.load_tiktoken_bpe + the meta's pat_str/special_tokens).
//
// Any bytes encode, valid UTF-8 or not: the regex (PCRE2, UTF + UCP + MATCH_INVALID_UTF) skips
// invalid sequences, and the bytes it skips are encoded as byte-level pieces of their own, so
// decode(encode(x)) == x for every x. (A custom regex that leaves valid text unmatched gets the
// same treatment, where tiktoken would drop that text.)
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptcu {

// The pre-split regexes of the reference encodings (tiktoken's pat_str).
extern const char* const kPatternGpt2;
extern const char* const kPatternCl100k;
extern const char* const kPatternO200k;
// "gpt2" | "cl100k" | "o200k" -> the pattern; anything else is taken as a regex itself.
std::string resolve_pattern(const std::string& name_or_regex);

class BpeTokenizer {
 public:
  using Specials = std::vector<std::pair<std::string, int32_t>>;

  // ranks[i] = the bytes of token i. Every single byte must be among the ranks (byte-level BPE).
  // UserError: duplicate token, missing byte, a special id that collides with a rank or another
  // special, an empty or non-UTF-8 special, a regex PCRE2 does not compile. `name` is what name()
  // reports.
  BpeTokenizer(std::vector<std::string> ranks, std::string pattern, Specials specials,
               std::string name = "trained");

  // See the spec list above. UserError (one line, naming the file) on anything that does not parse.
  static BpeTokenizer load(const std::string& spec);
  static BpeTokenizer bytes();

  // PREFIX.tiktoken + PREFIX.meta.json, each written atomically (temporary file, then rename).
  void save(const std::string& prefix) const;

  // Special-token strings in `text` are ordinary text unless allow_special.
  std::vector<int32_t> encode(std::string_view text, bool allow_special = false) const;
  // The same ids, computed by `threads` threads (0: all cores) for large inputs. The text is cut
  // into exactly that many ranges (fewer only when it has fewer bytes), so keep small texts on
  // encode(). Ranges are stitched where both neighbours' pre-split pieces agree.
  std::vector<int32_t> encode_parallel(std::string_view text, int threads, bool allow_special = false) const;
  // The bytes of the tokens, concatenated (a prefix of ids may end inside a UTF-8 character).
  // UserError on an id that is neither a rank nor a special.
  std::string decode(std::span<const int32_t> ids) const;

  int num_ranks() const;             // ordinary tokens: ids 0 .. num_ranks()-1
  int vocab_size() const;            // 1 + the largest id, specials included
  int32_t eot() const;               // id of <|endoftext|>; UserError if it has none
  int32_t special_id(std::string_view token) const;  // -1 when absent
  // The id of `token`, adding it as a new special (id = vocab_size()) when absent.
  int32_t add_special(const std::string& token);
  const Specials& specials() const;
  const std::string& pattern() const;
  const std::string& token_bytes(int32_t id) const;  // ranks and specials
  const std::string& name() const;   // what it was loaded from ("byte", a path, or "trained")

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared between copies; add_special copies on write
};

}  // namespace gptcu
