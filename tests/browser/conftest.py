"""Playwright in the system's Chromium, headless, against a live server on loopback.

The tests need a Chromium binary: TRACK360_CHROMIUM, else `chromium` or
`chromium-browser` on PATH. Without one they are skipped, unless
TRACK360_BROWSER_TESTS=required (set by `.ci/run`), which makes a missing browser
an error. Screenshots of the pages a journey visits are written to
TRACK360_SCREENSHOT_DIR (default var/test-artifacts/screenshots).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(
    os.environ.get("TRACK360_SCREENSHOT_DIR", ROOT / "var" / "test-artifacts" / "screenshots")
)


def chromium_path() -> str | None:
    configured = os.environ.get("TRACK360_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        message = (
            "No Chromium found: install Debian's chromium package, or set TRACK360_CHROMIUM "
            "to the browser's path."
        )
        if os.environ.get("TRACK360_BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API runs an event loop in this thread, and Django
    # refuses ORM calls from a thread with a running loop unless this is set. The
    # tests call the ORM only to set up data, before and after browser steps.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # Root cannot run Chromium's sandbox; the pages are the tests' own.
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox"]
            )
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot of the current page as `<name>.png`."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
