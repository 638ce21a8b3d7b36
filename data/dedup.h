// data/dedup.h: exact and near-duplicate removal, keeping the first of each group.
//
//   Deduper dedup(DedupOptions{});                 // exact + near (Jaccard >= 0.8)
//   for (record : records)
//     if (dedup.add(record_key(record)) != Deduper::Verdict::unique) drop it;
//
// Exact: a 64-bit hash64 of the text's bytes; two different texts collide with probability
// ~n^2 / 2^65 (about 3e-6 for ten million texts).
// Near: MinHash (Broder 1997) over the set of `shingle`-code-point shingles of the text, after
// lowercasing ASCII and collapsing whitespace runs to one space (so it works for Chinese, which
// has no words to shingle). Permutation i is h_i(x) = top 32 bits of mix64(x ^ s_i), x the
// 64-bit hash of a shingle, s_i a splitmix64 sequence from `seed`: deterministic, no RNG state.
// LSH (Leskovec et al., Mining of Massive Datasets ch. 3): the signature is cut into b bands of
// r rows; texts sharing one band exactly become candidates, and a candidate is a near duplicate
// when the signatures agree in >= threshold of all num_perm positions (the Jaccard estimate).
// (b, r) minimise 0.2 * P(false positive) + 0.8 * P(false negative) integrated over Jaccard
// (datasketch's method with weights tilted to recall, because candidates are verified and a
// false positive costs one signature comparison): 128 perms at 0.8 -> 12 bands x 10 rows, a
// pair at Jaccard 0.8 becomes a candidate with probability 0.74, at 0.85 0.93, at 0.6 0.07.
// The estimate's standard deviation is sqrt(J(1-J)/num_perm) (0.035 at 0.8 with 128), so pairs
// within a few hundredths of the threshold go either way.
//
// On ../shared/data (record_key of each cleaned record): 181 of 57,607 Tang poems are near
// duplicates (the same poem under two titles, "郊廟歌辭 五郊樂章 黃帝宮音" / "五郊樂章 黃帝宮音"),
// 26 of 21,053 Song ci; GSM8K has 4 template twins with other numbers ("A train travels 270
// miles..." / "360 miles..."), a reason to leave near dedup off for eval sets. Speed: about
// 20 MB/s of text on one core (13 MB of poems in 0.6 s), mostly the num_perm hashes per shingle.
//
// Memory per kept text: num_perm * 4 bytes of signature (512 B at 128) + b index entries of
// about 40 B (about 480 B at 12 bands) + an exact-hash entry (about 40 B): ~1 KB, so a million
// unique texts need ~1 GB. Duplicates are not stored. Only unique texts are indexed, so the
// verdicts depend on the order of the texts (the first of a group is kept), never on timing.
#pragma once
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gptcu {

struct DedupOptions {
  bool exact = true;
  bool near = true;
  double threshold = 0.8;  // Jaccard similarity of shingle sets, (0, 1]
  int num_perm = 128;
  int shingle = 5;  // code points
  uint64_t seed = 1;
};

class Deduper {
 public:
  // UserError on options out of range.
  explicit Deduper(DedupOptions opt);

  enum class Verdict { unique, exact_duplicate, near_duplicate };
  // Unique texts are remembered; duplicates are not.
  Verdict add(std::string_view text);
  // For the last add(): the 0-based add() index of the earlier text it duplicates, or -1.
  int64_t match() const { return match_; }

  int64_t size() const { return kept_; }  // unique texts kept
  int bands() const { return bands_; }
  int rows() const { return rows_; }

  std::vector<uint32_t> signature(std::string_view text) const;
  static double estimated_jaccard(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
  // (bands, rows) for a threshold and signature length, as described above.
  static std::pair<int, int> lsh_params(double threshold, int num_perm);
  static const char* verdict_name(Verdict v);

 private:
  std::vector<uint32_t> signature_of(const std::vector<uint64_t>& shingle_hashes) const;

  DedupOptions opt_;
  int bands_ = 0, rows_ = 0;
  std::vector<uint64_t> perm_seeds_;
  std::unordered_map<uint64_t, int64_t> exact_;             // text hash -> add() index
  std::unordered_multimap<uint64_t, uint32_t> band_index_;  // band hash -> kept id
  std::vector<uint32_t> signatures_;                        // (near id, num_perm)
  std::vector<int64_t> near_added_;                         // near id -> add() index
  int64_t adds_ = 0, kept_ = 0, match_ = -1;
};

// The exact Jaccard similarity of the two texts' shingle sets (same normalisation as Deduper).
double shingle_jaccard(std::string_view a, std::string_view b, int shingle);

}  // namespace gptcu
