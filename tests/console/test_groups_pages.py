"""Console pages for agencies' LINE groups: one-time link codes, unlinking, and quota-checked broadcasts."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from storage import groups as store
from storage import people
from storage.models import AuditEntry, GroupBroadcast, GroupBroadcastDelivery, LinkCode, OutboxMessage
from tests.console.conftest import login, make_staff, token

AGENCY = "damrongdhama:10"  # Bangkok's centre
OTHER = "mea"


def linked_group(services, agency_id: str, members: int, provinces: list[str] | None = None,
                 name: str = "กลุ่มทดสอบ") -> str:
    gid = "C" + uuid.uuid4().hex
    with services.transaction() as db:
        group = people.group_joined(db, gid, "group")
        group.name, group.member_count = name, members
        store.link_group(db, group, agency_id, provinces if provinces is not None else ["10"], "test")
    return gid


def actions(services, action: str) -> list[AuditEntry]:
    with services.transaction() as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.expunge_all()
        return rows


@pytest.fixture
def admin(console, services):
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    return client


@pytest.fixture
def centre_staff(console, services):
    make_staff(services, "centre", "agency_staff", agency_id=AGENCY)
    client = console.test_client()
    login(client, "centre")
    return client


def _code_from(html: str, word: str = "เชื่อมกลุ่ม") -> str:
    return re.search(word + r" ([A-Z0-9]{8})", html).group(1)


def test_staff_create_a_one_time_code_that_links_a_group_once(centre_staff, services):
    page = centre_staff.get("/console/groups")
    assert page.status_code == 200 and "สร้างรหัสใช้ครั้งเดียว" in page.get_data(as_text=True)
    answer = centre_staff.post("/console/groups/codes", data={
        "purpose": "group", "agency_id": AGENCY, "provinces": "กรุงเทพมหานคร", "hours": "2",
        "csrf_token": token(centre_staff, "/console/groups")})
    assert answer.status_code == 200
    code = _code_from(answer.get_data(as_text=True))
    with services.transaction() as db:
        row = db.scalar(select(LinkCode).where(LinkCode.code == code))
        assert (row.agency_id, row.purpose, store.provinces_of(row)) == (AGENCY, "group", ["10"])
        assert store.redeem_code(db, code, "group", "Uone", "Cgroup1")[0] == "ok"
    with services.transaction() as db:
        assert store.redeem_code(db, code, "group", "Utwo", "Cgroup2")[0] == "used"
    audit = actions(services, "group_code_create")
    assert len(audit) == 1 and audit[0].target == f"agency:{AGENCY}"


def test_a_staff_registration_code_is_shown_with_its_command(admin, services):
    answer = admin.post("/console/groups/codes", data={"purpose": "staff", "agency_id": OTHER,
                                                      "csrf_token": token(admin, "/console/groups")})
    code = _code_from(answer.get_data(as_text=True), "ลงทะเบียนเจ้าหน้าที่")
    with services.transaction() as db:
        assert store.redeem_code(db, code, "staff", "Uone", "Cgroup1")[0] == "ok"


def test_agency_staff_act_only_on_their_own_agency(centre_staff, services):
    theirs = linked_group(services, AGENCY, 3, name="กลุ่มศูนย์ดำรงธรรม")
    others = linked_group(services, OTHER, 5, provinces=[], name="กลุ่มการไฟฟ้า")
    html = centre_staff.get("/console/groups").get_data(as_text=True)
    assert theirs in html and others not in html
    csrf = token(centre_staff, "/console/groups")

    refused = centre_staff.post("/console/groups/codes", data={"purpose": "group", "agency_id": OTHER,
                                                              "csrf_token": csrf})
    assert refused.status_code == 403
    assert centre_staff.post(f"/console/groups/{others}/unlink", data={"csrf_token": csrf}).status_code == 403
    assert centre_staff.post("/console/groups/broadcast", data={
        "text": "ประชุม", "target": "agency", "agency_id": OTHER, "action": "send",
        "csrf_token": csrf}).status_code == 403
    with services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(LinkCode)) == 0
        assert store.active_link(db, others) is not None

    assert centre_staff.post(f"/console/groups/{theirs}/unlink", data={"csrf_token": csrf}).status_code == 302
    with services.transaction() as db:
        assert store.active_link(db, theirs) is None
    assert [a.target for a in actions(services, "group_unlink")] == [f"group:{theirs}"]


@pytest.mark.parametrize("role", ["executive", "announcer"])
def test_executives_and_announcers_are_refused(console, services, role):
    make_staff(services, role, role)
    client = console.test_client()
    login(client, role)
    assert client.get("/console/groups").status_code == 403
    assert client.get("/console/groups/broadcast").status_code == 403
    assert "/console/groups" not in client.get("/console/", follow_redirects=True).get_data(as_text=True)


def test_the_nav_links_to_groups_for_staff(centre_staff):
    assert 'href="/console/groups"' in centre_staff.get("/console/", follow_redirects=True).get_data(as_text=True)


def test_a_broadcast_shows_its_cost_then_sends_one_push_per_group(admin, services, line):
    first = linked_group(services, AGENCY, 3)
    second = linked_group(services, AGENCY, 4)
    elsewhere = linked_group(services, OTHER, 9, provinces=[])
    line.set_quota(line.quota_usage()["used"] + 100)
    form = {"text": "ประชุมด่วน 14:00 น.", "link_url": "https://example.go.th/a", "target": "agency",
            "agency_id": AGENCY}

    estimate = admin.post("/console/groups/broadcast", data={**form, "action": "estimate",
                                                             "csrf_token": token(admin, "/console/groups/broadcast")})
    html = estimate.get_data(as_text=True)
    assert estimate.status_code == 200
    assert "ส่งถึง 2 กลุ่ม" in html and "ใช้โควตา <strong>7 ข้อความ</strong>" in html
    assert "โควตาคงเหลือเดือนนี้: 100 ข้อความ" in html and "ยืนยันการส่ง" in html
    with services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(GroupBroadcast)) == 0

    sent = admin.post("/console/groups/broadcast", data={**form, "action": "send",
                                                         "csrf_token": token(admin, "/console/groups/broadcast")})
    assert sent.status_code == 302
    with services.transaction() as db:
        pushes = list(db.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "push")))
        assert sorted(pushes) == sorted([first, second]) and elsewhere not in pushes
        broadcast = db.scalar(select(GroupBroadcast))
        assert (broadcast.estimated_cost, broadcast.group_count) == (7, 2)
        assert db.scalar(select(func.count()).select_from(GroupBroadcastDelivery)) == 2
    assert len(actions(services, "group_broadcast_send")) == 1


def test_a_broadcast_is_refused_when_the_monthly_quota_is_short(admin, services, line):
    gids = [linked_group(services, AGENCY, 3), linked_group(services, AGENCY, 4)]
    line.set_quota(line.quota_usage()["used"] + 6)
    form = {"text": "ประชุมด่วน", "target": "groups", "group": gids,
            "csrf_token": token(admin, "/console/groups/broadcast")}

    for action in ("estimate", "send"):
        answer = admin.post("/console/groups/broadcast", data={**form, "action": action})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 409
        assert "โควตาข้อความเดือนนี้ไม่พอ ต้องใช้ 7 ข้อความ แต่เหลือเพียง 6 ข้อความ" in html
        assert "ยืนยันการส่ง" not in html
    with services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(GroupBroadcast)) == 0
        assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "push")) == 0
    assert len(actions(services, "group_broadcast_refused")) == 2


def test_agency_staff_broadcast_by_province_reaches_only_their_groups(centre_staff, services, line):
    theirs = linked_group(services, AGENCY, 2)
    linked_group(services, "bma", 5)  # also covers Bangkok, but another agency's group
    line.set_quota(None)
    sent = centre_staff.post("/console/groups/broadcast", data={
        "text": "แจ้งเตือน", "target": "province", "province": "กรุงเทพมหานคร", "action": "send",
        "csrf_token": token(centre_staff, "/console/groups/broadcast")})
    assert sent.status_code == 302
    with services.transaction() as db:
        assert list(db.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "push"))) == [theirs]


def test_a_bad_image_url_is_refused(admin, services, line):
    gid = linked_group(services, AGENCY, 2)
    answer = admin.post("/console/groups/broadcast", data={
        "text": "x", "image_url": "http://example.go.th/a.png", "target": "groups", "group": gid,
        "action": "send", "csrf_token": token(admin, "/console/groups/broadcast")})
    assert answer.status_code == 400 and "https://" in answer.get_data(as_text=True)
