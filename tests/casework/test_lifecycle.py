"""A case's status changes and the citizen's notification are one transaction; the citizen sees a card."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot import create_app, stop_background
from bot.casework.lifecycle import TransitionError, attach_citizen_message, change_status, reopen
from bot.casework.states import STATES, TRANSITIONS
from bot.messages import catalogue
from storage import people
from storage.models import Case, CaseAttachment, CaseMessage, OutboxMessage, StatusChange, StoredContent
from tests.conftest import BotServer, make_settings
from tests.factories import filed


@pytest.fixture
def linked_bot(database_url, emulator_server, line):
    """The bot with a timeline base URL, so cards carry the link button."""
    server = BotServer(create_app(make_settings(database_url, emulator_server.base_url,
                                                timeline_base_url="https://siang.example.go.th"))).start()
    yield server
    server.stop()


ROAD = {"description": "หลุมบนถนน", "category": "ถนน", "agency_id": "bma-district:1004"}


def outbox_rows(services) -> list[OutboxMessage]:
    with services.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_every_state_has_a_thai_and_english_label_and_known_transitions():
    texts = catalogue()
    for state in STATES.values():
        assert texts[state.label_key]["th"] and texts[state.label_key]["en"]
    assert set(TRANSITIONS) == set(STATES)
    assert all(target in STATES for targets in TRANSITIONS.values() for target in targets)


def test_a_status_change_pushes_a_card_with_status_note_agency_and_timeline_link(linked_bot, line):
    user = line.create_user()["user_id"]
    case_id = filed(linked_bot.services, user, language="th", **ROAD).id
    with linked_bot.app.app_context(), linked_bot.services.transaction() as session:
        case = session.get(Case, case_id)
        change = change_status(session, case, "forwarded", "staff:7", note="ส่งให้สำนักการโยธาแล้ว")
        ticket = case.ticket
    assert (change.from_status, change.to_status, change.actor) == ("received", "forwarded", "staff:7")
    [delivered] = line.wait_for_messages(user, 1)
    card = delivered["message"]
    assert card["type"] == "flex" and ticket in card["altText"]
    flat = json.dumps(card, ensure_ascii=False)
    assert "ส่งต่อหน่วยงานแล้ว" in flat and "ส่งให้สำนักการโยธาแล้ว" in flat
    assert "สำนักงานเขตบางรัก" in flat and "bma-district" not in flat  # the owner by name, never its id
    assert f"https://siang.example.go.th/cases/{ticket}" in flat
    assert outbox_rows(linked_bot.services)[0].case_id == case_id


def test_the_change_and_its_notification_commit_together_or_not_at_all(app, line):
    services = app.extensions["siang"]
    case_id = filed(services, line.create_user()["user_id"], language="th", **ROAD).id
    with app.app_context():
        session = services.sessions()
        change_status(session, session.get(Case, case_id), "accepted", "api:bma")
        session.rollback()
        session.close()
    with services.transaction() as session:
        assert session.get(Case, case_id).status == "received"
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 1  # "received" only
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_move_the_lifecycle_does_not_allow_is_refused_and_writes_nothing(app, line):
    services = app.extensions["siang"]
    case_id = filed(services, line.create_user()["user_id"], language="th", **ROAD).id
    with app.app_context(), services.transaction() as session:
        case = session.get(Case, case_id)
        with pytest.raises(TransitionError, match="received -> closed"):
            change_status(session, case, "closed", "staff:1")
        with pytest.raises(TransitionError, match="reason"):
            change_status(session, case, "rejected", "staff:1")
    assert outbox_rows(services) == []


def test_resolving_sets_the_date_and_asks_for_a_rating_rejection_shows_the_reason(bot, line):
    user = line.create_user(language="en")["user_id"]
    case_id = filed(bot.services, user, language="en", **ROAD).id
    with bot.app.app_context(), bot.services.transaction() as session:
        case = session.get(Case, case_id)
        change_status(session, case, "accepted", "group:C1")
        change_status(session, case, "resolved", "group:C1", note="Filled the pothole")
        assert case.resolved_at is not None
    found = line.wait_for_messages(user, 3)
    question = found[2]["message"]
    assert "1-5 stars" in question["text"]
    data = [item["action"]["data"] for item in question["quickReply"]["items"]]
    assert data == [f"action=rate&case={case_id}&stars={n}" for n in range(1, 6)]
    with bot.app.app_context(), bot.services.transaction() as session:
        case = session.get(Case, case_id)
        reopen(session, case, "staff:2", note="citizen called")
        change_status(session, case, "rejected", "staff:2", reason="Private land, not a public road")
        assert case.closed_at is not None and case.resolved_at is None
        assert case.history[-1].note == "Private land, not a public road"
    found = line.wait_for_messages(user, 5)
    assert "Private land" in json.dumps(found[4]["message"])


def test_citizens_who_unfollowed_or_were_deleted_get_nothing(app, line):
    services = app.extensions["siang"]
    gone, deleted = line.create_user()["user_id"], line.create_user()["user_id"]
    first, second = (filed(services, user, language="th", **ROAD).id for user in (gone, deleted))
    with app.app_context(), services.transaction() as session:
        people.get_citizen(session, gone).active = False
        session.get(Case, second).citizen_id = None  # what deleting a citizen's data leaves
        session.flush()
        change_status(session, session.get(Case, first), "accepted", "staff:1")
        change_status(session, session.get(Case, second), "accepted", "staff:1")
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 4
    assert outbox_rows(services) == []


def test_messages_of_a_citizen_whose_case_waits_for_information_are_attached(app, line):
    services = app.extensions["siang"]
    user = line.create_user()["user_id"]
    case_id = filed(services, user, language="th", **ROAD).id
    with services.transaction() as session:
        citizen = people.get_citizen(session, user)
        assert attach_citizen_message(session, citizen.id, text="บ้านเลขที่ 12") is None  # not waiting
    with app.app_context(), services.transaction() as session:
        change_status(session, session.get(Case, case_id), "waiting_citizen", "staff:1", note="ขอเลขที่บ้าน")
    with services.transaction() as session:
        citizen = people.get_citizen(session, user)
        content = StoredContent(line_message_id="m1", chat_id=user, message_type="image")
        session.add(content)
        session.flush()
        assert attach_citizen_message(session, citizen.id, text="บ้านเลขที่ 12").id == case_id
        assert attach_citizen_message(session, citizen.id, content_id=content.id).id == case_id
    with services.transaction() as session:
        texts = list(session.scalars(select(CaseMessage.text).where(CaseMessage.case_id == case_id)))
        assert texts == ["บ้านเลขที่ 12", None]
        assert session.scalar(select(func.count()).select_from(CaseAttachment)) == 1


def test_a_status_change_outside_any_app_context_queues_its_push_with_the_timeline_link(database_url,
                                                                                         emulator_server, line):
    """A script, a thread or a worker changing a case with only a ``Services`` (no Flask app context) gets
    what a console request gets: the citizen's card carries the timeline link and its delivery is queued at
    the commit (it used to say nothing of the link and leave the row to the sweeper)."""
    app = create_app(make_settings(database_url, emulator_server.base_url,
                                   timeline_base_url="https://siang.example.go.th"))
    services = app.extensions["siang"]
    try:
        case_id = filed(services, line.create_user()["user_id"], language="th", **ROAD).id
        before = services.jobs.waiting()
        with services.transaction() as session:
            case = session.get(Case, case_id)
            change_status(session, case, "accepted", "script")
            ticket = case.ticket
        [row] = [r for r in outbox_rows(services) if r.case_id == case_id and r.recipient.startswith("U")]
        assert f"https://siang.example.go.th/cases/{ticket}" in row.messages
        assert services.jobs.waiting()[len(before):] == [("deliver_outbox", row.id)]
    finally:
        stop_background(app)
