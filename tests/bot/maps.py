"""Putting a different permission map in force under the `cli` fixture's database."""

import tomllib
from typing import Any

from sqlmodel import Session

from approvals.config import config_from_dict
from approvals.map_store import apply_config
from approvals.records.audit import SYSTEM
from tests.bot.conftest import Cli
from tests.conftest import NOW
from tests.factories import EXAMPLE_CONFIG


def example_raw() -> dict[str, Any]:
    """The example press office's map as a dict, to change one thing in it."""
    return tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def apply_map(cli: Cli, raw: dict[str, Any]) -> None:
    """Apply `raw` as the operator would with `pressgate init --as`."""
    engine = cli.engine
    with Session(engine) as session:
        config = config_from_dict(raw)
        apply_config(session, config=config, source="test", actor=SYSTEM, now=NOW, operator=True)
        session.commit()
    engine.dispose()


def with_union_role(cli: Cli, role: str = "duty_officer") -> None:
    """The example map, with `role` as the trade union representatives' role."""
    raw = example_raw()
    raw["guidance"] = {**raw.get("guidance", {}), "union_role": role}
    apply_map(cli, raw)
