// data/bpe_trainer.cpp: byte-level BPE training (see bpe_trainer.h for the algorithm).
#include "data/bpe_trainer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <iomanip>
#include <memory>
#include <ostream>
#include <queue>
#include <thread>
#include <unordered_set>

#include "core/check.h"
#include "data/split_regex.h"

namespace gptcu {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- pre-split ---------------------------------------------------------------------------

// Calls fn(piece) for the pieces of text[begin, end): the regex matches, and the unmatched
// gaps between them. The whole text is the subject, so look-arounds see across the range ends.
template <typename Fn>
void split_range(const SplitRegex& re, std::string_view text, size_t begin, size_t end, Fn&& fn) {
  size_t pos = begin;
  while (pos < end) {
    size_t b = 0, f = 0;
    if (!re.search(text.data(), text.size(), pos, b, f)) {
      fn(text.substr(pos, end - pos));
      return;
    }
    const size_t s = std::min(b, end), e = std::min(f, end);
    if (s > pos) fn(text.substr(pos, s - pos));
    if (e > s) fn(text.substr(s, e - s));
    pos = std::max(e, s);
  }
}

// Unicode White_Space (what \s matches under PCRE2_UCP), for the code point starting at p.
bool whitespace_at(std::string_view t, size_t p) {
  const auto c0 = static_cast<unsigned char>(t[p]);
  if (c0 < 0x80) return c0 == ' ' || (c0 >= 0x09 && c0 <= 0x0D);
  uint32_t cp = 0;
  int n = c0 >= 0xF0 ? 3 : c0 >= 0xE0 ? 2 : c0 >= 0xC0 ? 1 : 0;
  cp = c0 & (0x3F >> n);
  for (int i = 1; i <= n && p + i < t.size(); i++) cp = (cp << 6) | (static_cast<unsigned char>(t[p + i]) & 0x3F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// The first cut point >= from: just after a '\n' that is followed by a non-whitespace character
// (no GPT-2/cl100k/o200k piece crosses it); t.size() when there is none.
size_t next_cut(std::string_view t, size_t from) {
  for (size_t p = from - 1;;) {  // from >= 1
    const size_t nl = t.find('\n', p);
    if (nl == std::string_view::npos || nl + 1 >= t.size()) return t.size();
    if (!whitespace_at(t, nl + 1)) return nl + 1;
    p = nl + 1;
  }
}

// A piece of work for a counting thread: segments [first, last) of the segment list.
struct Segment {
  uint32_t text;
  size_t begin, end;
};

constexpr size_t kChunkBytes = size_t(1) << 20;

// Groups small texts, and cuts large ones, into units of about kChunkBytes.
void make_units(const std::vector<std::string_view>& texts, std::vector<Segment>& segs, std::vector<size_t>& unit_starts) {
  size_t in_unit = 0;
  unit_starts.push_back(0);
  auto close_unit = [&] {
    if (in_unit > 0) unit_starts.push_back(segs.size());
    in_unit = 0;
  };
  for (uint32_t i = 0; i < texts.size(); i++) {
    const std::string_view t = texts[i];
    if (t.empty()) continue;
    for (size_t b = 0; b < t.size();) {
      const size_t e = t.size() - b > kChunkBytes ? next_cut(t, b + kChunkBytes) : t.size();
      segs.push_back({i, b, e});
      in_unit += e - b;
      if (in_unit >= kChunkBytes) close_unit();
      b = e;
    }
  }
  close_unit();
}

// ---- piece counting ----------------------------------------------------------------------

// Open-addressing hash map: piece (a view into the texts) -> count.
class PieceCounts {
 public:
  struct Slot {
    const char* data = nullptr;  // nullptr: empty
    uint32_t size = 0;
    uint32_t hash = 0;
    int64_t count = 0;
  };
  void add(std::string_view s, uint64_t h, int64_t n) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    const uint32_t h32 = static_cast<uint32_t>(h);
    for (size_t i = h32 & mask_;; i = (i + 1) & mask_) {
      Slot& sl = slots_[i];
      if (!sl.data) {
        sl = {s.data(), static_cast<uint32_t>(s.size()), h32, n};
        used_++;
        return;
      }
      if (sl.hash == h32 && sl.size == s.size() && std::memcmp(sl.data, s.data(), s.size()) == 0) {
        sl.count += n;
        return;
      }
    }
  }
  void add_all(const PieceCounts& o) {
    for (const Slot& sl : o.slots_)
      if (sl.data) add({sl.data, sl.size}, sl.hash, sl.count);
  }
  const std::vector<Slot>& slots() const { return slots_; }
  size_t size() const { return used_; }

 private:
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
    mask_ = slots_.size() - 1;
    used_ = 0;
    for (const Slot& sl : old)
      if (sl.data) add({sl.data, sl.size}, sl.hash, sl.count);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, used_ = 0;
};

constexpr int kShards = 64;  // piece maps per thread; shard s of every thread merges into one

struct Counted {
  std::vector<PieceCounts> shards;  // the merged maps, one per shard
  int64_t words = 0;
};

Counted count_pieces(const std::vector<std::string_view>& texts, const SplitRegex& re, int threads, std::ostream* log) {
  std::vector<Segment> segs;
  std::vector<size_t> unit_starts;
  make_units(texts, segs, unit_starts);
  const size_t units = unit_starts.size() - 1;
  size_t total_bytes = 0;
  for (const Segment& s : segs) total_bytes += s.end - s.begin;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(units)));

  std::vector<std::vector<PieceCounts>> maps(threads, std::vector<PieceCounts>(kShards));
  std::vector<int64_t> words(threads, 0);
  std::atomic<size_t> next_unit{0}, bytes_done{0};
  std::vector<std::exception_ptr> errors(threads);
  const auto t0 = Clock::now();
  auto worker = [&](int t) {
    try {
      std::hash<std::string_view> hasher;
      auto last_log = Clock::now();
      for (size_t u; (u = next_unit.fetch_add(1)) < units;) {
        size_t bytes = 0;
        for (size_t i = unit_starts[u]; i < unit_starts[u + 1]; i++) {
          const Segment& s = segs[i];
          split_range(re, texts[s.text], s.begin, s.end, [&](std::string_view piece) {
            const uint64_t h = hasher(piece);
            maps[t][(h >> 40) % kShards].add(piece, h, 1);
            words[t]++;
          });
          bytes += s.end - s.begin;
        }
        const size_t done = bytes_done.fetch_add(bytes) + bytes;
        if (t == 0 && log && seconds_since(last_log) >= 1.0) {
          last_log = Clock::now();
          const double el = seconds_since(t0), rate = done / el;
          *log << std::fixed << std::setprecision(1) << "bpe-train: counting " << done / 1e6 << "/"
               << total_bytes / 1e6 << " MB, " << rate / 1e6 << " MB/s, ETA " << (total_bytes - done) / rate << " s\n"
               << std::flush;
        }
      }
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);

  // Shard s of every thread into thread 0's shard s, shards in parallel.
  std::atomic<int> next_shard{0};
  auto merger = [&] {
    for (int s; (s = next_shard.fetch_add(1)) < kShards;)
      for (int t = 1; t < threads; t++) maps[0][s].add_all(maps[t][s]);
  };
  pool.clear();
  for (int t = 1; t < threads; t++) pool.emplace_back(merger);
  merger();
  for (auto& th : pool) th.join();

  Counted out;
  out.shards = std::move(maps[0]);
  for (int64_t w : words) out.words += w;
  return out;
}

// ---- merging -----------------------------------------------------------------------------

// Open-addressing hash map: pair key (left << 32 | right) -> pair id.
class PairIndex {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  // The id of `key`, or -1.
  int32_t find(uint64_t key) const {
    if (slots_.empty()) return -1;
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return slots_[i].id;
      if (slots_[i].key == kEmpty) return -1;
    }
  }
  // The id of `key`, inserting `new_id` when absent (inserted = true).
  int32_t find_or_insert(uint64_t key, int32_t new_id, bool& inserted) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) {
        inserted = false;
        return slots_[i].id;
      }
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, new_id};
        used_++;
        inserted = true;
        return new_id;
      }
    }
  }

 private:
  struct Slot {
    uint64_t key = kEmpty;
    int32_t id = -1;
  };
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1 << 16, old.size() * 2), Slot{});
    mask_ = slots_.size() - 1;
    used_ = 0;
    bool ins;
    for (const Slot& s : old)
      if (s.key != kEmpty) find_or_insert(s.key, s.id, ins);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, used_ = 0;
};

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
int32_t key_left(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t key_right(uint64_t k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

class Merger {
 public:
  // Takes the words out of `counted` (and frees its maps).
  Merger(Counted&& counted, const BpeTrainOptions& opts) : opts_(opts) {
    for (int b = 0; b < 256; b++) add_token(std::string(1, static_cast<char>(b)));
    build_words(counted);
    counted = {};
    count_initial_pairs();
  }

  // Merges until vocab_size ranks exist or the best pair is too rare.
  void run() {
    const auto t0 = Clock::now();
    auto last_log = t0;
    const int64_t target = opts_.vocab_size - 256;
    int64_t merges = 0;  // == tokens_.size() - 256
    while (static_cast<int>(tokens_.size()) < opts_.vocab_size) {
      const int32_t p = pop_best();
      if (p < 0) break;
      const uint64_t key = pairs_[p].key;
      const int32_t c = add_token(tokens_[key_left(key)] + tokens_[key_right(key)]);
      const int64_t best_count = pairs_[p].count;
      merge(p, c);
      merges++;
      if (opts_.log && (merges & 15) == 0 && seconds_since(last_log) >= 1.0) {
        last_log = Clock::now();
        const double rate = merges / seconds_since(t0);
        *opts_.log << std::fixed << std::setprecision(0) << "bpe-train: merges " << merges << "/" << target << ", "
                   << rate << " merges/s, ETA " << (target - merges) / rate << " s, best pair count " << best_count
                   << "\n"
                   << std::flush;
      }
    }
    if (opts_.log) {
      const double el = seconds_since(t0);
      *opts_.log << std::fixed << std::setprecision(1) << "bpe-train: " << tokens_.size() << " ranks, " << merges
                 << " merges in " << el << " s (" << std::setprecision(0) << merges / std::max(el, 1e-9)
                 << " merges/s)\n"
                 << std::flush;
    }
  }

  std::vector<std::string> take_tokens() { return std::move(tokens_); }

 private:
  // A unique piece: tokens sym_[beg .. beg + len), occurring `count` times.
  struct Word {
    size_t beg;
    uint32_t len;
    int64_t count;
  };
  // An adjacent pair of tokens: its count over all words (weighted by the word counts) and the
  // words that contain it (or did: an entry goes stale when a merge takes the pair away).
  struct Pair {
    uint64_t key;
    int64_t count = 0;
    std::vector<int32_t> words;
    bool increased = false;  // in increased_ already
  };

  int32_t add_token(const std::string& bytes) {
    const auto id = static_cast<int32_t>(tokens_.size());
    GPTCU_CHECK(token_set_.insert(bytes).second, "BPE merge made an existing token (", tokens_.size(), ")");
    tokens_.push_back(bytes);
    return id;
  }

  // Words of two bytes or more (a single byte has no pair), as token arrays in sym_.
  void build_words(const Counted& counted) {
    size_t n = 0, bytes = 0;
    for (const PieceCounts& m : counted.shards)
      for (const auto& sl : m.slots())
        if (sl.data && sl.size >= 2) n++, bytes += sl.size;
    GPTCU_CHECK(n < INT32_MAX, "BPE training: too many distinct pieces (", n, ")");
    words_.reserve(n);
    sym_.reserve(bytes);
    for (const PieceCounts& m : counted.shards)
      for (const auto& sl : m.slots()) {
        if (!sl.data || sl.size < 2) continue;
        words_.push_back({sym_.size(), sl.size, sl.count});
        for (uint32_t i = 0; i < sl.size; i++) sym_.push_back(static_cast<unsigned char>(sl.data[i]));
      }
  }

  // All tokens are bytes yet: count the pairs in a 256 x 256 table, then index them.
  void count_initial_pairs() {
    std::vector<int64_t> count(65536, 0);
    std::vector<int32_t> nwords(65536, 0), last(65536, -1);
    const auto W = static_cast<int32_t>(words_.size());
    for (int32_t w = 0; w < W; w++) {
      const int32_t* s = &sym_[words_[w].beg];
      for (uint32_t i = 0; i + 1 < words_[w].len; i++) {
        const int k = s[i] * 256 + s[i + 1];
        count[k] += words_[w].count;
        if (last[k] != w) last[k] = w, nwords[k]++;
      }
    }
    std::vector<int32_t> pid(65536, -1);
    for (int k = 0; k < 65536; k++) {
      if (!count[k]) continue;
      pid[k] = find_or_add_pair(pair_key(k / 256, k % 256));
      pairs_[pid[k]].count = count[k];
      pairs_[pid[k]].words.reserve(nwords[k]);
    }
    std::fill(last.begin(), last.end(), -1);
    for (int32_t w = 0; w < W; w++) {
      const int32_t* s = &sym_[words_[w].beg];
      for (uint32_t i = 0; i + 1 < words_[w].len; i++) {
        const int k = s[i] * 256 + s[i + 1];
        if (last[k] != w) last[k] = w, pairs_[pid[k]].words.push_back(w);
      }
    }
    for (int32_t p = 0; p < static_cast<int32_t>(pairs_.size()); p++)
      if (pairs_[p].count >= opts_.min_pair_count) heap_.push({pairs_[p].count, p});
  }

  int32_t find_or_add_pair(uint64_t key) {
    bool inserted;
    const int32_t p = index_.find_or_insert(key, static_cast<int32_t>(pairs_.size()), inserted);
    if (inserted) {
      pairs_.emplace_back();
      pairs_.back().key = key;
    }
    return p;
  }

  // The valid best pair (lazy invalidation: an entry whose count went down is re-pushed with
  // the current count; every pair's count is <= that of one of its entries); -1 when none is
  // left with at least min_pair_count.
  int32_t pop_best() {
    while (!heap_.empty()) {
      const HeapEntry e = heap_.top();
      heap_.pop();
      const int64_t cur = pairs_[e.pair].count;
      if (cur == e.count) return e.pair;
      if (cur < e.count && cur >= opts_.min_pair_count) heap_.push({cur, e.pair});
      // cur > e.count: a newer entry holds the larger count.
    }
    return -1;
  }

  // Replaces every (a, b) in the words on p's list by c, left to right, and updates the counts of
  // the pairs around each replaced occurrence.
  void merge(int32_t p, int32_t c) {
    const int32_t a = key_left(pairs_[p].key), b = key_right(pairs_[p].key);
    const std::vector<int32_t> list = std::move(pairs_[p].words);
    pairs_[p].words = {};
    constexpr size_t kAhead = 8;  // prefetch distance, in words (the visits are cache misses)
    for (size_t k = 0; k < list.size(); k++) {
      if (k + 2 * kAhead < list.size()) __builtin_prefetch(&words_[list[k + 2 * kAhead]]);
      if (k + kAhead < list.size()) __builtin_prefetch(&sym_[words_[list[k + kAhead]].beg]);
      const int32_t w = list[k];
      int32_t* s = &sym_[words_[w].beg];
      const uint32_t n = words_[w].len;
      uint32_t first = 0;
      while (first + 1 < n && !(s[first] == a && s[first + 1] == b)) first++;
      if (first + 1 >= n) continue;  // a stale entry: an earlier merge took the pair away
      const int64_t wc = words_[w].count;
      // old_[i], merged_old_[i]: the word from `first` on, and whether position i was merged.
      old_.assign(s + first, s + n);
      const uint32_t m = n - first;
      merged_old_.assign(m, 0);
      merged_new_.clear();
      uint32_t j = first;
      for (uint32_t i = 0; i < m;) {
        if (i + 1 < m && old_[i] == a && old_[i + 1] == b) {
          merged_old_[i] = merged_old_[i + 1] = 1;
          s[j++] = c;
          merged_new_.push_back(1);
          i += 2;
        } else {
          s[j++] = old_[i++];
          merged_new_.push_back(0);
        }
      }
      words_[w].len = j;
      // Removed: the old pairs touching a merged position (the one on the left of `first` too).
      if (first > 0) add_count(s[first - 1], a, -wc, w);
      for (uint32_t i = 0; i + 1 < m; i++)
        if (merged_old_[i] || merged_old_[i + 1]) add_count(old_[i], old_[i + 1], -wc, w);
      // Added: the new pairs touching a new token.
      const auto mn = static_cast<uint32_t>(merged_new_.size());
      if (first > 0) add_count(s[first - 1], c, wc, w);
      for (uint32_t i = 0; i + 1 < mn; i++)
        if (merged_new_[i] || merged_new_[i + 1]) add_count(s[first + i], s[first + i + 1], wc, w);
    }
    GPTCU_CHECK(pairs_[p].count == 0, "BPE merge left ", pairs_[p].count, " occurrences of the pair");
    for (const int32_t q : increased_) {
      pairs_[q].increased = false;
      if (pairs_[q].count >= opts_.min_pair_count) heap_.push({pairs_[q].count, q});
    }
    increased_.clear();
  }

  void add_count(int32_t x, int32_t y, int64_t delta, int32_t w) {
    if (delta < 0) {
      const int32_t q = index_.find(pair_key(x, y));
      GPTCU_CHECK(q >= 0 && pairs_[q].count + delta >= 0, "BPE pair count went negative");
      Pair& pr = pairs_[q];
      pr.count += delta;
      if (pr.count == 0) std::vector<int32_t>().swap(pr.words);  // no word holds it any more
      return;
    }
    Pair& pr = pairs_[find_or_add_pair(pair_key(x, y))];
    pr.count += delta;
    if (!pr.increased) pr.increased = true, increased_.push_back(static_cast<int32_t>(&pr - pairs_.data()));
    if (pr.words.empty() || pr.words.back() != w) pr.words.push_back(w);
  }

  struct HeapEntry {
    int64_t count;
    int32_t pair;
  };
  // Heap order: higher count first, then the lexicographically smaller (bytes(left), bytes(right)).
  struct Lower {
    const Merger* m;
    bool operator()(const HeapEntry& x, const HeapEntry& y) const {
      if (x.count != y.count) return x.count < y.count;
      if (x.pair == y.pair) return false;
      const uint64_t kx = m->pairs_[x.pair].key, ky = m->pairs_[y.pair].key;
      const int l = m->tokens_[key_left(kx)].compare(m->tokens_[key_left(ky)]);
      if (l != 0) return l > 0;
      return m->tokens_[key_right(kx)].compare(m->tokens_[key_right(ky)]) > 0;
    }
  };

  const BpeTrainOptions& opts_;
  std::vector<std::string> tokens_;  // bytes by id (= rank)
  std::unordered_set<std::string> token_set_;
  std::vector<int32_t> sym_;
  std::vector<Word> words_;
  PairIndex index_;  // key -> index in pairs_
  std::vector<Pair> pairs_;
  std::vector<int32_t> increased_;  // pairs whose count grew during this merge
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, Lower> heap_{Lower{this}};
  // Scratch for merge().
  std::vector<int32_t> old_;
  std::vector<char> merged_old_, merged_new_;
};

}  // namespace

BpeTrainResult train_bpe(const std::vector<std::string_view>& texts, const BpeTrainOptions& opts) {
  GPTCU_USER_CHECK(opts.vocab_size >= 256, "BPE training: vocab_size must be at least 256 (the bytes), got ",
                   opts.vocab_size);
  GPTCU_USER_CHECK(opts.min_pair_count >= 1, "BPE training: min_pair_count must be at least 1, got ",
                   opts.min_pair_count);
  GPTCU_USER_CHECK(!opts.pattern.empty(), "BPE training: the pre-split pattern is empty");
  const auto t0 = Clock::now();
  const SplitRegex re(opts.pattern);
  const int threads = opts.threads > 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());

  BpeTrainResult r;
  Counted counted = count_pieces(texts, re, threads, opts.log);
  r.words = counted.words;
  for (const PieceCounts& m : counted.shards) r.unique_words += static_cast<int64_t>(m.size());
  r.count_seconds = seconds_since(t0);
  if (opts.log)
    *opts.log << std::fixed << std::setprecision(1) << "bpe-train: " << r.words << " pieces, " << r.unique_words
              << " unique, counted in " << r.count_seconds << " s\n"
              << std::flush;

  Merger merger(std::move(counted), opts);
  merger.run();
  r.ranks = merger.take_tokens();
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace gptcu
