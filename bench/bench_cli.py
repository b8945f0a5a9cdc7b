"""Start-up of the command line: `dxbot --help` as a whole process (the installed console
script, interpreter start included), against a bare ``python -c pass`` of the same interpreter
measured in the same run, the two taken in alternating order so that a noisy moment of the
machine falls on both. Reports median, min and max of each, and the difference and ratio of the
medians: the difference is what our imports cost.

Run: ``.venv/bin/python -m bench.bench_cli [--runs N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import machine


def dxbot_script() -> str:
    """The console script beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "dxbot"
    found = str(beside) if beside.exists() else shutil.which("dxbot")
    if found is None:
        raise SystemExit("dxbot is not installed; run `pip install -e .` first.")
    return found


def wall(cmd: list[str]) -> float:
    """Seconds from spawning the process to its exit."""
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cli", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="runs of each (default 15)")
    args = parser.parse_args(argv)

    commands = {
        "dxbot --help": [dxbot_script(), "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    for cmd in commands.values():  # warm the page cache and the bytecode cache
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(args.runs):
        for name in names if i % 2 == 0 else reversed(names):
            times[name].append(wall(commands[name]))

    print(f"{args.runs} runs of each, alternating; {machine()}")
    print(f"{'command':<16} {'median':>9} {'min':>9} {'max':>9}")
    for name, ts in times.items():
        print(
            f"{name:<16} {statistics.median(ts) * 1000:>7.1f}ms {min(ts) * 1000:>7.1f}ms "
            f"{max(ts) * 1000:>7.1f}ms"
        )
    ours, bare = (statistics.median(times[n]) for n in names)
    print(
        f"dxbot --help: {(ours - bare) * 1000:.1f} ms over the bare interpreter "
        f"({ours / bare:.2f}x); target: median under 300 ms"
    )


if __name__ == "__main__":
    main()
