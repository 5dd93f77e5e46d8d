"""The dispatcher: takes due posts from the database and publishes them, exactly once.

Each pass asks the database which accounts have work, then drains those accounts
concurrently (bounded by `concurrency`), one post at a time per account so an account's
posts and a thread's parts go out in order. Claims live in the database, so any number of
worker processes can run this side by side.

Exactly once rests on three things: a claim is taken under the account's row lock; each
part's X id is committed the moment it comes back; and a post whose last call had no
certain outcome (a timeout, a server error, a crashed worker) is looked up on the
account's timeline before anything is sent again.
"""

import logging
import random
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals import outcomes
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.errors import PressgateError
from approvals.models import MediaAsset, Person
from approvals.notify import Notifier
from approvals.outcomes import LostClaim, Reconciled
from approvals.posts import account_of
from approvals.publisher import (
    OutcomeUnknown,
    OutgoingMedia,
    OutgoingPart,
    RateLimited,
    Rejected,
    TimelinePost,
    XError,
    XPublisher,
)
from approvals.publishing import Claim, accounts_with_work, claim_next
from bot.publishers import PublisherFor

log = logging.getLogger("pressgate.dispatcher")
CLOCK_SKEW = timedelta(minutes=2)
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class DispatchPolicy:
    """Timings; production defaults come from Settings, tests shrink them."""

    concurrency: int = 4
    lease: timedelta = timedelta(minutes=5)
    settle_after: timedelta = timedelta(seconds=30)
    retry_base: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=15)
    max_attempts: int = 8


@dataclass(frozen=True)
class PartJob:
    id: int
    position: int
    x_post_id: str | None
    outgoing: OutgoingPart


@dataclass(frozen=True)
class Job:
    """Everything needed to publish one claimed post, read before any call to X."""

    post_id: int
    author: str
    account: str
    parts: list[PartJob]
    reconcile: bool
    attempts: int
    started_at: datetime
    previous_worker: str | None
    publisher: XPublisher | None
    refusal: str | None  # no publisher could be made (account not connected)


class Dispatcher:
    def __init__(
        self,
        *,
        engine: Engine,
        publishers: PublisherFor,
        clock: Clock,
        worker: str,
        notifier: Notifier,
        policy: DispatchPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine, self.publishers, self.clock = engine, publishers, clock
        self.worker, self.notifier = worker, notifier
        self.policy = policy or DispatchPolicy()
        self.rng = rng or random.Random()

    def run_once(self) -> int:
        """One pass over every account with work; returns how many posts were handled."""
        with session_scope(self.engine, read_only=True) as session:
            accounts = accounts_with_work(session, now=self.clock.now())
        if not accounts:
            return 0
        workers = min(self.policy.concurrency, len(accounts))
        with ThreadPoolExecutor(workers, thread_name_prefix="dispatch") as pool:
            return sum(pool.map(self._drain, accounts))

    def _drain(self, account_id: int) -> int:
        handled = 0
        while True:
            try:
                job = self._claim(account_id)
            except PressgateError as error:
                log.warning("account %s: claim failed: %s", account_id, error)
                return handled
            if job is None:
                return handled
            handled += 1
            try:
                self._run(job)
            except LostClaim as error:
                log.warning("%s", error)
                return handled
            except Exception:  # one bad post must not stop the worker; its lease expires
                log.exception("post %s: unexpected error while publishing", job.post_id)
                return handled

    # --- claiming ------------------------------------------------------------------------
    def _claim(self, account_id: int) -> Job | None:
        with session_scope(self.engine) as session:
            claim = claim_next(
                session,
                account_id=account_id,
                worker=self.worker,
                now=self.clock.now(),
                lease=self.policy.lease,
            )
            if claim is None:
                return None
            return self._job(session, claim)

    def _job(self, session: Session, claim: Claim) -> Job:
        post = claim.post
        assert post.id is not None
        account = account_of(session, post)
        author = session.get(Person, post.author_id)
        publisher: XPublisher | None = None
        refusal: str | None = None
        try:
            publisher = self.publishers(session, account)
        except XError as error:
            refusal = str(error)
        parts = [
            PartJob(
                id=p.id or 0,
                position=p.position,
                x_post_id=p.x_post_id,
                outgoing=OutgoingPart(p.position, p.text, _media(session, p.media)),
            )
            for p in claim.parts
        ]
        return Job(
            post_id=post.id,
            author=author.email if author else "?",
            account=account.handle,
            parts=parts,
            reconcile=claim.reconcile,
            attempts=post.attempts,
            started_at=post.publish_started_at or self.clock.now(),
            previous_worker=claim.previous_worker,
            publisher=publisher,
            refusal=refusal,
        )

    # --- publishing ----------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        if job.publisher is None:
            self._fail(job, job.refusal or "no publisher for this account")
            return
        done = {p.position: p.x_post_id for p in job.parts if p.x_post_id is not None}
        if job.reconcile:
            try:
                found = self._reconcile(job, job.publisher, done)
            except XError as error:
                self._unknown(job, f"reconcile failed: {error}")
                return
            done.update(found)
            if len(done) < len(job.parts):
                self._retry(job, "not found on X after an uncertain attempt", retry_at=None)
                return
            self._published(job, job.publisher, via="reconcile")
            return
        self._send(job, job.publisher, done)

    def _send(self, job: Job, publisher: XPublisher, done: dict[int, str]) -> None:
        previous = done[max(done)] if done else None
        for part in job.parts:
            if part.position in done:
                continue
            try:
                x_id = publisher.create_post(part.outgoing, reply_to=previous)
            except RateLimited as error:
                self._retry(job, str(error), retry_at=error.retry_at)
                return
            except Rejected as error:
                if error.duplicate:
                    self._settle_duplicate(job, publisher, done, str(error))
                else:
                    self._fail(job, str(error))
                return
            except OutcomeUnknown as error:
                self._unknown(job, str(error))
                return
            self._record_part(job, part, x_id)
            done[part.position] = previous = x_id
        self._published(job, publisher, via="x" if not publisher.sandbox else "sandbox")

    def _settle_duplicate(
        self, job: Job, publisher: XPublisher, done: dict[int, str], error: str
    ) -> None:
        """X says these words are already out: if that is our own earlier attempt, it counts."""
        try:
            found = self._reconcile(job, publisher, done)
        except XError:
            self._unknown(job, error)
            return
        done.update(found)
        if len(done) == len(job.parts):
            self._published(job, publisher, via="reconcile")
        elif found:
            self._send(job, publisher, done)
        else:
            self._fail(job, error + " (an earlier post of the account has the same words)")

    def _reconcile(self, job: Job, publisher: XPublisher, done: dict[int, str]) -> dict[int, str]:
        """Find the parts not yet recorded on the account's timeline since the first attempt."""
        since = job.started_at - CLOCK_SKEW
        timeline = sorted(publisher.recent_posts(since=since), key=_order)
        taken = {v for v in done.values() if v}
        found: dict[int, str] = {}
        after = max((_order_of(v) for v in taken), default=(0, ""))
        for part in job.parts:
            if part.position in done:
                continue
            match = next(
                (
                    t
                    for t in timeline
                    if t.id not in taken
                    and _order(t) > after
                    and same_words(t.text, part.outgoing.text)
                ),
                None,
            )
            if match is None:
                break  # parts go out in order: nothing after a missing one can be out
            found[part.position] = match.id
            taken.add(match.id)
            after = _order(match)
            self._record_part(job, part, match.id)
        with session_scope(self.engine) as session:
            outcomes.record_reconcile(
                session,
                post_id=job.post_id,
                worker=self.worker,
                now=self.clock.now(),
                result=Reconciled(found, since),
                previous=job.previous_worker,
            )
        return found

    # --- recording -----------------------------------------------------------------------
    def _record_part(self, job: Job, part: PartJob, x_id: str) -> None:
        with session_scope(self.engine) as session:
            outcomes.record_part(
                session,
                post_id=job.post_id,
                part_id=part.id,
                x_post_id=x_id,
                worker=self.worker,
                now=self.clock.now(),
                lease=self.policy.lease,
            )

    def _published(self, job: Job, publisher: XPublisher, *, via: str) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_published(
                session,
                post_id=job.post_id,
                worker=self.worker,
                now=self.clock.now(),
                sandbox=publisher.sandbox,
                via=via,
            )
        where = "the sandbox (not X)" if publisher.sandbox else f"X as {job.account}"
        log.info("post %s published to %s", job.post_id, where)
        self.notifier.post_event(
            post_id=job.post_id, author=job.author, event="published", message=f"on {where}"
        )

    def _retry(self, job: Job, error: str, *, retry_at: datetime | None) -> None:
        if job.attempts >= self.policy.max_attempts:
            self._fail(job, f"{error}; gave up after {job.attempts} attempts")
            return
        now = self.clock.now()
        when = max(retry_at or now, now + self._backoff(job.attempts))
        with session_scope(self.engine) as session:
            outcomes.mark_retry(
                session,
                post_id=job.post_id,
                worker=self.worker,
                now=now,
                retry_at=when,
                error=error,
            )
        log.info("post %s: %s; retry at %s", job.post_id, error, when.isoformat())

    def _unknown(self, job: Job, error: str) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_unknown(
                session,
                post_id=job.post_id,
                worker=self.worker,
                now=self.clock.now(),
                settle_after=self.policy.settle_after,
                error=error,
            )
        log.warning("post %s: outcome unknown (%s); will reconcile", job.post_id, error)

    def _fail(self, job: Job, error: str) -> None:
        with session_scope(self.engine) as session:
            outcomes.mark_failed(
                session, post_id=job.post_id, worker=self.worker, now=self.clock.now(), error=error
            )
        log.warning("post %s failed: %s", job.post_id, error)
        self.notifier.post_event(
            post_id=job.post_id, author=job.author, event="failed", message=error
        )

    def _backoff(self, attempt: int) -> timedelta:
        """Exponential, capped, with jitter so retries from many posts do not arrive together."""
        growth: int = 2 ** max(attempt - 1, 0)
        ceiling: timedelta = min(self.policy.retry_max, self.policy.retry_base * growth)
        return ceiling * self.rng.uniform(0.5, 1.0)


def same_words(ours: str, theirs: str) -> bool:
    """X rewrites links to t.co and may trim: compare the words with links set aside."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFC", _URL.sub("<link>", text))
        return " ".join(text.split())

    return norm(ours) == norm(theirs)


def _order_of(x_id: str) -> tuple[int, str]:
    """X ids grow with time; compare them as numbers (sandbox ids by their number)."""
    digits = x_id.rsplit("-", 1)[-1]
    return (int(digits), x_id) if digits.isdigit() else (0, x_id)


def _order(post: TimelinePost) -> tuple[int, str]:
    return _order_of(post.id)


def _media(session: Session, refs: list[dict[str, object]]) -> list[OutgoingMedia]:
    media: list[OutgoingMedia] = []
    for ref in refs:
        asset = session.get(MediaAsset, str(ref["sha256"]))
        if asset is None:
            raise PressgateError(f"image {ref['sha256']} is missing from the database")
        alt = ref.get("alt_text")
        media.append(
            OutgoingMedia(asset.sha256, asset.content_type, asset.data, str(alt) if alt else None)
        )
    return media
