"""Dynamic batching: the inputs of concurrent requests go into one model call.

A model computes a batch of inputs far faster per input than one input at a time, on a CPU
and even more on a GPU. A service hands each request's inputs to one shared
`DynamicBatcher` and awaits their results:

    batcher = DynamicBatcher(model.embed, max_batch_size=32, max_wait=0.005)
    vectors = await batcher.submit(texts)        # in the service's request handler

The batcher collects the inputs of concurrent requests, in arrival order, into batches of at
most `max_batch_size` inputs. While the model computes one batch, the next one fills. Once a
call slot is free, a batch starts when it is full, when as many inputs wait as the largest of
the last 8 batches held (the load of the moment: a lone client waits for no one, and under
steady load a batch does not leave half full while the answers of the last one are still on
their way back to be followed by new requests), or when its oldest input has waited
`max_wait` seconds. Each request gets its own results back, in the order of its inputs; a
request larger than a batch is spread over several.

- **Bounded.** At most `max_queue` inputs wait; `submit` raises `QueueFull` (with a
  `retry_after` estimate in seconds, from the recent throughput) rather than letting latency
  grow without end. The generated server answers it as 429 with `Retry-After`.
- **Cancellation.** When the awaiting task is cancelled (the client has gone), its inputs that
  have not started leave the queue; results of a batch already running are dropped.
- **Failures stay in their batch.** An exception from the model call reaches the requests
  with inputs in that batch, and no other.

`process` takes a list of inputs and returns one result per input, in order. A plain
function runs in the batcher's own worker threads (PyTorch, ONNX Runtime and NumPy release the
GIL while they compute), so the event loop keeps serving meanwhile; a coroutine function is
awaited on the loop. Standard library only.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import math
import time
import typing as _t
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["BatcherClosed", "BatcherStats", "DynamicBatcher", "QueueFull"]

T = _t.TypeVar("T")
R = _t.TypeVar("R")


class QueueFull(Exception):
    """The batcher already holds `max_queue` waiting inputs; try again in `retry_after` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BatcherClosed(RuntimeError):
    """The batcher is closed (the service is shutting down); it takes no more inputs."""


@dataclass(slots=True)
class BatcherStats:
    """Counters since the batcher was made: what ran, and what never needed to."""

    #: Model calls made.
    batches: int = 0
    #: Inputs computed, over all model calls.
    inputs: int = 0
    #: The largest batch so far.
    largest_batch: int = 0
    #: Model calls that raised.
    failed_batches: int = 0
    #: Inputs withdrawn before their batch started, because their request was cancelled.
    withdrawn: int = 0
    #: Requests refused with QueueFull.
    refused: int = 0


class _Request(_t.Generic[T, R]):
    """One submit(): its inputs, how far they have gone, and where its results go."""

    __slots__ = ("arrived", "future", "items", "missing", "results", "taken")

    def __init__(self, items: Sequence[T], future: asyncio.Future[list[R]], arrived: float):
        self.items = items
        self.future = future
        self.results: list[R | None] = [None] * len(items)
        #: Inputs already taken into a batch (the next batch starts at this index).
        self.taken = 0
        #: Inputs whose result has not come back yet.
        self.missing = len(items)
        self.arrived = arrived

    @property
    def waiting(self) -> int:
        """Inputs still in the queue."""
        return len(self.items) - self.taken


class _Part(_t.NamedTuple, _t.Generic[T, R]):
    """The inputs of one request in a batch: `size` inputs from `start` in the request, at
    `offset` in the batch."""

    request: _Request[T, R]
    start: int
    size: int
    offset: int


class DynamicBatcher(_t.Generic[T, R]):
    """Groups the inputs of concurrent `submit()` calls into batched calls of `process`.

    max_batch_size: the most inputs in one call of `process`.
    max_wait: seconds the oldest waiting input may wait for a batch to fill up (to the recent
        batch size, see the module docstring); 0 sends what is waiting as soon as a call slot
        is free.
    max_queue: the most inputs waiting (not yet in a running batch); `submit` beyond it raises
        QueueFull. A single request may not hold more than this (ValueError).
    max_concurrent_batches: model calls that may run at once (more than one helps only where
        the model leaves hardware idle, such as several GPU streams).
    """

    def __init__(
        self,
        process: Callable[[list[T]], Sequence[R]] | Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        max_batch_size: int = 32,
        max_wait: float = 0.01,
        max_queue: int = 1024,
        max_concurrent_batches: int = 1,
    ) -> None:
        for name, value in (
            ("max_batch_size", max_batch_size),
            ("max_queue", max_queue),
            ("max_concurrent_batches", max_concurrent_batches),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        if not isinstance(max_wait, (int, float)) or not 0 <= max_wait < math.inf:
            raise ValueError(f"max_wait must be a finite number of seconds >= 0, not {max_wait!r}")
        if max_queue < max_batch_size:
            raise ValueError("max_queue must be at least max_batch_size")
        self.max_batch_size = max_batch_size
        self.max_wait: float = float(max_wait)
        self.max_queue = max_queue
        self.max_concurrent_batches = max_concurrent_batches
        self.stats: BatcherStats = BatcherStats()
        self._async_process: Callable[[list[T]], Awaitable[Sequence[R]]] | None = None
        self._sync_process: Callable[[list[T]], Sequence[R]] | None = None
        if inspect.iscoroutinefunction(process) or inspect.iscoroutinefunction(
            type(process).__call__  # an object with `async def __call__`
        ):
            self._async_process = _t.cast(Callable[[list[T]], Awaitable[Sequence[R]]], process)
        else:
            self._sync_process = _t.cast(Callable[[list[T]], Sequence[R]], process)
        self._executor: ThreadPoolExecutor | None = None
        self._queue: collections.deque[_Request[T, R]] = collections.deque()
        self._waiting = 0  # inputs in the queue
        self._arrived: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: Inputs per second of recent model calls (exponentially weighted), for retry_after.
        self._rate: float | None = None
        #: Sizes of the last batches: how many inputs to wait for (see _fill).
        self._recent: collections.deque[int] = collections.deque(maxlen=8)

    # ---- public ------------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Inputs in the queue, not yet in a running batch."""
        return self._waiting

    async def submit(self, items: Sequence[T]) -> list[R]:
        """The results of `process` for `items`, in their order, computed in shared batches.

        Raises QueueFull when the queue has no room for them, BatcherClosed after aclose(),
        and whatever `process` raised for the batch that held one of them.
        """
        if self._closed:
            raise BatcherClosed("the batcher is closed")
        if not items:
            return []
        if len(items) > self.max_queue:
            raise ValueError(
                f"a request of {len(items)} inputs can never fit in a queue of {self.max_queue}"
            )
        loop = self._start()
        if self._waiting + len(items) > self.max_queue:
            self.stats.refused += 1
            raise QueueFull(
                f"{self._waiting} inputs are waiting for the model; the queue holds at most "
                f"{self.max_queue}",
                self._retry_after(),
            )
        request: _Request[T, R] = _Request(items, loop.create_future(), loop.time())
        self._queue.append(request)
        self._waiting += len(items)
        assert self._arrived is not None
        self._arrived.set()
        try:
            return await request.future
        except asyncio.CancelledError:
            self._withdraw(request)
            raise

    async def aclose(self) -> None:
        """Stop taking inputs, finish the ones already submitted, then stop the worker.

        Calls after the first do nothing; submit() afterwards raises BatcherClosed."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            assert self._arrived is not None
            self._arrived.set()  # the worker drains the queue, then sees it is closed
            await asyncio.wait({self._worker})
        if self._running:
            await asyncio.wait(set(self._running))
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    # ---- the worker --------------------------------------------------------------------------

    def _start(self) -> asyncio.AbstractEventLoop:
        """The running loop; on the first call, the worker task on it."""
        loop = asyncio.get_running_loop()
        if self._loop is None or (self._loop is not loop and self._loop.is_closed()):
            self._loop = loop
            self._queue.clear()  # requests of a closed loop can never be answered
            self._waiting = 0
            self._running.clear()
            self._arrived = asyncio.Event()
            self._slots = asyncio.Semaphore(self.max_concurrent_batches)
            if self._sync_process is not None and self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.max_concurrent_batches, thread_name_prefix="batcher"
                )
            self._worker = loop.create_task(self._work(), name="DynamicBatcher worker")
        elif loop is not self._loop:
            raise RuntimeError("a DynamicBatcher serves the event loop it was first used on")
        return loop

    async def _work(self) -> None:
        assert self._arrived is not None and self._slots is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                # A free slot first: while every slot computes, the next batch keeps filling.
                await self._slots.acquire()
                dispatched = False
                try:
                    while not self._waiting:
                        if self._closed:
                            return
                        self._arrived.clear()
                        await self._arrived.wait()
                    await self._fill()
                    batch, parts = self._take()
                    if batch:
                        task = loop.create_task(self._run(batch, parts))
                        self._running.add(task)
                        task.add_done_callback(self._running.discard)
                        dispatched = True
                finally:
                    if not dispatched:
                        self._slots.release()
        except BaseException as exc:  # the worker itself stopped: no request may wait forever
            self._fail_waiting(exc)
            raise

    async def _fill(self) -> None:
        """Wait until as many inputs wait as the recent batches held (at most a full batch),
        or the oldest has waited max_wait."""
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        deadline = self._queue[0].arrived + self.max_wait if self._queue else loop.time()
        goal = min(self.max_batch_size, max(self._recent, default=1))
        while self._waiting < goal and not self._closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return
            if self._queue:  # the oldest may have been withdrawn meanwhile
                deadline = min(deadline, self._queue[0].arrived + self.max_wait)

    def _take(self) -> tuple[list[T], list[_Part[T, R]]]:
        """Up to max_batch_size inputs from the front of the queue, and whose they are."""
        batch: list[T] = []
        parts: list[_Part[T, R]] = []
        while self._queue and len(batch) < self.max_batch_size:
            request = self._queue[0]
            count = min(request.waiting, self.max_batch_size - len(batch))
            start = request.taken
            batch.extend(request.items[start : start + count])
            parts.append(_Part(request, start, count, len(batch) - count))
            request.taken += count
            self._waiting -= count
            if not request.waiting:
                self._queue.popleft()
        if batch:
            self._recent.append(len(batch))
        return batch, parts

    async def _run(self, batch: list[T], parts: list[_Part[T, R]]) -> None:
        assert self._slots is not None
        started = time.perf_counter()
        try:
            try:
                if self._async_process is not None:
                    results = await self._async_process(batch)
                else:
                    assert self._sync_process is not None
                    loop = asyncio.get_running_loop()
                    results = await loop.run_in_executor(self._executor, self._sync_process, batch)
                if not isinstance(results, Sequence) or len(results) != len(batch):
                    got = len(results) if isinstance(results, Sequence) else type(results).__name__
                    raise ValueError(f"the model returned {got} results for {len(batch)} inputs")
            except Exception as exc:  # noqa: BLE001 - it goes to this batch's requests
                self.stats.failed_batches += 1
                for part in parts:
                    if not part.request.future.done():
                        part.request.future.set_exception(exc)
                    self._withdraw(part.request)  # the rest of a failed request need not run
                return
            self._count(len(batch), time.perf_counter() - started)
            for request, start, count, offset in parts:
                if request.future.done():  # cancelled, or failed in another batch
                    continue
                request.results[start : start + count] = results[offset : offset + count]
                request.missing -= count
                if not request.missing:
                    request.future.set_result(_t.cast(list[R], request.results))
        finally:
            self._slots.release()

    # ---- bookkeeping -------------------------------------------------------------------------

    def _withdraw(self, request: _Request[T, R]) -> None:
        """Take a request's inputs that have not started out of the queue."""
        if request.waiting:
            self._waiting -= request.waiting
            self.stats.withdrawn += request.waiting
            request.taken = len(request.items)
            try:
                self._queue.remove(request)
            except ValueError:
                pass

    def _fail_waiting(self, exc: BaseException) -> None:
        error = exc if isinstance(exc, Exception) else BatcherClosed("the batcher stopped")
        while self._queue:
            request = self._queue.popleft()
            self._waiting -= request.waiting
            if not request.future.done():
                request.future.set_exception(error)

    def _retry_after(self) -> float:
        """Seconds until the queue has likely drained: waiting inputs over the recent rate."""
        if not self._rate:
            return 1.0
        return max(1.0, self._waiting / self._rate)

    def _count(self, size: int, seconds: float) -> None:
        self.stats.batches += 1
        self.stats.inputs += size
        self.stats.largest_batch = max(self.stats.largest_batch, size)
        if seconds > 0:
            rate = size / seconds
            self._rate = rate if self._rate is None else 0.8 * self._rate + 0.2 * rate
