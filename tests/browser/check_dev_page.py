#!/usr/bin/env python3
"""Check the broker's developer page (`/dev`) in headless Chromium after a real login.

Usage: check_dev_page.py CHROMIUM MITID_HARNESS_BINARY [--screenshot OUT.png]

Starts `mitid-harness broker --config` with one OIDC client whose redirect URI is the broker's
own `/dev` page, then, in the browser: opens the authorization URL, picks a test identity on the
chooser with a real click, lands on `/dev?code=...`; redeems the code at the token endpoint (as
the RP's back channel would); reloads `/dev` and checks what it shows: the flow with the client,
the identity, the authorization request's parameters, the decoded ID token (header with `alg`
and `kid`, claims with the nonce), what the RP used (authorize, token); that the page's policy
blocked nothing it needs and that no script exists on it. Exit 0 all passed, 1 a check failed,
2 setup error. Bounded: 120 s.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_report import CSP_PROBE, Cdp, start_browser  # noqa: E402

CLIENT, SECRET = "dev-page-rp", "mock-secret-dev-page"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def main():
    args = sys.argv[1:]
    shot = None
    if "--screenshot" in args:
        i = args.index("--screenshot")
        shot = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    chromium, harness = args
    failures = []

    def check(ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            failures.append(what)

    work = tempfile.mkdtemp(prefix="mitid-dev-page.")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(os.path.join(work, "broker.toml"), "w") as f:
        f.write(
            f'bind = "127.0.0.1:{port}"\n\n[[oidc.clients]]\nclient_id = "{CLIENT}"\n'
            f'client_secret = "{SECRET}"\nredirect_uris = ["{base}/dev"]\n'
            'issuers = ["signaturgruppen"]\n'
        )
    broker = subprocess.Popen(
        [harness, "broker", "--config", os.path.join(work, "broker.toml")],
        stdout=open(os.path.join(work, "broker.log"), "w"),
        stderr=subprocess.STDOUT,
    )
    proc = None
    try:
        issuer = f"{base}/signaturgruppen/op"
        wait_http(f"{issuer}/.well-known/openid-configuration", 30)
        disco = json.load(urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration"))
        state, nonce = "dev-page-state-1", "dev-page-nonce-1"
        auth = disco["authorization_endpoint"] + "?" + urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT,
                "redirect_uri": f"{base}/dev",
                "scope": "openid mitid",
                "state": state,
                "nonce": nonce,
            }
        )

        profile = os.path.join(work, "chromium")
        os.mkdir(profile)
        proc, ws = start_browser(chromium, profile)
        cdp = Cdp(ws)
        cdp.call("Page.enable")
        cdp.call("Runtime.enable")
        cdp.call("Page.addScriptToEvaluateOnNewDocument", source=CSP_PROBE)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

        # The login, as a person would do it: the chooser, a click on the first identity.
        cdp.call("Page.navigate", url=auth)
        cdp.wait_event("Page.loadEventFired", timeout=30)
        check(cdp.js("document.title") == "Mock MitID login", "the chooser page is shown")
        cdp.js("document.querySelector('li form button').click()")
        cdp.wait_event("Page.loadEventFired", timeout=30)
        landed = cdp.js("location.href")
        params = urllib.parse.parse_qs(urllib.parse.urlparse(landed).query)
        check("code" in params and params.get("state") == [state], f"redirected with a code ({landed})")

        # The RP's back channel: redeem the code (client_secret_basic).
        basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        req = urllib.request.Request(
            disco["token_endpoint"],
            data=urllib.parse.urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": params["code"][0],
                    "redirect_uri": f"{base}/dev",
                }
            ).encode(),
            headers={"Authorization": f"Basic {basic}"},
        )
        tok = json.load(urllib.request.urlopen(req))
        check("id_token" in tok, "the code redeems for an ID token")

        # The developer page, reloaded: what it shows.
        cdp.call("Page.navigate", url=f"{base}/dev")
        cdp.wait_event("Page.loadEventFired", timeout=30)
        text = cdp.js("document.body.innerText")
        check(cdp.js("window.__csp") == [], "the page's policy blocked nothing")
        check(cdp.js("document.querySelectorAll('script').length") == 0, "no script on the page")
        check(
            cdp.js("getComputedStyle(document.querySelector('.mock')).backgroundColor")
            == "rgb(253, 230, 138)",
            "the inline style applied (the MOCK banner is yellow)",
        )
        flows = cdp.js("document.querySelectorAll('section.flow.oidc').length")
        check(flows == 1, f"one OIDC flow is shown ({flows})")
        check(f"{CLIENT} at the signaturgruppen issuer" in text, "the client and issuer are named")
        check(f"{base}/dev" in text and state in text, "the authorization request's parameters")
        check("logged in" in text and "not yet" not in text, "the flow's identity is shown")
        check("alg RS256" in text or "alg ES256" in text, "the ID token's algorithm is shown")
        claims_open = cdp.js(
            "Array.from(document.querySelectorAll('section.flow.oidc details[open] pre'))"
            ".map(function (p) { return p.innerText; }).join('\\n')"
        )
        check(nonce in claims_open and '"sub"' in claims_open, "the decoded claims are visible")
        check("authorize, token" in text, "what the RP used: authorize, token")
        header_hidden = cdp.js(
            "(function () { var d = Array.from(document.querySelectorAll('details'))"
            ".find(function (d) { return d.querySelector('summary').innerText === 'ID token header'; });"
            " return d && !d.open; })()"
        )
        check(header_hidden, "the ID token header starts collapsed")
        if shot:
            png = cdp.call("Page.captureScreenshot", format="png")["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
            print(f"  screenshot: {shot}")
    except (RuntimeError, OSError, KeyError, TypeError, ValueError) as e:
        print(f"setup error: {e}", file=sys.stderr)
        try:
            print(open(os.path.join(work, "broker.log")).read()[-2000:], file=sys.stderr)
        except OSError:
            pass
        return 2
    finally:
        for p in (proc, broker):
            if p is not None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} developer-page check(s) failed", file=sys.stderr)
        return 1
    print("every developer-page check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
