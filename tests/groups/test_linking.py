"""Linking groups to agencies with one-time codes; the bot ignores chatter and answers only its commands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import groups as store
from storage.models import Agency, ChatGroup, GroupAction, GroupLink
from tests.groups.conftest import AGENCY
from tests.support import wait_until


def test_join_and_leave_are_recorded_with_name_and_size(groups, line):
    gid, _ = groups.join(name="ศูนย์ดำรงธรรม กทม.", members=4)
    with groups.session() as session:
        row = session.scalar(select(ChatGroup).where(ChatGroup.line_id == gid))
        assert row.active and row.name == "ศูนย์ดำรงธรรม กทม." and row.member_count == 4
    line.leave_group(gid)

    def left():
        with groups.session() as session:
            return session.scalar(select(ChatGroup.active).where(ChatGroup.line_id == gid)) is False
    wait_until(left)


def test_a_valid_code_links_the_group_once_and_chatter_gets_no_answer(groups):
    gid, members = groups.join()
    code = groups.code(AGENCY)
    answer = groups.say(gid, members[1], f"เชื่อมกลุ่ม {code}")
    assert answer[0]["text"].startswith("เชื่อมกลุ่มนี้กับ ศูนย์ดำรงธรรมกรุงเทพมหานคร")
    with groups.session() as session:
        link = store.active_link(session, gid)
        assert link.agency_id == AGENCY and store.provinces_of(link) == ["10"]
        assert link.linked_by == f"line:{members[1]}"

    assert groups.say(gid, members[2], "ประชุมบ่ายสองนะครับ", expect=None) == []
    assert groups.say(gid, members[2], "ขอบคุณครับ", expect=None) == []

    other_gid, other_members = groups.join()
    reused = groups.say(other_gid, other_members[0], f"เชื่อมกลุ่ม {code}")
    assert "ถูกใช้ไปแล้ว" in reused[0]["text"]
    with groups.session() as session:
        assert store.active_link(session, other_gid) is None
        assert session.scalar(select(GroupAction.outcome).where(GroupAction.group_line_id == other_gid)) == "used"


def test_an_expired_or_unknown_code_links_nothing(groups):
    gid, members = groups.join()
    expired = groups.code(AGENCY, ttl=timedelta(seconds=-1))
    assert "หมดอายุ" in groups.say(gid, members[0], f"เชื่อมกลุ่ม {expired}")[0]["text"]
    assert "ไม่พบรหัส" in groups.say(gid, members[0], "เชื่อมกลุ่ม ZZZZ9999")[0]["text"]
    assert "<รหัส>" in groups.say(gid, members[0], "เชื่อมกลุ่ม")[0]["text"]
    with groups.session() as session:
        assert session.scalar(select(GroupLink).where(GroupLink.group_line_id == gid)) is None


def test_only_registered_staff_can_unlink(groups):
    gid, members = groups.link(AGENCY, staff=1)
    refused = groups.say(gid, members[1], "ยกเลิกเชื่อมกลุ่ม")
    assert "เฉพาะเจ้าหน้าที่" in refused[0]["text"]
    with groups.session() as session:
        assert store.active_link(session, gid) is not None
    done = groups.say(gid, members[0], "ยกเลิกเชื่อมกลุ่ม")
    assert "ยกเลิกการเชื่อมกลุ่มนี้" in done[0]["text"]
    with groups.session() as session:
        assert store.active_link(session, gid) is None


def test_a_staff_code_registers_whoever_types_it(groups):
    gid, members = groups.link(AGENCY, staff=0)
    answer = groups.say(gid, members[2], f"ลงทะเบียนเจ้าหน้าที่ {groups.code(AGENCY, purpose='staff')}")
    assert "ลงทะเบียนคุณเป็นเจ้าหน้าที่" in answer[0]["text"]
    with groups.session() as session:
        assert store.staff_member(session, members[2], AGENCY) is not None
        assert store.staff_member(session, members[1], AGENCY) is None


def test_a_group_is_told_the_agency_name_an_administrator_gave_it(groups):
    """One agency-name lookup: groups read the editable table (then the catalogue), as citizens' cards do."""
    with groups.session() as session:
        row = session.get(Agency, AGENCY) or Agency(id=AGENCY, name_th="", level="provincial", active=True)
        row.name_th = "ศูนย์ดำรงธรรม กทม. (ชื่อที่แก้ไข)"
        session.add(row)
    gid, members = groups.join()
    answer = groups.say(gid, members[0], f"เชื่อมกลุ่ม {groups.code(AGENCY)}")
    assert answer[0]["text"].startswith("เชื่อมกลุ่มนี้กับ ศูนย์ดำรงธรรม กทม. (ชื่อที่แก้ไข)")
    status = groups.say(gid, members[0], "สถานะกลุ่ม")
    assert "ศูนย์ดำรงธรรม กทม. (ชื่อที่แก้ไข)" in status[0]["text"]
