#!/usr/bin/env bash
# test/cli/task.sh GPTCU: `gptcu data task` writes the generated post-training task, and
# `gptcu data prepare` reads each of its files as the right kind of record.
#   - the five files with the counts asked for, the report printed; the same seed gives the same
#     bytes, another seed other ones; --kinds and --zh-fraction are obeyed;
#   - no rl_test prompt appears in pretrain/sft/prefs/rl_train; chosen != rejected;
#   - prepare with the byte tokenizer and a 64-token block: text, dialogue, preference,
#     rl_prompt, nothing malformed, missing or too long;
#   - one-line errors: an unknown kind, a fraction out of range, a problem space too small.
#   bash test/cli/task.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

counts=(--pretrain 1200 --sft 600 --prefs 300 --rl-train 300 --rl-test 100)

note "write the task"
run_ok task.log "$GPTCU" data task --out task --seed 5 "${counts[@]}"
grep -q "^wrote task" task.log || { show_file task.log; fail "no 'wrote task' line"; }
grep -q "languages: en [0-9]* zh [0-9]*" task.log || { show_file task.log; fail "no languages line"; }
for f in pretrain:1200 sft:600 prefs:300 rl_train:300 rl_test:100; do
  n=${f%%:*} want=${f##*:}
  [[ -s task/$n.jsonl ]] || fail "task/$n.jsonl is missing or empty"
  if [[ $n == pretrain ]]; then
    grep -q "task/pretrain.jsonl: [0-9]* records ($want problems)" task.log || { show_file task.log; fail "pretrain: not $want problems"; }
  else
    got=$(wc -l <"task/$n.jsonl")
    [[ $got -eq $want ]] || fail "task/$n.jsonl has $got lines, expected $want"
  fi
done
pass "five files: $(grep -c . task/*.jsonl | tr '\n' ' ')"

run_ok again.log "$GPTCU" data task --out again --seed 5 "${counts[@]}"
run_ok other.log "$GPTCU" data task --out other --seed 6 "${counts[@]}"
for n in pretrain sft prefs rl_train rl_test; do
  same_file task/$n.jsonl again/$n.jsonl "the same seed"
  cmp -s task/$n.jsonl other/$n.jsonl && fail "seeds 5 and 6 wrote the same $n.jsonl"
done
pass "the same seed writes the same bytes, another seed other ones"

python3 - task <<'PY' || fail "the task files are not what was expected"
import json, sys, os
d = sys.argv[1]
load = lambda n: [json.loads(l) for l in open(os.path.join(d, n + ".jsonl"))]
train = set()
lines = set()
for r in load("pretrain"):
    lines.update(r["text"].split("\n"))
for r in load("sft"):
    assert [m["role"] for m in r["messages"]] == ["user", "assistant"], r
    train.add(r["messages"][0]["content"])
for r in load("prefs"):
    assert r["chosen"] != r["rejected"], r
    train.add(r["prompt"])
for r in load("rl_train"):
    assert r["answer"], r
    train.add(r["prompt"])
test = load("rl_test")
assert len({r["prompt"] for r in test}) == len(test), "a test prompt twice"
for r in test:
    p, a = r["prompt"], r["answer"]
    assert p not in train, f"test prompt {p!r} in a training file"
    for line in (p, "Q: " + p, "问: " + p, p + " Answer: " + a, p + " 答案: " + a):
        assert line not in lines, f"test problem {line!r} in pretrain.jsonl"
cjk = sum(any(ord(c) > 0x2000 for c in r["prompt"]) for r in test)
assert 0.25 < cjk / len(test) < 0.75, f"{cjk} of {len(test)} test prompts are Chinese"
PY
pass "rl_test prompts appear in no training file; chosen != rejected; both languages"

run_ok kinds.log "$GPTCU" data task --out kinds --kinds add,reverse --zh-fraction 0 --max-operand 9 \
  --pretrain 50 --sft 50 --prefs 50 --rl-train 50 --rl-test 10
grep -q "kinds: add [0-9]* reverse [0-9]*$" kinds.log || { show_file kinds.log; fail "--kinds add,reverse not obeyed"; }
grep -q "languages: en [0-9]*$" kinds.log || { show_file kinds.log; fail "--zh-fraction 0 not obeyed"; }
LC_ALL=C grep -qP '[\x80-\xff]' kinds/*.jsonl && fail "--zh-fraction 0 wrote non-ASCII text"
pass "--kinds add,reverse --zh-fraction 0: $(grep kinds: kinds.log)"

note "prepare each file"
for f in pretrain:text sft:dialogue prefs:preference rl_train:rl_prompt rl_test:rl_prompt; do
  n=${f%%:*} kind=${f##*:}
  run_ok "prep_$n.log" "$GPTCU" data prepare --input "task/$n.jsonl" --kind "$kind" --out "prep_$n" \
    --tokenizer byte --strict --set model.block_size=64
  python3 - "prep_$n/meta.json" "$kind" <<'PY' || fail "prepare of task/$n.jsonl: unexpected meta.json"
import json, sys
m, kind = json.load(open(sys.argv[1])), sys.argv[2]
r = m["report"]
problems = []
if m["kind"] != kind: problems.append(f"kind {m['kind']}, expected {kind}")
for k in ("malformed", "missing_fields", "other_kind", "over_max_tokens", "changed_by_cleaning"):
    if r[k]: problems.append(f"{k} {r[k]}")
kept = m["splits"]["train"]["records"] + m["splits"]["val"]["records"]
if kept < 0.85 * r["records_read"]: problems.append(f"only {kept} of {r['records_read']} kept")
if problems: sys.exit("; ".join(problems))
PY
  pass "$n.jsonl -> $kind: $(grep -E 'records read|train records' "prep_$n.log" | tr -s ' ' | tr '\n' ';')"
done

note "errors"
expect_error "unknown kind" "divide" -- "$GPTCU" data task --out bad --kinds add,divide
expect_error "zh fraction out of range" "zh fraction" -- "$GPTCU" data task --out bad --zh-fraction 1.5
expect_error "too few problems" "too few" "rl_test.jsonl" -- "$GPTCU" data task --out bad --kinds add \
  --max-operand 1 --pretrain 0 --sft 0 --prefs 0 --rl-train 0 --rl-test 50
echo "all task checks passed"
