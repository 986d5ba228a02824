"""Agencies working a case together, through the case service on SQLite and PostgreSQL, the citizen's pushes
read from the emulator: co-handling, forwarding's loop guard, assignment and "my cases", proof of work."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.casework import assignment, cohandling, forwarding, proof
from bot.casework.lifecycle import TransitionError, change_status
from bot.console.queue import queue_page
from bot.messages.ticket_cards import timeline_card
from storage import staff as staff_store
from storage.models import AuditEntry, Case, CaseForward, Category, StaffUser, utcnow
from tests import factories
from tests.support import assert_no_codes, shown

WAIT = 20
BANG_KAPI, MEA, PWA = "bma-district:1006", "mea", "mwa"


def _file(services, line_user_id: str | None = None, due_days: float = 15) -> int:
    """A road case of Bang Kapi, routed and timed from the seeded tables."""
    with services.transaction() as db:
        staff_store.seed_catalogue(db)
    return factories.filed(services, line_user_id, description="ถนนทรุดและท่อประปาแตก", category="ถนน",
                           agency_id=BANG_KAPI, province="กรุงเทพมหานคร", target_days=due_days).id


def _officer(db, username: str, agency: str) -> StaffUser:
    return factories.staff(db, username, "agency_staff", agency)


def test_an_invited_agency_co_handles_without_taking_the_case_and_the_citizen_reads_one_timeline(bot, line):
    services = bot.services
    user = line.create_user("สมศรี ใจดี")["user_id"]
    case_id = _file(services, user)
    with bot.app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        change_status(db, case, "accepted", "staff:1", note="รับเรื่องแล้ว")
        cohandling.invite(db, case, PWA, "staff:1", note="สงสัยท่อประปารั่วใต้ถนน ขอให้ตรวจสอบ")
        lead_user, co_user = _officer(db, "lead", BANG_KAPI), _officer(db, "co", PWA)
    with bot.app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        assert case.agency_id == BANG_KAPI and case.status == "accepted"  # the lead keeps it
        # Each agency finds it in its own queue.
        for officer in (lead_user, co_user):
            assert [c.id for c in queue_page(db, db.get(StaffUser, officer.id), {}).cases] == [case_id]
        cohandling.move_part(db, case, PWA, "in_progress", "staff:2", note="ส่งทีมซ่อมท่อแล้ว")
        cohandling.move_part(db, case, PWA, "done", "staff:2", note="ซ่อมท่อประปาเสร็จ")
    pushes = line.wait_for_messages(user, 3, timeout=WAIT)
    said = json.dumps([p["message"] for p in pushes], ensure_ascii=False)
    assert "การประปานครหลวง" in said and "ร่วมดำเนินการ" in said and "ซ่อมท่อประปาเสร็จ" in said
    with bot.app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        card, ticket = timeline_card(case, "th"), case.ticket
    # The citizen asks in chat (ติดตามเรื่อง by ticket number) and reads the same one timeline.
    assert line.send_text(user, ticket).status == 200
    answer = line.wait_for_messages(user, 4, timeout=WAIT)[-1]["message"]
    assert "โดย การประปานครหลวง" in json.dumps(answer, ensure_ascii=False)
    texts = shown(card)
    assert_no_codes(texts, "th")
    joined = "\n".join(texts)
    # What the lead asked of the co-handler is between agencies: an internal note, not the citizen's timeline.
    assert "ท่อประปารั่ว" not in joined and "ท่อประปารั่ว" not in said
    with services.transaction() as db:
        assert [n.text for n in staff_store.notes_of(db, case_id)][-1:] == ["สงสัยท่อประปารั่วใต้ถนน ขอให้ตรวจสอบ"]
    for step in ("รับเรื่อง", "ได้รับเชิญร่วมดำเนินการ", "กำลังดำเนินการส่วนของตน", "ดำเนินการส่วนของตนเสร็จแล้ว",
                 "โดย การประปานครหลวง", "โดย สำนักงานเขตบางกะปิ"):
        assert step in joined, step


def test_the_case_is_resolved_by_the_lead_with_the_co_handlers_open_parts_listed(app):
    services = app.extensions["siang"]
    case_id = _file(services)
    with app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        change_status(db, case, "accepted", "staff:1")
        cohandling.invite(db, case, PWA, "staff:1")
        cohandling.invite(db, case, MEA, "staff:1")
        cohandling.move_part(db, case, MEA, "done", "staff:3")
        with pytest.raises(cohandling.PartError):
            cohandling.invite(db, case, BANG_KAPI, "staff:1")  # the lead is no co-handler
        with pytest.raises(cohandling.PartError):
            cohandling.move_part(db, case, PWA, "invited", "staff:2")
        change_status(db, case, "resolved", "staff:1", note="ซ่อมถนนเรียบร้อย")
        assert case.status == "resolved"
        assert [(p.agency_id, p.status) for p in cohandling.open_parts(db, case)] == [(PWA, "invited")]


def test_forwarding_keeps_the_chain_and_refuses_a_case_going_back(app):
    services = app.extensions["siang"]
    case_id = _file(services)
    with app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        forwarding.forward_case(db, case, MEA, "staff:1")
        with pytest.raises(forwarding.ForwardLoop) as refused:
            forwarding.forward_case(db, case, BANG_KAPI, "staff:2")
        assert "สำนักงานเขตบางกะปิ" in str(refused.value)
        assert case.agency_id == MEA
        forwarding.forward_case(db, case, BANG_KAPI, "staff:admin", override=True)
        chain = [(f.from_agency, f.to_agency, f.loop_override) for f in
                 db.scalars(select(CaseForward).where(CaseForward.case_id == case_id).order_by(CaseForward.id))]
        assert chain == [(BANG_KAPI, MEA, False), (MEA, BANG_KAPI, True)]
        assert [h.to_status for h in case.history] == ["received", "forwarded", "forwarded"]
        assert "สำนักงานเขตบางกะปิ" in case.history[-1].note and "bma-district" not in case.history[-1].note


def test_a_co_handler_that_is_forwarded_the_case_becomes_its_lead(app):
    services = app.extensions["siang"]
    case_id = _file(services)
    with app.app_context(), services.transaction() as db:
        case = db.get(Case, case_id)
        cohandling.invite(db, case, PWA, "staff:1")
        forwarding.forward_case(db, case, PWA, "staff:1")
        assert case.agency_id == PWA and cohandling.parts_of(db, case) == []


def test_assignment_is_audited_and_an_officer_sees_their_overdue_cases_first(app):
    services = app.extensions["siang"]
    fresh, late, other = _file(services, due_days=30), _file(services, due_days=1), _file(services)
    with app.app_context(), services.transaction() as db:
        somsri, somchai = _officer(db, "somsri", BANG_KAPI), _officer(db, "somchai", BANG_KAPI)
        stranger = _officer(db, "stranger", MEA)
        db.get(Case, late).target_due_at = utcnow() - timedelta(days=2)
        for case_id in (fresh, late):
            assignment.assign(db, db.get(Case, case_id), BANG_KAPI, somchai.id, "staff:boss")
        assignment.assign(db, db.get(Case, fresh), BANG_KAPI, somsri.id, "staff:boss")  # reassigned
        assignment.assign(db, db.get(Case, fresh), BANG_KAPI, somchai.id, "staff:boss")
        assignment.assign(db, db.get(Case, other), BANG_KAPI, somsri.id, "staff:boss")
        with pytest.raises(assignment.AssignmentError):
            assignment.assign(db, db.get(Case, other), BANG_KAPI, stranger.id, "staff:boss")
        ids = (somsri.id, somchai.id)
    with services.transaction() as db:
        somsri, somchai = (db.get(StaffUser, i) for i in ids)
        mine = queue_page(db, somchai, {"mine": "1"}).cases
        assert [c.id for c in mine] == [late, fresh]  # overdue first, though the newest sort puts it second
        assert [c.id for c in queue_page(db, somchai, {"officer": str(somsri.id)}).cases] == [other]
        trail = [json.loads(a.details) for a in db.scalars(select(AuditEntry).where(
            AuditEntry.action == "case_assign", AuditEntry.target == db.get(Case, fresh).ticket)
            .order_by(AuditEntry.id))]
        assert [(t["from"], t["to"]) for t in trail] == [(None, somchai.id), (somchai.id, somsri.id),
                                                         (somsri.id, somchai.id)]
        notes = [n.text for n in staff_store.notes_of(db, fresh) if n.kind == "assign"]
        assert notes[1] == "มอบหมายให้ คุณsomsri (เดิม: คุณsomchai)"


def test_resolving_needs_a_citizen_note_and_an_after_photo_where_the_category_requires_one(app):
    services = app.extensions["siang"]
    case_id = _file(services)
    with app.app_context(), services.transaction() as db:
        db.get(Category, "ถนน").requires_after_photo = True
        case = db.get(Case, case_id)
        change_status(db, case, "accepted", "staff:1")
        with pytest.raises(TransitionError, match="หมายเหตุ"):
            change_status(db, case, "resolved", "staff:1", note="  ")
        with pytest.raises(TransitionError, match="รูปถ่ายหลังแก้ไข"):
            change_status(db, case, "resolved", "staff:1", note="ปูถนนใหม่แล้ว")
        proof.store_upload(db, case, b"\x89PNG\r\n\x1a\nfake", "image/png", "staff:1")
        change_status(db, case, "resolved", "staff:1", note="ปูถนนใหม่แล้ว")
        assert case.status == "resolved"
        # After a reopen the old photo proves nothing: the new round of work needs its own.
        change_status(db, case, "reopened", "citizen")
        with pytest.raises(TransitionError, match="รูปถ่ายหลังแก้ไข"):
            change_status(db, case, "resolved", "staff:1", note="ปูซ้ำแล้ว")
