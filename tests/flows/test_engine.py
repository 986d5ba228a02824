"""What every flow gets from the engine: expiry and resume, restarts, concurrency, repeats, odd inputs."""

from __future__ import annotations

import threading

from bot import create_app
from storage.models import Case, FlowState
from tests.conftest import SECRET, TOKEN, BotServer, make_settings
from tests.flows.conftest import Chat, age_flow, rows
from tests.support import STORY, start, to_summary


def finish(chat: Chat, place: str = "เขตบางรัก กรุงเทพ") -> None:
    """At "where?": the place, then the summary (after the category if asked), then send."""
    chat.send(place)
    to_summary(chat)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)


def test_an_idle_flow_expires_politely_and_resumes_with_its_draft(bot, chat):
    start(chat)
    chat.send(STORY)
    age_flow(bot.services, chat.user_id, 31 * 60)
    chat.send("เขตบางรัก กรุงเทพ")
    assert "ไม่มีความเคลื่อนไหวนาน" in chat.said and "ทำต่อจากเดิม" in chat.labels
    chat.tap("ทำต่อจากเดิม")
    assert "ทำเรื่องร้องเรียนต่อจากเดิม" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    finish(chat)
    assert rows(bot.services, Case)[0].description == STORY


def test_an_expired_draft_can_be_started_again_or_discarded(bot, chat):
    start(chat)
    chat.send(STORY)
    age_flow(bot.services, chat.user_id, 31 * 60)
    chat.send("เขตบางรัก กรุงเทพ")
    chat.tap("เริ่มใหม่")
    assert "เล่าเรื่องที่พบ" in chat.said
    age_flow(bot.services, chat.user_id, 31 * 60)
    chat.send("อะไรก็ได้")
    chat.tap("ทิ้งฉบับร่าง")
    assert "ยกเลิก" in chat.said
    chat.tap_data("menu=complaint")
    assert "เล่าเรื่องที่พบ" in chat.said


def test_idle_time_is_configurable(database_url, emulator_server, line):
    server = BotServer(create_app(make_settings(database_url, emulator_server.base_url,
                                                flow_idle_seconds=60, flood_burst=10_000))).start()
    try:
        line.configure(webhook_url=f"{server.url}/callback", channel_secret=SECRET, access_token=TOKEN)
        chat = Chat(line, line.create_user()["user_id"])
        start(chat)
        age_flow(server.services, chat.user_id, 30)
        chat.send(STORY)
        assert "เกิดเหตุที่ไหน" in chat.said  # 30 s idle is fine
        age_flow(server.services, chat.user_id, 61)
        chat.send("เขตบางรัก กรุงเทพ")
        assert "ไม่มีความเคลื่อนไหวนาน" in chat.said
    finally:
        server.stop()


def test_a_restarted_web_process_continues_the_conversation_from_the_database(database_url, emulator_server, line):
    settings = make_settings(database_url, emulator_server.base_url, flood_burst=10_000)
    first = BotServer(create_app(settings)).start()
    line.configure(webhook_url=f"{first.url}/callback", channel_secret=SECRET, access_token=TOKEN)
    chat = Chat(line, line.create_user()["user_id"])
    start(chat)
    chat.send(STORY)
    first.stop()
    second = BotServer(create_app(settings)).start()
    try:
        line.configure(webhook_url=f"{second.url}/callback")
        chat.send("ย้อนกลับ")
        assert "เล่าเรื่องที่พบ" in chat.said  # the step and its history came back from the database
        chat.send(STORY)
        finish(chat)
        assert len(rows(second.services, Case)) == 1
    finally:
        second.stop()


def test_two_citizens_interleaved_keep_their_own_drafts(bot, new_chat):
    a, b = new_chat("ก"), new_chat("ข")
    start(a)
    start(b)
    a.send("ขยะกองหน้าหมู่บ้านไม่มีใครมาเก็บหนึ่งสัปดาห์")
    b.send("น้ำประปาไม่ไหลทั้งซอยตั้งแต่เมื่อวาน")
    errors: list[BaseException] = []

    def run(chat, place):
        try:
            finish(chat, place)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c, p)) for c, p in ((a, "อ.เมือง จ.ลำปาง"), (b, "อ.เมือง จ.ขอนแก่น"))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    cases = {c.province: c for c in rows(bot.services, Case)}
    assert "ขยะ" in cases["ลำปาง"].description and "ประปา" in cases["ขอนแก่น"].description
    assert len({c.ticket for c in cases.values()}) == 2


def test_the_same_event_delivered_twice_advances_the_flow_once(bot, line, chat):
    start(chat)
    chat.send(STORY)
    first_event = chat.result.event_id
    assert line.duplicate(first_event).status == 200
    assert line.redeliver(first_event).status == 200
    assert chat.quiet() == []  # no second answer
    chat.send("ฝากดูด้วยนะคะ ไฟดับหลายต้นมากในซอยนี้")  # more of the story, added once
    more_event = chat.result.event_id
    line.redeliver(more_event)
    assert chat.quiet() == []
    finish(chat)
    (case,) = rows(bot.services, Case)
    assert case.description.count(STORY) == 1 and case.description.count("หลายต้น") == 1  # not merged twice


def test_a_sticker_an_unexpected_photo_and_a_stale_button_get_helpful_answers(bot, chat):
    start(chat)
    chat.send(STORY)
    chat.sticker()
    assert "ขอบคุณสำหรับสติกเกอร์" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    chat.photo()
    assert "ได้รับรูปภาพแล้ว 1 รูป" in chat.said and "เกิดเหตุที่ไหน" in chat.said  # kept, not refused
    chat.tap_data("f=complaint&s=photos&v=next")
    assert "ขั้นตอนก่อนหน้า" in chat.said and "เกิดเหตุที่ไหน" in chat.said
    chat.send("ช่วยเหลือ")
    assert "ย้อนกลับ" in chat.said and "ยกเลิก" in chat.said
    chat.send("ต้องพิมพ์อะไรคะ?")
    assert "ส่งตำแหน่ง" in chat.said  # the step's own explanation


def test_outside_a_flow_odd_inputs_get_the_menu(bot, chat):
    chat.sticker()
    assert "สติกเกอร์" in chat.said and "ร้องเรียน" in chat.labels
    chat.location(13.7563, 100.5018, title="สนามหลวง")
    assert "สนามหลวง" in chat.said  # a place sent first starts a complaint there (kept, not refused)
    chat.send("ยกเลิก")
    assert "ยกเลิกเรื่องร้องเรียนแล้ว" in chat.said
    chat.tap_data("f=complaint&s=summary&v=yes")
    assert "หมดอายุ" in chat.said
    chat.send("ยกเลิก")
    assert "ร้องเรียน" in chat.labels
    assert rows(bot.services, FlowState) == []


# --- the tables are checked when they are built ---------------------------------------------------------------

def _ask(turn):
    return []


def _stay(turn, item):
    return "one"


def test_a_flow_table_naming_an_undeclared_step_kind_or_start_is_refused_when_built():
    import pytest

    from bot.flows.engine import DONE, TEXT, Flow, FlowTableError, step

    with pytest.raises(FlowTableError, match="undeclared step 'tow'"):
        Flow("t", "flow_title_complaint", (step("one", _ask, on={TEXT: _stay}, goes=("tow",)),))
    with pytest.raises(FlowTableError, match="repeated"):
        Flow("t", "flow_title_complaint", (step("one", _ask, on={TEXT: _stay}), step("one", _ask, on={})))
    with pytest.raises(FlowTableError, match="unknown kind"):
        Flow("t", "flow_title_complaint", (step("one", _ask, on={"telepathy": _stay}),))
    with pytest.raises(FlowTableError, match="starts"):
        Flow("t", "flow_title_complaint", (step("one", _ask, on={TEXT: _stay}, goes=(DONE,)),),
             starts=("two",))
    Flow("t", "flow_title_complaint", (step("one", _ask, on={TEXT: _stay}, goes=(DONE,)),))  # a good one


def test_every_registered_flow_declares_where_its_steps_go():
    from bot.flows.engine import DONE, FLOWS

    for flow in FLOWS.values():
        names = {s.name for s in flow.steps}
        assert all(target in names | {DONE} for s in flow.steps for target in s.goes), flow.name
        assert all(s.on for s in flow.steps), flow.name  # every step accepts something


def test_the_global_intents_come_before_the_open_flow():
    from bot.flows.intents import BEFORE, INTENTS, UNCLAIMED

    before = [i.name for i in INTENTS if i.when == BEFORE]
    assert {"danger to life", "delete my data", "stop the news", "cancel", "menu", "talk to a person",
            "ticket number"} <= set(before)
    assert [i.name for i in INTENTS if i.when == UNCLAIMED][-1] == "new complaint story"


def test_stop_the_news_inside_an_open_flow_really_stops_it(bot, chat):
    from bot.announcements import subscriptions
    from storage.models import Citizen

    chat.send("รับข่าว เกษตร")
    assert "รับข่าว" in chat.said
    start(chat)
    chat.send("เลิกรับข่าว")
    assert "เลิกรับข่าวสารทั้งหมดแล้ว" in chat.said
    with bot.services.transaction() as session:
        citizen = session.query(Citizen).one()
        assert not subscriptions.load(session, citizen.id).active
    chat.send(STORY)  # the complaint is still open where it was
    assert "เกิดเหตุที่ไหน" in chat.said


def test_talk_to_a_person_and_a_ticket_number_work_inside_a_flow(bot, chat):
    start(chat)
    chat.send("DR-2569-000001")
    assert "ไม่พบเรื่องเลขที่ DR-2569-000001" in chat.said
    chat.send("คุยกับเจ้าหน้าที่")
    assert "เจ้าหน้าที่" in chat.said and "ข้าม" in chat.labels
