"""`python -m bench` (or `make bench`): every benchmark, then the machine it ran on.

Each module also runs alone: `python -m bench.bench_status --help`, `python -m bench.bench_deck`.
Every ``bench_*.py`` module of the package runs, through its ``main`` (async or not, with an
empty argument list when it takes one).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

from bench.common import machine

ORDER = ("bench_status", "bench_deck")


async def call(fn: Any) -> None:
    args = [[]] if inspect.signature(fn).parameters else []
    if inspect.iscoroutinefunction(fn):
        await fn(*args)
    else:
        await asyncio.to_thread(fn, *args)


def modules() -> list[str]:
    here = Path(__file__).parent
    found = [m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")]
    return [m for m in ORDER if m in found] + sorted(m for m in found if m not in ORDER)


async def main() -> None:
    print(f"machine: {machine()}")
    for name in modules():
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name} ==", flush=True)
        await call(module.main)
    print(f"\nmachine after: {machine()}")


if __name__ == "__main__":
    asyncio.run(main())
