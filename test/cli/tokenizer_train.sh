#!/usr/bin/env bash
# test/cli/tokenizer_train.sh GPTCU: `gptcu tokenizer train` on a tiny generated corpus (plain
# text, JSONL with a malformed line, gzip): the files are written, the specials get the ids after
# the ranks, the trained tokenizer compresses its corpus better than bytes and round-trips any
# bytes through `tokenizer encode|decode`, the same command gives byte-identical files (on any
# thread count), user mistakes are one-line errors, and, when python3 has tiktoken, tiktoken
# loads the files and gives the ids of `gptcu tokenizer encode`.
#   bash test/cli/tokenizer_train.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

note "a tiny corpus: English sentences, Chinese lines, JSONL (one malformed line), gzip"
make_corpus en.txt 400 1
python3 - <<'PY'
import gzip, json, random
r = random.Random(5)
chars = "春風明月山水花鳥雲天人歸來"
with open("zh.txt", "w") as f:
    for i in range(300):
        f.write("".join(r.choice(chars) for _ in range(5)) + "，" + "".join(r.choice(chars) for _ in range(5)) + "。\n")
        if i % 4 == 3:
            f.write("\n")
with open("docs.jsonl", "w") as f:
    for i in range(60):
        f.write(json.dumps({"text": f"document {i}: the king calls the queen {i % 7} times."}) + "\n")
    f.write('{"text": "not closed\n')
with gzip.open("more.txt.gz", "wt") as f:
    f.write("a dog finds a ball.\n\nmy friend likes the moon.\n" * 20)
PY
inputs=(en.txt zh.txt docs.jsonl more.txt.gz)

run_ok train1.log "$GPTCU" tokenizer train --input "${inputs[@]}" --vocab-size 300 --out out1/tiny --special "<|im_start|>" --special "<|im_end|>"
cat train1.log
for f in out1/tiny.tiktoken out1/tiny.meta.json; do [[ -s $f ]] || fail "$f was not written"; done
[[ $(wc -l <out1/tiny.tiktoken) -eq 300 ]] || fail "out1/tiny.tiktoken has $(wc -l <out1/tiny.tiktoken) lines, expected 300"
grep -q "trained 300 ranks + 3 special(s) = vocab size 303" train1.log || fail "no 'trained 300 ranks + 3 special(s)' line"
grep -q "skipped 1 malformed line(s).*docs.jsonl:61" train1.log || fail "the malformed line docs.jsonl:61 is not reported"
grep -q "bytes/token on the training text" train1.log || fail "no bytes/token line"
grep -q "^bpe-train: " train1.log || fail "no progress lines"
specials=$(python3 -c 'import json; print(json.load(open("out1/tiny.meta.json"))["special_tokens"])')
[[ "$specials" == "{'<|endoftext|>': 300, '<|im_start|>': 301, '<|im_end|>': 302}" ]] || fail "specials are $specials"
pass "300 ranks written, specials $specials, malformed line reported"

note "encode/decode with the trained tokenizer"
cat "${inputs[@]:0:2}" >corpus.txt
run_ok ids.txt "$GPTCU" tokenizer encode --tokenizer out1/tiny <corpus.txt
"$GPTCU" tokenizer decode --tokenizer out1/tiny <ids.txt >back.txt || fail "decode failed"
same_file corpus.txt back.txt "decode(encode(corpus))"
ntok=$(wc -w <ids.txt)
nbytes=$(wc -c <corpus.txt)
[[ $((ntok * 4)) -lt $((nbytes * 3)) ]] || fail "$ntok tokens for $nbytes bytes: the trained merges should save a quarter of them"
pass "round trip of the corpus: $nbytes bytes -> $ntok tokens"
printf 'unseen: Ωμέγα 👋 \xff\xfe bytes\r\n<|im_start|>' >odd.bin
run_ok odd_ids.txt "$GPTCU" tokenizer encode --tokenizer out1/tiny.tiktoken <odd.bin
"$GPTCU" tokenizer decode --tokenizer out1/tiny.tiktoken <odd_ids.txt >odd_back.bin || fail "decode failed"
same_file odd.bin odd_back.bin "decode(encode(unseen text and invalid UTF-8))"
printf '<|im_end|>' | "$GPTCU" tokenizer encode --tokenizer out1/tiny --allow-special >sp.txt
[[ "$(cat sp.txt)" == "302" ]] || fail "<|im_end|> with --allow-special encodes to '$(cat sp.txt)', expected 302"
pass "unseen text and invalid UTF-8 round-trip; <|im_end|> is 302"

note "determinism: the same command twice, and on another thread count"
run_ok train2.log "$GPTCU" tokenizer train --input "${inputs[@]}" --vocab-size 300 --out out2/tiny --special "<|im_start|>" --special "<|im_end|>"
run_ok train3.log "$GPTCU" tokenizer train --input "${inputs[@]}" --vocab-size 300 --out out3/tiny --special "<|im_start|>" --special "<|im_end|>" --threads 3
for ext in tiktoken meta.json; do
  same_file out1/tiny.$ext out2/tiny.$ext "the same command twice"
  same_file out1/tiny.$ext out3/tiny.$ext "--threads 3 vs all cores"
done
pass "byte-identical files from the same command twice and from --threads 3"

note "options: --pattern, --text-unit, --min-pair-count"
run_ok gpt2.log "$GPTCU" tokenizer train --input en.txt --vocab-size 280 --out gpt2/t --pattern gpt2
[[ "$(json_field gpt2/t.meta.json pat_str)" == "$(json_field out1/tiny.meta.json pat_str)" ]] &&
  fail "--pattern gpt2 wrote the cl100k pattern"
run_ok space.log "$GPTCU" tokenizer train --input en.txt --vocab-size 280 --out space/t --pattern '[^ ]+| +'
[[ "$(json_field space/t.meta.json pat_str)" == "[^ ]+| +" ]] || fail "--pattern REGEX is not saved as the pat_str"
# With pieces "the cat sees the fish.\n..." cut only at spaces, a token may span a newline.
python3 - <<'PY' || fail "the space-only pattern learned no token across a newline"
import base64
toks = [base64.b64decode(l.split()[0]) for l in open("space/t.tiktoken")]
assert any(b"\n" in t and len(t) > 1 for t in toks)
PY
pass "--pattern gpt2 and --pattern REGEX are used and saved"
run_ok early.log "$GPTCU" tokenizer train --input en.txt --vocab-size 5000 --out early/t --min-pair-count 50
grep -q "^stopped at [0-9]* ranks: no pair occurs 50 times or more" early.log || { show_file early.log; fail "no early stop note"; }
n=$(wc -l <early/t.tiktoken)
[[ $n -gt 256 && $n -lt 5000 ]] || fail "--min-pair-count 50 gave $n ranks"
pass "--min-pair-count 50 stops at $n ranks"
run_ok unit.log "$GPTCU" tokenizer train --input zh.txt --vocab-size 300 --out unit/t --text-unit line
grep -q "^300 documents" unit.log || { show_file unit.log; fail "--text-unit line: expected 300 documents"; }
run_ok unit2.log "$GPTCU" tokenizer train --input zh.txt --vocab-size 300 --out unit/t --text-unit file
grep -q "^1 documents" unit2.log || { show_file unit2.log; fail "--text-unit file: expected 1 document"; }
pass "--text-unit line gives 300 documents, file gives 1"

note "errors"
expect_error "no --input" "--input" -- "$GPTCU" tokenizer train --vocab-size 300 --out e/t
expect_error "a missing input file" "no_such.txt" -- "$GPTCU" tokenizer train --input en.txt no_such.txt --vocab-size 300 --out e/t
expect_error "--vocab-size below 256" "--vocab-size" "255" -- "$GPTCU" tokenizer train --input en.txt --vocab-size 255 --out e/t
expect_error "a regex that does not compile" "regex" -- "$GPTCU" tokenizer train --input en.txt --vocab-size 300 --out e/t --pattern '(\p{L}+'
expect_error "a duplicate --special" "<|im_start|>" "twice" -- \
  "$GPTCU" tokenizer train --input en.txt --vocab-size 300 --out e/t --special "<|im_start|>" --special "<|im_start|>"
expect_error "--special <|endoftext|>" "<|endoftext|>" -- "$GPTCU" tokenizer train --input en.txt --vocab-size 300 --out e/t --special "<|endoftext|>"
printf '\n  \n\n' >blank.txt
echo '{"nope": 1}' >shapeless.jsonl
expect_error "inputs with no documents" "no documents" -- "$GPTCU" tokenizer train --input blank.txt shapeless.jsonl --vocab-size 300 --out e/t
[[ ! -e e ]] || fail "a failed run left e/ behind"
pass "no output directory after the failures"

note "Python tiktoken reads the files"
if python3 -c 'import tiktoken' 2>/dev/null; then
  printf 'the king calls the queen.\n' >s1.txt
  printf '春風明月，山水花鳥。\n\nmy friend 7 times' >s2.txt
  printf 'unseen: Ωμέγα 👋 \r\n<|im_start|>\t 1234567' >s3.txt
  for s in s1.txt s2.txt s3.txt corpus.txt; do
    run_ok "$s.ids" "$GPTCU" tokenizer encode --tokenizer out1/tiny <"$s"
    python3 - "$s" <<'PY' || fail "tiktoken disagrees with gptcu on $s"
import json, sys
import tiktoken
from tiktoken.load import load_tiktoken_bpe
meta = json.load(open("out1/tiny.meta.json"))
enc = tiktoken.Encoding(name="tiny", pat_str=meta["pat_str"], mergeable_ranks=load_tiktoken_bpe("out1/tiny.tiktoken"),
                        special_tokens=meta["special_tokens"])
path = sys.argv[1]
data = open(path, "rb").read()
ids = enc.encode_ordinary(data.decode("utf-8"))
want = [int(x) for x in open(path + ".ids").read().split()]
if ids != want:
    sys.exit(f"{path}: tiktoken {ids[:20]}... vs gptcu {want[:20]}...")
assert enc.decode_bytes(ids) == data
assert enc.encode("<|im_end|>", allowed_special="all") == [302]
PY
  done
  pass "tiktoken loads out1/tiny.tiktoken + meta and gives gptcu's ids on 4 texts"
else
  echo "note: python3 has no tiktoken: skipped the tiktoken check (pip install tiktoken to run it)"
fi

echo "PASS: tokenizer_train.sh"
