"""The dispatcher: takes due posts from the database and publishes them, exactly once.

Each pass asks the database which accounts have work, then drains those accounts
concurrently, one post at a time per account so an account's posts and a thread's parts go
out in order. `concurrency` bounds the calls to X in flight, not the accounts being drained:
twice as many accounts are worked on, so the next posts are claimed and the last ones
recorded while the calls are out, and the slots for X are never idle waiting on the
database. Claims live in the database, so any number of worker processes can run this side
by side.

Exactly once rests on four things: a claim is taken under the account's row lock; each
part's X id is committed the moment it comes back; a post whose last call had no certain
outcome (a timeout, a server error, a crashed worker, an error nobody foresaw) is looked up
on the account's timeline before anything is sent again (`bot.reconcile`); and every claim
carries a fencing token, checked before each call and with each record, so a worker frozen
past its lease sends nothing more once it wakes (`bot.leases`, `bot.stray_copies`).
"""

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery import outcomes
from approvals.delivery.outcomes import IdTaken, LostClaim
from approvals.delivery.publisher import (
    OutcomeUnknown,
    OutgoingMedia,
    OutgoingPart,
    RateLimited,
    Rejected,
    XError,
    XPublisher,
)
from approvals.delivery.publishing import Claim, accounts_with_work, claim_next
from approvals.errors import PressgateError
from approvals.messaging.notify import Notifier
from approvals.models import MediaAsset, Person
from approvals.posts import account_of
from bot.jobs import DispatchPolicy, Job, PartJob
from bot.leases import LeaseKeeper
from bot.logs import bind
from bot.publishers import PublisherFor
from bot.reconcile import CLOCK_SKEW, match_parts
from bot.recorder import Recorder
from bot.stray_copies import StrayCopies
from bot.x_spend import working_on

__all__ = ["DispatchPolicy", "Dispatcher"]

log = logging.getLogger("pressgate.dispatcher")
DRAINERS_PER_CALL = 2  # accounts worked on per slot for X: one calls while one records
DUPLICATE_ADVICE = (
    "X does not take the same words twice on one account: change the wording (for example, "
    "add the date or the time) and submit it again"
)


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
        self.record = Recorder(
            engine=engine,
            clock=clock,
            worker=worker,
            notifier=notifier,
            policy=self.policy,
            rng=rng or random.Random(),
        )
        self.leases = LeaseKeeper(engine=engine, clock=clock, lease=self.policy.lease)
        self.strays = StrayCopies(engine=engine, publishers=publishers, clock=clock, worker=worker)
        self.stopping = threading.Event()  # set on shutdown: finish the post in hand, no more
        self.calls = threading.BoundedSemaphore(self.policy.concurrency)  # calls to X at once

    def run_once(self) -> int:
        """One pass over every account with work; returns how many posts were handled."""
        self.strays.remove_pending()
        with session_scope(self.engine, read_only=True) as session:
            accounts = accounts_with_work(session, now=self.clock.now())
        if not accounts:
            return 0
        workers = min(DRAINERS_PER_CALL * self.policy.concurrency, len(accounts))
        with (
            self.leases.running(),
            ThreadPoolExecutor(workers, thread_name_prefix="dispatch") as pool,
        ):
            return sum(pool.map(self._drain, accounts))

    def _drain(self, account_id: int) -> int:
        handled = 0
        while not self.stopping.is_set():
            try:
                job = self._claim(account_id)
            except PressgateError as error:
                log.warning("account %s: claim failed: %s", account_id, error)
                return handled
            if job is None:
                return handled
            handled += 1
            self.leases.hold(job.post_id, job.token)
            try:
                with (
                    bind(post_id=job.post_id, account=job.account),
                    working_on(job.post_id),  # the spend ledger names the post of each call
                ):
                    self._run(job)
            except LostClaim as error:
                log.warning("%s", error)
                return handled
            except Exception as error:  # one bad post must not stop the worker, nor its account
                log.exception("post %s: unexpected error while publishing", job.post_id)
                self.record.unexpected(job, error)
                return handled
            finally:
                self.leases.release(job.post_id)
                self.record.done_with(job)
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
            token=claim.token,
            author=author.email if author else "?",
            account=account.handle,
            parts=parts,
            reconcile=claim.reconcile,
            attempts=post.attempts,
            started_at=post.publish_started_at or self.clock.now(),
            claimed_at=post.claimed_at or self.clock.now(),
            previous_worker=claim.previous_worker,
            publisher=publisher,
            refusal=refusal,
        )

    # --- publishing ----------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        if job.publisher is None:
            self.record.fail(job, job.refusal or "no publisher for this account", counts=False)
            return
        done = {p.position: p.x_post_id for p in job.parts if p.x_post_id is not None}
        if job.reconcile:
            try:
                found = self._reconcile(job, job.publisher, done)
            except XError as error:
                self.record.unknown(job, f"reconcile failed: {error}", counts=False)
                return
            done.update(found)
            if len(done) < len(job.parts):
                reason = "not found on X after an uncertain attempt"
                self.record.retry(job, reason, retry_at=None, counts=False)
                return
            self.record.published(job, sandbox=job.publisher.sandbox, via="reconcile")
            return
        self._send(job, job.publisher, done)

    def _send(self, job: Job, publisher: XPublisher, done: dict[int, str]) -> None:
        previous = done[max(done)] if done else None
        for part in job.parts:
            if part.position in done:
                continue
            self.record.renew(job)  # taken over while this worker was frozen: send no more
            try:
                with self.calls:
                    x_id = publisher.create_post(part.outgoing, reply_to=previous)
            except RateLimited as error:
                self.record.retry(
                    job, str(error), retry_at=error.retry_at, counts=True, rate_limited=True
                )
                return
            except Rejected as error:
                if error.duplicate:
                    self._settle_duplicate(job, publisher, done, str(error))
                else:
                    self.record.fail(job, str(error))
                return
            except OutcomeUnknown as error:
                self.record.unknown(job, str(error), counts=error.status is not None)
                return
            self._keep(job, publisher, part, x_id)
            done[part.position] = previous = x_id
        via = "sandbox" if publisher.sandbox else "x"
        self.record.published(job, sandbox=publisher.sandbox, via=via)

    def _keep(self, job: Job, publisher: XPublisher, part: PartJob, x_id: str) -> None:
        """Record a part X just took; if the claim was lost meanwhile, the copy is a stray."""
        try:
            self.record.part(job, part, x_id)
        except LostClaim:
            self.strays.found(
                post_id=job.post_id, position=part.position, x_id=x_id, publisher=publisher
            )
            raise

    def _settle_duplicate(
        self, job: Job, publisher: XPublisher, done: dict[int, str], error: str
    ) -> None:
        """X says these words are already out: if that is our own earlier attempt, it counts.

        Only a post created since this one's first attempt and owned by no other pressgate
        post can be ours. Anything else is an earlier post with the same words, and X will
        not take them again: the author has to change them.
        """
        try:
            found = self._reconcile(job, publisher, done)
        except XError:
            self.record.unknown(job, error, counts=False)
            return
        done.update(found)
        if len(done) == len(job.parts):
            self.record.published(job, sandbox=publisher.sandbox, via="reconcile")
        elif found:
            self._send(job, publisher, done)
        elif self.strays.pending_for(job.post_id):
            reason = "a stray copy of these words is being removed from X"
            self.record.retry(job, reason, retry_at=None, counts=False)
        else:
            said = f"X refused the words: a post on {job.account} already has them ({error})"
            self.record.fail(job, f"{said}. {DUPLICATE_ADVICE}.")

    def _reconcile(self, job: Job, publisher: XPublisher, done: dict[int, str]) -> dict[int, str]:
        """Find the parts not yet recorded on the account's timeline since the first attempt."""
        since = job.started_at - CLOCK_SKEW
        with self.calls:
            timeline = publisher.recent_posts(since=since)
        with session_scope(self.engine, read_only=True) as session:
            taken = outcomes.taken_ids(session, [t.id for t in timeline])
        missing = [(p.position, p.outgoing.text) for p in job.parts if p.position not in done]
        by_position = {p.position: p for p in job.parts}
        found: dict[int, str] = {}
        for position, x_id in match_parts(missing, done.values(), timeline, exclude=taken).items():
            try:
                self.record.part(job, by_position[position], x_id)
            except IdTaken:  # became a stray, or another post's, since the timeline was read
                break
            found[position] = x_id
        self.record.reconciled(job, found, since)
        return found


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
