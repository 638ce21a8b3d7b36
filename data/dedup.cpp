// data/dedup.cpp: exact hashes, MinHash signatures and the LSH band index (see dedup.h).
#include "data/dedup.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/check.h"
#include "data/split.h"

namespace gptcu {

namespace {

// ASCII lowercased, whitespace runs as one space, trimmed.
std::string normalize_for_shingles(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (const char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
  }
  if (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The distinct 64-bit hashes of the text's k-code-point shingles (one shingle when shorter).
std::vector<uint64_t> shingle_hashes(std::string_view text, int k) {
  const std::string s = normalize_for_shingles(text);
  std::vector<uint64_t> out;
  if (s.empty()) return out;
  std::vector<size_t> start;
  for (size_t i = 0; i < s.size(); i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) start.push_back(i);
  const size_t cps = start.size();
  start.push_back(s.size());
  const size_t count = cps <= (size_t)k ? 1 : cps - k + 1;
  const size_t width = std::min(cps, (size_t)k);
  out.reserve(count);
  for (size_t i = 0; i < count; i++)
    out.push_back(hash64(std::string_view(s).substr(start[i], start[i + width] - start[i])));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The probability that a pair at Jaccard s shares at least one of b bands of r rows.
double candidate_probability(double s, int b, int r) { return 1.0 - std::pow(1.0 - std::pow(s, r), b); }

// Trapezoidal rule, fine enough to rank (b, r) choices.
template <typename F>
double integrate(F f, double a, double b) {
  constexpr int n = 200;
  const double h = (b - a) / n;
  double sum = 0.5 * (f(a) + f(b));
  for (int i = 1; i < n; i++) sum += f(a + i * h);
  return sum * h;
}

}  // namespace

std::pair<int, int> Deduper::lsh_params(double threshold, int num_perm) {
  constexpr double kFalsePositiveWeight = 0.2, kFalseNegativeWeight = 0.8;
  double best = std::numeric_limits<double>::infinity();
  std::pair<int, int> params{1, num_perm};
  for (int b = 1; b <= num_perm; b++) {
    for (int r = 1; r <= num_perm / b; r++) {
      const double fp = integrate([&](double s) { return candidate_probability(s, b, r); }, 0.0, threshold);
      const double fn = integrate([&](double s) { return 1.0 - candidate_probability(s, b, r); }, threshold, 1.0);
      const double err = kFalsePositiveWeight * fp + kFalseNegativeWeight * fn;
      if (err < best) best = err, params = {b, r};
    }
  }
  return params;
}

Deduper::Deduper(DedupOptions opt) : opt_(opt) {
  GPTCU_USER_CHECK(opt.threshold > 0 && opt.threshold <= 1, "dedup threshold must be in (0, 1], got ", opt.threshold);
  GPTCU_USER_CHECK(opt.num_perm >= 1 && opt.num_perm <= 1024, "dedup num_perm must be in [1, 1024], got ", opt.num_perm);
  GPTCU_USER_CHECK(opt.shingle >= 1, "dedup shingle must be >= 1 code point, got ", opt.shingle);
  if (opt.near) {
    std::tie(bands_, rows_) = lsh_params(opt.threshold, opt.num_perm);
    uint64_t state = opt.seed;
    for (int i = 0; i < opt.num_perm; i++) perm_seeds_.push_back(mix64(state += 0x9e3779b97f4a7c15ULL));
  }
}

std::vector<uint32_t> Deduper::signature(std::string_view text) const {
  GPTCU_CHECK(opt_.near, "signature() needs near dedup on");
  return signature_of(shingle_hashes(text, opt_.shingle));
}

std::vector<uint32_t> Deduper::signature_of(const std::vector<uint64_t>& shingles) const {
  std::vector<uint32_t> sig((size_t)opt_.num_perm, std::numeric_limits<uint32_t>::max());
  for (const uint64_t x : shingles)
    for (int i = 0; i < opt_.num_perm; i++) sig[i] = std::min(sig[i], (uint32_t)(mix64(x ^ perm_seeds_[i]) >> 32));
  return sig;
}

double Deduper::estimated_jaccard(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  GPTCU_CHECK(a.size() == b.size() && !a.empty(), "signatures of different lengths");
  size_t same = 0;
  for (size_t i = 0; i < a.size(); i++) same += a[i] == b[i];
  return (double)same / (double)a.size();
}

Deduper::Verdict Deduper::add(std::string_view text) {
  const int64_t index = adds_++;
  match_ = -1;
  uint64_t text_hash = 0;
  if (opt_.exact) {
    text_hash = hash64(text, opt_.seed);
    if (const auto it = exact_.find(text_hash); it != exact_.end()) {
      match_ = it->second;
      return Verdict::exact_duplicate;
    }
  }
  std::vector<uint64_t> band_keys;
  std::vector<uint32_t> sig;
  const std::vector<uint64_t> shingles = opt_.near ? shingle_hashes(text, opt_.shingle) : std::vector<uint64_t>{};
  if (!shingles.empty()) {  // (a blank text has none: exact dedup only)
    sig = signature_of(shingles);
    const size_t n = sig.size();
    for (int b = 0; b < bands_; b++) {
      const std::string_view rows(reinterpret_cast<const char*>(sig.data() + (size_t)b * rows_), (size_t)rows_ * 4);
      band_keys.push_back(hash64(rows, (uint64_t)b));
      const auto [lo, hi] = band_index_.equal_range(band_keys.back());
      for (auto it = lo; it != hi; ++it) {
        const uint32_t* other = signatures_.data() + (size_t)it->second * n;
        size_t same = 0;
        for (size_t i = 0; i < n; i++) same += sig[i] == other[i];
        if ((double)same >= opt_.threshold * (double)n) {
          match_ = near_added_[it->second];
          return Verdict::near_duplicate;
        }
      }
    }
  }
  // Unique: remember it.
  kept_++;
  if (opt_.exact) exact_.emplace(text_hash, index);
  if (!sig.empty()) {
    const auto id = (uint32_t)near_added_.size();
    for (const uint64_t key : band_keys) band_index_.emplace(key, id);
    signatures_.insert(signatures_.end(), sig.begin(), sig.end());
    near_added_.push_back(index);
  }
  return Verdict::unique;
}

const char* Deduper::verdict_name(Verdict v) {
  switch (v) {
    case Verdict::unique: return "unique";
    case Verdict::exact_duplicate: return "exact_duplicate";
    case Verdict::near_duplicate: return "near_duplicate";
  }
  return "?";
}

double shingle_jaccard(std::string_view a, std::string_view b, int shingle) {
  const auto sa = shingle_hashes(a, shingle), sb = shingle_hashes(b, shingle);
  if (sa.empty() && sb.empty()) return 1.0;
  std::vector<uint64_t> common;
  std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(common));
  return (double)common.size() / (double)(sa.size() + sb.size() - common.size());
}

}  // namespace gptcu
