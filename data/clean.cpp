// data/clean.cpp: UTF-8 repair, normalisation (utf8proc), control characters, whitespace.
#include "data/clean.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/check.h"
#include "data/records.h"

namespace gptcu {

// ---- UTF-8 ---------------------------------------------------------------------------------

int32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return (unsigned char)s[k]; };
  const unsigned c = byte(i);
  if (c < 0x80) {
    i++;
    return (int32_t)c;
  }
  // Length and the allowed range of the second byte (Unicode Table 3-7); later bytes are 80..BF.
  int len;
  unsigned lo = 0x80, hi = 0xBF;
  int32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    i++;  // 80..C1, F5..FF can never start a sequence
    return -1;
  }
  size_t k = i + 1;
  for (int n = 1; n < len; n++, k++) {
    if (k >= s.size() || byte(k) < lo || byte(k) > hi) {
      i = k;  // the maximal subpart: the lead byte and the valid continuation bytes so far
      return -1;
    }
    cp = (cp << 6) | (byte(k) & 0x3F);
    lo = 0x80, hi = 0xBF;
  }
  i = k;
  return cp;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if ((unsigned char)s[i] < 0x80) {
      i++;
    } else if (next_code_point(s, i) < 0) {
      return false;
    }
  }
  return true;
}

std::string repair_utf8(std::string_view s, bool* repaired) {
  std::string out;
  out.reserve(s.size());
  bool any = false;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    if (next_code_point(s, i) < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      any = true;
    } else {
      out.append(s.data() + start, i - start);
    }
  }
  if (repaired) *repaired = any;
  return out;
}

int64_t utf8_length(std::string_view s) {
  int64_t n = 0;
  for (const char c : s) n += ((unsigned char)c & 0xC0) != 0x80;
  return n;
}

// ---- cleaning ------------------------------------------------------------------------------

namespace {

bool is_ascii(std::string_view s) {
  for (const char c : s)
    if ((unsigned char)c >= 0x80) return false;
  return true;
}

std::string normalize(const std::string& s, const std::string& form) {
  if (form == "none" || is_ascii(s)) return s;  // ASCII is already NFC and NFKC
  auto options = (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (form == "nfkc") options = (utf8proc_option_t)(options | UTF8PROC_COMPAT);
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), (utf8proc_ssize_t)s.size(),
                              &out, options);
  GPTCU_CHECK(n >= 0, "utf8proc_map failed on valid UTF-8: ", utf8proc_errmsg(n));
  std::string result(reinterpret_cast<const char*>(out), (size_t)n);
  std::free(out);
  return result;
}

bool is_invisible_format(int32_t cp) { return cp == 0xFEFF || cp == 0x200B || cp == 0x2060 || cp == 0x00AD; }

// Steps 3 and 4: line breaks to '\n', control and invisible format characters removed.
std::string map_characters(const std::string& s, const CleanOptions& opt) {
  std::string out;
  out.reserve(s.size());
  const bool ws = opt.normalize_whitespace, strip = opt.strip_control;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const int32_t cp = next_code_point(s, i);
    if (cp == '\r') {
      if (ws) {
        if (i < s.size() && s[i] == '\n') continue;  // "\r\n": the '\n' follows
        out += '\n';
      } else {
        out += '\r';
      }
    } else if (ws && (cp == 0x85 || cp == 0x2028)) {
      out += '\n';
    } else if (ws && cp == 0x2029) {
      out += "\n\n";
    } else if (strip && ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) ||
                         is_invisible_format(cp))) {
      // removed
    } else {
      out.append(s.data() + start, i - start);
    }
  }
  return out;
}

// Step 5: trailing spaces/tabs per line, at most one blank line in a row, no blank lines at
// either end.
std::string normalize_layout(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int pending_newlines = 0;  // newlines seen since the last non-empty line
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(pos, end - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out.append(pending_newlines >= 2 ? 2 : 1, '\n');
      out.append(line);
      pending_newlines = 0;
    }
    pending_newlines++;
    pos = end + 1;
  }
  return out;
}

}  // namespace

void validate(const CleanOptions& opt) {
  GPTCU_USER_CHECK(opt.normalize == "nfkc" || opt.normalize == "nfc" || opt.normalize == "none",
                   "clean normalize must be nfkc, nfc or none, not '", opt.normalize, "'");
  GPTCU_USER_CHECK(opt.invalid_utf8 == "repair" || opt.invalid_utf8 == "drop",
                   "clean invalid_utf8 must be repair or drop, not '", opt.invalid_utf8, "'");
}

const char* outcome_name(CleanOutcome o) {
  switch (o) {
    case CleanOutcome::unchanged: return "unchanged";
    case CleanOutcome::changed: return "changed";
    case CleanOutcome::repaired: return "repaired";
    case CleanOutcome::dropped: return "dropped";
  }
  return "?";
}

CleanOutcome clean_text(std::string& s, const CleanOptions& opt) {
  validate(opt);
  bool repaired = false;
  std::string t;
  if (is_valid_utf8(s)) {
    t = s;
  } else {
    if (opt.invalid_utf8 == "drop") return CleanOutcome::dropped;
    t = repair_utf8(s, &repaired);
  }
  t = normalize(t, opt.normalize);
  if (opt.normalize_whitespace || opt.strip_control) t = map_characters(t, opt);
  if (opt.normalize_whitespace) t = normalize_layout(t);
  if (!repaired && t == s) return CleanOutcome::unchanged;
  s = std::move(t);
  return repaired ? CleanOutcome::repaired : CleanOutcome::changed;
}

CleanOutcome clean_record(Record& r, const CleanOptions& opt) {
  CleanOutcome worst = CleanOutcome::unchanged;
  const auto clean = [&](std::string& s) {
    if (worst == CleanOutcome::dropped) return;
    const CleanOutcome o = clean_text(s, opt);
    if ((int)o > (int)worst) worst = o;
  };
  clean(r.text);
  for (Message& m : r.messages) clean(m.content);
  clean(r.chosen);
  clean(r.rejected);
  clean(r.answer);
  clean(r.solution);
  return worst;
}

void CleanStats::add(CleanOutcome o) {
  switch (o) {
    case CleanOutcome::unchanged: unchanged++; break;
    case CleanOutcome::changed: changed++; break;
    case CleanOutcome::repaired: repaired++; break;
    case CleanOutcome::dropped: dropped++; break;
  }
}

}  // namespace gptcu
