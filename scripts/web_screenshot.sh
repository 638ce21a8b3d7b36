#!/usr/bin/env bash
# scripts/web_screenshot.sh CHECKPOINT OUT.png [PROMPT]: a screenshot of the web chat of
# `gptcu serve` with a reply, taken by Debian's chromium in headless mode.
#
#   scripts/web_screenshot.sh runs/task/sft docs/web_chat.png "What is 12 + 35?"
#
# Starts `gptcu serve` (GPTCU=build/gptcu by default) on a free loopback port, opens
# /?prompt=PROMPT&temperature=0 in headless chromium (the page sends the prompt on load and
# streams the reply), waits until the page shows the finished reply, prints it and saves the
# screenshot (scripts/cdp_screenshot.py); then stops the server.
# Env: GPTCU, CHROMIUM (default chromium), SIZE (default 900x600).
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 CHECKPOINT OUT.png [PROMPT]" >&2
  exit 2
fi
CHECKPOINT="$1" OUT="$2" PROMPT="${3:-What is 12 + 35?}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GPTCU="${GPTCU:-$REPO/build/gptcu}"
CHROMIUM="${CHROMIUM:-chromium}"
SIZE="${SIZE:-900x600}"
[[ -x "$GPTCU" ]] || { echo "error: $GPTCU is not built (cmake --build build --target gptcu)" >&2; exit 1; }
command -v "$CHROMIUM" >/dev/null || { echo "error: $CHROMIUM not found (apt-get install chromium)" >&2; exit 1; }

TMP="$(mktemp -d)"
: >"$TMP/server.log"
"$GPTCU" serve --checkpoint "$CHECKPOINT" --port 0 2>"$TMP/server.log" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=""
for _ in $(seq 300); do
  PORT=$(sed -n 's|.* on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/server.log" || true)
  [[ -n $PORT ]] && break
  kill -0 $SERVER 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { echo "error: the server did not start" >&2; exit 1; }
QUERY=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"prompt": sys.argv[1], "temperature": 0}))' "$PROMPT")
URL="http://127.0.0.1:$PORT/?$QUERY"
# chromium's own --screenshot does not wait for the streamed reply (virtual time ends first),
# so scripts/cdp_screenshot.py drives it over the DevTools protocol until the reply's
# "finish: ..." line shows
reply=$(python3 "$REPO/scripts/cdp_screenshot.py" "$URL" "$OUT" --chromium "$CHROMIUM" --size "$SIZE" --timeout 120 \
  --until "document.querySelector('#log .meta, #log .error') !== null" \
  --text "[...document.querySelectorAll('#log .assistant, #log .error')].map(e => e.textContent).join(' | ')")
[[ -s "$OUT" ]] || { echo "error: no screenshot written" >&2; exit 1; }
grep -q "POST /v1/chat/completions 200" "$TMP/server.log" || { echo "error: the page's request failed:" >&2; tail -3 "$TMP/server.log" >&2; exit 1; }
echo "reply: $reply"
echo "wrote $OUT ($(wc -c <"$OUT") bytes): $PROMPT"
