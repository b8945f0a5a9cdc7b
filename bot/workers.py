"""Inbox workers behind `dxbot serve`: they take the stored deliveries and answer them.

The server stores each delivery in the inbox (store/inbox.py; on a SQLite file by way of the
acks' spool, store/ack_spool.py) before it acknowledges it; workers lease rows from there, handle them, and mark them done in the handling's own transaction, along
with the replies, which go out through the outbox. So nothing acknowledged lives only in memory:
a worker, or the whole server, killed at any moment leaves its rows leased, and they are taken
over when the lease runs out — by a new worker of this process or by another replica on the
same PostgreSQL.

``InboxRunner`` is the loop (a few tasks in one process; one person's rows are never handled
at once, the claim sees to it). ``WorkerPool`` runs it in worker processes at a lower CPU
priority (the idle class), so the acks get the CPU first (bench/bench_ack.py), and supervises
them: the moment a worker process ends (its sentinel becomes readable) another is started — after
a doubling wait only when it keeps ending within seconds of its start (a crash loop). ``close``
asks them to stop (SIGTERM: finish the row in hand), and kills what is still running after a
grace period — the backlog stays in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import multiprocessing as mp
import os
import signal
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Protocol

from bot.core.backoff import doubling
from bot.core.config import WORKER_NICE, Settings
from bot.core.messages import Outbound
from reminders.clock import Clock, StartedClock
from store import inbox, outbox
from store.ack_spool import SpoolMover
from store.db import Database, Session
from store.models import InboxItem, OutboxMessage

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import Services

log = logging.getLogger("dxbot.workers")

# spawn, not fork: the parent holds an event loop, database pools and sockets that a forked
# child must not share.
_CTX = mp.get_context("spawn")
STOP_GRACE = 4.0  # seconds a stopping worker may finish the row in hand; SIGTERM-to-exit < 10 s
POLL_SECONDS = 0.05  # an idle worker looks at the inbox this often (a read, no lock)
FAILING_PAUSE_MAX = 5.0  # seconds between tries at most while every step fails
RETRY_MOVE = 1.0  # seconds before a failed move of the acks' spool is tried again
TASKS_PER_PROCESS = 4  # rows handled at once in one worker process (different people)
MAX_ATTEMPTS = 5  # a row whose handling killed its worker this often is set aside, logged
#: A worker that ran this long before it ended is replaced at once; one that ended sooner, a
#: second time in a row, is replaced after ``RESTART_BACKOFF`` seconds, doubled at each further
#: quick end up to ``RESTART_BACKOFF_MAX``.
STEADY_SECONDS = 10.0
RESTART_BACKOFF = 0.5
RESTART_BACKOFF_MAX = 30.0


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
    s: Session,
    item: InboxItem,
    replies: Sequence[Reply],
    now: dt.datetime,
    lease: dt.timedelta | None = None,
) -> list[OutboxMessage]:
    """In the handling's transaction: queue the replies in the outbox (keyed by the row, so a
    second settlement queues nothing twice) and mark the row done; the queued messages, in
    order — with ``lease``, already claimed for the caller to send after the commit
    (``OutboxDeliverer.deliver_claimed``)."""
    keyed = [
        outbox.Keyed(
            reply.target_kind,
            reply.target,
            item.platform,
            reply.message.to_payload(),
            f"reply:{item.platform}:{item.id}:{n}",
        )
        for n, reply in enumerate(replies)
    ]
    queued = await outbox.enqueue_keyed(s, keyed, now, lease)
    await inbox.finish(s, item.id, now)
    return queued


class InboxBusy(Exception):
    """A delivery could not be stored in time (the database is locked or slow): the caller
    answers a retryable status (503), never 2xx — the platform sends it again, and a copy that
    was stored after all is recognised by its id."""


ACK_DEADLINE = 2.0  # seconds a delivery may wait for its commit; Slack gives the whole ack 3 s

_Waiting = tuple[inbox.Delivery, "asyncio.Future[bool]"]


class InboxWriter:
    """Group commit of acks: the deliveries that arrive in two turns of the event loop are
    stored together at the end of the second (one transaction), and so are those that arrive
    while a batch waits for the database; each request waits for its own batch's commit.
    Nothing waits for a batch to fill.

    Why two turns, not one: a request's listener runs two turns after its bytes were read
    (the connection's task wakes, then the request's task runs), so a flush at the end of the
    first turn took only what one read of the sockets had brought — about three deliveries
    under load — and the next read's came one turn too late. Waiting one more turn (no timer:
    microseconds when the loop is idle) takes both reads': with 16 concurrent ``/status``
    commands, pinned, the ack process's CPU per ack fell from 205 to 175 µs (bare Bolt: 155)
    and p99 at one request at a time did not move (bench/bench_ack.py; README, Benchmarks).

    A batch is written at once, on the loop's thread, when the database lets it without
    waiting (``Appender.add_now``: a SQLite file whose write lock is free); else by a task
    that waits for the lock, or for PostgreSQL. A batch that waits has one timer, due
    ``ACK_DEADLINE`` after its first arrival: what is not stored by then is answered 503
    (``InboxBusy``) — one timer per waiting batch, not one per ack, as a timeout around each
    wait would cost; a batch written at once needs none (bench/bench_ack.py)."""

    def __init__(self, services: Services) -> None:
        self.appender = inbox.Appender(services.db)
        self.clock = services.clock
        self.loop = asyncio.get_running_loop()
        self._pending: list[_Waiting] = []
        self._expires = 0.0  # the pending batch's deadline (the loop's time) …
        self._allowed = ACK_DEADLINE  # … and how long that was (for the log)
        self._timer: asyncio.TimerHandle | None = None  # set once the pending batch must wait
        self._due = False  # a flush is scheduled for the end of the next turn of the loop
        self._writing: asyncio.Task[None] | None = None  # a batch waiting for the database
        self.batches = 0  # how many commits stored how many deliveries (bench/bench_ack.py)
        self.stored = 0

    async def add(self, delivery: inbox.Delivery, deadline: float = ACK_DEADLINE) -> bool:
        future: asyncio.Future[bool] = self.loop.create_future()
        if not self._pending:
            self._expires, self._allowed = self.loop.time() + deadline, deadline
            if self._writing is not None:  # it waits for the batch being written
                self._timer = self._expiry(self._pending)
        self._pending.append((delivery, future))
        if not self._due and self._writing is None:
            self._due = True
            self.loop.call_soon(self.loop.call_soon, self._flush)  # the next turn's end
        # A request that gives up (its client gone) cancels only its own future: its delivery
        # stays in the batch (harmless: the platform's retry of it is recognised).
        return await future

    def _flush(self) -> None:
        self._due = False
        if self._writing is not None or not self._pending:
            return
        batch, self._pending = self._pending, []
        timer, self._timer = self._timer, None
        now = self.clock.now()
        try:
            answers = self.appender.add_now([d for d, _ in batch], now)
        except Exception as exc:
            self._failed(batch, timer, exc)
            return
        if answers is None:
            if timer is None:
                timer = self._expiry(batch)
            self._writing = self.loop.create_task(self._write(batch, timer, now))
        else:
            self._stored(batch, timer, answers)

    def _expiry(self, batch: list[_Waiting]) -> asyncio.TimerHandle:
        return self.loop.call_at(self._expires, self._expire, batch, self._allowed)

    async def settled(self) -> None:
        """Until every delivery added so far is stored and in the inbox table."""
        while self._pending or self._writing is not None:
            if self._writing is not None:
                await asyncio.wait([self._writing])
            else:
                await asyncio.wait([future for _, future in self._pending])
            await asyncio.sleep(0)  # the flush scheduled meanwhile, first
        await self.appender.settled()

    async def _write(
        self, batch: list[_Waiting], timer: asyncio.TimerHandle | None, now: dt.datetime
    ) -> None:
        try:
            answers = await self.appender.add_many([d for d, _ in batch], now)
        except Exception as exc:  # locked past the patience, connection lost, …
            self._failed(batch, timer, exc)
        else:
            self._stored(batch, timer, answers)
        finally:
            self._writing = None
        self._flush()  # what arrived meanwhile (not after a cancellation: the loop is closing)

    def _stored(
        self, batch: list[_Waiting], timer: asyncio.TimerHandle | None, answers: list[bool]
    ) -> None:
        if timer is not None:
            timer.cancel()
        self.batches += 1
        self.stored += len(batch)
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    @staticmethod
    def _failed(batch: list[_Waiting], timer: asyncio.TimerHandle | None, exc: Exception) -> None:
        if timer is not None:
            timer.cancel()
        log.warning(
            "inbox: storing %d deliveries failed (%s); answered 503",
            len(batch),
            str(getattr(exc, "orig", None) or exc).splitlines()[0][:200],
        )
        InboxWriter._busy(batch)

    @staticmethod
    def _expire(batch: list[_Waiting], deadline: float) -> None:
        if any(not future.done() for _, future in batch):
            log.warning("inbox: deliveries not stored within %.1f s; answered 503", deadline)
            InboxWriter._busy(batch)

    @staticmethod
    def _busy(batch: list[_Waiting]) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(InboxBusy())


_writers: weakref.WeakKeyDictionary[Database, InboxWriter] = weakref.WeakKeyDictionary()


def inbox_writer(services: Services) -> InboxWriter:
    """The one group-committing writer of this process's event loop for these services."""
    writer = _writers.get(services.db)
    if writer is None or writer.loop is not asyncio.get_running_loop():
        writer = _writers[services.db] = InboxWriter(services)
    return writer


async def receive(
    services: Services, *, platform: str, delivery_id: str, person: str, kind: str, body: str
) -> bool:
    """Store a delivery before it is acknowledged; False when it is recognised as stored before
    (a retry: in the same batch; on PostgreSQL, or later — on a SQLite file a later copy is
    stored in the acks' spool too, and only the first reaches the inbox). Raises ``InboxBusy``
    when it could not be stored within ``ACK_DEADLINE``."""
    return await inbox_writer(services).add(
        inbox.Delivery(platform, delivery_id, person, kind, body)
    )


class InboxRunner:
    """Takes rows of one platform from the inbox and hands them to the adapter, on ``tasks``
    concurrent loops; on a SQLite file, another loop first moves the acks' spool into the
    inbox (store/ack_spool.py), every ``POLL_SECONDS``, and wakes them when it moved rows."""

    def __init__(self, services: Services, work: InboxWork, *, tasks: int) -> None:
        self.services = services
        self.work = work
        self.tasks = tasks
        self.lease = dt.timedelta(seconds=services.settings.lease_seconds)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._busy = 0
        self._failures = 0  # steps failed in a row, in any of the loops
        self._stop = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if not self._running:
            self._stop.clear()
            self._running = {asyncio.ensure_future(self._loop()) for _ in range(self.tasks)}
            mover = inbox.spool_mover(self.services.db)
            if mover is not None:
                self._running.add(asyncio.ensure_future(self._move_spool(mover)))

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
            writer = _writers.get(self.services.db)
            if writer is not None:
                await writer.settled()  # what this process stored, in the inbox
            mover = inbox.spool_mover(self.services.db)
            if mover is not None:
                await mover.settled()  # what other processes stored
            async with self.services.db.transaction() as s:
                left = await inbox.unfinished(s, self.work.platform)
            if not left and not self._busy:
                return
            if left and not self._busy:
                self.wake()  # not while a row is in hand: idle loops would poll in its way
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        handled = False
        while not self._stop.is_set():
            try:
                handled = await self.step(look=not handled)
            except Exception:
                handled = False
                self._failed()
            else:
                self._succeeded()
            if not handled:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._pause())

    def _pause(self) -> float:
        """A poll's wait; while steps fail (the database down, say), a doubling one up to
        ``FAILING_PAUSE_MAX``: the loops would otherwise try, and log, 20 times a second each."""
        if not self._failures:
            return POLL_SECONDS
        return doubling(POLL_SECONDS, self._failures, FAILING_PAUSE_MAX)

    def _failed(self) -> None:
        """The first failure of a run of them logged with its traceback, then one line at each
        doubling of the run (every loop of the runner counts into one run)."""
        self._failures += 1
        if self._failures == 1:
            log.exception("inbox step failed")
        elif self._failures & (self._failures - 1) == 0:
            log.warning(
                "inbox step failed %d times in a row; trying again every %.1fs",
                self._failures,
                self._pause(),
            )

    def _succeeded(self) -> None:
        if self._failures:
            log.warning("inbox steps succeed again after %d failures", self._failures)
            self._failures = 0

    async def _move_spool(self, mover: SpoolMover) -> None:
        """The acks' spool into the inbox: what arrived in a poll's time goes in one move."""
        while not self._stop.is_set():
            pause = POLL_SECONDS
            try:
                if await mover.move():
                    self.wake()
            except Exception as exc:  # the database locked past the move's patience, …
                log.warning("inbox: moving the acks' spool failed (%s); trying again", exc)
                pause = RETRY_MOVE
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def step(self, *, look: bool = True) -> bool:
        """Lease and handle one row; False when there was none free. ``look``: first a read
        (``has_work``), so that a loop polling an empty inbox takes no write lock; a loop that
        has just handled a row claims at once (in a backlog, one statement less per row)."""
        db, now = self.services.db, self.services.clock.now()
        async with db.transaction() as s:
            if look and not await inbox.has_work(s, now, self.work.platform):
                return False
            item = await inbox.claim(s, now, self.lease, self.work.platform)
        if item is None:
            return False
        # Counted from the claim until its replies are sent: the row is finished in the
        # handling's transaction, before the replies go out, and ``drain`` waits for both.
        # (Counting loops that merely look for work kept ``drain`` waiting while it woke them.)
        self._busy += 1
        try:
            if item.attempts > MAX_ATTEMPTS:
                log.error("inbox %s set aside after %s attempts", item.id, item.attempts - 1)
                async with db.transaction() as s:
                    await inbox.finish(s, item.id, self.services.clock.now())
                return True
            await self.work.handle_item(item)
            return True
        finally:
            self._busy -= 1


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
        self._started: dict[int, float] = {}  # each worker's start, time.monotonic()
        self._quick_ends: dict[int, int] = {}  # each index's ends in a row before STEADY_SECONDS
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
        self._started[index] = time.monotonic()
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
        quick = self._count_quick_end(index)
        if quick == 1:
            log.error("worker %d exited (code %s); starting another", index, proc.exitcode)
            self._restart(index)
            return
        delay = doubling(RESTART_BACKOFF, quick - 2, RESTART_BACKOFF_MAX)
        log.error(
            "worker %d exited (code %s) %d times in a row within %ss of its start; "
            "starting another in %ss",
            index,
            proc.exitcode,
            quick,
            STEADY_SECONDS,
            delay,
        )
        self._loop.call_later(delay, self._restart, index)  # not after close: see _restart

    def _count_quick_end(self, index: int) -> int:
        """The worker's ends in a row within ``STEADY_SECONDS`` of its start, this one included
        (1 for one that ran steadily): the first is replaced at once, later ones after a wait.

        Why wait at all: a worker that cannot start (a database refusing connections, a bad
        setting only the worker reads) was spawned again about twice a second, for as long as
        the server ran, each time a Python start-up's CPU and a traceback in the log, taking the
        CPU the acks need — the crash loop systemd's ``StartLimitBurst`` and supervisord's
        back-off exist for. The acks go on meanwhile: what they store waits in the inbox.
        """
        if time.monotonic() - self._started[index] >= STEADY_SECONDS:
            self._quick_ends[index] = 0
        self._quick_ends[index] = self._quick_ends.get(index, 0) + 1
        return self._quick_ends[index]

    def _restart(self, index: int) -> None:
        if self.closing:  # a restart that was waiting when the pool closed
            return
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
    yield_to_acks(settings.worker_nice, idle=settings.worker_idle)
    logs.configure(settings.log_level)
    asyncio.run(_worker(settings, platform))


def yield_to_acks(nice: int = WORKER_NICE, *, idle: bool = True) -> None:
    """Acks have a hard 3-second limit; the work has none. Put this process (before it starts
    any thread: threads inherit it) where the kernel lets the ack process run first: by default
    in Linux's idle class (``SCHED_IDLE``, ``DXBOT_WORKER_IDLE``), else at ``nice``
    (``DXBOT_WORKER_NICE``) in the normal class — also where the idle class is refused.

    Why the idle class: a worker with a backlog shares a core with the ack process, and at nice
    19 an ack that woke while the worker ran still waited for it, up to a millisecond at a time
    (the kernel lets a running task keep the CPU until the waking one is owed it): events at one
    request at a time, pinned, measured with the worker stopped, at nice 19 and idle — p99
    0.55–0.59, 0.84–1.43 and 0.67–0.82 ms, the ack process waiting on the run queue 0.1–0.7,
    7–13 and 4–5 µs per request (``/proc/<pid>/schedstat``). A wake-up preempts an idle-class
    task at once, whatever it has run.

    Why that is safe now, not when an earlier version used the idle class (replaced by nice
    10 on 2026-12-03): a starved worker then held SQLite's write lock that the acks needed; now
    the acks write a file no handling locks (store/ack_spool.py), and the ack process answers
    with no worker running. What stays true: on a host busy with other work an idle-class
    worker gets almost no CPU and replies wait — there, ``DXBOT_WORKER_IDLE=false`` with
    ``DXBOT_WORKER_NICE=0`` gives it an equal share.
    """
    if idle and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):  # a container may forbid it: the nice value then
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
    if nice > 0:
        with contextlib.suppress(OSError):  # a container may forbid it: normal priority then
            os.nice(nice)


def keep_session(client: AsyncWebClient, timeout: float) -> Callable[[], Awaitable[None]]:
    """Give a Slack Web API client one HTTP session for all its calls (slack_sdk otherwise
    opens a session — a new connection — per call); returns how to close it."""
    import aiohttp

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
    client.session = session
    return session.close


def make_work(services: Services, platform: str) -> tuple[InboxWork, Callable[[], Awaitable[None]]]:
    """The adapter that handles ``platform``'s rows in a worker, and how to close it."""
    if platform == "slack":
        from bot.adapters.slack import CLIENT_TIMEOUT, SlackAdapter

        # The server verified and stored them; the runner below answers them.
        slack = SlackAdapter(services, inline=False, receives_http=False)
        close_session = keep_session(slack.client, CLIENT_TIMEOUT)

        async def close() -> None:
            await slack.close()
            await close_session()

        return slack, close
    from bot.adapters.logo import LogoAdapter

    logo = LogoAdapter(services, inline=False)
    return logo, logo.close


def freeze_startup_heap() -> None:
    """Move everything the start-up built (modules, SQLAlchemy's and Bolt's registries, the
    profiles: ~190,000 objects) out of the garbage collector's sight, once, before serving.
    Python's full collection walks every tracked object: ~100 ms here, during which no ack is
    answered — at 64 concurrent requests a p99 of its own (bench/bench_ack.py). Those objects
    live as long as the process, so nothing collectable is lost."""
    gc.collect()
    gc.freeze()


def serve_clock(settings: Settings) -> Clock | None:
    """The clock of `dxbot serve` and its workers: from ``DXBOT_CLOCK_START`` when it is set
    (running on from there), else None — the real time."""
    return None if settings.clock_start is None else StartedClock(settings.clock_start)


def worker_services(settings: Settings) -> Services:
    """A worker process's services. Its SQLite calls run on its event loop's thread, not on
    aiosqlite's (store/sqlite_inline.py): the worker has no ack to answer, and the hand-offs
    to aiosqlite's thread were most of its CPU per reply."""
    from bot.app import build_services

    return build_services(settings, clock=serve_clock(settings), inline_sqlite=True)


async def _worker(settings: Settings, platform: str) -> None:
    services = worker_services(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    parent = mp.parent_process()
    try:
        work, close = make_work(services, platform)
        runner = InboxRunner(services, work, tasks=TASKS_PER_PROCESS)
        freeze_startup_heap()
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
