// data/bpe_tokenizer.cpp: the BPE tokenizer's encoder and decoder (see bpe_tokenizer.h);
// the file formats (load, save) are in bpe_tokenizer_io.cpp.
//
// Encoding a text, as tiktoken does:
//   1. with allow_special, find the special tokens (leftmost, longest first); they cut the text
//      into segments and become their ids;
//   2. cut each segment into pieces with the pre-split regex (PCRE2, JIT compiled);
//   3. encode each piece: one id if the whole piece is a token, else byte_pair_merge: start
//      from single bytes and repeatedly merge the adjacent pair whose concatenation has the
//      lowest rank (leftmost on ties). Short pieces scan for the minimum (tiktoken's loop);
//      long ones keep the candidate pairs in a heap.
// Speed (bench/results/2026-11-23-cpu-tokenizer-encode.md: 2-5x tiktoken on one thread) comes
// from the rank lookups: token bytes live in one arena, found by an open-addressing table whose
// slots hold tokens of <= 8 bytes inline; a Bloom filter answers most lookups of non-tokens from
// L2; all byte pairs have a direct 64K table; a per-thread memo remembers recent short lookups.
//
// Known difference from tiktoken: PCRE2 10.42's Unicode tables are Unicode 14; tiktoken's Rust
// regex has newer ones, so characters assigned after Unicode 14 may split differently.
#include "data/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <thread>
#include <unordered_map>

#include "core/check.h"
#include "data/clean.h"
#include "data/split_regex.h"

namespace gptcu {

// tiktoken's pat_str (tiktoken_ext/openai_public.py): r50k/gpt2, cl100k_base, o200k_base.
const char* const kPatternGpt2 = R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s)";
const char* const kPatternCl100k =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";
const char* const kPatternO200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string resolve_pattern(const std::string& name_or_regex) {
  if (name_or_regex == "gpt2") return kPatternGpt2;
  if (name_or_regex == "cl100k") return kPatternCl100k;
  if (name_or_regex == "o200k") return kPatternO200k;
  return name_or_regex;
}

namespace {

constexpr uint32_t kNone = UINT32_MAX;        // "not a token" in rank lookups
constexpr size_t kLinearMaxBytes = 192;      // longer pieces merge with the heap variant

// ---- hash of a byte string (wyhash-style multiply-mix) ----
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t mum(uint64_t a, uint64_t b) {
  const __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}
inline uint64_t hash_bytes(const char* p, size_t n) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull;
  uint64_t a, b;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p), b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p), b = load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t)(uint8_t)p[0] << 16 | (uint64_t)(uint8_t)p[n >> 1] << 8 | (uint8_t)p[n - 1], b = 0;
    } else {
      a = b = 0;
    }
    return mum(a ^ k0 ^ n, b ^ k1);
  }
  uint64_t h = k2 ^ n;
  for (size_t i = 0; i + 16 < n; i += 16) h = mum(load64(p + i) ^ k0, load64(p + i + 8) ^ h);
  return mum(load64(p + n - 16) ^ k1 ^ h, load64(p + n - 8) ^ k0);
}

// A special token found in the text.
struct SpecialHit {
  size_t begin, end;
  int32_t id;
};

// A piece of the text to encode: [begin, end), a special token's id or -1.
struct Piece {
  size_t begin, end;
  int32_t special;
};

// Tokens of up to 8 bytes are found without touching the arena: their slot holds the bytes
// packed into 64 bits (an encoding that is one-to-one for each length).
inline uint64_t pack_short(const char* p, size_t n) {
  if (n >= 4) return load32(p) | load32(p + n - 4) << 32;
  return (uint64_t)(uint8_t)p[0] | (uint64_t)(uint8_t)p[n >> 1] << 8 | (uint64_t)(uint8_t)p[n - 1] << 16;
}

inline bool same_bytes(const char* a, const char* b, size_t n) {  // n > 8
  for (size_t i = 0; i + 8 < n; i += 8)
    if (load64(a + i) != load64(b + i)) return false;
  return load64(a + n - 8) == load64(b + n - 8);
}

// ---- the ranks: immutable, shared by every copy of a tokenizer ----
struct Vocab {
  std::vector<std::string> tokens;  // rank -> bytes
  std::string arena;                // every token's bytes, in rank order
  std::vector<uint32_t> offsets;    // token r = arena[offsets[r], offsets[r+1])
  struct Slot {
    uint64_t key;  // length <= 8: the packed bytes; longer: the full hash
    uint32_t rank; // kNone: empty
    uint32_t len;
  };
  std::vector<Slot> slots;  // open addressing, linear probing, at most half full
  uint64_t mask = 0;
  std::array<uint32_t, 256> byte_rank{};
  std::vector<uint32_t> byte_pair_rank;  // [b0 << 8 | b1] -> rank of the two bytes, or kNone
  // A blocked Bloom filter of the tokens (3 bits in one 64-bit word per token, ~8 bits per
  // token): most lookups during merges are of strings that are not tokens, and this answers
  // them from L2 instead of a cache miss in `slots`.
  std::vector<uint64_t> bloom;
  uint64_t bloom_mask = 0;
  size_t max_token_len = 0;
  std::unique_ptr<SplitRegex> regex;
  uint64_t serial;  // unique per Vocab, never reused (keys the per-thread ShortCache)

  Vocab(std::vector<std::string> ranks, const std::string& pattern) : tokens(std::move(ranks)) {
    static std::atomic<uint64_t> next_serial{1};
    serial = next_serial++;
    GPTCU_USER_CHECK(!tokens.empty(), "tokenizer has no tokens");
    GPTCU_USER_CHECK(tokens.size() < (size_t)INT32_MAX, "tokenizer has too many tokens: ", tokens.size());
    offsets.reserve(tokens.size() + 1);
    for (const auto& t : tokens) {
      GPTCU_USER_CHECK(!t.empty(), "tokenizer token ", offsets.size(), " is empty");
      offsets.push_back((uint32_t)arena.size());
      arena += t;
      max_token_len = std::max(max_token_len, t.size());
    }
    offsets.push_back((uint32_t)arena.size());
    size_t capacity = 16;
    while (capacity < 2 * tokens.size()) capacity *= 2;
    slots.assign(capacity, Slot{0, kNone, 0});
    mask = capacity - 1;
    size_t words = 64;
    while (words * 8 < tokens.size()) words *= 2;
    bloom.assign(words, ~0ull);  // all ones while the table fills, so that find() sees every slot
    bloom_mask = words - 1;
    for (uint32_t r = 0; r < tokens.size(); r++) {
      const uint32_t existing = find(tokens[r].data(), tokens[r].size());
      GPTCU_USER_CHECK(existing == kNone, "tokenizer token ", r, " duplicates token ", existing);
      const auto [key, h] = key_and_hash(tokens[r].data(), tokens[r].size());
      uint64_t i = h & mask;
      while (slots[i].rank != kNone) i = (i + 1) & mask;
      slots[i] = Slot{key, r, (uint32_t)tokens[r].size()};
    }
    std::fill(bloom.begin(), bloom.end(), 0);
    for (const auto& t : tokens) {
      const uint64_t h = key_and_hash(t.data(), t.size()).second;
      bloom[bloom_word(h)] |= bloom_bits(h);
    }
    for (int b = 0; b < 256; b++) {
      const char c = (char)b;
      byte_rank[b] = find(&c, 1);
      GPTCU_USER_CHECK(byte_rank[b] != kNone, "tokenizer has no token for the single byte ", b,
                       " (a byte-level BPE needs all 256)");
    }
    byte_pair_rank.resize(1 << 16);
    for (int pair = 0; pair < (1 << 16); pair++) {
      const char two[2] = {(char)(pair >> 8), (char)pair};
      byte_pair_rank[pair] = find(two, 2);
    }
    regex = std::make_unique<SplitRegex>(pattern);
  }
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::string_view token(uint32_t r) const { return {arena.data() + offsets[r], offsets[r + 1] - offsets[r]}; }

  static std::pair<uint64_t, uint64_t> key_and_hash(const char* p, size_t n) {
    if (n <= 8) {
      const uint64_t key = pack_short(p, n);
      return {key, mum(key ^ 0xa0761d6478bd642full, n ^ 0xe7037ed1a0b428dbull)};
    }
    const uint64_t h = hash_bytes(p, n);
    return {h, h};
  }

  size_t bloom_word(uint64_t h) const { return (h >> 40) & bloom_mask; }
  static uint64_t bloom_bits(uint64_t h) { return 1ull << (h >> 22 & 63) | 1ull << (h >> 28 & 63) | 1ull << (h >> 34 & 63); }

  // The rank of the token p[0, n), or kNone.
  uint32_t find(const char* p, size_t n) const {
    if (n > max_token_len) return kNone;
    const auto [key, h] = key_and_hash(p, n);
    const uint64_t bits = bloom_bits(h);
    if ((bloom[bloom_word(h)] & bits) != bits) return kNone;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots[i];
      if (s.rank == kNone) return kNone;
      if (s.key == key && s.len == n && (n <= 8 || same_bytes(arena.data() + offsets[s.rank], p, n))) return s.rank;
    }
  }

};

// A per-thread memo of recent lookups (found or not) of strings of up to 8 bytes, in front of
// the vocabulary's table: merges ask about the same few thousand pairs over and over, and this
// table fits in L2 where the big one (8 MB for o200k) does not. Direct-mapped; reset when the
// thread moves to another vocabulary.
struct ShortCache {
  static constexpr size_t kSize = 1 << 14;
  struct Entry {
    uint64_t key;
    uint32_t len;  // 0: empty
    uint32_t rank;
  };
  uint64_t owner = 0;
  std::vector<Entry> entries = std::vector<Entry>(kSize, Entry{0, 0, kNone});

  static ShortCache& for_vocab(const Vocab& vocab) {
    thread_local ShortCache cache;
    if (cache.owner != vocab.serial) {
      std::fill(cache.entries.begin(), cache.entries.end(), Entry{0, 0, kNone});
      cache.owner = vocab.serial;
    }
    return cache;
  }
};

// Encodes pieces with one vocabulary on one thread (byte_pair_merge and its helpers).
class PieceEncoder {
 public:
  explicit PieceEncoder(const Vocab& vocab) : v_(vocab), cache_(ShortCache::for_vocab(vocab)) {}

  void encode(const char* p, size_t n, std::vector<int32_t>& out) {
    if (n == 1) {
      out.push_back((int32_t)v_.byte_rank[(uint8_t)*p]);
      return;
    }
    const uint32_t whole = v_.find(p, n);
    if (whole != kNone) {
      out.push_back((int32_t)whole);
    } else if (v_.max_token_len == 1) {
      for (size_t i = 0; i < n; i++) out.push_back((int32_t)v_.byte_rank[(uint8_t)p[i]]);
    } else if (n <= kLinearMaxBytes) {
      merge_linear(p, n, out);
    } else {
      merge_heap(p, n, out);
    }
  }

 private:
  uint32_t find(const char* p, size_t n) {
    if (n > 8) return v_.find(p, n);
    const auto [key, h] = Vocab::key_and_hash(p, n);
    ShortCache::Entry& e = cache_.entries[(h >> 32) & (ShortCache::kSize - 1)];
    if (e.key == key && e.len == n) return e.rank;
    e = {key, (uint32_t)n, v_.find(p, n)};
    return e.rank;
  }

  // byte_pair_merge of p[0, n), n <= kLinearMaxBytes, as tiktoken: find the lowest-ranked
  // adjacent pair (leftmost on ties), merge it, look up its new neighbours, repeat. Parts live
  // in a linked list over the byte positions (merged-away positions keep pair = kNone), so the
  // minimum is one vectorised pass over a fixed array and nothing is shifted.
  void merge_linear(const char* p, size_t n, std::vector<int32_t>& out) {
    uint32_t pair[kLinearMaxBytes], next[kLinearMaxBytes], prev[kLinearMaxBytes], tok[kLinearMaxBytes];
    // part i = p[i, next[i]) for live i; pair[i] = rank of part i joined with the next, or kNone
    for (uint32_t i = 0; i < n; i++) {
      next[i] = i + 1, prev[i] = i - 1, tok[i] = v_.byte_rank[(uint8_t)p[i]];
      pair[i] = i + 1 < n ? v_.byte_pair_rank[(uint8_t)p[i] << 8 | (uint8_t)p[i + 1]] : kNone;
    }
    while (true) {
      uint32_t best = kNone;
      for (size_t i = 0; i < n; i++) best = std::min(best, pair[i]);
      if (best == kNone) break;
      uint32_t i = 0;
      while (pair[i] != best) i++;
      const uint32_t j = next[i];
      tok[i] = best;
      next[i] = next[j];
      if (next[j] < n) prev[next[j]] = i;
      pair[j] = kNone;
      pair[i] = next[i] < n ? find(p + i, next[next[i]] - i) : kNone;
      if (i > 0) pair[prev[i]] = find(p + prev[i], next[i] - prev[i]);
    }
    for (uint32_t i = 0; i < n; i = next[i]) out.push_back((int32_t)tok[i]);
  }

  // byte_pair_merge of a long piece: parts in a linked list indexed by their first byte, the
  // candidate pairs in a min-heap on (rank, position); stale heap entries are skipped.
  void merge_heap(const char* p, size_t n, std::vector<int32_t>& out) {
    next_.resize(n), prev_.resize(n), tok_.resize(n), pair_.resize(n);
    heap_.clear();
    auto push = [&](uint32_t i) {
      if (pair_[i] == kNone) return;
      heap_.push_back((uint64_t)pair_[i] << 32 | i);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    };
    // part i = p[i, next[i]); next == n for the last part; prev == kNone for the first
    for (uint32_t i = 0; i < n; i++) {
      next_[i] = i + 1, prev_[i] = i == 0 ? kNone : i - 1, tok_[i] = v_.byte_rank[(uint8_t)p[i]];
      pair_[i] = i + 1 < n ? v_.byte_pair_rank[(uint8_t)p[i] << 8 | (uint8_t)p[i + 1]] : kNone;
      if (pair_[i] != kNone) heap_.push_back((uint64_t)pair_[i] << 32 | i);
    }
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      const uint64_t key = heap_.back();
      heap_.pop_back();
      const uint32_t rank = (uint32_t)(key >> 32), i = (uint32_t)key;
      if (pair_[i] != rank) continue;  // stale: part i changed, or died (pair = kNone)
      const uint32_t j = next_[i];
      tok_[i] = rank;
      next_[i] = next_[j];
      if (next_[j] < n) prev_[next_[j]] = i;
      pair_[j] = kNone;
      pair_[i] = next_[i] < n ? find(p + i, next_[next_[i]] - i) : kNone;
      push(i);
      if (prev_[i] != kNone) {
        pair_[prev_[i]] = find(p + prev_[i], next_[i] - prev_[i]);
        push(prev_[i]);
      }
    }
    for (uint32_t i = 0; i < n; i = next_[i]) out.push_back((int32_t)tok_[i]);
  }

  const Vocab& v_;
  ShortCache& cache_;
  std::vector<uint32_t> next_, prev_, tok_, pair_;
  std::vector<uint64_t> heap_;
};

}  // namespace

struct BpeTokenizer::Impl {
  std::shared_ptr<const Vocab> vocab;
  std::string pattern, name;
  Specials specials;
  std::unordered_map<std::string, int32_t> special_ids;
  std::unordered_map<int32_t, size_t> special_index;  // id -> index in specials
  std::array<std::vector<uint32_t>, 256> specials_by_first_byte;  // indices, longest first
  int32_t vocab_size = 0;

  void add(const std::string& token, int32_t id) {
    GPTCU_USER_CHECK(!token.empty(), "tokenizer: a special token is empty");
    GPTCU_USER_CHECK(is_valid_utf8(token), "tokenizer: special token '", token, "' is not valid UTF-8");
    GPTCU_USER_CHECK(id >= (int32_t)vocab->tokens.size(), "tokenizer: special token '", token, "' has id ", id,
                     ", which is an ordinary rank (< ", vocab->tokens.size(), ")");
    GPTCU_USER_CHECK(!special_ids.count(token), "tokenizer: special token '", token, "' appears twice");
    GPTCU_USER_CHECK(!special_index.count(id), "tokenizer: special tokens '", token, "' and '",
                     specials[special_index.at(id)].first, "' share the id ", id);
    special_ids[token] = id;
    special_index[id] = specials.size();
    specials.emplace_back(token, id);
    auto& list = specials_by_first_byte[(uint8_t)token[0]];
    list.push_back((uint32_t)specials.size() - 1);
    std::stable_sort(list.begin(), list.end(),
                     [&](uint32_t a, uint32_t b) { return specials[a].first.size() > specials[b].first.size(); });
    vocab_size = std::max(vocab_size, id + 1);
  }

  // Every special token in `text`, scanning left to right, the longest at each position.
  std::vector<SpecialHit> find_specials(std::string_view text) const {
    std::vector<SpecialHit> hits;
    size_t i = 0;
    while (i < text.size()) {
      const auto& list = specials_by_first_byte[(uint8_t)text[i]];
      bool hit = false;
      for (uint32_t k : list) {
        const std::string& s = specials[k].first;
        if (text.compare(i, s.size(), s) == 0) {
          hits.push_back({i, i + s.size(), specials[k].second});
          i += s.size();
          hit = true;
          break;
        }
      }
      if (!hit) i++;
    }
    return hits;
  }
};

namespace {

// Cuts a text into pieces. next(pos) depends on pos alone (given the text and its special
// hits): that is what lets encode_parallel resume another thread's work at any position where
// both produced a piece boundary. Calls must have non-decreasing pos.
class Segmenter {
 public:
  Segmenter(const Vocab& vocab, std::string_view text, const std::vector<SpecialHit>& hits)
      : vocab_(vocab), text_(text), hits_(hits) {}

  Piece next(size_t pos) {
    while (hit_ < hits_.size() && hits_[hit_].begin < pos) hit_++;
    const size_t seg_end = hit_ < hits_.size() ? hits_[hit_].begin : text_.size();
    if (hit_ < hits_.size() && pos == seg_end) return {pos, hits_[hit_].end, hits_[hit_].id};
    if (vocab_.max_token_len == 1) return {pos, seg_end, -1};  // byte tokens: pieces do not matter
    if (pending_begin_ == pos) return {pos, pending_end_, -1};
    size_t begin, end;
    if (!vocab_.regex->search(text_.data(), seg_end, pos, begin, end)) return {pos, seg_end, -1};
    if (begin == pos) return {pos, end, -1};
    // The regex skipped [pos, begin) (invalid UTF-8, or text the pattern leaves unmatched):
    // that becomes a piece of its own, and the match the next one.
    pending_begin_ = begin, pending_end_ = end;
    return {pos, begin, -1};
  }

 private:
  const Vocab& vocab_;
  std::string_view text_;
  const std::vector<SpecialHit>& hits_;
  size_t hit_ = 0;
  size_t pending_begin_ = SIZE_MAX, pending_end_ = 0;
};

void emit(PieceEncoder& encoder, std::string_view text, const Piece& piece, std::vector<int32_t>& out) {
  if (piece.special >= 0)
    out.push_back(piece.special);
  else
    encoder.encode(text.data() + piece.begin, piece.end - piece.begin, out);
}

}  // namespace

// ---- construction ----

BpeTokenizer::BpeTokenizer(std::vector<std::string> ranks, std::string pattern, Specials specials, std::string name)
    : impl_(std::make_shared<Impl>()) {
  impl_->vocab = std::make_shared<const Vocab>(std::move(ranks), pattern);
  impl_->pattern = std::move(pattern);
  impl_->name = std::move(name);
  impl_->vocab_size = (int32_t)impl_->vocab->tokens.size();
  for (auto& [token, id] : specials) impl_->add(token, id);
}

BpeTokenizer BpeTokenizer::bytes() {
  std::vector<std::string> ranks(256);
  for (int b = 0; b < 256; b++) ranks[b] = std::string(1, (char)b);
  return BpeTokenizer(std::move(ranks), kPatternGpt2, {{"<|endoftext|>", 256}}, "byte");
}

// ---- encode / decode ----

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool allow_special) const {
  const Vocab& vocab = *impl_->vocab;
  const std::vector<SpecialHit> hits =
      allow_special && !impl_->specials.empty() ? impl_->find_specials(text) : std::vector<SpecialHit>{};
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 16);
  Segmenter seg(vocab, text, hits);
  PieceEncoder encoder(vocab);
  for (size_t pos = 0; pos < text.size();) {
    const Piece piece = seg.next(pos);
    emit(encoder, text, piece, ids);
    pos = piece.end;
  }
  return ids;
}

// Each thread t encodes the pieces from its start s_t until it passes s_{t+1}, recording every
// piece boundary. The pieces from a position depend only on that position, so wherever the
// stitched sequence so far lands on a boundary of thread t, thread t's remaining ids are the
// right ones; where it does not (the last piece of thread t-1 ended inside one of thread t's),
// pieces are re-encoded one by one until it does.
std::vector<int32_t> BpeTokenizer::encode_parallel(std::string_view text, int threads, bool allow_special) const {
  if (threads <= 0) threads = (int)std::max(1u, std::thread::hardware_concurrency());
  const Vocab& vocab = *impl_->vocab;
  if (threads == 1 || text.size() < 2 || vocab.max_token_len == 1) return encode(text, allow_special);
  const std::vector<SpecialHit> hits =
      allow_special && !impl_->specials.empty() ? impl_->find_specials(text) : std::vector<SpecialHit>{};

  std::vector<size_t> starts{0};
  for (int t = 1; t < threads; t++) {
    size_t s = text.size() * (size_t)t / (size_t)threads;
    for (int k = 0; k < 3 && s < text.size() && ((uint8_t)text[s] & 0xc0) == 0x80; k++) s++;  // a UTF-8 start
    if (s > starts.back() && s < text.size()) starts.push_back(s);
  }
  const size_t n_chunks = starts.size();
  struct Chunk {
    std::vector<int32_t> ids;
    std::vector<size_t> ends;     // end of each piece, increasing
    std::vector<size_t> id_ends;  // ids.size() after each piece
    std::exception_ptr error;
  };
  std::vector<Chunk> chunks(n_chunks);
  auto work = [&](size_t t) {
    Chunk& c = chunks[t];
    try {
      const size_t limit = t + 1 < n_chunks ? starts[t + 1] : text.size();
      c.ids.reserve((limit - starts[t]) / 3 + 16);
      Segmenter seg(vocab, text, hits);
      PieceEncoder encoder(vocab);
      for (size_t pos = starts[t]; pos < limit;) {
        const Piece piece = seg.next(pos);
        emit(encoder, text, piece, c.ids);
        c.ends.push_back(piece.end);
        c.id_ends.push_back(c.ids.size());
        pos = piece.end;
      }
    } catch (...) {
      c.error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n_chunks; t++) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (const Chunk& c : chunks)
    if (c.error) std::rethrow_exception(c.error);

  std::vector<int32_t> ids;
  size_t total = 0;
  for (const Chunk& c : chunks) total += c.ids.size();
  ids.reserve(total + 16);
  Segmenter fixup(vocab, text, hits);
  PieceEncoder encoder(vocab);
  size_t pos = 0;
  for (size_t t = 0; t < n_chunks; t++) {
    const Chunk& c = chunks[t];
    while (pos < c.ends.back()) {
      size_t from = SIZE_MAX;  // index into c.ids where thread t's pieces take over
      if (pos == starts[t]) {
        from = 0;
      } else {
        const auto it = std::lower_bound(c.ends.begin(), c.ends.end(), pos);
        if (it != c.ends.end() && *it == pos) from = c.id_ends[it - c.ends.begin()];
      }
      if (from != SIZE_MAX) {
        ids.insert(ids.end(), c.ids.begin() + (ptrdiff_t)from, c.ids.end());
        pos = c.ends.back();
        break;
      }
      const Piece piece = fixup.next(pos);
      emit(encoder, text, piece, ids);
      pos = piece.end;
    }
  }
  GPTCU_CHECK(pos == text.size(), "encode_parallel stitched ", pos, " of ", text.size(), " bytes");
  return ids;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids) const {
  const Vocab& vocab = *impl_->vocab;
  const int32_t n_ranks = (int32_t)vocab.tokens.size();
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) {
    if (id >= 0 && id < n_ranks)
      out += vocab.token((uint32_t)id);
    else
      out += token_bytes(id);
  }
  return out;
}

// ---- accessors ----

int BpeTokenizer::num_ranks() const { return (int)impl_->vocab->tokens.size(); }
int BpeTokenizer::vocab_size() const { return impl_->vocab_size; }
const BpeTokenizer::Specials& BpeTokenizer::specials() const { return impl_->specials; }
const std::string& BpeTokenizer::pattern() const { return impl_->pattern; }
const std::string& BpeTokenizer::name() const { return impl_->name; }

int32_t BpeTokenizer::special_id(std::string_view token) const {
  const auto it = impl_->special_ids.find(std::string(token));
  return it == impl_->special_ids.end() ? -1 : it->second;
}

int32_t BpeTokenizer::eot() const {
  const int32_t id = special_id("<|endoftext|>");
  GPTCU_USER_CHECK(id >= 0, "tokenizer '", impl_->name, "' has no <|endoftext|> token");
  return id;
}

int32_t BpeTokenizer::add_special(const std::string& token) {
  const int32_t existing = special_id(token);
  if (existing >= 0) return existing;
  if (impl_.use_count() > 1) impl_ = std::make_shared<Impl>(*impl_);  // copy on write; the ranks stay shared
  const int32_t id = impl_->vocab_size;
  impl_->add(token, id);
  return id;
}

const std::string& BpeTokenizer::token_bytes(int32_t id) const {
  if (id >= 0 && id < num_ranks()) return impl_->vocab->tokens[(size_t)id];
  const auto it = impl_->special_index.find(id);
  GPTCU_USER_CHECK(it != impl_->special_index.end(), "tokenizer '", impl_->name, "': unknown token id ", id,
                   " (vocabulary size ", impl_->vocab_size, ")");
  return impl_->specials[it->second].first;
}

}  // namespace gptcu
