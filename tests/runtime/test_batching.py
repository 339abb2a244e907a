"""generator/runtime/batching.py as itself: grouping, order, waiting, the bounded queue,
cancellation, failures that stay in their batch, worker threads, closing. Every wait is
bounded (an event or a short timeout), so a bug fails a test rather than hanging it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest

from generator.runtime.batching import BatcherClosed, DynamicBatcher, QueueFull

T = TypeVar("T")
LIMIT = 5.0  # seconds: no test waits longer than this for anything


def run(coro: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro(), LIMIT)

    return asyncio.run(bounded())


class Recorder:
    """An async model: doubles its inputs, records each batch, and can be held or fail."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()
        self.fail_on = fail_on
        self.running = 0
        self.most_running = 0

    async def __call__(self, batch: list[str]) -> list[str]:
        self.batches.append(list(batch))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.started.set()
        try:
            await self.release.wait()
            if self.fail_on is not None and self.fail_on in batch:
                raise RuntimeError(f"model failed on {self.fail_on}")
            return [item * 2 for item in batch]
        finally:
            self.running -= 1


def batcher(model: Callable[[list[str]], Awaitable[Sequence[str]]],
            **options: float) -> DynamicBatcher[str, str]:
    return DynamicBatcher(model, **options)  # type: ignore[arg-type]


def test_concurrent_requests_share_batches_and_get_their_own_results_in_order() -> None:
    async def scenario() -> None:
        model = Recorder()
        model.release.clear()  # hold the first batch so that the others queue behind it
        b = batcher(model, max_batch_size=4, max_wait=0)
        first = asyncio.create_task(b.submit(["a"]))
        await model.started.wait()
        others = [asyncio.create_task(b.submit([f"{i}x", f"{i}y"])) for i in range(5)]
        await asyncio.sleep(0.01)
        model.release.set()
        assert await first == ["aa"]
        assert await asyncio.gather(*others) == [[f"{i}x" * 2, f"{i}y" * 2] for i in range(5)]
        # one call for "a", then 10 queued inputs in batches of at most 4, in arrival order
        assert model.batches == [["a"], ["0x", "0y", "1x", "1y"], ["2x", "2y", "3x", "3y"],
                                 ["4x", "4y"]]
        assert (b.stats.batches, b.stats.inputs, b.stats.largest_batch) == (4, 11, 4)
        await b.aclose()

    run(scenario)


def test_a_request_larger_than_a_batch_is_spread_over_batches_in_order() -> None:
    async def scenario() -> None:
        model = Recorder()
        b = batcher(model, max_batch_size=3, max_wait=0)
        items = [str(i) for i in range(8)]
        assert await b.submit(items) == [i * 2 for i in items]
        assert [len(batch) for batch in model.batches] == [3, 3, 2]
        await b.aclose()

    run(scenario)


def test_a_lone_client_waits_for_no_one() -> None:
    async def scenario() -> float:
        model = Recorder()
        b = batcher(model, max_batch_size=8, max_wait=5)
        started = time.perf_counter()
        for item in "abc":
            assert await b.submit([item]) == [item * 2]
        elapsed = time.perf_counter() - started
        assert model.batches == [["a"], ["b"], ["c"]]
        await b.aclose()
        return elapsed

    assert run(scenario) < 1.0


def test_a_batch_waits_up_to_max_wait_for_as_many_inputs_as_recent_batches_held() -> None:
    async def scenario(max_wait: float) -> list[list[str]]:
        model = Recorder()
        b = batcher(model, max_batch_size=8, max_wait=max_wait)
        await b.submit(["x", "y"])  # the recent load: batches of 2
        first = asyncio.create_task(b.submit(["a"]))
        await asyncio.sleep(0.02)
        second = asyncio.create_task(b.submit(["b"]))
        await asyncio.gather(first, second)
        await b.aclose()
        return model.batches[1:]

    assert run(lambda: scenario(0.5)) == [["a", "b"]]
    assert run(lambda: scenario(0.0)) == [["a"], ["b"]]


def test_the_wait_for_a_fuller_batch_ends_at_max_wait() -> None:
    async def scenario() -> float:
        model = Recorder()
        b = batcher(model, max_batch_size=8, max_wait=0.1)
        await b.submit(["1", "2", "3", "4"])
        started = time.perf_counter()
        assert await b.submit(["alone"]) == ["alonealone"]
        elapsed = time.perf_counter() - started
        await b.aclose()
        return elapsed

    assert 0.09 <= run(scenario) < 1.0


def test_a_full_batch_starts_without_waiting_for_max_wait() -> None:
    async def scenario() -> float:
        model = Recorder()
        b = batcher(model, max_batch_size=4, max_wait=30)
        started = time.perf_counter()
        assert await b.submit(["a", "b", "c", "d"]) == ["aa", "bb", "cc", "dd"]
        elapsed = time.perf_counter() - started
        await b.aclose()
        return elapsed

    assert run(scenario) < 1.0


def test_a_full_queue_refuses_with_retry_after() -> None:
    async def scenario() -> None:
        model = Recorder()
        model.release.clear()
        b = batcher(model, max_batch_size=2, max_wait=0, max_queue=4)
        running = asyncio.create_task(b.submit(["r1", "r2"]))
        await model.started.wait()  # in the model: no longer in the queue
        queued = [asyncio.create_task(b.submit(["q1", "q2", "q3"]))]
        await asyncio.sleep(0)
        assert b.waiting == 3
        with pytest.raises(QueueFull) as refused:
            await b.submit(["x", "y"])
        assert refused.value.retry_after >= 1
        assert "at most 4" in str(refused.value)
        queued.append(asyncio.create_task(b.submit(["z"])))  # one more still fits
        await asyncio.sleep(0)
        assert b.waiting == 4 and b.stats.refused == 1
        model.release.set()
        assert await running == ["r1r1", "r2r2"]
        assert await asyncio.gather(*queued) == [["q1q1", "q2q2", "q3q3"], ["zz"]]
        with pytest.raises(ValueError, match="can never fit"):
            await b.submit(["a"] * 5)
        await b.aclose()

    run(scenario)


def test_a_cancelled_request_leaves_the_queue_and_never_reaches_the_model() -> None:
    async def scenario() -> None:
        model = Recorder()
        model.release.clear()
        b = batcher(model, max_batch_size=8, max_wait=0)
        running = asyncio.create_task(b.submit(["r"]))
        await model.started.wait()
        gone = asyncio.create_task(b.submit(["gone1", "gone2"]))
        stays = asyncio.create_task(b.submit(["stays"]))
        await asyncio.sleep(0)
        assert b.waiting == 3
        gone.cancel()
        await asyncio.sleep(0)
        assert b.waiting == 1 and b.stats.withdrawn == 2
        model.release.set()
        assert await running == ["rr"] and await stays == ["staysstays"]
        assert gone.cancelled()
        assert model.batches == [["r"], ["stays"]]
        await b.aclose()

    run(scenario)


def test_a_request_cancelled_while_its_batch_runs_does_not_disturb_the_others() -> None:
    async def scenario() -> None:
        model = Recorder()
        model.release.clear()
        b = batcher(model, max_batch_size=8, max_wait=0.05)
        gone = asyncio.create_task(b.submit(["g"]))
        stays = asyncio.create_task(b.submit(["s"]))
        await model.started.wait()
        gone.cancel()
        model.release.set()
        assert await stays == ["ss"]
        assert gone.cancelled()
        assert model.batches == [["g", "s"]]
        await b.aclose()

    run(scenario)


def test_a_failure_reaches_only_the_requests_of_its_batch() -> None:
    async def scenario() -> None:
        model = Recorder(fail_on="bad")
        model.release.clear()
        b = batcher(model, max_batch_size=2, max_wait=0)
        first = asyncio.create_task(b.submit(["ok1"]))
        await model.started.wait()
        # queued: [bad, mate] form one batch, then [spread1, spread2] and [after]
        doomed = asyncio.create_task(b.submit(["bad"]))
        neighbour = asyncio.create_task(b.submit(["mate"]))
        later = asyncio.create_task(b.submit(["after1", "after2"]))
        await asyncio.sleep(0)
        model.release.set()
        assert await first == ["ok1ok1"]
        for task in (doomed, neighbour):
            with pytest.raises(RuntimeError, match="model failed on bad"):
                await task
        assert await later == ["after1after1", "after2after2"]
        assert b.stats.failed_batches == 1
        assert await b.submit(["again"]) == ["againagain"]  # the batcher goes on
        await b.aclose()

    run(scenario)


def test_a_request_spread_over_batches_fails_with_one_of_them_and_its_rest_never_runs() -> None:
    async def scenario() -> None:
        model = Recorder(fail_on="bad")
        b = batcher(model, max_batch_size=2, max_wait=0)
        with pytest.raises(RuntimeError):
            await b.submit(["bad", "x", "y", "z"])
        assert model.batches == [["bad", "x"]]
        assert b.waiting == 0 and b.stats.withdrawn == 2
        await b.aclose()

    run(scenario)


def test_a_model_returning_the_wrong_number_of_results_fails_its_batch() -> None:
    async def short(batch: list[str]) -> list[str]:
        return batch[:-1]

    async def scenario() -> None:
        b = batcher(short, max_batch_size=4, max_wait=0)
        with pytest.raises(ValueError, match="returned 1 results for 2 inputs"):
            await b.submit(["a", "b"])
        await b.aclose()

    run(scenario)


def test_a_plain_function_runs_in_a_worker_thread_and_the_loop_keeps_serving() -> None:
    threads: list[int] = []
    gate = threading.Event()

    def model(batch: list[str]) -> list[str]:
        threads.append(threading.get_ident())
        gate.wait(LIMIT)
        return [item.upper() for item in batch]

    async def scenario() -> None:
        b: DynamicBatcher[str, str] = DynamicBatcher(model, max_batch_size=4, max_wait=0)
        task = asyncio.create_task(b.submit(["a", "b"]))
        ticks = 0
        while not threads:  # the loop runs while the model computes in its thread
            await asyncio.sleep(0.001)
        for _ in range(5):
            await asyncio.sleep(0.001)
            ticks += 1
        gate.set()
        assert await task == ["A", "B"]
        assert ticks == 5 and threads[0] != threading.get_ident()
        await b.aclose()

    run(scenario)


def test_one_model_call_at_a_time_by_default_and_more_when_allowed() -> None:
    async def scenario(slots: int) -> int:
        model = Recorder()
        model.release.clear()
        b = batcher(model, max_batch_size=1, max_wait=0, max_concurrent_batches=slots)
        tasks = [asyncio.create_task(b.submit([str(i)])) for i in range(4)]
        await asyncio.sleep(0.02)
        model.release.set()
        await asyncio.gather(*tasks)
        await b.aclose()
        return model.most_running

    assert run(lambda: scenario(1)) == 1
    assert run(lambda: scenario(3)) == 3


def test_close_finishes_what_was_submitted_then_refuses() -> None:
    async def scenario() -> None:
        model = Recorder()
        model.release.clear()
        b = batcher(model, max_batch_size=2, max_wait=0)
        tasks = [asyncio.create_task(b.submit([str(i)])) for i in range(5)]
        await model.started.wait()
        closing = asyncio.create_task(b.aclose())
        await asyncio.sleep(0.01)
        model.release.set()
        await closing
        assert await asyncio.gather(*tasks) == [[str(i) * 2] for i in range(5)]
        with pytest.raises(BatcherClosed):
            await b.submit(["late"])
        await b.aclose()  # again: nothing to do

    run(scenario)


def test_an_empty_request_needs_no_model_call() -> None:
    async def scenario() -> None:
        model = Recorder()
        b = batcher(model)
        assert await b.submit([]) == []
        assert model.batches == []
        await b.aclose()

    run(scenario)


def test_a_batcher_can_serve_a_new_loop_after_its_first_one_closed() -> None:
    model = Recorder()
    b = batcher(model, max_wait=0)

    async def once() -> list[str]:
        model.release = asyncio.Event()
        model.release.set()
        return await b.submit(["a"])

    assert run(once) == ["aa"]
    assert run(once) == ["aa"]


@pytest.mark.parametrize("options", [
    {"max_batch_size": 0}, {"max_batch_size": True}, {"max_queue": 1.5},
    {"max_concurrent_batches": 0}, {"max_wait": -1}, {"max_wait": float("inf")},
    {"max_batch_size": 8, "max_queue": 4}])
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DynamicBatcher(Recorder(), **options)  # type: ignore[arg-type]
