"""report.html in a real headless browser (Debian's chromium, driven by Playwright): every
video and thumbnail loads, nothing is logged to the console as an error, the takes and the
pick are visible. A screenshot is kept in `test-artifacts/` (or $VIDPIPE_ARTIFACTS).

Skips, saying why, only when no chromium can be found on this machine; `.ci/run` installs
it, and there (CI set) a missing browser fails instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .runs import ROOT, InProcess, in_process_env, run_board
from .test_cli import vidpipe
from .test_takes import board

ARTIFACTS = Path(os.environ.get("VIDPIPE_ARTIFACTS", ROOT / "test-artifacts"))
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser_path() -> str:
    """The chromium to drive; skips (or fails on CI) when there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    why = f"no headless browser found ({', '.join(BROWSERS)} on PATH): apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The report of a storyboard with takes and a pick, served over loopback HTTP."""
    emulator = InProcess.start()
    path = board(tmp_path)
    run_board(path, emulator, tmp_path)
    assert vidpipe("pick", "hero", "2", path, env=in_process_env()).exit_code == 0
    result = run_board(path, emulator, tmp_path)
    assert result.ok, result.to_json()
    handler = functools.partial(_Quiet, directory=str(result.out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/report.html", result.out_dir
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_report_loads_every_video_and_thumbnail_in_a_browser(
    served: tuple[str, Path],
) -> None:
    executable = browser_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, out = served
    errors: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.goto(url, wait_until="load")
            # Every thumbnail decoded (naturalWidth > 0), every video's metadata read.
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])"
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1"
                " || v.error)",
                timeout=30_000,
            )
            videos = page.eval_on_selector_all(
                "video",
                "els => els.map(e => [e.getAttribute('src'), e.readyState, e.error && e.error.code,"
                " e.videoWidth, e.duration])",
            )
            takes = page.eval_on_selector_all(
                "figure.take", "els => els.map(e => [e.dataset.shot, e.innerText])"
            )
            picked = page.inner_text("figure.take.picked figcaption")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [] and failed == []
    assert len(images) == 3
    assert all(complete and width > 0 for _, complete, width in images), images
    expected = {"final.mp4", *(p.name for p in out.glob("*.mp4"))}
    assert {src for src, *_ in videos} == expected
    assert all(
        state >= 1 and code is None and width > 0 and duration > 0
        for _, state, code, width, duration in videos
    ), videos
    assert [shot_id for shot_id, _ in takes] == ["hero[take=1]", "hero[take=2]", "hero[take=3]"]
    assert "take=2" in picked and "picked" in picked
    assert len(shot) > 10_000 and (ARTIFACTS / "report.png").is_file()
