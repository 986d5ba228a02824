"""Tracking: my cases as a carousel, a typed ticket number as its timeline, and nobody else's cases."""

from __future__ import annotations

from storage.models import StatusChange
from tests import factories


def filed(services, user_id: str, description: str, status_changes: tuple[str, ...] = ()) -> str:
    with services.transaction() as session:
        case = factories.case(session, factories.citizen(session, user_id), description=description,
                              category="ถนน", province="ขอนแก่น", target_days=15)
        previous = "received"
        for status in status_changes:
            session.add(StatusChange(case_id=case.id, from_status=previous, to_status=status, actor="staff:1",
                                     note="ส่งช่างออกตรวจพื้นที่แล้ว" if status == "in_progress" else None))
            previous = case.status = status
        return case.ticket


def test_my_cases_is_a_carousel_of_my_own_cases_only(bot, chat, new_chat):
    mine = [filed(bot.services, chat.user_id, f"ถนนชำรุดจุดที่ {n}") for n in range(3)]
    filed(bot.services, new_chat().user_id, "เรื่องของคนอื่น")
    chat.tap_data("menu=track", expect=2)
    (carousel,) = chat.flex()
    bubbles = carousel["contents"]["contents"]
    assert [b["header"]["contents"][0]["text"] for b in bubbles] == list(reversed(mine))
    assert "เรื่องของคนอื่น" not in str(carousel)
    assert "พิมพ์เลขที่เรื่อง" in chat.said


def test_typing_a_ticket_number_shows_its_timeline(bot, chat):
    ticket = filed(bot.services, chat.user_id, "ถนนเป็นหลุมลึก", ("accepted", "in_progress"))
    chat.send(f"ขอดูเรื่อง {ticket.lower().replace('-', ' ')} หน่อยค่ะ")
    (card,) = chat.flex()
    text = str(card)
    assert ticket in card["altText"] and "ส่งช่างออกตรวจพื้นที่แล้ว" in text
    assert text.index("2569") < len(text)


def test_another_citizens_ticket_is_not_shown(bot, chat, new_chat):
    theirs = filed(bot.services, new_chat().user_id, "ข้อมูลส่วนตัวของคนอื่น")
    chat.send(theirs)
    assert f"ไม่พบเรื่องเลขที่ {theirs}" in chat.said and not chat.flex()
    chat.tap_data(f"track={theirs}")
    assert "ไม่พบเรื่อง" in chat.said and "ข้อมูลส่วนตัวของคนอื่น" not in str(chat.last)


def test_a_citizen_without_cases_is_invited_to_file_one(bot, chat):
    chat.send("ติดตามเรื่อง")
    assert "ยังไม่มีเรื่อง" in chat.said and "ร้องเรียน" in chat.labels


def test_messages_to_a_case_waiting_for_the_citizen_are_attached_to_it(bot, chat):
    from sqlalchemy import select

    from storage.models import Case, CaseAttachment, CaseMessage

    ticket = filed(bot.services, chat.user_id, "ถนนทรุด", ("accepted", "waiting_citizen"))
    chat.send("บ้านเลขที่ 12 ซอย 5 ค่ะ อยู่ตรงข้ามร้านค้า")
    assert f"แนบข้อมูลไปกับเรื่อง {ticket}" in chat.said
    chat.photo()
    assert ticket in chat.said
    with bot.services.transaction() as session:
        case = session.scalar(select(Case).where(Case.ticket == ticket))
        texts = [m.text for m in session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id))]
        photos = session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).all()
    assert "บ้านเลขที่ 12 ซอย 5 ค่ะ อยู่ตรงข้ามร้านค้า" in texts and len(photos) == 1
    chat.tap_data("menu=complaint")  # the menu still starts a new complaint
    assert "ข้อมูลส่วนบุคคล" in chat.said


def test_rating_buttons_of_a_resolved_case_reach_the_case_service(bot, chat):
    from sqlalchemy import select

    from storage.models import Case

    ticket = filed(bot.services, chat.user_id, "ไฟดับ", ("accepted", "resolved"))
    with bot.services.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.ticket == ticket))
    chat.tap_data(f"action=rate&case={case_id}&stars=5")
    assert chat.last  # answered (by bot.casework.feedback), not "this button has expired"
    assert "หมดอายุ" not in str(chat.last)
    with bot.services.transaction() as session:
        assert session.get(Case, case_id).rating == 5
