#!/usr/bin/env bash
# test/cli/prepare.sh GPTCU: `gptcu data prepare` into token shards, then pretraining on them.
#   - a generated corpus prepared with a small saved tokenizer (bytes + the 100 digit pairs):
#     meta.json, the report, the shards, the tokenizer beside them (chat specials added);
#   - `gptcu pretrain` with data.path = that directory: the prepared tokenizer is the run's,
#     saved in RUN/ and in every checkpoint; --stop-after + --resume continue the run;
#   - `gptcu sample --checkpoint` decodes with the checkpoint's own tokenizer, even after the
#     prepared directory and the tokenizer files are gone;
#   - one-line errors: no inputs, a missing input, an unrelated non-empty output directory (left
#     untouched), nothing left after filtering, a strict-mode bad line, pretraining on a
#     preference directory.
#   bash test/cli/prepare.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

note "prepare a generated corpus"
run_ok synth.log "$GPTCU" data synth --out corpus.txt --lines 2000 --seed 3
python3 - <<'PY'
import base64, json
ranks = [bytes([b]) for b in range(256)] + [f"{i:02d}".encode() for i in range(100)]
with open("digits.tiktoken", "w") as f:
    for r, tok in enumerate(ranks):
        f.write(f"{base64.b64encode(tok).decode()} {r}\n")
json.dump({"pat_str": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
           "special_tokens": {"<|endoftext|>": 356}}, open("digits.meta.json", "w"))
PY
run_ok prep.log "$GPTCU" data prepare --input corpus.txt --out prepared --tokenizer digits.tiktoken \
  --set prepare.text_unit=line
grep -q "report (text)" prep.log || { show_file prep.log; fail "no report table"; }
grep -q "^wrote prepared" prep.log || { show_file prep.log; fail "no 'wrote prepared' line"; }
for f in meta.json tokenizer.tiktoken tokenizer.meta.json train_000000.bin val_000000.bin; do
  [[ -f prepared/$f ]] || fail "prepared/$f is missing"
done
python3 - prepared/meta.json <<'PY' || fail "prepared/meta.json is not what was expected"
import json, sys
m = json.load(open(sys.argv[1]))
r = m["report"]
problems = []
if m["kind"] != "text": problems.append(f"kind {m['kind']}")
if m["vocab_size"] != 362: problems.append(f"vocab_size {m['vocab_size']} (356 ranks + eot + 5 chat specials)")
if m["special_tokens"].get("<|endoftext|>") != 356: problems.append("<|endoftext|> is not 356")
if r["records_read"] != 2000: problems.append(f"records_read {r['records_read']}")
if r["exact_duplicates"] < 50: problems.append(f"only {r['exact_duplicates']} exact duplicates among 2000 sums of two numbers < 100")
kept = m["splits"]["train"]["records"] + m["splits"]["val"]["records"]
dropped = sum(r[k] for k in ("exact_duplicates", "near_duplicates", "too_short", "repetitive", "over_max_tokens"))
if kept + dropped != 2000: problems.append(f"{kept} kept + {dropped} dropped != 2000 read")
if not 0.05 < m["splits"]["val"]["records"] / kept < 0.15: problems.append("val is not about 10%")
if problems: sys.exit("; ".join(problems))
PY
pass "prepared: $(grep -E 'train records|val records' prep.log | tr -s ' ' | tr '\n' ';')"
run_ok prep2.log "$GPTCU" data prepare --input corpus.txt --out prepared --tokenizer digits.tiktoken \
  --set prepare.text_unit=line
pass "preparing again over a prepared directory replaces it"

note "pretrain on the prepared directory, stop at 20, resume to 30"
tiny_config cfg.yaml "$WORK/prepared" "$WORK/run"
run_ok train1.log "$GPTCU" pretrain --config cfg.yaml --set train.max_steps=30 --stop-after 20
train_tokens=$(python3 -c 'import json; print(json.load(open("prepared/meta.json"))["splits"]["train"]["tokens"])')
grep -qF "data: $WORK/prepared | $train_tokens train tokens" train1.log ||
  { show_file train1.log; fail "the log does not say it trains on the $train_tokens tokens of prepared/"; }
grep -qF "(362 ids)" train1.log || { show_file train1.log; fail "the run does not use the prepared tokenizer (362 ids)"; }
same_file prepared/tokenizer.tiktoken run/tokenizer.tiktoken "the run's tokenizer"
ckpt=run/checkpoints/step_00000020
[[ -f $ckpt/tokenizer.tiktoken && -f $ckpt/tokenizer.meta.json ]] || fail "$ckpt has no tokenizer.tiktoken/.meta.json"
same_file prepared/tokenizer.tiktoken $ckpt/tokenizer.tiktoken "the checkpoint's tokenizer"
pass "the run and its checkpoint carry the prepared tokenizer"
run_ok train2.log "$GPTCU" pretrain --config cfg.yaml --set train.max_steps=30 --resume
grep -q "step_00000020" train2.log || { show_file train2.log; fail "--resume does not say it continues from step_00000020"; }
check_steps run 30
[[ -f run/checkpoints/step_00000030/tokenizer.tiktoken ]] || fail "the resumed run's checkpoint has no tokenizer"
pass "--resume continued to step 30"

note "sample from the checkpoint alone"
rm -rf prepared digits.tiktoken digits.meta.json run/tokenizer.tiktoken run/tokenizer.meta.json
"$GPTCU" sample --checkpoint run --prompt "12+" --max-new-tokens 12 --temperature 0 >sample.txt 2>sample.err ||
  { show_file sample.err stderr; fail "gptcu sample --checkpoint run failed without the prepared directory"; }
[[ "$(head -c 3 sample.txt)" == "12+" ]] || { show_file sample.txt; fail "the sample does not start with the prompt"; }
# The model may stop at <|endoftext|> (id 356 of the saved tokenizer); sample does not print the stop token.
python3 - corpus.txt sample.txt <<'PY' || fail "the greedy sample has bytes that are not in the corpus"
import sys
seen = set(open(sys.argv[1], "rb").read()) | {ord("\n")}
bad = sorted(set(open(sys.argv[2], "rb").read().replace(b"<|endoftext|>", b"")) - seen)
if bad:
    sys.exit(f"bytes {bad} are not in the corpus")
PY
pass "sample: $(head -1 sample.txt)"

note "errors"
expect_error "prepare with no inputs" "no inputs" -- "$GPTCU" data prepare --out out1 --tokenizer byte
expect_error "prepare with a missing input" "nope.txt" -- \
  "$GPTCU" data prepare --input nope.txt --out out2 --tokenizer byte
[[ ! -e out1 && ! -e out2 ]] || fail "a failed prepare created its output directory"
mkdir mine && echo precious >mine/notes.txt
expect_error "prepare into an unrelated non-empty directory" "mine" "meta.json" -- \
  "$GPTCU" data prepare --input corpus.txt --out mine --tokenizer byte
[[ "$(ls -A mine)" == "notes.txt" && "$(cat mine/notes.txt)" == precious ]] || fail "mine/ was changed"
expect_error "nothing left after filtering" "nothing left to write" -- \
  "$GPTCU" data prepare --input corpus.txt --out out3 --tokenizer byte --set prepare.min_chars=1000000
printf '{"text": "fine"}\n{"text": \n' >bad.jsonl
expect_error "a bad line in strict mode" "bad.jsonl:2" -- \
  "$GPTCU" data prepare --input bad.jsonl --out out4 --tokenizer byte --strict
ls -a | grep -qE '\.(tmp|old)-' && fail "temporary directories were left behind: $(ls -a | grep -E '\.(tmp|old)-')"
pass "no temporary directories left behind"

python3 -c '
import json
for i in range(40):
    print(json.dumps({"prompt": f"What is {i} + {i}?", "chosen": str(2 * i), "rejected": "no idea"}))' >prefs.jsonl
run_ok prefs.log "$GPTCU" data prepare --input prefs.jsonl --out prefs --tokenizer byte
[[ $(json_field prefs/meta.json kind) == preference ]] || fail "prefs/ is not a preference directory"
expect_error "pretrain on a preference directory" "prefs" "preference" -- \
  "$GPTCU" pretrain --config cfg.yaml --set data.path="$WORK/prefs" --set run.dir="$WORK/run_prefs"

echo "PASS: prepare.sh"
