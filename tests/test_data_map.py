"""Every table has a decided fate at contract end, and the archive and the erasure follow it:
a new table, or one forgotten by either, fails here rather than in a prefecture's audit."""

from __future__ import annotations

import datetime as dt

from reminders.clock import JST
from reports import archive
from store import data_map, erasure
from store.db import Database
from store.models import Base
from store.profiles import load_profile
from store.seed import seed_program

PROGRAM = "saitama-2026"


def test_every_table_of_the_schema_has_a_fate() -> None:
    schema = set(Base.metadata.tables)
    assert set(data_map.TABLES) - schema == set(), "listed but not in the schema"
    assert schema - set(data_map.TABLES) == set(), "decide these tables' fate in store/data_map.py"


def test_the_archive_holds_exactly_the_tables_the_map_names() -> None:
    assert set(archive.TABLES) == data_map.archived_tables()


async def test_the_erasure_counts_every_table_it_is_said_to_delete(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.transaction() as s:
            await seed_program(s, load_profile(PROGRAM), dt.datetime(2026, 11, 16, tzinfo=JST))
            found = await erasure.people(s, PROGRAM, PROGRAM)
            counted = await erasure.counts(s, PROGRAM, found.erased)
    finally:
        await db.dispose()
    assert set(counted) == data_map.counted_at_erasure()
