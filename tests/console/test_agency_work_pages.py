"""The console's agency-work actions over HTTP, on SQLite and PostgreSQL: who may do the lead's work, the
loop guard as staff and administrators meet it, templates scoped to their agency."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, Case, CaseForward, ResponseTemplate
from tests.console.conftest import login, make_staff, token
from tests.factories import console_case

LEAD, CO = "bma", "mwa"


def _case(services, ticket: str) -> Case:
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        db.expunge(case)
        return case


def test_a_co_handler_works_its_part_but_not_the_leads_case(console, services):
    ticket = console_case(services, agency_id=LEAD)
    make_staff(services, "lead", "agency_staff", agency_id=LEAD)
    make_staff(services, "water", "agency_staff", agency_id=CO)
    lead, water = console.test_client(), console.test_client()
    login(lead, "lead")
    login(water, "water")
    assert water.get(f"/console/cases/{ticket}").status_code == 404  # not invited yet
    csrf = token(lead, f"/console/cases/{ticket}")
    lead.post(f"/console/cases/{ticket}/cohandlers", data={"agency": CO, "csrf_token": csrf})
    page = water.get(f"/console/cases/{ticket}").get_data(as_text=True)
    assert 'id="part-form"' in page and 'id="status-form"' not in page
    csrf = token(water, f"/console/cases/{ticket}")
    for path, form in (("status", {"status": "accepted"}), ("forward", {"agency": "mea"}),
                       ("category", {"category": "ไฟฟ้า"}), ("cohandlers", {"agency": "mea"})):
        assert water.post(f"/console/cases/{ticket}/{path}", data={**form, "csrf_token": csrf}).status_code == 403
    water.post(f"/console/cases/{ticket}/part", data={"status": "in_progress", "note": "กำลังซ่อมท่อ",
                                                       "csrf_token": csrf})
    water.post(f"/console/cases/{ticket}/notes", data={"text": "ใช้ท่อขนาด 4 นิ้ว", "csrf_token": csrf})
    page = lead.get(f"/console/cases/{ticket}").get_data(as_text=True)
    assert "กำลังดำเนินการส่วนของตน" in page and "ใช้ท่อขนาด 4 นิ้ว" in page and "การประปานครหลวง" in page
    assert _case(services, ticket).status == "received" and _case(services, ticket).agency_id == LEAD


def test_a_forward_back_is_refused_to_staff_and_flagged_when_an_administrator_confirms_it(console, services):
    ticket = console_case(services, agency_id=LEAD)
    make_staff(services, "lead", "agency_staff", agency_id=LEAD)
    make_staff(services, "mea1", "agency_staff", agency_id="mea")
    make_staff(services, "admin", "administrator")
    lead, mea, admin = console.test_client(), console.test_client(), console.test_client()
    for client, name in ((lead, "lead"), (mea, "mea1"), (admin, "admin")):
        login(client, name)
    lead.post(f"/console/cases/{ticket}/forward", data={"agency": "mea", "csrf_token": token(lead)})
    assert _case(services, ticket).agency_id == "mea"
    answer = mea.post(f"/console/cases/{ticket}/forward", data={"agency": LEAD, "csrf_token": token(mea)},
                      follow_redirects=True).get_data(as_text=True)
    assert "เคยอยู่ที่" in answer and _case(services, ticket).agency_id == "mea"
    admin.post(f"/console/cases/{ticket}/forward", data={"agency": LEAD, "override": "1", "csrf_token": token(admin)})
    assert _case(services, ticket).agency_id == LEAD
    with services.transaction() as db:
        assert [f.loop_override for f in db.scalars(select(CaseForward).order_by(CaseForward.id))] == [False, True]
        assert db.scalar(select(AuditEntry.details).where(AuditEntry.action == "case_forward")
                         .order_by(AuditEntry.id.desc()).limit(1)).count('"loop_override": true') == 1


def test_templates_are_each_agencys_own_and_shared_ones_are_the_administrators(console, services):
    make_staff(services, "lead", "agency_staff", agency_id=LEAD)
    make_staff(services, "water", "agency_staff", agency_id=CO)
    make_staff(services, "admin", "administrator")
    lead, water, admin = console.test_client(), console.test_client(), console.test_client()
    for client, name in ((lead, "lead"), (water, "water"), (admin, "admin")):
        login(client, name)
    admin.post("/console/templates", data={"title": "ขอบคุณ", "body": "ขอบคุณที่แจ้งค่ะ", "agency": "",
                                           "csrf_token": token(admin)})
    # An agency user cannot make a shared template: the agency field is ignored, the template is theirs.
    lead.post("/console/templates", data={"title": "ลงพื้นที่", "body": "จะลงพื้นที่ภายใน 3 วัน", "agency": "",
                                          "state": "accepted", "csrf_token": token(lead)})
    with services.transaction() as db:
        rows = {t.title: (t.agency_id, t.state, t.lang) for t in db.scalars(select(ResponseTemplate))}
        own = db.scalar(select(ResponseTemplate.id).where(ResponseTemplate.title == "ลงพื้นที่"))
        shared = db.scalar(select(ResponseTemplate.id).where(ResponseTemplate.title == "ขอบคุณ"))
    assert rows == {"ขอบคุณ": (None, None, "th"), "ลงพื้นที่": (LEAD, "accepted", "th")}
    listing = water.get("/console/templates").get_data(as_text=True)
    assert "ขอบคุณที่แจ้งค่ะ" in listing and "จะลงพื้นที่ภายใน 3 วัน" not in listing
    for template_id in (own, shared):  # another agency's, and a shared one: not theirs to change
        assert water.post(f"/console/templates/{template_id}", data={"action": "toggle",
                                                                     "csrf_token": token(water)}).status_code == 404
    lead.post(f"/console/templates/{own}", data={"action": "toggle", "csrf_token": token(lead)})
    with services.transaction() as db:
        assert db.get(ResponseTemplate, own).active is False
