"""An account's client to X is kept from one post to the next while its stored tokens stay
the same (its connection stays open, its tokens are not decrypted again), and made anew the
moment they change: a reconnected account publishes as the X user it is connected to now.
Runs on SQLite and on PostgreSQL."""

from datetime import timedelta

from approvals.db import session_scope
from approvals.map_store import get_account
from bot.publishers import publisher_factory
from tests.bot.publishing_world import World, connect_account

MINUTE = timedelta(minutes=1)


def test_the_same_tokens_keep_the_same_client(world: World) -> None:
    publishers = publisher_factory(world.settings, world.engine, world.clock)
    with session_scope(world.engine) as session:
        first = publishers(session, get_account(session, "@DeptHelp"))
    with session_scope(world.engine) as session:
        again = publishers(session, get_account(session, "@DeptHelp"))
        other = publishers(session, get_account(session, "@DeptNews"))
    assert again is first
    assert other is not first


def test_an_account_reconnected_meanwhile_publishes_with_its_new_tokens(world: World) -> None:
    dispatcher = world.dispatcher()
    world.approved("Before the app was authorised again.")
    world.clock.advance(MINUTE)
    assert dispatcher.run_once() == 1

    renewed = world.fake.reissue_oauth1_tokens(world.users["DeptHelp"])  # the old ones die
    connect_account(world.engine, world.clock, "@DeptHelp", renewed)
    world.approved("After the app was authorised again.")
    world.clock.advance(MINUTE)
    assert dispatcher.run_once() == 1

    assert world.on_x() == [
        "Before the app was authorised again.",
        "After the app was authorised again.",
    ]
