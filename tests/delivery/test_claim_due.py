"""What a delivery thread takes in one claim (``outbox.claim_due``): the first unfinished row of several
chats, never two rows of one chat, the rows a job named first, and the chain heads of a worker that died
as soon as their leases end, with no queue job and no sweeper."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import update

from storage import outbox
from storage.db import make_engine, make_sessionmaker, session_scope
from storage.models import OutboxMessage, utcnow

TEXT = [{"type": "text", "text": "สถานะเรื่องของคุณ"}]
CHATS = [f"U{n:032x}" for n in range(6)]


def add_rows(sessions, per_chat: int) -> dict[str, list[int]]:
    """``per_chat`` pushes to each chat, interleaved as status changes arrive."""
    ids: dict[str, list[int]] = defaultdict(list)
    with session_scope(sessions) as session:
        for _ in range(per_chat):
            for chat in CHATS:
                ids[chat].append(outbox.add_message(session, kind="push", recipient=chat, messages=TEXT).id)
    return ids


def claim(session, limit: int = 4, hints=()) -> list:
    return outbox.claim_due(session, lease_seconds=30, reply_lease_seconds=5, limit=limit, hints=list(hints))


def test_a_claim_takes_the_first_row_of_several_chats_and_never_two_of_one(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ids = add_rows(sessions, 3)
    with session_scope(sessions) as session:
        first = claim(session, limit=4)
        second = claim(session, limit=4)
        third = claim(session, limit=4)
    assert [row.id for row in first] == [ids[chat][0] for chat in CHATS[:4]]
    assert [row.id for row in second] == [ids[chat][0] for chat in CHATS[4:]], "a second row of a busy chat"
    assert third == []  # every chat has a row being sent: nothing more is anyone's turn
    assert {row.lease_token for row in first} == {first[0].lease_token} and first[0].status == "sending"
    with session_scope(sessions) as session:
        outbox.finish_many(session, [(row.id, row.lease_token, outbox.sent_values("push", None)) for row in first])
        after = claim(session, limit=10)
    assert [row.id for row in after] == [ids[chat][1] for chat in CHATS[:4]], "the chains carry on in order"
    engine.dispose()


def test_rows_named_by_a_job_come_first_and_only_when_it_is_their_turn(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ids = add_rows(sessions, 2)
    last_chat, second_row = ids[CHATS[-1]][0], ids[CHATS[0]][1]
    with session_scope(sessions) as session:
        taken = claim(session, limit=1, hints=[last_chat, second_row])
    # The last chat's head is taken beside the oldest; a second row of a chat is not, its first is unsent.
    assert [row.id for row in taken] == [ids[CHATS[0]][0], last_chat]
    engine.dispose()


def test_the_chains_of_a_worker_that_died_are_taken_over_when_their_leases_end(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ids = add_rows(sessions, 2)
    with session_scope(sessions) as session:
        held = claim(session, limit=6)  # "the worker" holds every chat's first row, then is killed
    with session_scope(sessions) as session:
        assert claim(session, limit=6) == []  # leases still running: nobody else sends them
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in held[:2]]))
                        .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    with session_scope(sessions) as session:
        taken = claim(session, limit=6)
    assert [row.id for row in taken] == [row.id for row in held[:2]]
    assert all(row.attempts == 2 and row.lease_token != held[0].lease_token for row in taken)
    engine.dispose()


def test_threads_claiming_at_once_deliver_every_row_once_in_order_per_chat(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ids = add_rows(sessions, 10)
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work() -> None:
        idle = 0
        while idle < 20:
            with session_scope(sessions) as session:
                rows = claim(session, limit=2)
            if not rows:
                idle += 1
                continue
            idle = 0
            assert len({row.recipient for row in rows}) == len(rows), "two rows of one chat in one claim"
            with lock:
                sent.extend((row.recipient, row.id) for row in rows)
            with session_scope(sessions) as session:
                outbox.finish_many(session, [(row.id, row.lease_token, outbox.sent_values("push", None))
                                             for row in rows])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert sorted(row_id for _, row_id in sent) == sorted(i for chat in CHATS for i in ids[chat])
    for chat in CHATS:
        assert [row_id for to, row_id in sent if to == chat] == ids[chat], f"order broken for {chat}"
