"""Case-page actions of agencies working together: co-handlers (invite, a part's status), assignment to an
officer, after-photos; and what the case page shows of them (``case_context``). Thin views over
``bot.casework.cohandling``, ``assignment`` and ``proof``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from sqlalchemy import select

from bot.casework import assignment, cohandling, proof
from bot.casework.states import STATES
from bot.console import access
from bot.console.auth import actor, role_required
from bot.services import current_services
from storage import response_templates
from storage import staff as staff_store
from storage.models import Case, StaffUser
from storage.staff import agency_name

blueprint = Blueprint("console_work", __name__)


def case_context(db, case: Case) -> dict:
    """What the case page shows of co-handling, assignment, templates and proof for the signed-in user."""
    user = g.staff
    parts = cohandling.parts_of(db, case)
    my_part = next((p for p in parts if p.agency_id == user.agency_id and p.agency_id != case.agency_id), None)
    officer_ids = {case.assigned_to, *(p.assigned_to for p in parts)} - {None}
    officers = {u.id: u.display_name for u in db.scalars(select(StaffUser).where(StaffUser.id.in_(officer_ids)))}
    work_agency = my_part.agency_id if my_part else case.agency_id
    return {
        "parts": parts, "my_part": my_part, "officers": officers,
        "leads": access.leads_case(user, case), "case_open": STATES[case.status].open,
        "open_parts": [p for p in parts if p.status != "done"],
        "part_next": cohandling.next_part_states(my_part) if my_part else [],
        "assignable": assignment.officers_of(db, work_agency) if access.may_work_case(user, case) else [],
        "work_agency": work_agency,
        "templates": response_templates.usable(db, work_agency) if access.may_work_case(user, case) else [],
        "needs_after_photo": proof.needs_after_photo(db, case),
        "after_photos": proof.after_photos(db, case),
        "part_label": cohandling.part_label,
    }


def officers_for_filter(db, user: StaffUser) -> list[StaffUser]:
    """Officers the queue can be filtered by: the user's agency's, or every agency's for administrators."""
    if user.role == "agency_staff":
        return assignment.officers_of(db, user.agency_id)
    if user.role == "administrator":
        return list(db.scalars(select(StaffUser).where(StaffUser.role == "agency_staff", StaffUser.active.is_(True))
                               .order_by(StaffUser.agency_id, StaffUser.display_name)))
    return []


def _case(db, ticket: str) -> Case:
    case = db.scalar(select(Case).where(Case.ticket == ticket))
    if case is None or not access.may_see_case(g.staff, case):
        abort(404)
    if not access.may_work_case(g.staff, case):
        abort(403)
    return case


def _act(ticket: str, action, lead_only: bool = False):
    with current_services().transaction() as db:
        case = _case(db, ticket)
        if lead_only and not access.leads_case(g.staff, case):
            abort(403)
        try:
            message = action(db, case)
        except ValueError as error:
            db.rollback()
            flash(f"ทำรายการไม่ได้: {error}", "error")
            return redirect(url_for("console_cases.case_page", ticket=ticket))
    flash(message, "ok")
    return redirect(url_for("console_cases.case_page", ticket=ticket))


@blueprint.post("/cases/<ticket>/cohandlers")
@role_required(*access.CASE_WORKERS)
def invite(ticket: str):
    def action(db, case):
        agency_id = request.form.get("agency", "").strip()
        cohandling.invite(db, case, agency_id, actor(), note=request.form.get("note", "").strip() or None)
        staff_store.audit(db, actor(), "case_cohandler", case.ticket, {"agency": agency_id}, request.remote_addr)
        return f"เชิญ {agency_name(db, agency_id) or agency_id} ร่วมดำเนินการแล้ว (co-handler invited)"
    return _act(ticket, action, lead_only=True)


@blueprint.post("/cases/<ticket>/part")
@role_required(*access.CASE_WORKERS)
def move_part(ticket: str):
    """A co-handler's staff move their own agency's part (administrators name the agency)."""
    def action(db, case):
        agency_id = g.staff.agency_id if g.staff.role != "administrator" else request.form.get("agency", "")
        to_status = request.form.get("status", "")
        cohandling.move_part(db, case, agency_id, to_status, actor(), note=request.form.get("note", "").strip())
        staff_store.audit(db, actor(), "case_part", case.ticket, {"agency": agency_id, "to": to_status},
                          request.remote_addr)
        return "บันทึกสถานะส่วนของหน่วยงานแล้ว (part updated)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/assign")
@role_required(*access.CASE_WORKERS)
def assign(ticket: str):
    """Assign the work of the user's agency on the case (the lead's, or its part) to an officer, or take it."""
    def action(db, case):
        if request.form.get("take") == "1":
            officer_id = g.staff.id
        else:
            raw = request.form.get("officer", "")
            officer_id = int(raw) if raw.isdigit() else None
        if g.staff.role == "administrator":
            agency_id = request.form.get("agency") or case.agency_id
        else:
            agency_id = g.staff.agency_id
        assignment.assign(db, case, agency_id, officer_id, actor(), request.remote_addr)
        return "มอบหมายงานแล้ว (assigned)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/after-photo")
@role_required(*access.CASE_WORKERS)
def upload_after_photo(ticket: str):
    def action(db, case):
        upload = request.files.get("photo")
        if upload is None or not upload.filename:
            raise ValueError("ไม่ได้เลือกไฟล์รูป")
        proof.store_upload(db, case, upload.read(), upload.mimetype, actor(), upload.filename)
        staff_store.audit(db, actor(), "case_after_photo", case.ticket, None, request.remote_addr)
        return "เพิ่มรูปหลังแก้ไขแล้ว (after-photo added)"
    return _act(ticket, action)
