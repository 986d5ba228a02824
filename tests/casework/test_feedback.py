"""The citizen's rating and "really solved?" answer, from the postback buttons of the resolved card."""

from __future__ import annotations

from urllib.parse import parse_qsl

from sqlalchemy import select

from bot.casework.feedback import handle_feedback_postback
from bot.casework.lifecycle import change_status
from bot.context import Context
from storage import people
from storage.models import Case, InboxEvent
from tests import factories


def resolved_case(bot, user: str) -> int:
    with bot.app.app_context(), bot.services.transaction() as session:
        case = factories.case(session, factories.citizen(session, user), description="ไฟดับ", category="ไฟฟ้า")
        change_status(session, case, "accepted", "staff:1")
        change_status(session, case, "resolved", "staff:1", note="ซ่อมเสร็จแล้ว")
        return case.id


def tap(bot, user: str, data: str) -> bool:
    """What the flows do with a postback: parse its data and hand it to the feedback handler."""
    with bot.app.app_context():
        session = bot.services.sessions()
        row = InboxEvent(webhook_event_id=f"ev-{data}", event_type="postback", chat_id=user, user_id=user,
                         payload="{}")
        ctx = Context(bot.services, session, row, event=None, citizen=people.get_citizen(session, user))
        handled = handle_feedback_postback(ctx, dict(parse_qsl(data)))
        ctx.flush()
        session.commit()  # queues the answer's delivery (Services.after_commit)
        session.close()
    return handled


def test_a_rating_is_stored_and_answered_with_the_solved_question(bot, line):
    user = line.create_user()["user_id"]
    case_id = resolved_case(bot, user)
    line.wait_for_messages(user, 3)
    assert tap(bot, user, f"action=rate&case={case_id}&stars=4")
    found = line.wait_for_messages(user, 4)
    items = found[3]["message"]["quickReply"]["items"]
    assert [i["action"]["data"] for i in items] == [f"action=solved&case={case_id}&answer=yes",
                                                   f"action=solved&case={case_id}&answer=no"]
    assert tap(bot, user, f"action=solved&case={case_id}&answer=yes")
    with bot.services.transaction() as session:
        case = session.get(Case, case_id)
        assert (case.rating, case.citizen_says_solved, case.status) == (4, True, "resolved")


def test_not_solved_reopens_the_case_and_the_citizen_gets_its_card(bot, line):
    user = line.create_user()["user_id"]
    case_id = resolved_case(bot, user)
    line.wait_for_messages(user, 3)
    assert tap(bot, user, f"action=solved&case={case_id}&answer=no")
    found = line.wait_for_messages(user, 5)
    kinds = sorted(m["message"]["type"] for m in found[3:])
    assert kinds == ["flex", "text"]
    assert tap(bot, user, f"action=solved&case={case_id}&answer=no")  # a second tap changes nothing
    with bot.services.transaction() as session:
        case = session.get(Case, case_id)
        assert case.status == "reopened" and case.citizen_says_solved is False
        assert [h.to_status for h in case.history] == ["received", "accepted", "resolved", "reopened"]


def test_feedback_on_someone_elses_case_is_refused_and_other_postbacks_are_not_ours(bot, line):
    owner, stranger = line.create_user()["user_id"], line.create_user()["user_id"]
    case_id = resolved_case(bot, owner)
    with bot.services.transaction() as session:
        people.touch_citizen(session, stranger)
    assert tap(bot, stranger, f"action=rate&case={case_id}&stars=1")
    assert not tap(bot, stranger, "menu=complaint")
    with bot.services.transaction() as session:
        assert session.get(Case, case_id).rating is None
        assert session.scalar(select(Case.status).where(Case.id == case_id)) == "resolved"
