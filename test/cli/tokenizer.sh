#!/usr/bin/env bash
# test/cli/tokenizer.sh GPTCU: `gptcu tokenizer encode|decode` round-trips text with the byte
# tokenizer and with a tiny saved (.tiktoken + .meta.json) tokenizer, gives the ids worked out
# by hand, the same ids on several threads, and one-line errors for bad input.
#   bash test/cli/tokenizer.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

# round_trip TOKENIZER FILE [ENCODE FLAGS...]: encode FILE, decode the ids, compare bytes.
round_trip() {
  local tok="$1" file="$2"
  shift 2
  run_ok ids.txt "$GPTCU" tokenizer encode --tokenizer "$tok" "$@" <"$file"
  [[ $(wc -l <ids.txt) -eq 1 ]] || { show_file ids.txt; fail "encode printed more than one line"; }
  "$GPTCU" tokenizer decode --tokenizer "$tok" <ids.txt >back.bin 2>err.txt || { show_file err.txt; fail "decode failed"; }
  same_file "$file" back.bin "decode(encode($file)) with $tok $*"
  pass "round trip of $file ($(wc -c <"$file") bytes, $(wc -w <ids.txt) ids) with $tok $*"
}

note "byte tokenizer"
printf 'Hello, 世界! 👋\n\ttabs  and\r\nCRLF' >text.txt
round_trip byte text.txt
printf 'bad \xff\xfe utf-8 \xe4\xb8' >invalid.bin
round_trip byte invalid.bin
printf 'hi' | "$GPTCU" tokenizer encode --tokenizer byte >hi.txt
[[ "$(cat hi.txt)" == "104 105" ]] || fail "byte encode of 'hi' is '$(cat hi.txt)', expected '104 105'"
pass "byte encode of 'hi' is 104 105"

note "a tiny saved tokenizer: the bytes, then 'ab' 256, 'cd' 257, 'abcd' 258"
python3 - <<'PY'
import base64, json
ranks = [bytes([b]) for b in range(256)] + [b"ab", b"cd", b"abcd"]
with open("tiny.tiktoken", "w") as f:
    for r, tok in enumerate(ranks):
        f.write(f"{base64.b64encode(tok).decode()} {r}\n")
json.dump({"pat_str": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
           "special_tokens": {"<|endoftext|>": 259}}, open("tiny.meta.json", "w"))
PY
printf 'abcde<|endoftext|>' | "$GPTCU" tokenizer encode --tokenizer tiny.tiktoken --allow-special >special.txt
[[ "$(cat special.txt)" == "258 101 259" ]] || fail "tiny encode with --allow-special gives '$(cat special.txt)', expected '258 101 259'"
pass "tiny encode of 'abcde<|endoftext|>' with --allow-special is 258 101 259"
printf 'abcde<|endoftext|>' | "$GPTCU" tokenizer encode --tokenizer tiny >plain.txt
grep -qw 259 plain.txt && fail "without --allow-special <|endoftext|> must be plain text: $(cat plain.txt)"
pass "without --allow-special <|endoftext|> is plain text (spec 'tiny' finds tiny.tiktoken)"
python3 -c 'import random; r = random.Random(3); print("".join(r.choice("abcd \n世界") for _ in range(20000)))' >big.txt
round_trip tiny.tiktoken big.txt
cp ids.txt ids1.txt
run_ok ids3.txt "$GPTCU" tokenizer encode --tokenizer tiny.tiktoken --threads 3 <big.txt
same_file ids1.txt ids3.txt "encode --threads 3 vs --threads 1"
pass "--threads 3 gives the ids of one thread"

note "errors"
expect_error "missing tokenizer file" "no_such.tiktoken" -- "$GPTCU" tokenizer encode --tokenizer no_such.tiktoken <text.txt
echo "104 999999 105" >bad_ids.txt
expect_error "unknown token id" "999999" -- "$GPTCU" tokenizer decode --tokenizer byte <bad_ids.txt
echo "104 abc" >nan_ids.txt
expect_error "a token id that is not a number" "abc" -- "$GPTCU" tokenizer decode --tokenizer byte <nan_ids.txt
sed '3s/.*/Ag== two/' tiny.tiktoken >broken.tiktoken
cp tiny.meta.json broken.meta.json
expect_error "a broken .tiktoken line" "broken.tiktoken:3" "two" -- "$GPTCU" tokenizer encode --tokenizer broken.tiktoken <text.txt
cp tiny.tiktoken lonely.tiktoken
expect_error ".tiktoken without its .meta.json" "lonely.meta.json" -- "$GPTCU" tokenizer encode --tokenizer lonely.tiktoken <text.txt
expect_error "bench on a missing input" "no_such_input.txt" -- \
  "$GPTCU" tokenizer bench --tokenizer byte --input no_such_input.txt --repeat 1

echo "PASS: tokenizer.sh"
