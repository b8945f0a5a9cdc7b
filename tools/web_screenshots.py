"""Screenshots of the web view's main pages into docs/web/ (README "Web view"):

    .venv/bin/python -m tools.web_screenshots [--out docs/web]

It starts `dxbot web` on a throwaway SQLite database with the demo program (at a fixed
date, so the pictures do not change from run to run), signs in through a one-time link made by
`dxbot web link`, and drives the distribution's headless Chromium through chromedriver
(/usr/bin/chromium, /usr/bin/chromedriver; Selenium Manager never downloads anything).

``WebSite`` and ``browser`` are shared with tests/test_web_browser.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOW = "2026-11-16T10:00:00+09:00"  # a 開庁日 morning inside the demo program's term
PAGES = (
    ("overview", "/web/"),
    ("cases", "/web/cases"),
    ("case", None),  # the first case of the list
    ("municipalities", "/web/municipalities"),
    ("experts", "/web/experts"),
    ("deadlines", "/web/deadlines"),
    ("downloads", "/web/downloads"),
)


def browser_available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _dxbot() -> list[str]:
    return [sys.executable, "-m", "bot.cli"]


class WebSite:
    """`dxbot web` in a child process on a database URL, and one-time links for its users."""

    def __init__(self, database_url: str, workdir: Path, now: str = NOW) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.now = now
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DXBOT_PROGRAM": "saitama-2026",
            "DXBOT_PUBLIC_URL": self.base,
            "DXBOT_LOG_LEVEL": "WARNING",
            # The child runs the same code as this process (a checkout, not another install).
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> WebSite:
        self.proc = subprocess.Popen(
            [*_dxbot(), "web", "--port", str(self.port), "--now", self.now],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the first line says it listens (after seeding)
        if "Web view on" not in line:
            try:
                rest, _ = self.proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rest = ""
            raise RuntimeError(f"dxbot web did not start:\n{line}{rest}")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def link(self, platform_id: str) -> str:
        out = subprocess.run(
            [*_dxbot(), "web", "link", "--as", platform_id, "--now", self.now],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found = re.search(r"^(http\S+/web/signin\?t=\S+)$", out, re.M)
        assert found is not None, out
        return found.group(1)


@contextlib.contextmanager
def browser(downloads: Path | None = None, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """Headless Chromium from the distribution, through its chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--lang=ja-JP")
    if downloads is not None:
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(downloads),
                "download.prompt_for_download": False,
            },
        )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        if downloads is not None:
            driver.execute_cdp_cmd(
                "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
            )
        yield driver
    finally:
        driver.quit()


def sign_in(driver: Any, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(link)
    driver.find_element(By.ID, "signin").click()
    wait_for_heading(driver)


def wait_for_heading(driver: Any, expected: str | None = None, timeout: float = 10.0) -> str:
    """The page's h1 once it has loaded (once it reads ``expected``, when given: a click's
    new page may not have replaced the old one yet); the last one seen after ``timeout``."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    text = ""
    while True:
        try:
            found = driver.find_elements(By.TAG_NAME, "h1")
            ready = driver.execute_script("return document.readyState") == "complete"
            text = found[0].text if found and ready else ""
        except StaleElementReferenceException:
            text = ""
        except WebDriverException as exc:
            # The page was replaced between finding the heading and reading it: Chrome
            # sometimes says so as an "unknown error" rather than a stale element (a CI run
            # failed on it). Look again; anything else is a real failure.
            if "does not belong to the document" not in str(exc):
                raise
            text = ""
        if text and (expected is None or text == expected):
            return text
        if time.monotonic() > deadline:
            if text:
                return text
            raise TimeoutError(f"no page heading at {driver.current_url}")
        time.sleep(0.05)


def full_page_png(driver: Any, path: Path) -> None:
    """The whole page, not just the window: the window grows to the document's height."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    frame = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(1280, min(max(int(height) + int(frame), 600), 4000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'dxbot.db'}"
        with WebSite(url, Path(tmp)) as site, browser() as driver:
            sign_in(driver, site.link("pref1"))
            from selenium.webdriver.common.by import By

            for name, path in PAGES:
                if path is None:
                    driver.get(site.base + "/web/cases")
                    wait_for_heading(driver)
                    driver.find_element(By.CSS_SELECTOR, "#cases tbody a").click()
                else:
                    driver.get(site.base + path)
                wait_for_heading(driver)
                target = out / f"{name}.png"
                full_page_png(driver, target)
                made.append(target)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/web", help="folder of the PNG files")
    args = parser.parse_args(argv)
    if not browser_available():
        print(f"error: needs {CHROMIUM} and {CHROMEDRIVER} (Debian: chromium chromium-driver)")
        return 2
    for path in take(Path(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
