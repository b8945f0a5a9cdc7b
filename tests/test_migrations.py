"""Migrations: from an empty database to head on both engines, the models and the migrations
agree, and a downgrade to base leaves an empty schema that can be migrated again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from store.db import Database
from store.migrate import HEAD, alembic_config, schema_is_current, upgrade
from store.models import Base
from tests.conftest import _pg_admin

TABLES = {t.name for t in Base.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, never migrated database: a new SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "fresh" / "empty.db"
        assert not path.exists()
        yield f"sqlite+aiosqlite:///{path}"
        return
    # pg_url is requested here, outside the event loop: it skips (locally) or fails (CI) when
    # no PostgreSQL can be had; else the new database goes on the session's server.
    server_url: str = request.getfixturevalue("pg_url")
    name = f"dxbot_mig_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def empty_db(empty_url: str) -> AsyncIterator[Database]:
    database = Database(empty_url)
    yield database
    await database.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _diffs(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(ctx, Base.metadata)


def _head(db: Database) -> str | None:
    return ScriptDirectory.from_config(
        alembic_config(db.url.render_as_string(hide_password=False))
    ).get_current_head()


async def _downgrade(db: Database, revision: str = "base") -> None:
    def run(connection: Connection) -> None:
        cfg = alembic_config(db.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def test_migrations_run_from_empty_to_head(empty_db: Database) -> None:
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_tables) == set()

    await upgrade(empty_db.engine)

    async with empty_db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
        revision = await conn.run_sync(_revision)
    assert TABLES <= tables, f"tables missing after upgrade: {sorted(TABLES - tables)}"
    assert revision == _head(empty_db)


async def test_the_schema_is_current_only_at_the_newest_migration(empty_db: Database) -> None:
    """store.migrate.HEAD, which spares commands importing Alembic, names the newest migration:
    move it when adding one. A database not at it (never migrated, one behind) is not current."""
    assert HEAD == _head(empty_db), f"set store.migrate.HEAD to {_head(empty_db)!r}"
    assert not await schema_is_current(empty_db)
    await upgrade(empty_db.engine)
    assert await schema_is_current(empty_db)
    await _downgrade(empty_db, "-1")
    assert not await schema_is_current(empty_db)


async def test_upgrade_twice_is_harmless(empty_db: Database) -> None:
    await upgrade(empty_db.engine)
    await upgrade(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_revision) == _head(empty_db)


async def test_models_and_migrations_agree(empty_db: Database) -> None:
    await upgrade(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        diffs = await conn.run_sync(_diffs)
    assert diffs == [], (
        f"store/models.py and the Alembic migrations disagree; write a migration for: {diffs}"
    )


async def test_downgrade_to_base_and_up_again(empty_db: Database) -> None:
    await upgrade(empty_db.engine)
    await _downgrade(empty_db, "base")
    async with empty_db.engine.connect() as conn:
        left = await conn.run_sync(_tables)
        assert await conn.run_sync(_revision) is None
    assert left <= {"alembic_version"}, f"tables left after downgrade: {sorted(left)}"

    await upgrade(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        assert TABLES <= await conn.run_sync(_tables)
        assert await conn.run_sync(_diffs) == []
