// data/bpe_trainer.h: trains a byte-level BPE vocabulary (the ranks BpeTokenizer encodes with).
//
//   BpeTrainOptions opts;
//   opts.vocab_size = 32000;
//   opts.pattern = resolve_pattern("cl100k");   // the pre-split regex (a regex, not a name)
//   opts.log = &std::cerr;                      // progress lines, optional
//   BpeTrainResult r = train_bpe({text1, text2}, opts);
//   BpeTokenizer tok(std::move(r.ranks), opts.pattern, {{"<|endoftext|>", 32000}});
//
// The result is the token byte strings in rank order: the 256 single bytes first (rank = byte
// value), then one token per merge, in merge order. tiktoken's encoder (merge the adjacent
// pair whose concatenation has the lowest rank) therefore replays the training merges.
//
// Algorithm:
//  1. Counting (parallel). Every text is split with the regex (PCRE2, UTF + UCP, JIT); a
//     document boundary is a piece boundary. Texts are grouped, or cut, into chunks of about
//     1 MB for the worker threads; a long text is cut only just after a newline that is
//     followed by a non-whitespace character, where no match of the GPT-2, cl100k or o200k
//     patterns can cross, so for those patterns the pieces are exactly those of one scan of
//     the whole text (for another regex this is an approximation). Bytes that the regex does
//     not match (e.g. invalid UTF-8) form pieces of their own. Unique pieces ("words") are
//     counted in per-thread hash maps, sharded by hash and merged shard by shard.
//  2. Merging (one thread). Words become arrays of token ids; for every adjacent pair we keep
//     its count (weighted by the word counts, overlapping occurrences counted, as a recount
//     would) and the list of words that contain it. A max-heap with lazy invalidation yields
//     the best pair: highest count, ties broken by the lexicographically smallest
//     (bytes(left), bytes(right)). A merge rewrites only the words on the pair's list (left
//     to right, non-overlapping) and updates the counts of the pairs that changed.
//  Training runs until vocab_size ranks exist or the best pair is rarer than min_pair_count.
//  No rank is ever duplicated (train_bpe checks it): a stretch of a word that is exactly
//  covered by tokens has evolved as that stretch alone would, so once (x, y) is merged, every
//  stretch spelling bytes(x) + bytes(y) that is exactly covered by tokens is the new token, and
//  no later pair can spell those bytes again.
//  The result depends only on the texts and the options, never on the thread count.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

struct BpeTrainOptions {
  int vocab_size = 32000;       // ranks, the 256 bytes included, specials excluded (>= 256)
  std::string pattern;          // PCRE2 pre-split regex (resolve "cl100k" etc. before)
  int threads = 0;              // counting threads; 0: all cores
  int64_t min_pair_count = 2;   // stop early when the best pair occurs fewer times (>= 1)
  std::ostream* log = nullptr;  // progress lines (counting MB/s and ETA, merges/s), when set
};

struct BpeTrainResult {
  std::vector<std::string> ranks;  // bytes of each token, by rank; ranks[b] == std::string(1, b) for b < 256
  int64_t words = 0;               // pieces counted (all occurrences)
  int64_t unique_words = 0;        // distinct pieces
  double count_seconds = 0;        // pre-split + counting
  double seconds = 0;              // total
};

// UserError: an empty pattern or one PCRE2 does not compile, vocab_size < 256, min_pair_count < 1.
BpeTrainResult train_bpe(const std::vector<std::string_view>& texts, const BpeTrainOptions& opts);

}  // namespace gptcu
