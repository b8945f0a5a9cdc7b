"""A throwaway PostgreSQL server for one test session, for machines where none answers.

`make test` must run the PostgreSQL half on a fresh machine too. When no server answers on
DXBOT_TEST_PG_URL, tests/conftest.py calls `start()`, which takes PostgreSQL's server binaries
from the system (`pg_config --bindir`, PATH, the usual package directories) or else from the
`pgserver` wheel of the test extra (it bundles a PostgreSQL build), runs `initdb` into a temporary
directory with trust authentication and starts the server on a free 127.0.0.1 port. Durability is
switched off (fsync, full-page writes): the data dies with the session anyway, and it keeps the
start-up to about a second.

PostgreSQL refuses to run as root, so when the tests do, initdb and the server run as an existing
unprivileged account (`postgres`, else `nobody`) in a temporary directory that account owns.

No server outlives its session: `ThrowawayServer.stop()` (the session fixture's finaliser, and
atexit as a backstop) shuts it down immediately (SIGQUIT, what `pg_ctl stop -m immediate` sends)
and removes the directory; on Linux the server also gets SIGQUIT from the kernel if the test
process dies without running either (killed, or stopped by a signal Python does not handle);
the directory such a session leaves behind is removed by the next session that starts a server.

The file name does not start with `test_`, so pytest does not collect it.
"""

from __future__ import annotations

import atexit
import ctypes
import glob
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROVIDERS = ("system", "pgserver")
MIN_MAJOR = 13  # DROP DATABASE ... WITH (FORCE), which the fixtures use
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
# Accounts tried, in order, for running PostgreSQL when the tests run as root.
UNPRIVILEGED_ACCOUNTS = ("postgres", "nobody")
DIR_PREFIX = "dxbot-pg-"
OWNER_FILE = "owner.pid"  # the test process's pid: its directory is stale once that process is gone
# Where distributions put the server binaries when they are not on PATH.
SYSTEM_BINDIR_GLOBS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL and friends (PGDG packages)
    "/usr/local/pgsql/bin",  # built from source
    "/opt/homebrew/opt/postgresql@*/bin",  # macOS, Homebrew (Apple silicon)
    "/usr/local/opt/postgresql@*/bin",  # macOS, Homebrew (Intel)
)
INSTALL_HINT = (
    "install PostgreSQL's server package (e.g. `apt-get install postgresql`) or the test extra "
    "(`make install-test`; it brings the `pgserver` wheel on x86_64 Linux/macOS/Windows and Apple "
    "silicon with Python < 3.13), or point DXBOT_TEST_PG_URL at a server that answers"
)


class Unavailable(Exception):
    """No throwaway server could be had; the message says why."""


@dataclass
class ThrowawayServer:
    """A running server; `url` is an admin URL (user postgres, database postgres, no password)."""

    source: str
    url: str
    _process: subprocess.Popen[bytes]
    _directory: Path
    _log: Path
    _stopped: bool = field(default=False)

    def stop(self) -> None:
        """Stop the server at once and remove its directory; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        _terminate(self._process)
        shutil.rmtree(self._directory, ignore_errors=True)


def start(provider: str | None = None) -> ThrowawayServer:
    """Start a server from `provider` ("system" or "pgserver"), or the first that works if None.

    Raises Unavailable naming, for each source tried, why it could not be used.
    """
    if sys.platform == "win32":
        raise Unavailable("starting a throwaway PostgreSQL server is implemented for POSIX only")
    if provider is not None and provider not in PROVIDERS:
        raise Unavailable(f"unknown PostgreSQL provider {provider!r} (expected one of {PROVIDERS})")
    _sweep_stale_directories()
    finders: dict[str, Callable[[], list[Path]]] = {
        "system": _system_bindirs,
        "pgserver": _pgserver_bindirs,
    }
    reasons: list[str] = []
    for name in [provider] if provider else list(PROVIDERS):
        try:
            bindirs = finders[name]()
        except Unavailable as exc:
            reasons.append(f"{name}: {exc}")
            continue
        for bindir in bindirs:
            try:
                return _start_from(bindir, name)
            except Unavailable as exc:
                reasons.append(f"{name} ({bindir}): {exc}")
    raise Unavailable("; ".join(reasons))


def _sweep_stale_directories() -> None:
    """Remove directories left by sessions that were killed before they could clean up.

    (Their servers are gone already on Linux, see the module docstring.) A directory without an
    owner file may be one another session is creating this instant, so it is left alone.
    """
    for directory in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            pass  # alive, but someone else's


# --- where the binaries come from ------------------------------------------------------------


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "postgres"))


def _system_bindirs() -> list[Path]:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    for exe in ("postgres", "initdb"):
        found = shutil.which(exe)
        if found:
            candidates.append(Path(found).resolve().parent)
    for pattern in SYSTEM_BINDIR_GLOBS:
        # Newest major version first: /usr/lib/postgresql/16/bin before .../15/bin.
        candidates.extend(
            Path(p) for p in sorted(glob.glob(pattern), key=_version_key, reverse=True)
        )
    found_dirs: list[Path] = []
    for c in candidates:
        if _has_server(c) and c.resolve() not in [f.resolve() for f in found_dirs]:
            found_dirs.append(c)
    if not found_dirs:
        places = ", ".join(("pg_config --bindir", "PATH", *SYSTEM_BINDIR_GLOBS))
        raise Unavailable(f"no PostgreSQL server binaries (initdb, postgres) in {places}")
    return found_dirs


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def _pgserver_bindirs() -> list[Path]:
    # Only the bundled binaries are used, not pgserver's Python API: the server must run the
    # same way (port, user, clean-up) whichever source it comes from. find_spec locates the
    # package without importing it.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("the pgserver package is not installed")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not _has_server(bindir):
        raise Unavailable(f"pgserver is installed but has no initdb/postgres in {bindir}")
    return [bindir]


# --- running it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """Who runs PostgreSQL: None for ourselves, else an unprivileged account (we are root)."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None

    @property
    def extra_groups(self) -> list[int] | None:
        # Dropping root's supplementary groups too; None leaves a non-root caller's alone.
        return [] if self.uid is not None else None


def _account() -> _Account:
    if os.geteuid() != 0:
        return _Account()
    import pwd  # POSIX only, like the rest of this module

    for name in UNPRIVILEGED_ACCOUNTS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _Account(name, entry.pw_uid, entry.pw_gid)
    raise Unavailable(
        "the tests run as root, which PostgreSQL refuses, and none of the unprivileged accounts "
        f"{', '.join(UNPRIVILEGED_ACCOUNTS)} exists to run it as"
    )


def _clean_env() -> dict[str, str]:
    """Our environment without PG* variables (PGDATA, PGPORT...), which would steer the server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _version(bindir: Path) -> tuple[int, str]:
    """The major version and the full version text ("15.20") of the server in `bindir`."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"postgres --version could not run ({exc})") from exc
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise Unavailable(f"cannot tell the version of {bindir / 'postgres'} ({out.strip()!r})")
    return int(match.group(1)), match.group(0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook asking the kernel to SIGQUIT the server if we die first.

    Only when starting from the main thread: the kernel sends the signal when the *thread* that
    started the child exits, and the main thread lives as long as the test session.
    """
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGQUIT)

    return hook


def _start_from(bindir: Path, source: str) -> ThrowawayServer:
    major, version = _version(bindir)
    if major < MIN_MAJOR:
        raise Unavailable(f"PostgreSQL {major} is too old (the tests need {MIN_MAJOR} or newer)")
    account = _account()
    directory = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
    try:
        (directory / OWNER_FILE).write_text(str(os.getpid()))
        if account.uid is not None and account.gid is not None:
            os.chown(directory, account.uid, account.gid)
        data, log = directory / "data", directory / "postgres.log"
        _initdb(bindir, data, account)
        # A free port can be taken by someone else before the server binds it: try a few.
        for _attempt in range(3):
            port = _free_port()
            try:
                process = _launch(bindir, data, directory, log, port, account)
            except _PortTaken:
                continue
            who = f" as {account.name}" if account.name else ""
            server = ThrowawayServer(
                source=f"{source} PostgreSQL {version} ({bindir}){who}",
                url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres",
                _process=process,
                _directory=directory,
                _log=log,
            )
            atexit.register(server.stop)
            return server
        raise Unavailable("no free 127.0.0.1 port could be bound after 3 tries")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _initdb(bindir: Path, data: Path, account: _Account) -> None:
    # C.UTF-8 is what the CI machines' server uses; macOS has no such locale, C sorts the same.
    locale = "C.UTF-8" if sys.platform.startswith("linux") else "C"
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        f"--locale={locale}",
        "--no-sync",
    ]
    try:
        done = subprocess.run(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            cwd=data.parent,
            timeout=START_TIMEOUT_S,
            user=account.uid,
            group=account.gid,
            extra_groups=account.extra_groups,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"initdb could not run ({type(exc).__name__}: {exc})") from exc
    if done.returncode != 0:
        tail = done.stdout.decode(errors="replace").strip()[-800:]
        raise Unavailable(f"initdb failed (exit {done.returncode}): {tail}")


class _PortTaken(Exception):
    pass


def _launch(
    bindir: Path, data: Path, socket_dir: Path, log: Path, port: int, account: _Account
) -> subprocess.Popen[bytes]:
    cmd = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(socket_dir),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "shared_buffers=32MB",
        "-c",
        "max_connections=100",
    ]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            cwd=socket_dir,
            # Its own session: a Ctrl-C at the terminal reaches pytest, whose finaliser then
            # stops the server, instead of killing the server under a test still running.
            start_new_session=True,
            preexec_fn=_die_with_parent(),
            user=account.uid,
            group=account.gid,
            extra_groups=account.extra_groups,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    pid_file = data / "postmaster.pid"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")
            if "could not bind" in text or "already in use" in text:
                raise _PortTaken
            raise Unavailable(f"postgres exited (code {process.returncode}): {text.strip()[-800:]}")
        # The postmaster writes "ready" on the status line of postmaster.pid (line 8) once it
        # accepts connections: the same test pg_ctl -w makes.
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return process
        time.sleep(0.05)
    _terminate(process)
    raise Unavailable(f"postgres did not accept connections within {START_TIMEOUT_S:.0f} s")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Immediate shutdown (SIGQUIT, as `pg_ctl stop -m immediate`); SIGKILL if it lingers."""
    if process.poll() is not None:
        return  # already gone; its children notice the postmaster's death and exit
    try:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Not reaped yet, so the process group is still the server's (start_new_session).
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
