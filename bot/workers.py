"""Worker processes behind `dxbot serve --adapter slack`.

The ack process only verifies, acknowledges and hands each job on; the workers answer it
(database, LLM, decks, Web API calls). In one process the work shares the event loop and the
CPU with the acks, and at one request at a time that halved the ack rate
(bench/bench_ack.py); in its own process the operating system schedules the ack process as
soon as a request arrives.

A ``SlackDelivery`` (the request as Slack sent it) crosses over a ``multiprocessing`` queue, one
queue per worker, chosen by a stable hash of the person (``SlackDelivery.shard``), so one
person's messages stay in order; the worker translates and answers it. A
worker that dies is started again with a new queue (a process killed while reading may leave
the old queue's lock held). Queues live in memory, like the in-process ones they replace: the
jobs a dying worker held, and those not yet handled when the whole server is killed, are lost
(Slack does not resend what was acknowledged); a clean stop finishes them first.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import queue as queue_errors
import signal
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING, Any

from bot.core.config import Settings

if TYPE_CHECKING:  # the adapter imports the whole app; the worker process imports it itself
    from bot.adapters.slack import SlackDelivery

log = logging.getLogger("dxbot.workers")

# spawn, not fork: the parent holds an event loop, database pools and sockets that a forked
# child must not share.
_CTX = mp.get_context("spawn")
STOP_TIMEOUT = 30.0
WORKER_NICE = 19


class WorkerPool:
    """N worker processes for Slack jobs, each with its own queue."""

    def __init__(self, settings: Settings, size: int) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.settings = settings
        self.queues: list[Queue[Any]] = [_CTX.Queue() for _ in range(size)]
        self.procs: list[BaseProcess] = [self._start(i) for i in range(size)]

    def _start(self, index: int) -> BaseProcess:
        proc = _CTX.Process(
            target=slack_worker_main,
            args=(self.settings, self.queues[index]),
            name=f"dxbot-worker-{index}",
            daemon=True,
        )
        proc.start()
        return proc

    def submit(self, delivery: SlackDelivery) -> None:
        """Hand a delivery to its worker; restart that worker first if it has died."""
        index = delivery.shard(len(self.queues))
        if not self.procs[index].is_alive():
            log.error(
                "worker %d exited (code %s); starting it again", index, self.procs[index].exitcode
            )
            self.queues[index] = _CTX.Queue()
            self.procs[index] = self._start(index)
        self.queues[index].put(delivery)

    def close(self) -> None:
        """Let every worker finish what it holds, then stop (terminate after STOP_TIMEOUT)."""
        for q in self.queues:
            q.put(None)
        for proc in self.procs:
            proc.join(STOP_TIMEOUT)
            if proc.is_alive():
                log.warning("worker %s did not stop in %ss; terminating", proc.name, STOP_TIMEOUT)
                proc.terminate()
                proc.join()


def slack_worker_main(settings: Settings, queue: Queue[Any]) -> None:
    """Entry point of a worker process (module level, so that spawn can import it).

    Ctrl-C and SIGTERM reach the whole process group; the worker ignores them and stops when
    the parent says so (after the jobs it holds), or when the parent has gone.
    """
    from bot.core import logs

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    yield_to_acks()
    logs.configure(settings.log_level)
    asyncio.run(_slack_worker(settings, queue))


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


_IDLE = object()


def _next(queue: Queue[Any]) -> Any:
    try:
        return queue.get(timeout=1.0)
    except queue_errors.Empty:
        return _IDLE


async def _slack_worker(settings: Settings, queue: Queue[Any]) -> None:
    from bot.adapters.slack import SlackAdapter
    from bot.app import build_services

    services = build_services(settings)
    adapter = SlackAdapter(services, receives_http=False)  # the ack process verified them
    loop = asyncio.get_running_loop()
    parent = mp.parent_process()
    try:
        while True:
            raw = await loop.run_in_executor(None, _next, queue)
            if raw is None:
                break
            if raw is _IDLE:
                if parent is not None and not parent.is_alive():
                    log.warning("the server process has gone; worker stopping")
                    break
                continue
            adapter.submit(raw)
        await adapter.close()
    finally:
        await services.db.dispose()
