"""Measuring what a piece of work costs, for tests that bound it."""

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Spent:
    seconds: float = 0.0
    # CPU time of this process: what a runaway loop costs, which other processes on a busy
    # machine do not inflate the way they inflate `seconds`.
    cpu_seconds: float = 0.0
    peak_bytes: int = 0  # the peak of Python's own allocations (every str, list, bytes)


@contextmanager
def measured() -> Iterator[Spent]:
    spent = Spent()
    tracemalloc.start()
    started, cpu = time.monotonic(), time.process_time()
    try:
        yield spent
    finally:
        spent.seconds = time.monotonic() - started
        spent.cpu_seconds = time.process_time() - cpu
        spent.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
