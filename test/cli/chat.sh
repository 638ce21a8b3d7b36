#!/usr/bin/env bash
# test/cli/chat.sh GPTCU: `gptcu chat` with lines piped in, on a tiny model (byte tokenizer with
# the chat tokens, context 64, a few training steps):
#   - replies go to stdout, notes to stderr; no "> " prompt when stdin is not a terminal;
#     end of input exits 0;
#   - greedy: "/reset" between two equal messages gives two equal replies, and without it the
#     second reply differs (the history is in the context); the same seed reproduces a sampled
#     conversation;
#   - /quit stops reading; /system and /help answer with a note; an unknown command is named;
#   - long messages fill the context: the oldest turns are dropped and a line says so;
#   - one-line errors: a missing checkpoint, --max-new-tokens beyond the context.
#   bash test/cli/chat.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
run_ok train.log "$GPTCU" pretrain --config cfg.yaml --set model.block_size=64 --set train.max_steps=120 \
  --set train.eval_every=0
pass "a tiny model (context 64, 120 steps)"

# chat_ok NAME INPUT ARGS...: pipes INPUT into gptcu chat; NAME.out / NAME.err; exit 0, no crash
chat_ok() {
  local name="$1" input="$2"
  shift 2
  printf '%b' "$input" | "$GPTCU" chat --checkpoint run "$@" >"$name.out" 2>"$name.err"
  local rc=$?
  DESC="chat $name"
  no_crash "$name.out" "$name.err"
  [[ $rc -eq 0 ]] || { show_file "$name.err" stderr; fail "chat $name: exit code $rc"; }
}

note "replies, /reset, notes"
chat_ok greedy 'the cat\n/reset\nthe cat\n' --temperature 0 --max-new-tokens 12
out=$(cat greedy.out)
[[ -n "${out//[$'\n']/}" ]] || fail "greedy: no reply on stdout"
[[ "$out" != "> "* ]] || fail "greedy: a '> ' prompt although stdin is not a terminal"
half=$(($(wc -c <greedy.out) / 2))
[[ $(head -c $half greedy.out) == "$(tail -c $half greedy.out)" ]] ||
  { show_file greedy.out; fail "greedy: the reply after /reset differs from the first"; }
grep -q "conversation cleared" greedy.err || fail "greedy: no note for /reset"
chat_ok history 'the cat\nthe cat\n' --temperature 0 --max-new-tokens 12
half=$(($(wc -c <history.out) / 2))
[[ $(head -c $half history.out) != "$(tail -c $half history.out)" ]] ||
  { show_file history.out; fail "history: the second reply ignores the first turn"; }
grep -q "context 64 tokens" greedy.err || fail "greedy: no banner with the context"
pass "greedy replies, /reset starts over: $(head -c 40 greedy.out | tr '\n' ' ')"

chat_ok sampled 'the cat\na dog\n/system Be brief.\nthe king\n/help\n/nope\n' --seed 5 --max-new-tokens 10
chat_ok sampled2 'the cat\na dog\n/system Be brief.\nthe king\n/help\n/nope\n' --seed 5 --max-new-tokens 10
same_file sampled.out sampled2.out "the same seed"
chat_ok sampled3 'the cat\na dog\n/system Be brief.\nthe king\n/help\n/nope\n' --seed 6 --max-new-tokens 10
cmp -s sampled.out sampled3.out && fail "seeds 5 and 6 gave the same conversation"
for w in "system message set" "commands:" "/reset" "unknown command /nope"; do
  grep -qF -- "$w" sampled.err || { show_file sampled.err; fail "sampled: stderr does not mention '$w'"; }
done
pass "sampled conversation reproducible by seed; /system, /help, unknown command noted"

chat_ok quit 'the cat\n/quit\na dog\n' --temperature 0 --max-new-tokens 12
chat_ok one 'the cat\n' --temperature 0 --max-new-tokens 12
same_file quit.out one.out "/quit stops reading"
pass "/quit"

note "a full context drops the oldest turns"
long='the cat sees the fish and the dog likes the ball.'  # 49 bytes: two turns do not fit in 64
chat_ok full "$long\n$long\n$long\n" --system "sys" --max-new-tokens 4
grep -q "context full: dropped the" full.err || { show_file full.err; fail "no note about dropped turns"; }
grep -q "system message stays" full.err || fail "the note does not say the system message stays"
pass "$(grep -m1 'context full' full.err)"

note "errors"
expect_error "missing checkpoint" "nowhere" -- "$GPTCU" chat --checkpoint nowhere
expect_error "--max-new-tokens beyond the context" "--max-new-tokens" "64" -- "$GPTCU" chat --checkpoint run --max-new-tokens 64
echo "all chat checks passed"
