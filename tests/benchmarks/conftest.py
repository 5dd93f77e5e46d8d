"""Gathers the rows every bench module adds and prints them as one table at the end."""

from collections.abc import Iterator

import pytest

from tests.benchmarks import table


@pytest.fixture(scope="session", autouse=True)
def bench_table() -> Iterator[None]:
    yield
    if not table.ROWS:
        return
    about = table.machine()
    print("\n\n" + table.render(table.ROWS, about))
    table.write(table.ROWS, about)
    print(f"written to {table.ARTIFACT}")
