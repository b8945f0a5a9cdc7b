"""Two `dxbot serve` processes on one PostgreSQL, as behind a load balancer: signed messages
sent to them in turn are each answered once, one person's in the order they were sent. (The
reminder pass run by two processes at once is tested in tests/test_reminder_pass.py and
tests/test_reminder_claims.py: each ping once.) Replicas run on PostgreSQL only — SQLite is the
single-process embedded store."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from store import inbox, users
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


async def test_two_servers_on_one_postgresql_answer_each_event_once_in_order(
    tmp_path: Path, pg_db: str, fake: FakeSlack
) -> None:
    env = _base_env(tmp_path)
    env.update(
        DATABASE_URL=pg_db,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake.api_url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
    )
    servers: list[Server] = []
    try:
        servers = list(await asyncio.gather(*(_serve(tmp_path, "slack", env) for _ in range(2))))
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
