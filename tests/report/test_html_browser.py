"""The HTML report in a real headless Chromium: no console errors, no network, a sane screenshot.

Chromium is driven through the Chrome DevTools Protocol over ``--remote-debugging-pipe``
(JSON messages ended by NUL on file descriptors 3 and 4), so no websocket or browser
automation package is needed. Console errors are collected from three CDP events:
``Runtime.exceptionThrown`` (uncaught exceptions), ``Runtime.consoleAPICalled`` with
type error/assert (``console.error``), and ``Log.entryAdded`` at level error (failed
loads, CSP violations, other browser-side errors). Every network request is recorded
from ``Network.requestWillBeSent``.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from inferaudit.report.html import render_html

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
)


def _chromium() -> str:
    if os.environ.get("INFERAUDIT_SKIP_SLOW") == "1":
        pytest.skip("INFERAUDIT_SKIP_SLOW=1")
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not found on PATH (apt-get install -y chromium); CI installs it")


class Browser:
    """One headless Chromium and one page, driven over the CDP pipe."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900):
        self.profile = tempfile.mkdtemp(prefix="inferaudit-chromium-")
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()

        def fds() -> None:  # in the child: CDP reads fd 3, writes fd 4
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._from_r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 30) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._recv(deadline))
        except TimeoutError:
            pass

    def open(self, url: str, settle: float = 0.5, timeout: float = 30) -> None:
        start = len(self.events)
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[start:]):
            self.events.append(self._recv(deadline))
        self.pump(settle)  # late errors, timers

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} ({p['entry'].get('url', '')})")
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: Path) -> bytes:
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}
        data = self.call("Page.captureScreenshot",
                         {"format": "png", "clip": clip, "captureBeyondViewport": True}, session=True, timeout=60)
        png = base64.b64decode(data["data"])
        path.write_bytes(png)
        return png

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_w, self._from_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    b = Browser(_chromium())
    try:
        yield b
    finally:
        b.close()


def test_a_deliberate_error_is_detected(browser, tmp_path):
    """The harness must see errors, or 'no errors' below would prove nothing."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><title>bad</title><p>x</p><script>undefinedFunction();</script>", encoding="utf-8")
    browser.open(bad.as_uri())
    errors = browser.errors()
    assert any("undefinedFunction" in e for e in errors), errors

    logged = tmp_path / "logged.html"
    logged.write_text("<!DOCTYPE html><title>logged</title><script>console.error('boom-42')</script>", encoding="utf-8")
    browser.events.clear()
    browser.open(logged.as_uri())
    assert any("boom-42" in e for e in browser.errors()), browser.errors()


def test_a_csp_violation_is_detected(browser, tmp_path):
    """An inline script the report's CSP does not allow is refused, and the refusal is an error."""
    page = tmp_path / "csp.html"
    html = render_html({}).replace("</body>", "<script>window.injected = 1</script></body>")
    page.write_text(html, encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.evaluate("typeof window.injected") == "undefined"
    assert any("Content Security Policy" in e for e in browser.errors()), browser.errors()


def test_report_renders_cleanly(browser, tmp_path, report):
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.errors() == []
    assert [u for u in browser.requests() if not u.startswith(("file:", "data:"))] == []
    assert browser.evaluate("typeof window.injected") == "undefined"
    assert browser.evaluate("document.title") == "Inference cost audit"
    # the escaped <script> strings stayed text
    assert browser.evaluate("document.querySelectorAll('script').length") == 1
    assert "<script>alert('x')</script>" in browser.evaluate("document.body.textContent")

    # sections laid out, charts drawn with a real size
    for sid in ("summary", "pareto", "buckets", "triples", "sessions", "issues"):
        assert browser.evaluate(f"document.getElementById('{sid}').getBoundingClientRect().height") > 50, sid
    assert browser.evaluate("document.querySelector('svg.scatter').getBoundingClientRect().width") > 300

    # hover tooltip
    rect = browser.evaluate(
        "(() => { const el = document.querySelector('svg.scatter .pt.frontier');"
        " el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": rect[0], "y": rect[1]}, session=True)
    browser.pump(0.2)
    assert browser.evaluate("document.getElementById('tip').hidden") is False
    assert "success" in browser.evaluate("document.getElementById('tip').textContent")

    # sorting by cost per run (descending on first click, missing values last)
    col = browser.evaluate("[...document.querySelectorAll('table.triples th')].findIndex(th => th.textContent === 'Cost/run')")
    browser.evaluate(f"document.querySelectorAll('table.triples th')[{col}].click()")
    values = browser.evaluate(
        f"[...document.querySelectorAll('table.triples tbody tr')].map(tr => tr.cells[{col}].getAttribute('data-v'))"
    )
    nums = [float(v) for v in values if v is not None]
    assert nums == sorted(nums, reverse=True) and len(nums) > 10
    assert all(v is None for v in values[len(nums):])
    assert browser.errors() == []

    png = browser.screenshot(tmp_path / "report.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 100_000  # a full, drawn page, not a blank one
    if os.environ.get("INFERAUDIT_KEEP_SCREENSHOT"):
        shutil.copy(tmp_path / "report.png", os.environ["INFERAUDIT_KEEP_SCREENSHOT"])


def test_empty_report_renders_cleanly(browser, tmp_path):
    page = tmp_path / "empty.html"
    page.write_text(render_html({}), encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.errors() == []
    browser.evaluate("document.querySelectorAll('table.triples th')[5].click()")
    assert browser.errors() == []
    png = browser.screenshot(tmp_path / "empty.png")
    assert len(png) > 5_000


def test_report_of_the_bundled_real_data_renders_cleanly(browser, tmp_path):
    """The demo's report: every bundled real sample audited, rendered, opened, screenshotted."""
    import subprocess
    import sys
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "data" / "samples"
    page = tmp_path / "demo.html"
    cli = Path(sys.executable).parent / "inferaudit"
    done = subprocess.run([str(cli), "audit", str(samples), "--ledger", str(tmp_path / "l.duckdb"), "--html", str(page),
                           "--json-out", str(tmp_path / "r.json"), "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    browser.open(page.as_uri())
    assert browser.errors() == []
    assert [u for u in browser.requests() if not u.startswith(("file:", "data:"))] == []
    assert browser.evaluate("document.querySelectorAll('svg.scatter').length") >= 5  # one per benchmark
    text = browser.evaluate("document.body.textContent")
    assert "claude-opus-4-6" in text and "gpt-5.3-codex" in text and "Gemini-3.1-Pro" in text
    png = browser.screenshot(tmp_path / "demo.png")
    assert len(png) > 100_000
