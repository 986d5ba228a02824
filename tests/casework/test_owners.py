"""No orphan cases: every case filed (chat, Open311) has an owner that really has it — in that agency's
console queue, its LINE group and its API — and the citizen is told the owner's name; a staff category
correction routes the case again by the same rules and tells the citizen the new owner once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.flows import understanding
from storage import staff as staff_store
from storage.models import AuditEntry, Case, OutboxMessage, StatusChange
from tests.console.conftest import login, make_staff, token
from tests.flows.conftest import Chat, settings  # noqa: F401 - the flows' settings (flood control raised)
from tests.groups.conftest import Groups
from tests.support import wait_until

BANG_RAK = "bma-district:1004"
UNSURE = understanding.Understanding(None, 0.2, False, [("ถนน", 0.2), ("แสงสว่าง", 0.1)])


@pytest.fixture
def groups(bot, line) -> Groups:
    with bot.services.transaction() as db:
        staff_store.seed_catalogue(db)
    return Groups(bot, line)


def file_through_chat(line, story: str, place: str) -> Chat:
    """A citizen files ``story`` at ``place`` and answers "none of these" to the category question."""
    chat = Chat(line, line.create_user("สมศรี ใจดี", language="th")["user_id"])
    chat.tap_data("menu=complaint")
    if "ยินยอม" in chat.labels:
        chat.tap("ยินยอม")
    # Danger to life is answered first (the numbers to call), then the flow asks where.
    chat.send(story, expect=2 if understanding.urgency_of(story).urgent else 1)
    chat.send(place)
    chat.tap("ไม่ใช่ทั้งหมด", expect=2)
    if "แจ้งเรื่องใหม่" in chat.labels:
        chat.tap("แจ้งเรื่องใหม่", expect=2)
    chat.tap("ยืนยันส่งเรื่อง", expect=2)
    return chat


def case_of(services, ticket: str) -> Case:
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        db.expunge(case)
        return case


def queue_of(app, services, agency_id: str, query: str = "") -> str:
    """The console queue page as a new staff member of ``agency_id`` sees it."""
    username = f"staff{len(query)}-" + agency_id.replace(":", "-")
    make_staff(services, username, "agency_staff", agency_id=agency_id)
    client = app.test_client()
    login(client, username)
    return client.get(f"/console/cases{query}").get_data(as_text=True)


def test_none_of_these_in_bangkok_goes_to_the_district_office_its_queue_and_group(groups, bot, line, monkeypatch):
    gid, _ = groups.link(BANG_RAK)
    monkeypatch.setattr(understanding, "understand", lambda *a, **k: UNSURE)
    chat = file_through_chat(line, "มีปัญหาในซอยนี้มานานแล้ว อยากให้มาดู", "ซอยสีลม 5 เขตบางรัก กรุงเทพ")
    ticket = chat.said.split("เลขที่เรื่อง ")[1].split()[0]
    case = case_of(bot.services, ticket)
    assert (case.category, case.agency_id) == ("อื่นๆ", BANG_RAK)
    assert "ส่งถึง: สำนักงานเขตบางรัก" in chat.said and "bma-district" not in json.dumps(chat.last)
    assert ticket in queue_of(bot.app, bot.services, BANG_RAK)
    wait_until(lambda: any(ticket in json.dumps(card, ensure_ascii=False) for card in groups.cards(gid)),
               what="the case card in the district office's group")


def test_none_of_these_elsewhere_and_urgent_goes_to_the_provincial_centre_flagged(groups, bot, line, monkeypatch):
    gid, _ = groups.link("damrongdhama:52")
    monkeypatch.setattr(understanding, "understand", lambda *a, **k: understanding.Understanding(
        None, 0.2, False, [("ถนน", 0.2)], "complaint", True, "fire", "199", ("199", "1669")))
    chat = file_through_chat(line, "ไฟไหม้บ้านข้างๆ ลามมาแล้ว", "อ.เมือง จ.ลำปาง")
    ticket = chat.said.split("เลขที่เรื่อง ")[1].split()[0]
    case = case_of(bot.services, ticket)
    assert (case.agency_id, case.urgent) == ("damrongdhama:52", True)
    assert "ศูนย์ดำรงธรรมจังหวัดลำปาง" in chat.said
    assert ticket in queue_of(bot.app, bot.services, "damrongdhama:52", "?urgent=1")
    wait_until(lambda: any(ticket in json.dumps(card, ensure_ascii=False) for card in groups.cards(gid)),
               what="the case card in the provincial centre's group")


def test_open311_requests_without_a_specific_owner_go_to_the_general_owner_queue_and_api(groups, bot, line):
    gid, _ = groups.link(BANG_RAK)
    with bot.services.transaction() as db:
        _, key = staff_store.create_api_key(db, name="1111", scope="open311", agency_id=None, created_by="t")
        _, agency_key = staff_store.create_api_key(db, name="bangrak", scope="agency", agency_id=BANG_RAK,
                                                   created_by="t")
    client = bot.app.test_client()
    posted = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "อื่นๆ", "lat": "13.7262", "long": "100.5234",
        "description": "ไฟไหม้ตึกแถวหน้าซอย มีคนติดอยู่ข้างใน"})
    [created] = posted.get_json()
    assert created["service_notice"] == "สำนักงานเขตบางรัก"
    ticket = created["service_request_id"]
    case = case_of(bot.services, ticket)
    assert (case.agency_id, case.district, case.urgent) == (BANG_RAK, "บางรัก", True)
    typed = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "อื่นๆ", "address_string": "อ.เมือง จ.ลำปาง", "description": "ขอให้มาตรวจสอบ"})
    assert case_of(bot.services, typed.get_json()[0]["service_request_id"]).agency_id == "damrongdhama:52"

    listed = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {agency_key}"}).get_json()["cases"]
    assert [(c["ticket"], c["urgent"]) for c in listed] == [(ticket, True)]
    assert ticket in queue_of(bot.app, bot.services, BANG_RAK, "?urgent=1")
    wait_until(lambda: any(ticket in json.dumps(card, ensure_ascii=False) for card in groups.cards(gid)),
               what="the Open311 case card in the district office's group")


def test_a_category_correction_routes_the_case_again_and_tells_the_citizen_once(groups, bot, line):
    mea_gid, _ = groups.link("mea")
    case_id = groups.file(agency_id=BANG_RAK, category="แสงสว่าง", description="ไฟดับทั้งซอย ตู้เย็นเสีย")
    citizen = groups.citizen_of(case_id)
    ticket = groups.case(case_id).ticket
    make_staff(bot.services, "bangrak", "agency_staff", agency_id=BANG_RAK)
    client = bot.app.test_client()
    login(client, "bangrak")
    csrf = token(client, f"/console/cases/{ticket}")
    before = len(line.messages(citizen)["messages"])
    done = client.post(f"/console/cases/{ticket}/category", data={"category": "ไฟฟ้า", "csrf_token": csrf})
    assert done.status_code in (200, 302, 303)

    case = groups.case(case_id)
    assert (case.category, case.agency_id, case.status) == ("ไฟฟ้า", "mea", "forwarded")
    pushed = line.wait_for_messages(citizen, before + 1, timeout=20)
    with bot.services.transaction() as db:
        history = db.scalars(select(StatusChange).where(StatusChange.case_id == case_id)
                             .order_by(StatusChange.id)).all()
        assert history[-1].to_status == "forwarded" and "การไฟฟ้านครหลวง" in history[-1].note
        (audit,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "case_category")).all()
        assert json.loads(audit.details)["agency_to"] == "mea" and json.loads(audit.details)["to"] == "ไฟฟ้า"
        rows = db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                      OutboxMessage.recipient == citizen)).all()
    assert len(rows) == 1
    told = json.dumps(pushed[-1]["message"], ensure_ascii=False)
    assert "การไฟฟ้านครหลวง" in told and '"mea"' not in told

    # The same correction again changes nothing and tells nobody again.
    client.post(f"/console/cases/{ticket}/category", data={"category": "ไฟฟ้า", "csrf_token": csrf})
    assert len(line.messages(citizen)["messages"]) == before + 1
    wait_until(lambda: any(ticket in json.dumps(card, ensure_ascii=False) for card in groups.cards(mea_gid)),
               what="the case card in MEA's group")


def test_the_new_categories_and_their_owners_are_seeded_into_the_tables_once(app):
    from storage.models import Agency, Category

    services = app.extensions["siang"]
    with services.transaction() as db:
        first = staff_store.seed_catalogue(db)
    with services.transaction() as db:
        assert staff_store.seed_catalogue(db) == (0, 0)
        categories = {c.id for c in db.scalars(select(Category))}
        owners = {a.id: a.name_th for a in db.scalars(select(Agency))}
    assert first[1] == len(categories) == 30
    assert {"หาบเร่แผงลอย", "ผิดกฎจราจร", "ภัยออนไลน์", "สัตว์จรจัด", "ไฟฟ้า"} <= categories
    assert owners["ocpb"].startswith("สำนักงานคณะกรรมการคุ้มครองผู้บริโภค") and owners["mea"] == "การไฟฟ้านครหลวง"


def test_a_correction_while_waiting_for_the_citizen_moves_the_owner_and_keeps_the_status(groups, bot, line):
    from bot.casework.lifecycle import change_status
    from bot.casework import work

    case_id = groups.file(agency_id=BANG_RAK, category="ถนน", description="มีคนขายยาบ้าในซอย")
    citizen = groups.citizen_of(case_id)
    with bot.app.app_context(), bot.services.transaction() as db:
        change_status(db, db.get(Case, case_id), "waiting_citizen", "staff:1", note="ขอรูปเพิ่ม")
    line.wait_for_messages(citizen, 1, timeout=20)
    with bot.app.app_context(), bot.services.transaction() as db:
        work.correct_category(db, db.get(Case, case_id), "เบาะแสยาเสพติด", "staff:1")
    told = line.wait_for_messages(citizen, 2, timeout=20)[-1]["message"]
    assert told["type"] == "text" and "ป.ป.ส." in told["text"] and "oncb" not in told["text"]
    case = groups.case(case_id)
    assert (case.agency_id, case.status) == ("oncb", "waiting_citizen")
    with bot.services.transaction() as db:
        last = db.scalars(select(StatusChange).where(StatusChange.case_id == case_id)
                          .order_by(StatusChange.id.desc())).first()
    assert (last.from_status, last.to_status) == ("waiting_citizen", "waiting_citizen") and "ป.ป.ส." in last.note
    assert len(line.messages(citizen)["messages"]) == 2
