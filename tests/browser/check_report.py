#!/usr/bin/env python3
"""Check the HTML report in headless Chromium, over the DevTools protocol (stdlib only).

Usage: check_report.py CHROMIUM REPORT.html REPORT.json [--screenshot OUT.png]

REPORT.json holds the run's JSON reports (`--format json` output: one report, or the demo's array).
The checks are about what the page shows, not its source:
  - no console errors, no exceptions, and no Content-Security-Policy violation (the inline
    style and script are allowed by hash, so the policy blocks nothing of ours);
  - the script ran (the filter bar is shown) and the style applied (a FAIL badge is red);
  - every SP section's counts equal the JSON report's summary;
  - the verdict and family filters hide and show findings (a real mouse click, then more);
  - a decoded SAML assertion and a decoded JWT (header and claims) are visible once their
    transcript is opened;
  - with JavaScript off, the filters stay hidden and every finding is shown.
Exit 0 when every check passes, 1 with the failed checks listed otherwise, 2 on setup errors.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

DEADLINE = time.monotonic() + 120


class Cdp:
    """A minimal WebSocket client (RFC 6455, client side, text frames) speaking CDP."""

    def __init__(self, ws_url):
        assert ws_url.startswith("ws://")
        hostport, path = ws_url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"WebSocket handshake refused: {head[:200]!r}")
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            buf += chunk
        return buf

    def _send_frame(self, payload):
        data = payload.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _recv_message(self):
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):  # ping / pong: Chromium does not ping; ignore
                continue
            message += payload
            if b0 & 0x80:
                return json.loads(message.decode())

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self._send_frame(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            if time.monotonic() > DEADLINE:
                raise RuntimeError("the browser checks took longer than 120 s")
            msg = self._recv_message()
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for i, e in enumerate(self.events):
                if e["method"] == name:
                    return self.events.pop(i)
            msg = self._recv_message()
            if "method" in msg:
                self.events.append(msg)
        raise RuntimeError(f"no {name} within {timeout} s")

    def js(self, expression):
        r = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")


def json_reports(path):
    text = open(path, encoding="utf-8").read()
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        # `demo --format json` prints one array of reports; `run` one report.
        out.extend(obj if isinstance(obj, list) else [obj])


def start_browser(chromium, profile):
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "--window-size=1280,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(profile, "chromium.log"), "w"),
    )
    # Chromium writes the port it chose into DevToolsActivePort in the profile.
    port_file = os.path.join(profile, "DevToolsActivePort")
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if proc.poll() is not None:
            log = open(os.path.join(profile, "chromium.log")).read()
            raise RuntimeError(f"chromium exited: {log[-2000:]}")
        if time.monotonic() > DEADLINE:
            raise RuntimeError("chromium did not open its DevTools port")
        time.sleep(0.1)
    port = int(open(port_file).read().split()[0])
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return proc, pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("no page target in chromium")


# Collects CSP violations from the first moment of the document (DevTools-injected scripts
# are not subject to the page's policy).
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at line ' + e.lineNumber);
});
"""

VISIBLE = """(function (el) {
  if (!el) return false;
  var r = el.getBoundingClientRect();
  return el.checkVisibility() && r.width > 0 && r.height > 0;
})"""


def take_screenshot(cdp, path):
    """The second SP's section with only FAIL findings shown and the first one's transcript
    open at its decoded SAMLResponse: what a reviewer of a failing SP reads first."""
    clip = cdp.js(
        """(function () {
          ['PASS', 'SKIPPED', 'INCONCLUSIVE'].forEach(function (v) {
            var b = document.querySelector('#filters input[name=verdict][value=' + v + ']');
            if (b && b.checked) b.click();
          });
          var section = document.querySelectorAll('section.report')[1] || document.querySelector('section.report');
          var first = section.querySelector('.finding[data-verdict=FAIL]');
          if (first) {
            var t = first.querySelector('details.transcript');
            if (t) t.open = true;
          }
          var top = section.getBoundingClientRect().top + window.scrollY;
          var decoded = first && Array.from(first.querySelectorAll('.decoded.saml'))
            .filter(function (d) { return d.textContent.indexOf('SAMLResponse') >= 0; })[0];
          var end = decoded ? decoded.getBoundingClientRect().top + window.scrollY + 560 : top + 1400;
          return {x: 0, y: top - 8, width: document.documentElement.clientWidth,
                  height: Math.min(end - top, 2400), scale: 1};
        })()"""
    )
    data = cdp.call(
        "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
    )["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))


def main():
    args = sys.argv[1:]
    shot = None
    if "--screenshot" in args:
        i = args.index("--screenshot")
        shot = args[i + 1]
        del args[i : i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    chromium, html, json_path = args
    reports = json_reports(json_path)
    failures = []

    def check(ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            failures.append(what)

    profile = tempfile.mkdtemp(prefix="mitid-report-chromium.")
    proc = None
    try:
        proc, ws = start_browser(chromium, profile)
        cdp = Cdp(ws)
        cdp.call("Page.enable")
        cdp.call("Runtime.enable")
        cdp.call("Log.enable")
        cdp.call("Page.addScriptToEvaluateOnNewDocument", source=CSP_PROBE)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        cdp.call("Page.navigate", url="file://" + os.path.abspath(html))
        cdp.wait_event("Page.loadEventFired", timeout=60)

        # --- the page loaded cleanly
        csp = cdp.js("window.__csp")
        check(csp == [], f"the Content-Security-Policy blocked nothing ({csp})")
        check(
            cdp.js("!document.getElementById('filters').hidden"),
            "the inline script ran (the filter bar is shown)",
        )
        color = cdp.js(
            "getComputedStyle(document.querySelector('.finding .badge.v-fail, .badge.v-fail')).color"
        )
        check(
            color in ("rgb(179, 38, 30)", "rgb(255, 138, 128)"),
            f"the inline style applied (a FAIL badge is red: {color})",
        )
        check(
            cdp.js("document.querySelectorAll('script').length") == 1,
            "the page has exactly one script element (ours)",
        )

        # --- counts
        sections = cdp.js(
            """Array.from(document.querySelectorAll('section.report')).map(function (s) {
                 var c = {};
                 s.querySelectorAll('.counts li').forEach(function (li) {
                   c[li.dataset.verdict] = parseInt(li.querySelector('.n').textContent, 10);
                 });
                 return {sp: s.dataset.sp, counts: c,
                         findings: s.querySelectorAll('.finding').length};
               })"""
        )
        check(
            len(sections) == len(reports),
            f"one section per SP ({len(sections)} sections, {len(reports)} JSON reports)",
        )
        names = {"PASS": "passed", "FAIL": "failed", "WARN": "warned", "INCONCLUSIVE": "inconclusive", "SKIPPED": "skipped"}
        for sec, rep in zip(sections, reports):
            want = {v: rep["summary"][k] for v, k in names.items() if k in rep["summary"]}
            got = {v: sec["counts"].get(v) for v in want}
            check(
                sec["sp"] == rep["sp"] and got == want and sec["findings"] == len(rep["results"]),
                f"counts for {rep['sp'][:40]!r} match the JSON report ({got}, {sec['findings']} findings)",
            )

        # --- filters
        count_visible = """(function (sel) {
            return Array.from(document.querySelectorAll(sel)).filter(function (e) {
              return e.checkVisibility(); }).length; })"""
        total = cdp.js(f"{count_visible}('.finding')")
        fails = cdp.js(f"{count_visible}('.finding[data-verdict=FAIL]')")
        check(total > 0 and fails > 0, f"findings are shown ({total}, of which {fails} FAIL)")
        # A real click on the FAIL checkbox.
        box = cdp.js(
            """(function () { var b = document.querySelector('#filters input[name=verdict][value=FAIL]');
                 b.scrollIntoView({block: 'center'}); var r = b.getBoundingClientRect();
                 return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"""
        )
        for kind in ("mousePressed", "mouseReleased"):
            cdp.call(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )
        after = cdp.js(f"{count_visible}('.finding')")
        check(
            cdp.js(f"{count_visible}('.finding[data-verdict=FAIL]')") == 0
            and after == total - fails
            and cdp.js("document.getElementById('shown').textContent") == str(after),
            f"unticking FAIL hides the {fails} FAIL findings and only those ({after} left)",
        )
        cdp.js("document.querySelector('#filters input[name=verdict][value=FAIL]').click()")
        check(cdp.js(f"{count_visible}('.finding')") == total, "ticking FAIL again shows them again")
        family = cdp.js("document.querySelector('#filters input[name=family]').value")
        cdp.js("document.querySelector('#filters button[data-all=family][data-value=off]').click()")
        check(cdp.js(f"{count_visible}('.finding')") == 0, "family 'none' hides every finding")
        cdp.js(
            f"document.querySelector('#filters input[name=family][value={json.dumps(family)}]').click()"
        )
        fam_total = cdp.js(f"document.querySelectorAll('.finding[data-family={json.dumps(family)}]').length")
        fam_shown = cdp.js(f"{count_visible}('.finding')")
        check(
            fam_shown == fam_total > 0
            and cdp.js(f"{count_visible}('.finding:not([data-family={json.dumps(family)}])')") == 0,
            f"ticking one family ({family}) shows exactly its {fam_total} findings",
        )
        cdp.js("document.querySelector('#filters button[data-all=family][data-value=on]').click()")
        check(cdp.js(f"{count_visible}('.finding')") == total, "family 'all' shows every finding again")

        # --- decoded messages: open the first transcript that has one, then look.
        def reveal(selector, must_contain):
            return cdp.js(
                f"""(function () {{
                  var els = Array.from(document.querySelectorAll({json.dumps(selector)}))
                    .filter(function (e) {{ return e.textContent.indexOf({json.dumps(must_contain)}) >= 0; }});
                  if (!els.length) return null;
                  var el = els[0];
                  for (var d = el.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
                  el.scrollIntoView({{block: 'start'}});
                  return {{visible: {VISIBLE}(el), text: el.textContent.slice(0, 200000)}};
                }})()"""
            )

        saml = reveal(".decoded.saml", "<saml:Assertion")
        check(
            bool(saml) and saml["visible"] and "<saml:Subject" in saml["text"],
            "a decoded SAML assertion (plaintext, pretty-printed) is visible",
        )
        encrypted = reveal(".decoded.saml", "EncryptedAssertion")
        check(bool(encrypted) and encrypted["visible"], "a decoded Response with an EncryptedAssertion is visible")
        request = reveal(".decoded.saml", "<samlp:AuthnRequest")
        check(bool(request) and request["visible"], "a decoded AuthnRequest (Redirect binding) is visible")
        jwt = reveal(".decoded.jwt", '"alg"')
        check(
            bool(jwt) and jwt["visible"] and '"iss"' in jwt["text"] and '"sub"' in jwt["text"],
            "a decoded JWT (header and claims) is visible",
        )

        # --- screenshot: the flawed SP's failures, the first one's transcript open
        if shot:
            take_screenshot(cdp, shot)
            print(f"  screenshot written to {shot}")

        # --- without JavaScript: no filters, every finding shown, the note says so
        cdp.call("Emulation.setScriptExecutionDisabled", value=True)
        cdp.call("Page.navigate", url="file://" + os.path.abspath(html))
        cdp.wait_event("Page.loadEventFired", timeout=60)
        check(
            cdp.js("document.getElementById('filters').hidden")
            and cdp.js(f"{count_visible}('.finding')") == total
            and "need JavaScript" in cdp.js("document.body.innerText"),
            f"with JavaScript off the filters stay hidden and all {total} findings are shown",
        )
        cdp.call("Emulation.setScriptExecutionDisabled", value=False)

        # --- nothing went wrong on the way
        errors = []
        for e in cdp.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                errors.append(p["exceptionDetails"].get("text"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(str(p.get("args")))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                errors.append(p["entry"].get("text"))
        check(errors == [], f"no console errors ({errors[:5]})")
    except (RuntimeError, OSError, KeyError, TypeError) as e:
        print(f"setup error: {e}", file=sys.stderr)
        return 2
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    if failures:
        print(f"{len(failures)} browser check(s) failed", file=sys.stderr)
        return 1
    print("every browser check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
