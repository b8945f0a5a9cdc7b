"""The inbox: a stored delivery is leased by one claimer at a time, a lease left by a dead
process is taken over when it runs out, and one person's deliveries are handed out in order —
on SQLite and on PostgreSQL, with concurrent claimers on separate connections."""

from __future__ import annotations

import asyncio
import datetime as dt

from store import inbox
from store.db import Database
from tests.conftest import DEFAULT_NOW

LEASE = dt.timedelta(seconds=60)


async def _add(db: Database, person: str, n: int) -> bool:
    async with db.transaction() as s:
        return await inbox.add(
            s,
            platform="slack",
            delivery_id=f"Ev{n}",
            person=person,
            kind="message",
            body=f'{{"n": {n}}}',
            now=DEFAULT_NOW,
        )


async def _claim(db: Database, now: dt.datetime = DEFAULT_NOW) -> tuple[int, str, int] | None:
    async with db.transaction() as s:
        item = await inbox.claim(s, now, LEASE, "slack")
        return None if item is None else (item.id, item.person, item.attempts)


async def _finish(db: Database, item_id: int) -> None:
    async with db.transaction() as s:
        await inbox.finish(s, item_id, DEFAULT_NOW)


async def test_a_retried_delivery_is_stored_once(db: Database) -> None:
    assert await _add(db, "U1", 1)
    assert not await _add(db, "U1", 1)  # Slack's retry of the same event_id
    async with db.transaction() as s:
        assert await inbox.unfinished(s) == 1


async def test_one_row_is_taken_by_one_of_two_concurrent_claimers(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)
    try:
        await _add(first, "U1", 1)
        got = await asyncio.gather(_claim(first), _claim(second))
        assert sorted(g is not None for g in got) == [False, True]
    finally:
        await first.dispose()
        await second.dispose()


async def test_concurrent_claimers_take_every_row_once_and_each_person_in_order(
    db_url: str,
) -> None:
    """Six claimers on their own connections drain 60 rows of 6 people: every row handled
    once, each person's rows in the order they arrived, never two of one person at once."""
    people = [f"U{p}" for p in range(6)]
    dbs = [Database(db_url) for _ in range(6)]
    try:
        for n in range(60):
            await _add(dbs[0], people[n % 6], n)
        handled: list[tuple[int, str]] = []
        in_hand: set[str] = set()
        overlaps: list[str] = []

        async def claimer(db: Database) -> None:
            idle = 0
            while idle < 20:
                got = await _claim(db)
                if got is None:
                    idle += 1
                    await asyncio.sleep(0.005)
                    continue
                idle = 0
                item_id, person, _attempts = got
                if person in in_hand:
                    overlaps.append(person)
                in_hand.add(person)
                await asyncio.sleep(0.002)  # the handling
                handled.append((item_id, person))
                in_hand.discard(person)
                await _finish(db, item_id)

        await asyncio.gather(*(claimer(db) for db in dbs))
        ids = [i for i, _ in handled]
        assert sorted(ids) == sorted(set(ids)) and len(ids) == 60
        for person in people:
            mine = [i for i, p in handled if p == person]
            assert mine == sorted(mine) and len(mine) == 10
        assert overlaps == []
    finally:
        for db in dbs:
            await db.dispose()


async def test_a_lease_left_by_a_dead_worker_is_taken_over_when_it_runs_out(
    db: Database,
) -> None:
    await _add(db, "U1", 1)
    first = await _claim(db)
    assert first is not None and first[2] == 1
    # The claimer dies without finishing: nobody else takes the row while its lease holds.
    assert await _claim(db, DEFAULT_NOW + dt.timedelta(seconds=59)) is None
    again = await _claim(db, DEFAULT_NOW + dt.timedelta(seconds=61))
    assert again is not None and (again[0], again[2]) == (first[0], 2)


async def test_a_person_s_later_message_waits_for_the_earlier_one(db: Database) -> None:
    await _add(db, "UA", 1)
    await _add(db, "UA", 2)
    await _add(db, "UB", 3)
    a1 = await _claim(db)
    b = await _claim(db)
    assert a1 is not None and b is not None
    assert (a1[1], b[1]) == ("UA", "UB")  # UA's second row waits behind the first, in hand
    assert await _claim(db) is None
    await _finish(db, a1[0])
    a2 = await _claim(db)
    assert a2 is not None and a2[1] == "UA" and a2[0] > a1[0]
    # A lease that ran out keeps the order too: the expired first row comes back first.
    await _add(db, "UC", 4)
    await _add(db, "UC", 5)
    c1 = await _claim(db)
    assert c1 is not None and c1[1] == "UC"
    later = DEFAULT_NOW + dt.timedelta(seconds=61)
    taken = [await _claim(db, later) for _ in range(3)]
    assert [t[0] for t in taken if t is not None and t[1] == "UC"] == [c1[0]]


async def test_handled_rows_are_forgotten_after_a_week(db: Database) -> None:
    await _add(db, "U1", 1)
    got = await _claim(db)
    assert got is not None
    await _finish(db, got[0])
    async with db.transaction() as s:
        assert await inbox.purge(s, DEFAULT_NOW - dt.timedelta(days=7)) == 0
        assert await inbox.purge(s, DEFAULT_NOW + dt.timedelta(seconds=1)) == 1
