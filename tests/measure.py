"""Measuring what a piece of work costs, for tests that bound it."""

import gc
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Spent:
    seconds: float = 0.0
    # CPU time of the thread doing the work: what a runaway loop costs, which neither other
    # processes on a busy machine nor other threads of the test process (a server or a pool
    # an earlier test left behind) inflate the way they inflate `seconds`.
    cpu_seconds: float = 0.0
    # For a bound's failure message: the whole process's CPU time, the time the garbage
    # collector took within the block (its full passes walk everything the test process
    # holds, which grows over a whole suite), and the other threads alive at the end.
    process_cpu_seconds: float = 0.0
    gc_seconds: float = 0.0
    other_threads: list[str] = field(default_factory=list)
    peak_bytes: int = 0  # the peak of Python's own allocations (every str, list, bytes)

    def breakdown(self) -> str:
        return (
            f"{self.seconds:.2f} s wall, {self.cpu_seconds:.2f} s CPU in this thread, "
            f"{self.process_cpu_seconds:.2f} s in the process, {self.gc_seconds:.2f} s "
            f"collecting garbage; other threads: {', '.join(self.other_threads) or 'none'}"
        )


@contextmanager
def measured() -> Iterator[Spent]:
    spent = Spent()
    collecting: list[float] = []

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collecting.append(time.perf_counter())
        elif collecting:
            spent.gc_seconds += time.perf_counter() - collecting.pop()

    gc.callbacks.append(on_gc)
    tracemalloc.start()
    started, cpu, process_cpu = time.monotonic(), time.thread_time(), time.process_time()
    try:
        yield spent
    finally:
        spent.seconds = time.monotonic() - started
        spent.cpu_seconds = time.thread_time() - cpu
        spent.process_cpu_seconds = time.process_time() - process_cpu
        spent.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        gc.callbacks.remove(on_gc)
        current = threading.current_thread()
        spent.other_threads = [t.name for t in threading.enumerate() if t is not current]
