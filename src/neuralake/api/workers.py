"""Killable query processes: the API runs every query in a worker process the server owns.

Each worker loads the catalog once, then answers one :class:`~neuralake.api.queries.Job` at a
time over a pipe. The server's guarantees come from owning the processes, not from the engine:

- **time**: a query past the timeout is answered 504 and its worker is killed (SIGKILL) and
  replaced, so nothing keeps computing after the answer;
- **memory**: a worker's resident memory is polled while it works and the worker is killed past
  its budget (507). Its address space is also capped (``RLIMIT_AS``) well above that, as a
  backstop for a spike between polls: the allocator reserves address space it never touches, so
  a tight cap would fail queries that fit (and a Rust allocation failure may hang the worker,
  which the timeout then kills);
- **concurrency**: at most ``workers`` queries run and ``max_queued`` wait; more get 429;
- **lifetime**: workers are started by the server's own thread with ``PR_SET_PDEATHSIG`` and
  also watch their parent, so they die with the server even after ``kill -9``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from neuralake.api.queries import Job, Reply, execute
from neuralake.errors import NeuralakeError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from neuralake.catalog import Catalog

logger = logging.getLogger("neuralake.api")

#: Where workers get the catalog: a ``module:attribute`` reference or a picklable callable.
CatalogSource = str | Callable[[], "Catalog"]

_PAGE = os.sysconf("SC_PAGE_SIZE")
_POLL_SECONDS = 0.05
_START_SECONDS = 120.0


class WorkerStartError(NeuralakeError, RuntimeError):
    """A query worker could not load the catalog (the message says why)."""


@dataclass(frozen=True)
class Limits:
    """What one query may use.

    Attributes:
        row_limit: Most rows one answer holds.
        timeout: Seconds a query may run before its worker is killed.
        memory_bytes: Resident memory a worker may grow by while it runs one query.
    """

    row_limit: int
    timeout: float
    memory_bytes: int


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Worker:
    process: BaseProcess
    conn: Connection
    job_rss: int = 0  # resident memory when its current query started
    busy: bool = False
    over_memory: bool = field(default=False)

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """A fixed number of query workers, replaced when killed or crashed.

    Example:
        >>> pool = WorkerPool("examples.tpch.catalog:catalog", workers=2,
        ...                   limits=Limits(10_000, 30.0, 2 << 30))  # doctest: +SKIP
        >>> await pool.start(); reply = await pool.run(Job("sql", "SELECT 1"))  # doctest: +SKIP
    """

    def __init__(
        self, source: CatalogSource, *, workers: int, limits: Limits, max_queued: int = 16
    ) -> None:
        self.source = source
        self.size = workers
        self.limits = limits
        self.max_queued = max_queued
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._admitted = 0
        self._threads = ThreadPoolExecutor(workers * 2 + 2, thread_name_prefix="nl-worker-io")
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the catalog.

        Raises:
            WorkerStartError: A worker failed to load the catalog.
        """
        started = [self._spawn() for _ in range(self.size)]
        try:
            for worker in started:
                await self._ready(worker)
        except BaseException:
            for worker in started:
                worker.kill()
            raise
        self._tasks.add(asyncio.create_task(self._watch()))

    async def close(self) -> None:
        """Kill every worker (queries in flight are answered 503)."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for worker in list(self._all):
            worker.kill()
        self._all.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return sorted(w.pid for w in self._all if w.process.is_alive())

    # -- queries ---------------------------------------------------------------------------

    async def run(self, job: Job) -> Reply:
        """Run ``job`` in a free worker: waiting for one at most the timeout (then 503), and
        running at most the timeout (then 504 and the worker is killed). The two are separate
        so a query that waited for a worker, e.g. one reloading the catalog after a crash, is
        never killed for time it did not run."""
        if self._admitted >= self.size + self.max_queued:
            return Reply.error(429, "busy", "Too many queries at once; retry shortly.")
        self._admitted += 1
        try:
            return await self._run(job)
        finally:
            self._admitted -= 1

    async def _run(self, job: Job) -> Reply:
        timeout = self.limits.timeout
        try:
            worker = await asyncio.wait_for(self._free_worker(), timeout)
        except TimeoutError:
            return Reply.error(503, "busy", "No query worker became free in time; retry.")
        loop = asyncio.get_running_loop()
        try:
            worker.job_rss = _rss(worker.pid)
            worker.busy = True
            worker.conn.send(job)
            reply: Reply = await asyncio.wait_for(
                loop.run_in_executor(self._threads, worker.conn.recv), timeout
            )
        except TimeoutError:
            self._replace(worker)
            return Reply.error(504, "timeout", f"The query took longer than {timeout:g}s.")
        except (EOFError, OSError):
            over = worker.over_memory or worker.process.exitcode == -signal.SIGABRT
            self._replace(worker)
            if over:
                mib = self.limits.memory_bytes >> 20
                return Reply.error(507, "out_of_memory",
                                   f"The query needed more than {mib} MiB and was stopped.")  # fmt: skip
            return Reply.error(500, "worker_crashed", "The query stopped its worker; retry.")
        worker.busy = False
        self._idle.put_nowait(worker)
        return reply

    async def _free_worker(self) -> _Worker:
        """The next idle worker that is still alive (a dead one is replaced on the way)."""
        while True:
            worker = await self._idle.get()
            if worker.process.is_alive():
                return worker
            if worker in self._all:
                self._replace(worker)

    # -- workers ---------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        """Start one worker; must run on the server's long-lived thread (see PDEATHSIG)."""
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_serve,
            args=(child, self.source, list(sys.path), os.getpid(), self.limits),
            name="neuralake-query-worker",
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._all.add(worker)
        return worker

    async def _ready(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        try:
            status, detail = await asyncio.wait_for(
                loop.run_in_executor(self._threads, worker.conn.recv), _START_SECONDS
            )
        except (TimeoutError, EOFError, OSError) as exc:
            raise WorkerStartError(f"A query worker did not start: {type(exc).__name__}.") from exc
        if status != "ready":
            raise WorkerStartError(f"A query worker could not load the catalog: {detail}")
        self._idle.put_nowait(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        if not self._closed:
            task = asyncio.create_task(self._restart())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _restart(self) -> None:
        delay = 0.5
        while not self._closed:
            worker = self._spawn()
            try:
                await self._ready(worker)
                return
            except WorkerStartError as exc:
                logger.error("%s; retrying in %.1fs", exc, delay)
                worker.kill()
                self._all.discard(worker)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _watch(self) -> None:
        """Kill busy workers past the memory budget; replace idle workers that died (killed by
        the OOM killer or by hand): they would otherwise fail the next query."""
        while True:
            await asyncio.sleep(_POLL_SECONDS)
            for worker in list(self._all):
                if not worker.busy and not worker.process.is_alive():
                    self._replace(worker)
                elif worker.busy and _rss(worker.pid) - worker.job_rss > self.limits.memory_bytes:
                    worker.over_memory = True
                    with contextlib.suppress(OSError):
                        worker.process.kill()  # the waiting request answers 507


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


# -- inside the worker process ---------------------------------------------------------------


def _serve(
    conn: Connection, source: CatalogSource, path: list[str], parent: int, limits: Limits
) -> None:
    """A worker's life: die with the parent, load the catalog, answer jobs until EOF."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    sys.path[:] = path
    try:
        catalog = _load(source)
        import polars as pl

        pl.select(pl.lit(1)).lazy().collect()  # start the engine's threads before capping
    except BaseException as exc:  # anything the catalog's module raises while importing
        conn.send(("failed", f"{type(exc).__name__}: {exc}".splitlines()[0]))
        return
    _cap_address_space(limits.memory_bytes)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = execute(catalog, job, limits.row_limit)
        except Exception as exc:  # a bug or a catalog function's own error: one query lost
            logger.exception("query failed in worker")
            reply = Reply.error(500, "internal", f"The query failed: {type(exc).__name__}.")
        conn.send(reply)


def _load(source: CatalogSource) -> Catalog:
    if callable(source):
        return source()
    from neuralake.catalog import load_catalog

    return load_catalog(source)


def _die_with(parent: int) -> None:
    """Get SIGKILL when the server dies (Linux), and exit if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:  # also where PDEATHSIG does not exist
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="nl-parent-watch").start()


def _cap_address_space(budget: int) -> None:
    """Cap the address space at its current size plus four budgets (the backstop above)."""
    import resource

    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * _PAGE
    except (OSError, ValueError):
        return
    cap = size + 4 * budget
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


__all__ = ["CatalogSource", "Limits", "WorkerPool", "WorkerStartError"]
