"""What the benchmarks share: the machine line, the PostgreSQL server they create their
databases on, and the expert roster they write through the store."""

from __future__ import annotations

import os
import platform
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from store import reference, users
from store.profiles import ProgramProfile

PG_ADMIN = os.environ.get(
    "DXBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def machine() -> str:
    """nproc, the CPU model and the RAM, as /proc reports them, and the load right now."""
    cpu, mem = "unknown CPU", "unknown RAM"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB RAM"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem}; Python {platform.python_version()}; "
        f"load average {load}"
    )


async def pg_connect(url: str) -> Any:
    """A plain asyncpg connection (COPY, VACUUM, timings without the ORM) to an SQLAlchemy URL."""
    import asyncpg

    u = make_url(url)
    return await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )


async def create_database(prefix: str) -> str:
    """A fresh database on the benchmark server; its URL. OSError when no server answers."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await pg_connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    conn = await pg_connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


async def add_experts(s: AsyncSession, n: int, now: Any) -> list[int]:
    """``n`` experts (expert1 …), as `dxbot experts import` would register them; their ids."""
    ids = []
    for i in range(n):
        u = await users.add(
            s,
            platform="console",
            platform_id=f"expert{i + 1}",
            role="expert",
            now=now,
            name=f"専門家{i + 1:03d}",
        )
        ids.append(u.id)
    return ids


async def municipality_codes(s: AsyncSession, profile: ProgramProfile) -> list[str]:
    """The codes of the program's prefecture's municipalities, as seeded."""
    return [m.code for m in await reference.loaded_municipalities(s, profile.prefecture_code)]
