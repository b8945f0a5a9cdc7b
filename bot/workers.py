"""Inbox workers behind `dxbot serve`: they take the stored deliveries and answer them.

The server stores each delivery in the inbox (store/inbox.py) before it acknowledges it; workers
lease rows from there, handle them, and mark them done in the handling's own transaction, along
with the replies, which go out through the outbox. So nothing acknowledged lives only in memory:
a worker, or the whole server, killed at any moment leaves its rows leased, and they are taken
over when the lease runs out — by a new worker of this process or by another replica on the
same PostgreSQL.

``InboxRunner`` is the loop (a few tasks in one process; one person's rows are never handled
at once, the claim sees to it). ``WorkerPool`` runs it in worker processes at the lowest CPU
priority, so the acks always get the CPU first (bench/bench_ack.py), and supervises them: the
moment a worker process ends (its sentinel becomes readable) another is started. ``close``
asks them to stop (SIGTERM: finish the row in hand), and kills what is still running after a
grace period — the backlog stays in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Protocol

from bot.core.config import Settings
from bot.core.messages import Outbound
from store import inbox, outbox
from store.db import Session
from store.models import InboxItem

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger("dxbot.workers")

# spawn, not fork: the parent holds an event loop, database pools and sockets that a forked
# child must not share.
_CTX = mp.get_context("spawn")
STOP_GRACE = 6.0  # seconds a stopping worker may finish the row in hand; SIGTERM-to-exit < 10 s
WORKER_NICE = 19
POLL_SECONDS = 0.05  # an idle worker looks at the inbox this often (a read, no lock)
TASKS_PER_PROCESS = 4  # rows handled at once in one worker process (different people)
MAX_ATTEMPTS = 5  # a row whose handling killed its worker this often is set aside, logged


class InboxWork(Protocol):
    """What an adapter offers the runner: handle one leased row, settling it (``settle``)."""

    platform: str

    async def handle_item(self, item: InboxItem) -> None: ...


@dataclass(frozen=True)
class Reply:
    """A reply to store with the row's settlement: where it goes and what it says."""

    target_kind: str
    target: str
    message: Outbound


async def settle(
    s: Session, item: InboxItem, replies: Sequence[Reply], now: dt.datetime
) -> list[int]:
    """In the handling's transaction: queue the replies in the outbox (keyed by the row, so a
    second settlement queues nothing twice) and mark the row done; the outbox ids, in order."""
    ids: list[int] = []
    for n, reply in enumerate(replies):
        row = await outbox.enqueue(
            s,
            target_kind=reply.target_kind,
            target=reply.target,
            platform=item.platform,
            payload=reply.message.to_payload(),
            now=now,
            dedupe_key=f"reply:{item.platform}:{item.id}:{n}",
        )
        if row is not None:
            ids.append(row.id)
    await inbox.finish(s, item.id, now)
    return ids


async def receive(
    services: Services, *, platform: str, delivery_id: str, person: str, kind: str, body: str
) -> bool:
    """Store a delivery before it is acknowledged; False when it was stored before (a retry)."""
    async with services.db.transaction() as s:
        return await inbox.add(
            s,
            platform=platform,
            delivery_id=delivery_id,
            person=person,
            kind=kind,
            body=body,
            now=services.clock.now(),
        )


class InboxRunner:
    """Takes rows of one platform from the inbox and hands them to the adapter, on ``tasks``
    concurrent loops; ``wake`` shortens the idle wait when this process stored a row itself."""

    def __init__(self, services: Services, work: InboxWork, *, tasks: int) -> None:
        self.services = services
        self.work = work
        self.tasks = tasks
        self.lease = dt.timedelta(seconds=services.settings.lease_seconds)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._busy = 0
        self._stop = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if not self._running:
            self._stop.clear()
            self._running = {asyncio.ensure_future(self._loop()) for _ in range(self.tasks)}

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let each loop finish the row in hand (at most ``grace`` seconds), then cancel."""
        self._stop.set()
        self._wake.set()
        if self._running:
            _done, pending = await asyncio.wait(self._running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
        self._running = set()

    async def drain(self) -> None:
        """Until every stored row is handled and its replies sent (tests; ``--workers 0``)."""
        self.start()
        while True:
            self.wake()
            async with self.services.db.transaction() as s:
                left = await inbox.unfinished(s, self.work.platform)
            if not left and not self._busy:
                return
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._busy += 1
            try:
                handled = await self.step()
            except Exception:
                log.exception("inbox step failed")
                handled = False
            finally:
                self._busy -= 1
            if not handled:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def step(self) -> bool:
        """Lease and handle one row; False when there was none free."""
        db, now = self.services.db, self.services.clock.now()
        async with db.transaction() as s:
            if not await inbox.has_work(s, now, self.work.platform):
                return False
            item = await inbox.claim(s, now, self.lease, self.work.platform)
        if item is None:
            return False
        if item.attempts > MAX_ATTEMPTS:
            log.error("inbox %s set aside after %s attempts", item.id, item.attempts - 1)
            async with db.transaction() as s:
                await inbox.finish(s, item.id, self.services.clock.now())
            return True
        await self.work.handle_item(item)
        return True


# --- worker processes ------------------------------------------------------------------------


class WorkerPool:
    """N supervised worker processes running an ``InboxRunner`` for one platform."""

    def __init__(self, settings: Settings, size: int, platform: str) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.settings = settings
        self.platform = platform
        self.closing = False
        self.procs: list[BaseProcess] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.restarts = 0
        for index in range(size):
            self.procs.append(self._start(index))

    def _start(self, index: int) -> BaseProcess:
        proc = _CTX.Process(
            target=worker_main,
            args=(self.settings, self.platform),
            name=f"dxbot-worker-{index}",
            daemon=True,
        )
        proc.start()
        if self._loop is not None:
            self._watch(index, proc)
        return proc

    def supervise(self, loop: asyncio.AbstractEventLoop) -> None:
        """Replace a worker the moment it ends: its sentinel fd becomes readable on exit."""
        self._loop = loop
        for index, proc in enumerate(self.procs):
            self._watch(index, proc)

    def _watch(self, index: int, proc: BaseProcess) -> None:
        assert self._loop is not None
        self._loop.add_reader(proc.sentinel, self._ended, index, proc)

    def _ended(self, index: int, proc: BaseProcess) -> None:
        assert self._loop is not None
        self._loop.remove_reader(proc.sentinel)
        proc.join(1)  # it has ended (its sentinel said so): reap it, for its exit code
        if self.closing or self.procs[index] is not proc:
            return
        log.error("worker %d exited (code %s); starting another", index, proc.exitcode)
        self.restarts += 1
        self.procs[index] = self._start(index)

    def close(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM every worker (each finishes the row in hand), SIGKILL any still running
        after ``grace`` seconds; their rows stay in the inbox, leased, for the next start."""
        self.closing = True
        if self._loop is not None:
            for proc in self.procs:
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_reader(proc.sentinel)
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        end = time.monotonic() + grace
        for proc in self.procs:
            proc.join(max(end - time.monotonic(), 0))
            if proc.is_alive():
                log.warning("worker %s did not stop in %ss; killing it", proc.name, grace)
                proc.kill()
                proc.join()


def worker_main(settings: Settings, platform: str) -> None:
    """Entry point of a worker process (module level, so that spawn can import it).

    Ctrl-C reaches the whole process group; the worker ignores it (the parent stops it).
    SIGTERM — from the parent, or from a service manager to the whole group — makes it finish
    the row in hand and exit.
    """
    from bot.core import logs

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield_to_acks()
    logs.configure(settings.log_level)
    asyncio.run(_worker(settings, platform))


def yield_to_acks() -> None:
    """Acks have a hard 3-second limit; the work has none. Give this process the lowest CPU
    priority, before it starts any thread (threads inherit it), so that the kernel runs the ack
    process first whenever both are ready, while the worker still gets every cycle the acks
    leave.

    Linux's SCHED_IDLE, where there is one: a request arriving preempts an idle-class worker at
    once, whereas a nice 19 worker may finish its time slice first — on a 2-core machine that
    cost the ack process up to a third of its throughput (bench/bench_ack.py). Elsewhere nice 19.
    """
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except OSError:  # a container may forbid changing the policy
            pass
    os.nice(WORKER_NICE)


def make_work(services: Services, platform: str) -> tuple[InboxWork, Callable[[], Awaitable[None]]]:
    """The adapter that handles ``platform``'s rows in a worker, and how to close it."""
    if platform == "slack":
        from bot.adapters.slack import SlackAdapter

        # The server verified and stored them; the runner below answers them.
        slack = SlackAdapter(services, inline=False, receives_http=False)
        return slack, slack.close
    from bot.adapters.logo import LogoAdapter

    logo = LogoAdapter(services, inline=False)
    return logo, logo.close


async def _worker(settings: Settings, platform: str) -> None:
    from bot.app import build_services

    services = build_services(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    parent = mp.parent_process()
    try:
        work, close = make_work(services, platform)
        runner = InboxRunner(services, work, tasks=TASKS_PER_PROCESS)
        runner.start()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if parent is not None and not parent.is_alive():
                log.warning("the server process has gone; worker stopping")
                break
        await runner.stop(grace=STOP_GRACE - 2)  # inside the parent's grace
        await close()
    finally:
        await services.db.dispose()
