"""The web view in a real browser: headless Chromium from the distribution's packages, driven by
Selenium through the distribution's chromedriver, against `dxbot web` running as a process on
SQLite and on PostgreSQL. Each role signs in through a link printed by `dxbot web link`, reads
every page it has, an officer cannot open another municipality's case by typing its URL, and
the prefecture downloads the cases CSV.

Runs wherever /usr/bin/chromium and /usr/bin/chromedriver are installed; in CI (CI=true, where
.ci/run installs them) their absence is a failure, never a skip."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from store.db import Database
from store.scope import EVERYTHING, Scope
from store.web_queries import CaseFilter, case_page
from tests.conftest import IN_CI
from tools.web_screenshots import WebSite, browser, browser_available, sign_in, wait_for_heading

PROGRAM = "saitama-2026"
ROLE_PAGES = {
    "pref1": ("概況", "案件一覧", "市町村", "専門人材の稼働", "期限", "ダウンロード"),
    "staff1": ("概況", "案件一覧", "市町村", "専門人材の稼働", "期限", "ダウンロード"),
    "officer1": ("概況", "案件一覧", "市町村", "専門人材の稼働", "期限", "ダウンロード"),
    "expert1": ("概況", "案件一覧", "市町村", "専門人材の稼働", "期限"),
}


@pytest.fixture
def needs_browser() -> None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("selenium is not installed; CI must run the browser tests", pytrace=False)
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    if not browser_available():
        if IN_CI:
            pytest.fail(
                "/usr/bin/chromium and /usr/bin/chromedriver are missing; .ci/run installs them",
                pytrace=False,
            )
        pytest.skip(
            "no /usr/bin/chromium + /usr/bin/chromedriver (apt-get install chromium chromium-driver)"
        )


def _cases(db_url: str, municipality: str | None) -> tuple[list[str], list[str]]:
    """Every case number, and those an officer of ``municipality`` may see."""

    async def read() -> tuple[list[str], list[str]]:
        db = Database(db_url)
        try:
            async with db.transaction() as s:
                everything = await case_page(s, PROGRAM, EVERYTHING, CaseFilter(), per_page=500)
                theirs = await case_page(
                    s, PROGRAM, Scope(municipality_code=municipality), CaseFilter(), per_page=500
                )
        finally:
            await db.dispose()
        return [r.case_no for r in everything.rows], [r.case_no for r in theirs.rows]

    return asyncio.run(read())


def _officer_code(db_url: str) -> str:
    async def read() -> str:
        from sqlalchemy import select

        from store.models import User

        db = Database(db_url)
        try:
            async with db.transaction() as s:
                code = await s.scalar(
                    select(User.municipality_code).where(User.platform_id == "officer1")
                )
        finally:
            await db.dispose()
        assert code is not None
        return code

    return asyncio.run(read())


def _download(folder: Path, suffix: str, timeout: float = 20.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded into {folder}: {list(folder.iterdir())}")


def test_each_role_reads_its_pages_in_a_browser(
    needs_browser: None, db_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with WebSite(db_url, tmp_path) as site, browser(downloads) as driver:
        code = _officer_code(db_url)
        every_case, officers = _cases(db_url, code)
        other = next(no for no in every_case if no not in officers)
        for who, headings in ROLE_PAGES.items():
            driver.delete_all_cookies()
            sign_in(driver, site.link(who))
            nav = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "nav.tabs a")]
            assert len(nav) == len(headings), (who, nav)
            for i in range(len(nav)):
                driver.find_elements(By.CSS_SELECTOR, "nav.tabs a")[i].click()
                assert wait_for_heading(driver, headings[i]) == headings[i], (who, i)
                assert "見つかりません" not in driver.page_source
            # The case list opens a case the person may see.
            driver.get(site.base + "/web/cases")
            wait_for_heading(driver)
            links = driver.find_elements(By.CSS_SELECTOR, "#cases tbody a")
            listed = [a.text for a in links]
            if links:
                links[0].click()
                assert wait_for_heading(driver, f"案件 {listed[0]}") == f"案件 {listed[0]}"
            if who == "officer1":
                assert listed and set(listed) <= set(officers)
                driver.get(f"{site.base}/web/cases/{other}")
                assert (
                    wait_for_heading(driver, "ページが見つかりません") == "ページが見つかりません"
                )
                assert other not in driver.page_source
                driver.get(f"{site.base}/web/cases/{officers[0]}")
                assert wait_for_heading(driver, f"案件 {officers[0]}") == f"案件 {officers[0]}"
            if who == "pref1":
                driver.get(site.base + "/web/cases/" + other)
                assert wait_for_heading(driver, f"案件 {other}") == f"案件 {other}"
                driver.get(site.base + "/web/downloads")
                wait_for_heading(driver)
                driver.find_element(By.ID, "dl-cases-csv").click()
                csv = _download(downloads, ".csv")
                lines = csv.read_text(encoding="utf-8-sig").splitlines()
                assert lines[0].startswith("案件番号")
                assert len(lines) == len(every_case) + 1
            # Sign out: the session ends, the pages ask to sign in again.
            driver.find_element(By.ID, "signout").click()
            assert wait_for_heading(driver, "サインアウトしました") == "サインアウトしました"
            driver.get(site.base + "/web/")
            assert wait_for_heading(driver, "サインインが必要です") == "サインインが必要です"
        # A link already used is refused with a clear page.
        used = site.link("pref1")
        sign_in(driver, used)
        driver.delete_all_cookies()
        driver.get(used)
        driver.find_element(By.ID, "signin").click()
        wait_for_heading(driver)
        assert "既に使用されています" in driver.find_element(By.ID, "message").text
