"""The web view (issue 18) through aiohttp's test client, on SQLite and PostgreSQL: a sign-in
link works once and for ten minutes, the session cookie is HttpOnly, SameSite=Lax, Secure behind
https and lasts a working day; sign-out ends it; every page is scoped like /status (what one may
not see is 404); forms without the CSRF token are refused; every answer carries the security
headers; a case text is shown as text, never run; /dx web sends the link by direct message."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.app import Services, build_services
from bot.core.config import Settings
from bot.demo import seed_with_demo
from bot.web import web_app
from reminders.clock import JST, FixedClock
from store import users, web_auth, web_queries
from store.models import AuditEntry, Case, User
from store.profiles import load_profile
from store.scope import EVERYTHING, Scope
from tests.conftest import DEFAULT_NOW, ChatBot

PROGRAM = "saitama-2026"


@dataclass
class Web:
    client: TestClient
    services: Services
    clock: FixedClock

    async def link(self, platform_id: str) -> str:
        async with self.services.db.transaction() as s:
            user = (await users.find_by_platform_id(s, platform_id))[0]
            return await web_auth.create_link(
                s, user_id=user.id, program_id=PROGRAM, now=self.clock.now()
            )

    async def sign_in(self, platform_id: str) -> str:
        """Sign in through a fresh link; returns the CSRF token of the session."""
        token = await self.link(platform_id)
        resp = await self.client.post("/web/signin", data={"t": token}, allow_redirects=False)
        assert resp.status == 303, await resp.text()
        home = await self.client.get("/web/")
        assert home.status == 200
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', await home.text())
        assert found is not None
        return found.group(1)

    async def audit(self, action: str) -> list[AuditEntry]:
        async with self.services.db.transaction() as s:
            return list(
                (await s.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
            )

    async def case_of(self, *, inside: str | None = None, outside: str | None = None) -> str:
        """A case number of the municipality ``inside``, or of none of ``outside``'s cases."""
        async with self.services.db.transaction() as s:
            page = await web_queries.case_page(s, PROGRAM, EVERYTHING, web_queries.CaseFilter())
            mine = await web_queries.case_page(
                s, PROGRAM, Scope(municipality_code=outside or inside), web_queries.CaseFilter()
            )
        theirs = {r.case_no for r in mine.rows}
        for r in page.rows:
            if inside is not None and r.case_no in theirs:
                return r.case_no
            if outside is not None and r.case_no not in theirs:
                return r.case_no
        raise AssertionError("no such case in the demo data")


def _settings(db_url: str, **extra: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM=PROGRAM, **extra
    )


async def _rig(settings: Settings, clock: FixedClock) -> tuple[TestClient, Services]:
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_with_demo(s, load_profile(PROGRAM), clock.now(), demo=True)
    root = web.Application()
    root.add_subapp("/web", web_app(services))
    client = TestClient(TestServer(root))
    await client.start_server()
    return client, services


@pytest.fixture
async def site(db_url: str, clock: FixedClock) -> AsyncIterator[Web]:
    client, services = await _rig(_settings(db_url), clock)
    yield Web(client, services, clock)
    await client.close()
    await services.db.dispose()


async def test_a_link_signs_in_once_and_the_cookie_is_safe(site: Web) -> None:
    token = await site.link("pref1")
    # Opening the link shows a button; only posting it uses the link up (link previewers).
    opened = await site.client.get(f"/web/signin?t={token}")
    assert opened.status == 200 and "サインインする" in await opened.text()
    resp = await site.client.post("/web/signin", data={"t": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/web/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web/" in cookie
    assert "Max-Age=36000" in cookie  # a working day
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert token not in cookie
    home = await site.client.get("/web/")
    assert home.status == 200 and "鈴木 一郎様" in await home.text()

    again = await site.client.post("/web/signin", data={"t": token})
    assert again.status == 400 and "既に使用されています" in await again.text()
    unknown = await site.client.post("/web/signin", data={"t": "not-a-token"})
    assert unknown.status == 400 and "無効です" in await unknown.text()

    signed_in = await site.audit("web_sign_in")
    assert len(signed_in) == 1 and signed_in[0].program_id == PROGRAM
    assert signed_in[0].actor == "鈴木 一郎"
    refused = await site.audit("web_sign_in_refused")
    assert sorted(e.detail["reason"] for e in refused) == ["unknown", "used"]
    # Only the hash of a token is stored.
    async with site.services.db.transaction() as s:
        from store.models import WebLink, WebSession

        hashes = [*(await s.scalars(select(WebLink.token_hash))).all()]
        assert web_auth.token_hash(token) in hashes and token not in hashes
        assert all(len(h) == 64 for h in (await s.scalars(select(WebSession.token_hash))).all())


async def test_a_link_expires_after_ten_minutes_and_a_session_after_a_working_day(
    site: Web,
) -> None:
    late = await site.link("staff1")
    site.clock.advance(minutes=10, seconds=1)
    resp = await site.client.post("/web/signin", data={"t": late})
    assert resp.status == 400 and "有効期限" in await resp.text()
    assert (await site.client.get("/web/")).status == 401

    await site.sign_in("staff1")
    site.clock.advance(hours=9, minutes=59)
    assert (await site.client.get("/web/cases")).status == 200
    site.clock.advance(minutes=2)
    gone = await site.client.get("/web/cases")
    assert gone.status == 401 and "/dx web" in await gone.text()


async def test_secure_cookie_behind_https(db_url: str, clock: FixedClock) -> None:
    client, services = await _rig(
        _settings(db_url, DXBOT_PUBLIC_URL="https://dxbot.example.lg.jp/"), clock
    )
    try:
        rig = Web(client, services, clock)
        token = await rig.link("pref1")
        resp = await client.post("/web/signin", data={"t": token}, allow_redirects=False)
        assert "Secure" in resp.headers["Set-Cookie"]
        assert services.settings.web_sign_in_url(token) == (
            f"https://dxbot.example.lg.jp/web/signin?t={token}"
        )
    finally:
        await client.close()
        await services.db.dispose()


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(site: Web) -> None:
    csrf = await site.sign_in("pref1")
    forged = await site.client.post("/web/signout", data={"csrf": "0" * 64})
    assert forged.status == 403 and "正しくない送信" in await forged.text()
    assert (await site.client.get("/web/")).status == 200  # still signed in
    out = await site.client.post("/web/signout", data={"csrf": csrf})
    assert out.status == 200 and "サインアウトしました" in await out.text()
    assert (await site.client.get("/web/")).status == 401
    assert len(await site.audit("web_sign_out")) == 1


async def test_every_answer_carries_the_security_headers(site: Web) -> None:
    answers = [await site.client.get("/web/"), await site.client.get("/web/signin?t=x")]
    await site.sign_in("pref1")
    for path in ("/web/", "/web/cases", "/web/nothing-here", "/web/static/web.css"):
        answers.append(await site.client.get(path))
    for resp in answers:
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    for resp in answers[:-1]:
        assert "<script" not in await resp.text()
    assert answers[-2].status == 404 and "見つかりません" in await answers[-2].text()


async def test_pages_are_scoped_like_status(site: Web) -> None:
    async with site.services.db.transaction() as s:
        officer = (await users.find_by_platform_id(s, "officer1"))[0]
        expert = (await users.find_by_platform_id(s, "expert1"))[0]
    code = officer.municipality_code
    assert code is not None
    own = await site.case_of(inside=code)
    other = await site.case_of(outside=code)

    await site.sign_in("pref1")
    for path in (
        "/web/",
        "/web/cases",
        f"/web/cases/{own}",
        f"/web/cases/{other}",
        "/web/municipalities",
        "/web/experts",
        "/web/deadlines",
        "/web/downloads",
    ):
        assert (await site.client.get(path)).status == 200, path
    all_cases = await (await site.client.get("/web/cases")).text()
    overview = await (await site.client.get("/web/")).text()
    assert 'id="tracks"' in overview and "DXよろず相談窓口" in overview and "<svg" in overview

    site.client.session.cookie_jar.clear()
    await site.sign_in("officer1")
    assert (await site.client.get(f"/web/cases/{own}")).status == 200
    overview = await (await site.client.get("/web/")).text()
    assert 'id="caps"' in overview and 'id="tracks"' not in overview  # their municipality's
    hidden = await site.client.get(f"/web/cases/{other}")
    assert hidden.status == 404 and other not in await hidden.text()
    assert (await site.client.get("/web/cases/SAI-2026-9999")).status == 404  # the same answer
    listed = await (await site.client.get("/web/cases")).text()
    assert own in listed and other not in listed and other in all_cases
    # Filtering by another municipality still shows only what the officer may see.
    async with site.services.db.transaction() as s:
        other_code = await s.scalar(select(Case.municipality_code).where(Case.case_no == other))
    filtered = await (await site.client.get(f"/web/cases?municipality={other_code}")).text()
    assert other not in filtered
    municipalities = await (await site.client.get("/web/municipalities")).text()
    assert municipalities.count("/web/cases?municipality=") == 1  # their own row only
    # An officer may make decks of their municipality, not the program's exports.
    downloads = await (await site.client.get("/web/downloads")).text()
    assert "deck.summary" in downloads and "cases.csv" not in downloads
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', downloads)
    assert csrf is not None
    refused = await site.client.post(
        "/web/downloads", data={"csrf": csrf.group(1), "what": "cases.csv"}
    )
    assert refused.status == 404

    site.client.session.cookie_jar.clear()
    await site.sign_in("expert1")
    listed = await (await site.client.get("/web/cases")).text()
    async with site.services.db.transaction() as s:
        theirs = await web_queries.case_page(
            s, PROGRAM, Scope(expert_user_id=expert.id), web_queries.CaseFilter()
        )
    assert theirs.rows, "expert1 has assignments in the demo data"
    for row in theirs.rows:
        assert row.case_no in listed
    assert f">{theirs.total}件中" in listed
    assert (await site.client.get("/web/downloads")).status == 404  # experts have no files


async def test_a_case_text_is_shown_as_text(site: Web) -> None:
    case_no = await site.case_of(inside=(await _officer_code(site)))
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with site.services.db.transaction() as s:
        await s.execute(update(Case).where(Case.case_no == case_no).values(description=hostile))
    await site.sign_in("staff1")
    for path in (f"/web/cases/{case_no}", "/web/cases?q=script"):
        html = await (await site.client.get(path)).text()
        assert "&lt;script&gt;alert(" in html
        assert "<script" not in html and "<img src=x" not in html


async def _officer_code(site: Web) -> str:
    async with site.services.db.transaction() as s:
        code = await s.scalar(select(User.municipality_code).where(User.platform_id == "officer1"))
    assert code is not None
    return code


async def test_case_list_filters_sort_and_pages(site: Web) -> None:
    await site.sign_in("pref1")
    async with site.services.db.transaction() as s:
        everything = await web_queries.case_page(s, PROGRAM, EVERYTHING, web_queries.CaseFilter())
        paged = await web_queries.case_page(
            s, PROGRAM, EVERYTHING, web_queries.CaseFilter(sort="-no", page=2), per_page=10
        )
        closed = await web_queries.case_page(
            s, PROGRAM, EVERYTHING, web_queries.CaseFilter(status="closed")
        )
    numbers = [r.case_no for r in everything.rows]
    assert numbers == sorted(numbers) and everything.total == len(numbers) > 20
    assert (
        paged.page == 2 and [r.case_no for r in paged.rows] == sorted(numbers, reverse=True)[10:20]
    )
    assert closed.rows and all(r.status == "closed" for r in closed.rows)
    month = everything.rows[0].opened_at.astimezone(JST).strftime("%Y-%m")
    async with site.services.db.transaction() as s:
        in_month = await web_queries.case_page(
            s, PROGRAM, EVERYTHING, web_queries.CaseFilter(month=month)
        )
        expert = (await users.find_by_platform_id(s, "expert2"))[0]
        by_expert = await web_queries.case_page(
            s, PROGRAM, EVERYTHING, web_queries.CaseFilter(expert=expert.id)
        )
        seen_by_expert = await web_queries.case_page(
            s, PROGRAM, Scope(expert_user_id=expert.id), web_queries.CaseFilter()
        )
    assert in_month.rows and all(
        r.opened_at.astimezone(JST).strftime("%Y-%m") == month for r in in_month.rows
    )
    assert in_month.total < everything.total
    # The expert filter lists the cases the expert's own view lists.
    assert by_expert.rows and {r.case_no for r in by_expert.rows} == {
        r.case_no for r in seen_by_expert.rows
    }

    html = await (await site.client.get("/web/cases?status=closed")).text()
    assert f"{closed.total}件中" in html
    assert all(r.case_no in html for r in closed.rows)
    # A two-character Japanese search term, as people type them.
    word = "研修"
    searched = await (await site.client.get(f"/web/cases?q={word}")).text()
    expected = [r.case_no for r in everything.rows if word in r.description]
    assert expected and all(no in searched for no in expected)
    assert not [
        r.case_no
        for r in everything.rows
        if r.case_no not in expected and f">{r.case_no}<" in searched
    ]
    # Unknown filter values are ignored, not errors.
    assert (await site.client.get("/web/cases?status=bogus&page=-3&sort=drop")).status == 200


async def test_downloads_build_the_chat_files(site: Web) -> None:
    csrf = await site.sign_in("pref1")
    no_token = await site.client.post("/web/downloads", data={"what": "cases.csv"})
    assert no_token.status == 403
    resp = await site.client.post("/web/downloads", data={"csrf": csrf, "what": "cases.csv"})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    text = (await resp.read()).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("案件番号")
    deck = await site.client.post("/web/downloads", data={"csrf": csrf, "what": "deck.summary"})
    assert deck.status == 200 and (await deck.read())[:2] == b"PK"
    assert len(await site.audit("web_download")) == 2


async def test_dx_web_sends_a_link_by_direct_message(bot: ChatBot) -> None:
    replies = await bot.say("pref1", "/dx web")
    found = re.search(r"http://127\.0\.0\.1:3000/web/signin\?t=(\S+)", replies[0].text)
    assert found is not None and "10分" in replies[0].text
    # Asked in a channel, the link goes to the person's DMs and the channel sees no link.
    in_channel = await bot.say("pref1", "/dx web", is_direct=False)
    assert "/web/signin" not in in_channel[0].text and "ダイレクトメッセージ" in in_channel[0].text
    assert any("/web/signin?t=" in text for text in bot.sender.texts("pref1"))
    # The link from the chat signs in.
    services: Services = bot.services  # type: ignore[assignment]
    root = web.Application()
    root.add_subapp("/web", web_app(services))
    client = TestClient(TestServer(root))
    await client.start_server()
    try:
        resp = await client.post("/web/signin", data={"t": found.group(1)})
        assert resp.status == 200 and "鈴木 一郎様" in await resp.text()
    finally:
        await client.close()
    help_text = (await bot.say("pref1", "/dx help"))[0].text
    assert "/dx web" in help_text


async def test_dxbot_serve_mounts_the_web_view(db_url: str, clock: FixedClock) -> None:
    from bot.server import build_web_app

    settings = _settings(
        db_url,
        LOGO_BASE_URL="http://127.0.0.1:9/api/v1",
        LOGO_BOT_TOKEN="t",
        LOGO_WEBHOOK_SECRET="s",
    )
    services = build_services(settings, clock=clock)
    async with services.db.transaction() as s:
        await seed_with_demo(s, load_profile(PROGRAM), clock.now(), demo=True)
    app, _sender, _adapter = build_web_app(services, "logo", inline=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        rig = Web(client, services, clock)
        assert (await client.get("/web/")).status == 401
        await rig.sign_in("staff1")
        assert (await client.get("/web/deadlines")).status == 200
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()
        await services.db.dispose()


def test_dxbot_web_link_prints_a_link_or_says_why_not(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.cli import main

    async def seed() -> None:
        services = build_services(_settings(db_url), clock=FixedClock(DEFAULT_NOW))
        try:
            async with services.db.transaction() as s:
                await seed_with_demo(s, load_profile(PROGRAM), DEFAULT_NOW, demo=True)
        finally:
            await services.db.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DXBOT_PROGRAM", PROGRAM)
    monkeypatch.setenv("DXBOT_PUBLIC_URL", "https://dx.pref.example.lg.jp")
    assert main(["web", "link", "--as", "pref1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^https://dx\.pref\.example\.lg\.jp/web/signin\?t=[\w-]{40,}$", out, re.M)
    assert "valid 10 minutes" in out
    assert main(["web", "link", "--as", "nobody"]) == 2
    assert "No active user 'nobody'" in capsys.readouterr().err
