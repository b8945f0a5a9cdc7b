"""Run Alembic migrations from package data, so `dxbot db upgrade` works from any directory.

Alembic is imported only when a migration runs or the schema is not at ``HEAD``: importing it
(with Mako and Pygments) costs a quarter of a second or more at every command's start-up.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

    from store.db import Database

# The newest migration's revision (store/migrations/versions/). A database recorded at it is
# current without asking Alembic; tests/test_migrations.py fails when a migration is added and
# this is not moved to it. Any other recorded revision is judged by Alembic itself.
HEAD = "0010_q"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("store").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an existing async engine (one connection, one transaction)."""

    from alembic import command

    def _upgrade(connection: object) -> None:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def schema_is_current(db: Database) -> bool:
    if await recorded_revisions(db) == [HEAD]:
        return True
    # Imported here: see the module's docstring.
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(db.url))).get_current_head()
    async with db.engine.connect() as conn:
        current = await conn.run_sync(
            lambda c: MigrationContext.configure(c).get_current_revision()
        )
    return current == head


async def recorded_revisions(db: Database) -> list[str] | None:
    """The revisions the database records in Alembic's table; None when it has no such table."""
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return [str(r[0]) for r in rows]
    except DBAPIError:  # no table yet: a database never migrated
        return None
