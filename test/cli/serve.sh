#!/usr/bin/env bash
# test/cli/serve.sh GPTCU: `gptcu serve` on a tiny checkpoint (byte tokenizer with the chat
# tokens, context 64), on a free loopback port:
#   - GET /health, /v1/models and / (the web page); a chat completion (JSON shape, usage), the
#     same streamed (chunks ending with "data: [DONE]"), a text completion; a 400 for bad JSON;
#   - the official openai client (scripts/openai_client.py) when python3 can import openai;
#   - a second server on the same port: a one-line error; a missing checkpoint too;
#   - SIGTERM stops the server cleanly (exit 0, "stopped").
#   bash test/cli/serve.sh build/gptcu
# shellcheck source=test/cli/lib.sh
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
command -v curl >/dev/null || fail "curl is needed by this test"

make_corpus corpus.txt 100
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
run_ok train.log "$GPTCU" pretrain --config cfg.yaml --set model.block_size=64 --set train.max_steps=5 --set train.eval_every=0
pass "a tiny model (context 64)"

note "start the server on a free port"
"$GPTCU" serve --checkpoint run --port 0 --max-batch 4 >server.out 2>server.err &
SERVER=$!
stop_server() { kill -TERM "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
trap 'stop_server; rm -rf "$WORK"' EXIT
PORT=""
for _ in $(seq 100); do
  PORT=$(sed -n 's|.* on http://127.0.0.1:\([0-9]*\)/.*|\1|p' server.err)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER" 2>/dev/null || { show_file server.err; fail "the server exited"; }
  sleep 0.1
done
[[ -n $PORT ]] || { show_file server.err; fail "the server did not say its port"; }
BASE="http://127.0.0.1:$PORT"
pass "serving on $BASE"

# check_json FILE PYTHON_EXPR: the JSON in FILE (as j) satisfies the expression
check_json() {
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" ||
    { show_file "$1"; fail "$1: not true: $2"; }
}

note "routes"
curl -sf "$BASE/health" -o health.json || fail "GET /health failed"
check_json health.json 'j["status"] == "ok" and j["context"] == 64'
curl -sf "$BASE/v1/models" -o models.json || fail "GET /v1/models failed"
check_json models.json 'j["data"][0]["id"] == "run"'
curl -sf "$BASE/" -o page.html || fail "GET / failed"
grep -q "/v1/chat/completions" page.html || fail "the web page does not call /v1/chat/completions"
pass "health, models, web page"

chat='{"model": "run", "messages": [{"role": "user", "content": "the cat"}], "max_tokens": 8, "temperature": 0}'
curl -sf "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d "$chat" -o chat.json || fail "chat completion failed"
check_json chat.json 'j["object"] == "chat.completion" and isinstance(j["choices"][0]["message"]["content"], str) and j["choices"][0]["finish_reason"] in ("stop", "length") and 1 <= j["usage"]["completion_tokens"] <= 8'
pass "chat completion: $(cat chat.json)"
curl -sfN "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d "${chat%\}}, \"stream\": true}" -o stream.txt ||
  fail "streamed chat completion failed"
[[ $(tail -n 2 stream.txt | head -n 1) == "data: [DONE]" ]] || { show_file stream.txt; fail "the stream does not end with data: [DONE]"; }
grep -q '"object":"chat.completion.chunk"' stream.txt || fail "no chat.completion.chunk in the stream"
pass "streamed: $(grep -c '^data: ' stream.txt) events, ending with [DONE]"
curl -sf "$BASE/v1/completions" -d '{"prompt": "the cat", "max_tokens": 5}' -o text.json || fail "completion failed"
check_json text.json 'j["object"] == "text_completion" and j["usage"]["prompt_tokens"] == 7'
code=$(curl -s -o bad.json -w '%{http_code}' "$BASE/v1/chat/completions" -d '{"messages": [')
[[ $code == 400 ]] || fail "malformed JSON: HTTP $code, expected 400"
check_json bad.json '"message" in j["error"] and "type" in j["error"]'
pass "text completion; malformed JSON -> 400"

note "the openai client"
if python3 -c 'import openai' 2>/dev/null; then
  run_ok openai.log python3 "$REPO/scripts/openai_client.py" --base-url "$BASE/v1" --prompt "the cat" --max-tokens 8
  pass "$(tail -n 1 openai.log)"
else
  echo "skipped: openai not installed"
fi

note "errors"
expect_error "port in use" "$PORT" "in use" -- "$GPTCU" serve --checkpoint run --port "$PORT"
expect_error "missing checkpoint" "nowhere" -- "$GPTCU" serve --checkpoint nowhere --port 0

note "SIGTERM"
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
trap 'rm -rf "$WORK"' EXIT
[[ $rc -eq 0 ]] || { show_file server.err; fail "the server exited with $rc after SIGTERM"; }
grep -q "^stopped" server.err || { show_file server.err; fail "no 'stopped' line"; }
grep -q "POST /v1/chat/completions 200" server.err || fail "the server's log has no request lines"
pass "stopped cleanly: $(tail -n 2 server.err | tr '\n' ' ')"
echo "all serve checks passed"
