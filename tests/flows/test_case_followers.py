"""Everyone on a case hears it: citizens who joined a case ("me too") get every status card once, like the filer.

Played through the emulator: the filer and the joiners chat with the bot, staff move the case with the
console's own service, and what reached each LINE user is counted in the emulator.
"""

from __future__ import annotations

import json
import time

from bot import messages
from bot.casework import work
from bot.flows import understanding
from storage.models import Case
from tests.flows.conftest import Chat, rows

FILER_STORY = "ไฟถนนหน้าบ้านดับมาสามวันแล้ว ซอยมืดมาก เด็กเดินกลับบ้านอันตราย"
JOINER_STORY = "ไฟถนนในซอยดับหลายวันแล้ว มืดมาก"
PLACE = "ซอยเจริญกรุง เขตบางรัก กรุงเทพ"
STEPS = ("accepted", "in_progress", "resolved")


def complain(chat: Chat, story: str, lang: str, category: str | None = None, join: str | None = None) -> None:
    """Answer the complaint flow's questions as they come, whatever their order, until the case is filed
    (``join=None``) or the similar case ``join`` (a ticket) is joined."""
    def label(key: str, **values: str) -> str:
        return messages.text(key, lang, **values)

    chat.tap_data("menu=complaint")
    if label("privacy_btn_agree") in chat.labels:
        chat.tap(label("privacy_btn_agree"))
    chat.send(story)
    for _ in range(12):
        labels = chat.labels
        if join and label("complaint_btn_me_too", ticket=join) in labels:
            chat.tap(label("complaint_btn_me_too", ticket=join))
            assert join in chat.said
            return
        if label("complaint_btn_confirm") in labels:
            assert join is None, f"no similar case offered: {chat.said}"
            chat.tap(label("complaint_btn_confirm"))
            return
        if label("complaint_btn_none_of_these") in labels:
            wanted = understanding.category_label(category, lang) if category else "ถนน"
            chat.tap(wanted if wanted in labels else labels[0])
        else:
            for key in ("complaint_btn_no_photo", "complaint_btn_today", "complaint_btn_skip",
                        "complaint_btn_named"):
                if label(key) in labels:
                    chat.tap(label(key))
                    break
            else:
                chat.send(PLACE)  # the one free question left: where
        chat.last += chat.quiet(0.2)  # a card and its question may come as two messages
    raise AssertionError(f"the complaint flow did not finish: {chat.said}")


def status_cards(line, user_id: str, since: int, ticket: str) -> list[dict]:
    """Every status card of ``ticket`` the bot sent this user since ``since``, delivered or not."""
    found = line.messages(user_id, since=since, include_undelivered=True)["messages"]
    return [m["message"] for m in found
            if m["message"]["type"] == "flex" and m["message"]["altText"].endswith(tuple(
                messages.text(f"status_{s}", lang) for s in STEPS for lang in ("th", "en")))
            and ticket in m["message"]["altText"]]


def wait_for_cards(line, user_id: str, since: int, ticket: str, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(cards := status_cards(line, user_id, since, ticket)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return cards


def test_the_filer_and_every_joiner_get_each_status_card_once_in_their_language(bot, line, new_chat):
    filer = new_chat("ผู้แจ้ง")
    complain(filer, FILER_STORY, "th")
    (case,) = rows(bot.services, Case)
    thai, english = new_chat("เพื่อนบ้าน"), new_chat("Neighbour", language="en")
    blocked, erased = new_chat("คนที่บล็อก"), new_chat("คนที่ลบข้อมูล")
    for joiner, lang in ((thai, "th"), (english, "en"), (blocked, "th"), (erased, "th")):
        complain(joiner, JOINER_STORY, lang, category=case.category, join=case.ticket)
    assert len(rows(bot.services, Case)) == 1  # nobody filed a duplicate
    line.unfollow(blocked.user_id)
    erased.send("ลบข้อมูลของฉัน")
    erased.tap(messages.text("privacy_btn_erase"))
    english.send(case.ticket)
    assert english.flex()[0]["altText"].endswith(case.ticket)  # a joiner may track the case
    thai.tap_data("menu=track")
    assert case.ticket in json.dumps(thai.flex(), ensure_ascii=False)  # and finds it among "my cases"
    everyone = (filer, thai, english, blocked, erased)
    cursors = {chat.user_id: line.messages(chat.user_id)["cursor"] for chat in everyone}

    for status in STEPS:
        with bot.app.app_context(), bot.services.transaction() as db:
            work.set_status(db, db.get(Case, case.id), status, "staff:1",
                            note="ซ่อมไฟเรียบร้อยแล้ว" if status == "resolved" else None)

    for chat, lang in ((filer, "th"), (thai, "th"), (english, "en")):
        cards = wait_for_cards(line, chat.user_id, cursors[chat.user_id], case.ticket, len(STEPS))
        time.sleep(0.5)  # a second copy would arrive by now
        cards = status_cards(line, chat.user_id, cursors[chat.user_id], case.ticket)
        assert [card["altText"] for card in cards] == [
            messages.text("status_card_alt", lang, ticket=case.ticket, status=messages.text(f"status_{s}", lang))
            for s in STEPS], chat.user_id
        assert "ซ่อมไฟเรียบร้อยแล้ว" in json.dumps(cards[-1], ensure_ascii=False)
    for chat in (blocked, erased):
        assert status_cards(line, chat.user_id, cursors[chat.user_id], case.ticket) == []
    rating = messages.text("rating_question", "th", ticket=case.ticket)
    delivered = {chat.user_id: [m["message"].get("text")
                                for m in line.messages(chat.user_id, since=cursors[chat.user_id])["messages"]]
                 for chat in (filer, thai, english)}
    assert delivered[filer.user_id].count(rating) == 1  # the rating is the filer's to give
    assert rating not in delivered[thai.user_id]
    assert messages.text("rating_question", "en", ticket=case.ticket) not in delivered[english.user_id]
