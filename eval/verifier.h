// eval/verifier.h: programmatic answer checkers, the reward of PPO/GRPO on tasks with an exact
// answer (data/synthetic.h's task, GSM8K) and the accuracy of `eval` on them.
//
//   exact_match("  1,234. ", "1234")                    -> true
//   exact_match("tac。", "tac")                          -> true
//   gsm8k_match("so she makes 18 dollars.", "... #### 18")  -> true
//
// Normalisation (normalize_answer): trim; collapse internal whitespace (ASCII, U+00A0, U+3000)
// to one space; strip one trailing '.' or '。' (then trim again); and when what is left is a
// number (optional sign, digits with optional valid thousands commas "1,234,567", optional
// decimals), write it canonically: no commas, no '+', no leading zeros, no trailing decimal
// zeros ("+012.50" -> "12.5", "12.0" -> "12", "-0" -> "0"). Letters keep their case: the task
// asks for "CAT" and "cat" on purpose.
#pragma once
#include <string>
#include <string_view>

namespace gptcu {

// The final answer of a reply or a reference, normalised: GSM8K style "... #### 1,234" ->
// "1234" (the text after the last "####"); otherwise the whole text.
std::string extract_answer(std::string_view text);

std::string normalize_answer(std::string_view text);

// True if the normalised final answers are equal (and not both empty).
bool exact_match(std::string_view response, std::string_view reference);

// For GSM8K-style references ("reasoning #### 42") and replies: the first number after the last
// "####" of each text, or, where a text has no "####", its last number; true when both have
// one and they are equal as canonical numbers ("1,234.0" == "1234"). No number: false.
bool gsm8k_match(std::string_view response, std::string_view reference);

}  // namespace gptcu
