"""deploy/: what can be checked on this machine — the systemd unit's syntax (systemd-analyze
verify), the compose file parsed (two replicas on one PostgreSQL), and a backup with
deploy/backup.sh (pg_dump) restored with deploy/restore.sh into an empty database. Building the
image and running compose need a container runtime, which this machine has not (README)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from store import users
from store.db import Database
from store.migrate import upgrade
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW, _pg_admin

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DXBOT = str(Path(sys.executable).with_name("dxbot"))


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is part of systemd"
    # The unit as installed, with this machine's paths (verify checks the binaries exist).
    unit = (DEPLOY / "dxbot.service").read_text()
    unit = unit.replace("/opt/dxbot/.venv/bin/dxbot", DXBOT).replace("/opt/dxbot", str(tmp_path))
    unit = unit.replace("/etc/dxbot/dxbot.env", "/dev/null")
    unit = unit.replace("User=dxbot", "User=root").replace("Group=dxbot", "Group=root")
    path = tmp_path / "dxbot.service"
    path.write_text(unit)
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "KillMode=mixed" in unit and "TimeoutStopSec=15" in unit


def test_the_compose_file_runs_two_replicas_on_one_postgresql() -> None:
    spec = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = spec["services"]
    assert set(services) == {"postgres", "dxbot-a", "dxbot-b"}
    urls = {services[n]["environment"]["DATABASE_URL"] for n in ("dxbot-a", "dxbot-b")}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in next(iter(urls))
    ports = {services[n]["ports"][0] for n in ("dxbot-a", "dxbot-b")}
    assert len(ports) == 2
    assert services["postgres"]["image"].startswith("postgres:")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["dxbot", "serve"' in dockerfile


@pytest.fixture
def two_databases(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    server_url: str = request.getfixturevalue("pg_url")
    names = [f"dxbot_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url)
        yield tuple(  # type: ignore[misc]
            url.set(database=n).render_as_string(hide_password=False) for n in names
        )
    finally:
        for name in names:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_a_backup_restores_into_an_empty_database(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_databases
    db = Database(source)
    try:
        await upgrade(db.engine)
        async with db.transaction() as s:
            await seed_program(s, load_profile("saitama-2026"), DEFAULT_NOW)
            await users.add(s, platform="slack", platform_id="UB", role="staff", now=DEFAULT_NOW)
    finally:
        await db.dispose()
    dump = tmp_path / "dxbot.dump"
    for script, args in (("backup.sh", [source, str(dump)]), ("restore.sh", [str(dump), target])):
        proc = await asyncio.create_subprocess_exec(
            str(DEPLOY / script),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
    restored = Database(target)
    try:
        async with restored.transaction() as s:
            person = await users.get_by_platform_id(s, "slack", "UB")
        assert person is not None and person.role == "staff"
    finally:
        await restored.dispose()
