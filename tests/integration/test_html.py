"""`ledger html` end to end: the CLI, a real headless Chromium on the pages, and `--serve` over loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.conftest import LEDGER_BIN
from tests.integration.site_factory import RUNS, make_site_workspace
from tests.reliability.helpers import terminal_signals

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_browser = pytest.mark.skipif(
    BROWSER is None,
    reason="no headless browser: none of chromium, chromium-browser, google-chrome is on PATH "
    "(install Debian's `chromium` package; CI does)",
)


@pytest.fixture
def ws(tmp_path):
    return make_site_workspace(tmp_path / "ws")


@pytest.fixture
def built(ws):
    result = CliRunner().invoke(main, ["html", "--root", str(ws), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ws, json.loads(result.output)


# ---------------------------------------------------------------- CLI


def test_cli_writes_the_site_under_root_by_default(built):
    ws, data = built
    assert data["out_dir"] == str(ws / "site")
    assert data["pages"] == ["site/index.html", "site/initiative/DEMO-001.html", "site/initiative/OTHER-002.html"]
    assert all((ws / p).is_file() for p in data["pages"])


def test_cli_output_option_and_text_summary(ws, tmp_path):
    out = tmp_path / "out dir"
    result = CliRunner().invoke(main, ["html", "-o", str(out), "--root", str(ws)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"wrote 3 pages (2 initiatives, 11 rows, {len(RUNS)} runs)" in result.output
    assert (out / "index.html").is_file() and (out / "initiative/OTHER-002.html").is_file()


def test_cli_refuses_root_as_output_with_exit_2(ws):
    result = CliRunner().invoke(main, ["html", "-o", str(ws), "--root", str(ws)])
    assert result.exit_code == 2
    assert "holds the workspace" in result.output and "Traceback" not in result.output


def test_cli_regenerates_idempotently(built):
    ws, _ = built
    before = (ws / "site/initiative/DEMO-001.html").read_text()
    CliRunner().invoke(main, ["html", "--root", str(ws)], catch_exceptions=False)
    after = (ws / "site/initiative/DEMO-001.html").read_text()
    strip = lambda t: re.sub(r"generated [^<]+ by", "", t)  # noqa: E731
    assert strip(before) == strip(after)
    assert not list((ws / "site").rglob("*.tmp"))


# ---------------------------------------------------------------- the browser


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="ledger-chromium-")
    try:
        return subprocess.run(
            [
                BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args,
            ],
            capture_output=True, text=True, timeout=timeout,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Elements(HTMLParser):
    """Tag, class and data-* attributes of every element of a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def having(self, tag: str, css: str | None = None, **attrs) -> list[dict]:
        found = []
        for name, values in self.elements:
            if name != tag:
                continue
            if css and css not in (values.get("class") or "").split():
                continue
            if all(values.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                found.append(values)
        return found


def dump_dom(page: Path) -> Elements:
    done = chromium("--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    parser = Elements()
    parser.feed(done.stdout)
    return parser


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
@needs_browser
def test_browser_renders_the_index(built, tmp_path):
    ws, _ = built
    dom = dump_dom(ws / "site/index.html")
    cards = dom.having("article", "initiative")
    assert [c["data-initiative"] for c in cards] == ["DEMO-001", "OTHER-002"]
    assert len(dom.having("li", "phase")) == 4
    assert dom.having("li", "chip", data_state="done")
    assert dom.having("a", href="initiative/DEMO-001.html")
    shot = tmp_path / "index.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1280,900", (ws / "site/index.html").as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert png_size(shot) == (1280, 900)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank frame


@pytest.mark.slow
@needs_browser
def test_browser_renders_an_initiative_with_rows_charts_and_timeline(built, tmp_path):
    ws, _ = built
    page = ws / "site/initiative/DEMO-001.html"
    dom = dump_dom(page)
    rows = dom.having("tr", "row")
    assert [r["data-row"] for r in rows] == ["A1", "A2", "A3", "A4", "A5", "A6", "C1"]
    assert {r["data-row"]: r["data-state"] for r in rows}["A4"] == "done"
    charts = dom.having("svg", "chart")
    assert len(charts) == 3  # A1, A2, A6 have runs
    assert len(dom.having("circle", "pt")) == len(RUNS)
    assert len(dom.having("li", "attempt")) == 2
    # The evidence links the browser sees are relative and point at real folders.
    links = dom.having("a", "evidence-dir")
    assert len(links) == 3
    for link in links:
        assert link["href"].startswith("../../plans/active/DEMO-001/reports/")
        assert (page.parent / link["href"]).is_dir()
    # Hostile plan text stayed text: no element was injected.
    assert not dom.having("script")
    counted = [c for c in dom.having("li", "chip") if "data-state" in c or "data-audit" in c or "data-proof" in c]
    assert len(dom.having("b")) == len(counted)  # only the count chips use <b>
    assert '<script>alert("x")</script> & <b>bold</b>' in "".join(dom.text)
    shot = tmp_path / "initiative.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert png_size(shot) == (1280, 900) and shot.stat().st_size > 10_000


# ---------------------------------------------------------------- --serve


@pytest.mark.slow
def test_serve_on_loopback_serves_the_site_and_its_evidence(ws):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(LEDGER_BIN) if LEDGER_BIN.exists() else sys.executable, *([] if LEDGER_BIN.exists() else ["-m", "ledger"]),
         "html", "--serve", "--root", str(ws)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        # The terminal's Ctrl-C even when the suite was started with SIGINT ignored (in the background) or blocked.
        preexec_fn=terminal_signals,
    )
    try:
        url = None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"serving (http://\S+)", line)
            url = match.group(1) if match else None
        assert url, "".join(lines)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/site/index.html")
        base = url.rsplit("/site/", 1)[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "DEMO-001" in response.read().decode("utf-8")
        with urllib.request.urlopen(base + "/", timeout=10) as response:  # / redirects to the site
            assert response.geturl() == url
        page = urllib.request.urlopen(base + "/site/initiative/DEMO-001.html", timeout=10).read().decode("utf-8")
        href = re.search(r'class="evidence-dir" href="\.\./\.\./([^"]+)"', page).group(1)
        with urllib.request.urlopen(f"{base}/{href}summary.md", timeout=10) as response:
            assert response.read().decode("utf-8").startswith("# A")
        (ws / ".secret").write_text("no")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/.secret", timeout=10)
        assert refused.value.code == 404
        proc.send_signal(signal.SIGINT)  # Ctrl-C stops it cleanly
        assert proc.wait(timeout=10) == 0
        assert "stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_serve_on_a_busy_port_is_one_line_exit_2(ws):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["html", "--serve", "--port", str(port), "--root", str(ws)])
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "Traceback" not in result.output
