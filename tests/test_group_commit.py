"""Group commit: webhook requests that arrive while one insert is in flight share the next insert.

The unit tests hold the first write open on an event, so the requests that come meanwhile are known to be
waiting; the webhook tests run the real insert (SQLite and PostgreSQL) through concurrent requests.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.group_commit import GroupCommit
from bot.webhook import store_and_hand_over
from storage import inbox
from storage.models import InboxEvent
from tests import events
from tests.support import post, wait_until


class HeldWrite:
    """A write function that records each call and holds the first one until released."""

    def __init__(self, fail_when=None) -> None:
        self.calls: list[list] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_when = fail_when

    def __call__(self, items: list) -> list:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(10)
        if self.fail_when is not None and self.fail_when(items):
            raise ValueError(f"refused {items}")
        return [f"stored {item}" for item in items]


def waiting(group: GroupCommit) -> int:
    with group._lock:
        return len(group._waiting)


def test_a_request_alone_writes_at_once_alone():
    calls = []
    group = GroupCommit(lambda items: calls.append(items) or [item * 2 for item in items])
    assert group.submit(21) == 42
    assert group.submit(5) == 10
    assert calls == [[21], [5]]


def test_requests_arriving_during_a_write_share_the_next_one_and_each_gets_its_own_result():
    write = HeldWrite()
    group = GroupCommit(write)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.submit, "a")
        assert write.entered.wait(5)
        later = {item: pool.submit(group.submit, item) for item in "bcde"}
        wait_until(lambda: waiting(group) == 4, timeout=5)
        write.release.set()
        assert first.result(5) == "stored a"
        assert {item: f.result(5) for item, f in later.items()} == {item: f"stored {item}" for item in "bcde"}
    assert write.calls[0] == ["a"]
    assert sorted(write.calls[1]) == ["b", "c", "d", "e"]  # one write for the four that waited
    assert len(write.calls) == 2


def test_when_a_shared_write_fails_each_request_writes_again_alone_and_gets_its_own_outcome():
    write = HeldWrite(fail_when=lambda items: "bad" in items)
    group = GroupCommit(write)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, "a")
        assert write.entered.wait(5)
        bad, good = pool.submit(group.submit, "bad"), pool.submit(group.submit, "good")
        wait_until(lambda: waiting(group) == 2, timeout=5)
        write.release.set()
        assert first.result(5) == "stored a"
        assert good.result(5) == "stored good"  # its own write, after the shared one failed because of "bad"
        with pytest.raises(ValueError, match="bad"):
            bad.result(5)
    assert sorted(write.calls[1]) == ["bad", "good"]
    assert sorted(write.calls[2:]) == [["bad"], ["good"]]
    assert group.submit("after") == "stored after"  # the group is free again


def test_a_write_that_returns_the_wrong_number_of_results_is_an_error_for_everyone():
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1"):
        group.submit("x")


def two_requests_with(shared: dict, user: str) -> tuple[list, list]:
    first = [inbox.describe(shared), inbox.describe(events.text(user, "ถนนพัง"))]
    second = [inbox.describe(events.text(user, "ไฟดับ")), inbox.describe(shared)]
    return first, second


def test_one_insert_for_several_requests_stores_a_shared_event_once_for_the_first(app):
    services = app.extensions["siang"]
    user = events.user_id()
    shared = events.text(user, "น้ำท่วมซอย")
    first, second = two_requests_with(shared, user)
    mine, theirs = store_and_hand_over(services, [first, second])
    with services.transaction() as session:
        ids = dict(session.execute(select(InboxEvent.webhook_event_id, InboxEvent.id)).all())
    assert len(ids) == 3
    assert mine == sorted([ids[shared["webhookEventId"]], ids[first[1].webhook_event_id]])
    assert theirs == [ids[second[0].webhook_event_id]]  # the shared event is new for the first request only
    assert sorted(services.jobs.waiting()) == sorted(("handle_event", row_id) for row_id in ids.values())
    assert store_and_hand_over(services, [second]) == [[]]  # all already stored: nothing new, nothing queued


@pytest.mark.redis
def test_concurrent_signed_requests_are_each_stored_and_handed_over_once(redis_app):
    jobs = redis_app.extensions["siang"].jobs
    user = events.user_id()
    bodies = [events.body(events.text(user, f"ทางเท้าพัง จุดที่ {n}")) for n in range(60)]
    bodies += bodies[:20]  # LINE's redeliveries racing their originals
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: post(redis_app.test_client(), body).status_code, bodies))
    assert answers == [200] * 80
    with redis_app.extensions["siang"].transaction() as session:
        ids = session.scalars(select(InboxEvent.id)).all()
    assert len(ids) == 60
    handed = [int(value) for value in jobs.connection.lrange(jobs.events_key, 0, -1)]
    assert sorted(handed) == sorted(ids)  # every stored event handed over exactly once
