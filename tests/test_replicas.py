"""Two `dxbot serve` processes on one PostgreSQL, as behind a load balancer: signed messages
sent to them in turn are each answered once, one person's in the order they were sent; the
reminder pass run by both at once (each runs it at start) delivers each ping once. (The pass's
ledger claims under a race are tested in tests/test_reminder_claims.py.) Replicas run on
PostgreSQL only — SQLite is the single-process embedded store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from reminders.clock import JST
from store import cases as case_store
from store import inbox, outbox, users
from store import sessions as session_store
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW, _pg_admin
from tests.fakes.slack_server import FakeSlack, dm_event, signed_headers
from tests.test_kill import PEOPLE, SLACK_SECRET, Server, _base_env, _burst, _person, _serve

EVENTS = 120


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Iterator[str]:
    server_url: str = request.getfixturevalue("pg_url")
    name = f"dxbot_replicas_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def fake(pg_db: str) -> AsyncIterator[FakeSlack]:
    db = Database(pg_db)
    try:
        await upgrade(db.engine)
        async with db.transaction() as s:
            await seed_program(s, load_profile("saitama-2026"), DEFAULT_NOW)
            for p in range(PEOPLE):
                await users.add(
                    s,
                    platform="slack",
                    platform_id=_person("slack", p),
                    role="staff",
                    now=DEFAULT_NOW,
                )
    finally:
        await db.dispose()
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


def _env(tmp_path: Path, pg_db: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = _base_env(tmp_path)
    env.update(
        DATABASE_URL=pg_db,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake.api_url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        **extra,
    )
    return env


async def _two_servers(tmp_path: Path, env: dict[str, str]) -> list[Server]:
    return list(await asyncio.gather(*(_serve(tmp_path, "slack", env) for _ in range(2))))


async def test_two_servers_on_one_postgresql_answer_each_event_once_in_order(
    tmp_path: Path, pg_db: str, fake: FakeSlack
) -> None:
    env = _env(tmp_path, pg_db, fake)
    servers: list[Server] = []
    try:
        servers = await _two_servers(tmp_path, env)
        turns: list[list[tuple[bytes, dict[str, str]]]] = [[], []]
        for n in range(EVENTS):
            body = json.dumps(dm_event(_person("slack", n % PEOPLE), "/dx help", f"EvRep{n}"))
            turns[n % 2].append((body.encode(), signed_headers(SLACK_SECRET, body)))
        # Both at once, in turn: event n goes to server n % 2.
        acked = await asyncio.gather(
            *(_burst(s.port, turn, "/slack/events") for s, turn in zip(servers, turns, strict=True))
        )
        assert sum(acked) == EVENTS
        await fake.wait_for("chat.postMessage", EVENTS, limit=120)
        await asyncio.sleep(2)  # time for a doubled answer to show
        counts = Counter(str(c.args["channel"]) for c in fake.of("chat.postMessage"))
        assert sum(counts.values()) == EVENTS
        assert set(counts.values()) == {EVENTS // PEOPLE}
    finally:
        for server in servers:
            await server.kill()
    db = Database(pg_db)
    try:
        async with db.transaction() as s:
            rows = await inbox.all_items(s)
    finally:
        await db.dispose()
    assert len(rows) == EVENTS and all(r.done_at is not None for r in rows)
    for p in range(PEOPLE):
        mine = [r for r in rows if r.person == _person("slack", p)]
        done = [r.done_at for r in sorted(mine, key=lambda r: r.id)]
        assert done == sorted(done)  # handled in the order stored, across both servers


EXPERTS = 6
SESSIONS_EACH = 3
PASS_AT = dt.datetime(2026, 11, 19, 15, 0, tzinfo=JST)  # a Thursday, the sessions just ended


async def _sessions_just_ended(pg_db: str) -> list[str]:
    """Six experts on Slack, three sessions each that ended at 15:00: the pass owes each expert
    one report request (their sessions bundled) and the channels a notice per session."""
    db = Database(pg_db)
    profile = load_profile("saitama-2026")
    try:
        async with db.transaction() as s:
            officer = await users.add(
                s, platform="slack", platform_id="UOFFICER", role="officer", now=DEFAULT_NOW,
                municipality_code="111007", name="浦和",
            )  # fmt: skip
            experts = [
                await users.add(
                    s,
                    platform="slack",
                    platform_id=f"UEXP{e}",
                    role="expert",
                    now=DEFAULT_NOW,
                    name=f"専門家{e}",
                )
                for e in range(EXPERTS)
            ]
            starts = PASS_AT - dt.timedelta(hours=1)
            for n in range(EXPERTS * SESSIONS_EACH):
                case = await case_store.create(
                    s, program_id=profile.id, prefix=profile.case_prefix,
                    year=profile.fiscal_year, track_id="soudan", municipality_code="111007",
                    now=starts - dt.timedelta(days=14), requester_user_id=officer.id,
                    department="デジタル推進課", requester_name="浦和",
                    domains=["自治体のAIの利用促進"], description="生成AIの利用指針",
                    status="scheduled",
                )  # fmt: skip
                await session_store.create(
                    s, program_id=profile.id, case_id=case.id, track_id="soudan",
                    starts_at=starts, hours=1.0, method="online", place="オンライン",
                    report_due=dt.date(2026, 11, 27), municipality_codes=["111007"],
                    expert_user_ids=[experts[n % EXPERTS].id],
                    now=starts - dt.timedelta(days=7),
                )  # fmt: skip
    finally:
        await db.dispose()
    return [e.platform_id for e in experts]


async def test_two_servers_running_the_reminder_pass_deliver_each_ping_once(
    tmp_path: Path, pg_db: str, fake: FakeSlack
) -> None:
    """Both replicas start at once on the day the sessions ended and each runs the reminder
    pass (at start, then every five minutes) and the outbox delivery: every expert gets one
    request, and no message reaches Slack twice."""
    experts = await _sessions_just_ended(pg_db)
    env = _env(tmp_path, pg_db, fake, DXBOT_CLOCK_START=PASS_AT.isoformat())
    servers: list[Server] = []
    try:
        servers = await _two_servers(tmp_path, env)
        await fake.wait_for("conversations.open", EXPERTS, limit=120)
        db = Database(pg_db)
        try:
            for _ in range(600):  # until the outbox is empty (the pass has run, its pings out)
                async with db.transaction() as s:
                    queued = await outbox.all_messages(s)
                if queued and all(m.delivered_at is not None for m in queued):
                    break
                await asyncio.sleep(0.1)
        finally:
            await db.dispose()
        await asyncio.sleep(2)  # time for a doubled delivery to show
    finally:
        for server in servers:
            await server.kill()
    posts = [(str(c.args["channel"]), str(c.args["text"])) for c in fake.of("chat.postMessage")]
    assert len(posts) == len(queued) and len(set(posts)) == len(posts)  # each message once
    requests = Counter(ch for ch, text in posts if "支援実施報告" in text)
    assert requests == {f"D{e}": 1 for e in experts}  # one request each, their sessions bundled
    notices = [text for ch, text in posts if ch == "staff"]
    assert len(notices) >= EXPERTS * SESSIONS_EACH  # a notice per session, each once
