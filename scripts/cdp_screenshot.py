#!/usr/bin/env python3
"""scripts/cdp_screenshot.py: open a page in headless chromium, wait until a JavaScript condition
holds, save a PNG screenshot; through the DevTools protocol, with the standard library only.

    python3 scripts/cdp_screenshot.py URL OUT.png --until "document.querySelector('.meta') !== null" \
        [--text "document.querySelector('.assistant').textContent"] [--size 900x600] [--timeout 60]

Used by scripts/web_screenshot.sh: chromium's --screenshot with --virtual-time-budget does not
wait for a streamed fetch to end, so this drives the browser instead: it starts
`chromium --headless --remote-debugging-port=0`, connects to the page target over a WebSocket
(a minimal client below: text frames, masked as clients must, fragments joined), navigates,
polls the condition, prints the --text expression's value, and captures the screenshot.
Exits 1 with a one-line reason on a timeout or a browser failure.
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text messages both ways."""

    def __init__(self, url: str):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not m:
            raise RuntimeError(f"not a ws:// URL: {url}")
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("the browser closed the WebSocket handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"WebSocket handshake refused: {head.splitlines()[0]!r}")
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the WebSocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        header = bytes([0x81])  # FIN + text
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)  # servers do not mask
            opcode = b0 & 0x0F
            if opcode == 8:
                raise RuntimeError("the browser closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message.decode()
            # ping/pong frames: ignored


class Page:
    def __init__(self, ws_url: str):
        self.ws = WebSocket(ws_url)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # events arrive in between; skip them
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expression!r}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--until", required=True, help="a JavaScript expression; the screenshot waits until it is true")
    ap.add_argument("--text", help="a JavaScript expression whose value is printed once --until holds")
    ap.add_argument("--size", default="900x600")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    profile = tempfile.mkdtemp(prefix="cdp-profile-")
    browser = subprocess.Popen([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 30
        while port is None and time.time() < deadline:  # "DevTools listening on ws://127.0.0.1:PORT/..."
            line = browser.stderr.readline()
            if not line and browser.poll() is not None:
                raise RuntimeError(f"{args.chromium} exited with {browser.returncode}")
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            port = int(m.group(1)) if m else None
        if port is None:
            raise RuntimeError("chromium did not open its DevTools port")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = Page(next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"))
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        page.call("Page.enable")
        page.call("Page.navigate", url=args.url)
        deadline = time.time() + args.timeout
        while not page.evaluate(f"Boolean({args.until})"):
            if time.time() > deadline:
                raise RuntimeError(f"timed out after {args.timeout:g} s waiting for: {args.until}")
            time.sleep(0.2)
        if args.text:
            print(page.evaluate(args.text))
        png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        with open(args.out, "wb") as f:
            f.write(png)
        try:
            page.call("Browser.close")
        except RuntimeError:
            pass  # the browser went away while answering
    except Exception as e:  # a timeout, a browser or protocol failure: one line
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if browser.poll() is None:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
