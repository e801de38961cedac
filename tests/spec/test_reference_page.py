"""`make docs` renders a reference a person can read: opened in headless Chromium, it shows the method."""

import html
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, chromium

PAGE = ROOT / "build" / "docs" / "index.html"
SCREENSHOT = ROOT / "build" / "docs" / "cancelReturn.png"
# Redoc 3 shows one operation at a time; this deep link opens ours.
OPERATION = f"{PAGE.as_uri()}#operation/cancelReturn"


def _browser() -> str:
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed here (apt-get install chromium); CI installs it and runs this test")
    return browser


def _chromium(*arguments: str, profile: Path) -> str:
    command = [
        _browser(),
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *arguments,
        OPERATION,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def page_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    _browser()
    built = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "docs"], capture_output=True, text=True, timeout=300, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    dom = _chromium("--dump-dom", profile=tmp_path_factory.mktemp("chromium"))
    visible = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", visible)))


def test_the_page_shows_the_operation_and_its_parameters(page_text: str) -> None:
    assert "Cancel a return" in page_text
    assert "POST /v1/campaigns/{campaignId}/returns/cancel" in page_text
    assert "campaignId integer, (int64), >= 1 required" in page_text
    assert "returnId integer, (int64) required" in page_text


def test_the_page_shows_the_error_statuses(page_text: str) -> None:
    assert re.search(r"200 .*400 .*401 .*403 .*420 .*500", page_text)


def test_the_page_shows_the_rate_limit_headers(page_text: str) -> None:
    assert "X-RateLimit-Resource-Limit integer, (int32), >= 0" in page_text
    assert (
        "X-RateLimit-Resource-Remaining integer, (int32), >= 0 How many requests remain in the current period."
        in page_text
    )
    assert "X-RateLimit-Resource-Until string When the current period ends, as an RFC 822 date." in page_text


def test_a_screenshot_is_saved_for_review(page_text: str, tmp_path: Path) -> None:
    SCREENSHOT.unlink(missing_ok=True)
    _chromium(f"--screenshot={SCREENSHOT}", "--window-size=1400,2600", profile=tmp_path)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 50_000, "a blank page would be far smaller"
