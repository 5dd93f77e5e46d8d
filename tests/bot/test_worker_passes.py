"""One dispatcher pass at a time per worker. The beat and the due-time alarm are separate
scheduler jobs; when both ran passes side by side, a worker had twice the calls to X in
flight that `PRESSGATE_DISPATCH_CONCURRENCY` allows. A tick that meets a running pass makes
it go round once more, so the post it was woken for still goes out."""

import threading
from datetime import timedelta

from bot.worker import Worker
from tests.bot.publishing_world import World


def test_a_tick_during_a_pass_runs_no_second_pass_but_the_first_goes_round_again(
    world: World,
) -> None:
    first = world.approved("First: the consultation opens today.")
    world.clock.advance(timedelta(minutes=1))
    hold = world.fake.hold("POST", "/2/tweets", text="First")
    worker = Worker(settings=world.settings, engine=world.engine, clock=world.clock)
    running = threading.Thread(target=worker.tick)
    running.start()
    held = hold.next()  # the first pass is waiting on X

    second = world.approved("Second: the helpline is open until six.", account="@DeptNews")
    world.clock.advance(timedelta(minutes=1))
    worker.tick()  # the alarm for the second post, while the first pass is still out
    assert [p.text for p in world.fake.posts] == [], "no pass ran beside the running one"

    held.let_through()
    running.join(timeout=30)
    assert not running.is_alive()
    assert sorted(p.text for p in world.fake.posts) == [
        "First: the consultation opens today.",
        "Second: the helpline is open until six.",
    ], "the running pass went round again for the second post"
    assert world.post(first.id).state.value == world.post(second.id).state.value == "published"
