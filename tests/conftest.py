"""Shared fixtures.

Every test that touches the store runs twice: on SQLite and on a real PostgreSQL server.
The PostgreSQL database is created fresh for each test run (and dropped after); tables are
emptied between tests. The server is the one at DXBOT_TEST_PG_URL or, when none answers there, a
throwaway one the session starts itself (tests/pg_server.py: the system's PostgreSQL binaries,
else the `pgserver` wheel of the test extra). Only when neither can be had is the PostgreSQL run
skipped locally, with a message saying why; in CI (CI=true) that is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from bot.core.config import Settings
from bot.core.messages import Inbound, Outbound
from reminders.clock import JST, FixedClock
from store.db import Database
from store.migrate import upgrade
from store.models import Base

if TYPE_CHECKING:
    from tests.pg_server import ThrowawayServer

PG_ADMIN_URL = os.environ.get(
    "DXBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# Where the PostgreSQL half runs: "auto" (the server at DXBOT_TEST_PG_URL, else a throwaway one
# from the system's binaries, else from pgserver), "url" (only DXBOT_TEST_PG_URL), "system" or
# "pgserver" (always a throwaway server from that source; DXBOT_TEST_PG_URL is not tried).
PG_PROVIDER = os.environ.get("DXBOT_TEST_PG_PROVIDER", "").strip().lower() or "auto"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

ENV_KEYS = (
    "DATABASE_URL",
    "DXBOT_PROGRAM",
    "DXBOT_PROFILES_DIR",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DXBOT_STAFF_CHANNEL",
    "DXBOT_PREFECTURE_CHANNEL",
    "LOGO_BASE_URL",
    "LOGO_BOT_TOKEN",
    "LOGO_WEBHOOK_SECRET",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "DXBOT_LLM_MODEL",
    "HTTPS_PROXY",
    "LOGO_MAX_TEXT_CHARS",
)

# Monday 2026-11-16, 10:00 JST: an ordinary 開庁日 morning.
DEFAULT_NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Real tokens in the developer's environment must never leak into a test."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # nothing a test does lands in the checkout


# --- PostgreSQL: one fresh database per test run -------------------------------------------

# The admin URL of the server this session uses: PG_ADMIN_URL, or a throwaway server's once the
# pg_url fixture has started one. Fixtures that make databases of their own request pg_url first
# and derive their URLs from it.
_pg_session_admin_url = PG_ADMIN_URL
_PG_URL_SHOWN = make_url(PG_ADMIN_URL).render_as_string()  # any password masked
_pg_session_server = ""  # what the summary line reports; empty until pg_url has run


class _NoPostgres(Exception):
    """Neither a server at DXBOT_TEST_PG_URL nor a throwaway one; the message says why."""


async def _pg_admin(sql: str, admin_url: str | None = None) -> None:
    import asyncpg

    url = make_url(admin_url or _pg_session_admin_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_server() -> tuple[str, ThrowawayServer | None]:
    """The admin URL of the server to use, and the throwaway server if one had to be started."""
    import asyncpg

    from tests import pg_server

    url_failure = ""
    if PG_PROVIDER in ("auto", "url"):
        try:
            asyncio.run(_pg_admin("SELECT 1", PG_ADMIN_URL))
            return PG_ADMIN_URL, None
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            url_failure = (
                f"no PostgreSQL server answers at {_PG_URL_SHOWN} ({type(exc).__name__}: {exc})"
            )
        if PG_PROVIDER == "url":
            raise _NoPostgres(f"{url_failure} (DXBOT_TEST_PG_PROVIDER=url starts no server)")
    try:
        server = pg_server.start(None if PG_PROVIDER == "auto" else PG_PROVIDER)
    except pg_server.Unavailable as exc:
        reasons = [
            url_failure,
            f"no throwaway server could be started: {exc}",
            pg_server.INSTALL_HINT,
        ]
        raise _NoPostgres("; ".join(r for r in reasons if r)) from exc
    return server.url, server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    global _pg_session_admin_url, _pg_session_server

    choices = ("auto", "url", "system", "pgserver")  # see PG_PROVIDER
    if PG_PROVIDER not in choices:  # a typo must not quietly skip the PostgreSQL half
        pytest.fail(
            f"DXBOT_TEST_PG_PROVIDER={PG_PROVIDER!r} is not one of {choices}", pytrace=False
        )
    try:
        admin_url, server = _pg_server()
    except _NoPostgres as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    _pg_session_admin_url = admin_url
    _pg_session_server = server.source if server else f"the server at {_PG_URL_SHOWN}"
    try:
        name = f"dxbot_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

        async def migrate() -> None:
            db = Database(url)
            try:
                await upgrade(db.engine)
            finally:
                await db.dispose()

        asyncio.run(migrate())
        yield url
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if server is not None:
            server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which PostgreSQL the run used (a throwaway server is worth knowing about)."""
    if _pg_session_server:
        terminalreporter.write_line(f"PostgreSQL tests ran on {_pg_session_server}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db.engine)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


async def _truncate_all(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "dxbot.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    db = Database(url)

    async def clean() -> None:
        try:
            await _truncate_all(db)
        finally:
            await db.dispose()

    asyncio.run(clean())
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]


# --- a chat harness: the console adapter's shape, reading like a transcript ----------------


@dataclass
class RecordingSender:
    """The far end of the wire for proactive messages: records each delivery."""

    sent: list[tuple[str, str, Outbound]] = field(default_factory=list)
    fail_times: int = 0

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        from bot.core.notifier import DeliveryError

        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("platform unavailable")
        self.sent.append((target_kind, target, message))

    def texts(self, target: str | None = None) -> list[str]:
        return [m.text for _, t, m in self.sent if target is None or t == target]


@dataclass
class ChatBot:
    services: object
    sender: RecordingSender
    _n: int = 0

    async def say(
        self,
        user: str,
        text: str,
        *,
        event_id: str | None = None,
        platform: str = "console",
        **kw: object,
    ) -> list[Outbound]:
        self._n += 1
        ib = Inbound(
            platform=platform,
            event_id=event_id or f"t-{self._n}-{uuid.uuid4().hex[:6]}",
            user_id=user,
            text=text,
            channel=f"D-{user}",
            **kw,
        )  # type: ignore[arg-type]
        replies = await self.services.dispatcher.handle(ib)  # type: ignore[attr-defined]
        await self.deliver()
        return replies

    async def deliver(self) -> None:
        await self.services.deliverer(self.sender).deliver_due()  # type: ignore[attr-defined]


@pytest.fixture
async def bot(settings: Settings, clock: FixedClock) -> AsyncIterator[ChatBot]:
    """The bot on a fresh database with the Saitama program and its demo people (no history)."""
    from sqlalchemy import select

    from bot.app import build_services
    from bot.demo import add_people
    from store.models import Municipality
    from store.profiles import load_profile
    from store.seed import seed_program

    services = build_services(settings, clock=clock)
    profile = load_profile("saitama-2026")
    async with services.db.transaction() as s:
        await seed_program(s, profile, clock.now())
        munis = list(
            (
                await s.scalars(
                    select(Municipality)
                    .where(Municipality.prefecture_code == "11")
                    .order_by(Municipality.code)
                )
            ).all()
        )
        await add_people(s, munis, clock.now())
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()
