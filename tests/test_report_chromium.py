"""Headless Chromium for the page tests: finding (or installing) it, and driving it over DevTools.

The browser is Debian's ``chromium``. Where it is missing, the set-up installs it with apt-get
when running as root under ``CI=true`` (``apt-get update`` first); elsewhere the browser tests
are skipped with a message saying how to get it. Under ``CI=true`` a browser that cannot be had
fails the tests instead of skipping them.

The browser is driven through the DevTools protocol over ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-separated JSON), which needs nothing beyond the standard library: load
a page, read its console errors, failed and network requests, evaluate JavaScript, take
screenshots. This file also checks that the helper itself notices a broken image, a console
error and a network request, so a green page test means something.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

APT_TIMEOUT_S = 900
CDP_TIMEOUT_S = 60.0
PHONE = (390, 844)  # CSS pixels of a common phone screen
DESKTOP = (1280, 900)


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _which() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _apt_install() -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = []
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        r = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False
        )
        log.append(f"{' '.join(cmd)}: exit {r.returncode} {r.stderr.strip()[-300:]}")
    return "; ".join(log)


@functools.cache
def _find_or_install() -> tuple[str | None, str]:
    exe = _which()
    if exe:
        return exe, ""
    if not _on_ci():
        return None, (
            "no chromium on this machine: install Debian's chromium (apt-get install chromium), "
            "or run under CI=true as root so that the test set-up installs it"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "CI=true but chromium is missing and apt-get cannot be run as root here"
    log = _apt_install()
    exe = _which()
    return exe, "" if exe else f"CI=true but apt-get could not install chromium ({log})"


def chromium_exe() -> str:
    """The chromium executable; installs it under CI=true, else skips the calling test."""
    exe, why = _find_or_install()
    if exe:
        return exe
    if _on_ci():
        pytest.fail(why)
    pytest.skip(why)


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe.

    Parameters
    ----------
    exe : str
        Chromium executable.
    profile : Path
        An empty folder for the browser profile (``--user-data-dir``).
    """

    def __init__(self, exe: str, profile: Path) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Move the child's ends above 3 and 4 so that dup2 onto 3 and 4 cannot clobber them.
        hi_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def child_fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
            close_fds=True,
        )
        os.close(hi_r)
        os.close(hi_w)
        self._w = to_browser_w
        self._r = from_browser_r
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    # --- protocol ----------------------------------------------------------------------------
    def _send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]

    def _recv(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + CDP_TIMEOUT_S
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = CDP_TIMEOUT_S) -> dict[str, Any]:
        """Wait for an event (one that already arrived counts)."""
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        for ev in self.events[:seen]:
            if ev["method"] == method:
                return ev
        while True:
            ev = self._recv(deadline)
            if "method" in ev:
                self.events.append(ev)
                if ev["method"] == method:
                    return ev

    # --- what the tests use ------------------------------------------------------------------
    def load(self, path: Path, size: tuple[int, int] = DESKTOP, mobile: bool = False) -> None:
        """Open a local file at a viewport of ``size`` CSS pixels and wait until it has loaded."""
        self.events.clear()
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value."""
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"javascript failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, failed loads and requests leaving the machine."""
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Network.loadingFailed":
                out.append(f"failed load: {p.get('errorText')}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith(("data:", "file:", "about:")):
                    out.append(f"network request: {url}")
        return out

    def images(self) -> list[dict[str, Any]]:
        """Every <img>: whether it loaded and its natural size."""
        return self.js(
            "Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth,"
            " h: i.naturalHeight, alt: i.alt}))"
        )

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page, not only the viewport, by default)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": m["width"], "height": m["height"], "scale": 1},
            )
        png = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        Path(path).write_bytes(png)
        return Path(path)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium shared by the tests of one module."""
    exe = chromium_exe()
    b = Browser(exe, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def check_page(b: Browser, page: Path, shots: Path, name: str) -> dict[str, Any]:
    """Load ``page`` as on a desktop and as on a phone; assert that it is sound; return facts.

    Sound: every image loaded with a non-zero size, no console error, exception, failed load or
    request leaving the machine, no script element, and on a phone no sideways scrolling.
    Screenshots go to ``shots/NAME-desktop.png`` and ``shots/NAME-phone.png``.
    """
    facts: dict[str, Any] = {}
    for kind, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
        b.load(page, size, mobile)
        imgs = b.images()
        assert imgs, f"{name} ({kind}): no images"
        bad = [i for i in imgs if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
        assert not bad, f"{name} ({kind}): images that did not load: {bad}"
        assert b.problems() == [], f"{name} ({kind}): {b.problems()}"
        assert b.js("document.querySelectorAll('script').length") == 0
        if mobile:
            over = b.js("document.documentElement.scrollWidth - window.innerWidth")
            assert over <= 0, f"{name}: on a phone the page scrolls sideways by {over} px"
        shot = b.screenshot(shots / f"{name}-{kind}.png")
        assert shot.stat().st_size > 10_000
        facts[kind] = {"images": len(imgs), "shot": shot}
    return facts


# --- the helper checks itself ---------------------------------------------------------------

BROKEN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<img src="data:image/png;base64,AAAA" alt="broken">
<img src="http://192.0.2.1/x.png" alt="remote">
<script>console.error("boom");</script></body></html>"""

GOOD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>fine</title></head><body>
<img alt="dot" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">
<p>fine</p></body></html>"""


def test_helper_notices_broken_images_console_errors_and_network(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(BROKEN)
    browser.load(page)
    imgs = browser.images()
    assert [i["w"] for i in imgs] == [0, 0]
    problems = " | ".join(browser.problems())
    assert "boom" in problems
    assert "192.0.2.1" in problems


def test_helper_passes_a_sound_page_and_screenshots_it(browser, tmp_path):
    page = tmp_path / "good.html"
    page.write_text(GOOD)
    browser.load(page)
    assert browser.images() == [{"complete": True, "w": 1, "h": 1, "alt": "dot"}]
    assert browser.problems() == []
    shot = browser.screenshot(tmp_path / "good.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
