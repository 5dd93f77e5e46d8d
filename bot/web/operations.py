"""What operators scrape and probe: `/metrics` in Prometheus' text format, and the state of
the publishing scheduler that `/readyz` reports.

The figures are read from the database (approvals/metrics.py), so every replica answers the
same. `/metrics` names accounts' workload, not people, but it is still not for the world:
with `PRESSGATE_METRICS_TOKEN` set it answers only `Authorization: Bearer <token>`; unset,
only clients on the loopback interface (a Prometheus sidecar, or a scrape through
`kubectl port-forward`/an SSH tunnel).
"""

import hmac
import ipaddress
from collections.abc import Iterator
from typing import Protocol, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from approvals.db import session_scope
from approvals.metrics import Figures, Histogram, read_figures
from bot.web.problems import problem

router = APIRouter()
F = TypeVar("F", GaugeMetricFamily, CounterMetricFamily)


class Scheduler(Protocol):
    """The worker running in this process, if any (bot.worker.Worker)."""

    @property
    def running(self) -> bool: ...


def scheduler_state(scheduler: Scheduler | None) -> str:
    """ "running", "stopped" (expected here but not running), or "elsewhere" (--web-only)."""
    if scheduler is None:
        return "elsewhere"
    return "running" if scheduler.running else "stopped"


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    state = request.app.state
    with session_scope(state.engine, read_only=True) as session:
        figures = read_figures(session, now=state.clock.now())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(figures, state.scheduler))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _refusal(request: Request) -> Response | None:
    token = request.app.state.settings.metrics_token
    if token is not None and token.get_secret_value():  # an empty one is no token
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if hmac.compare_digest(sent.encode(), expected.encode()):
            return None
        return problem(
            401,
            "/metrics needs the header Authorization: Bearer <PRESSGATE_METRICS_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return problem(
        403, "/metrics answers loopback clients only unless PRESSGATE_METRICS_TOKEN is set"
    )


class FiguresCollector(Collector):
    def __init__(self, figures: Figures, scheduler: Scheduler | None) -> None:
        self.figures, self.scheduler = figures, scheduler

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        yield _labelled(
            GaugeMetricFamily("pressgate_posts", "Posts by state.", labels=["state"]),
            f.posts_by_state,
        )
        yield _histogram(
            "pressgate_publish_lateness_seconds",
            "Seconds from a post's scheduled time to its publication, over every post published.",
            f.publish_lateness,
        )
        yield GaugeMetricFamily(
            "pressgate_publish_overdue_seconds",
            "How long the oldest approved post past its time has waited (0: none waits).",
            value=f.overdue_seconds,
        )
        errors = CounterMetricFamily(
            "pressgate_x_errors",
            "Calls to X that did not publish, from the audit log: retried later (retry), "
            "failed for good (failed), or of unknown outcome and reconciled (unknown).",
            labels=["outcome"],
        )
        yield _labelled(errors, f.x_errors)
        yield CounterMetricFamily(
            "pressgate_x_rate_limit_waits",
            "Times a post waited for X's rate limit (429) before trying again.",
            value=f.rate_limit_waits,
        )
        yield _histogram(
            "pressgate_approval_turnaround_seconds",
            "Seconds from a post's submission to each approval of it.",
            f.approval_turnaround,
        )
        yield GaugeMetricFamily(
            "pressgate_audit_head_seq",
            "Sequence number of the newest audit entry.",
            value=f.audit_head_seq,
        )
        yield GaugeMetricFamily(
            "pressgate_outbox_depth",
            "Slack notices waiting in the outbox to be sent.",
            value=f.outbox_depth,
        )
        if self.scheduler is not None:
            yield GaugeMetricFamily(
                "pressgate_scheduler_running",
                "1 if the publishing scheduler of this process runs.",
                value=1 if self.scheduler.running else 0,
            )


def _labelled(family: F, values: dict[str, int]) -> F:
    for label, n in sorted(values.items()):
        family.add_metric([label], n)
    return family


def _histogram(name: str, doc: str, h: Histogram) -> HistogramMetricFamily:
    buckets = [(str(float(le)), n) for le, n in h.buckets] + [("+Inf", h.count)]
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=h.total)
