"""Pages of the case work: the queue, a case with its timeline, and the actions on it (thin views over
``bot.casework.work`` and ``bot.casework.lifecycle``)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.casework import cohandling, proof, threads, work
from bot.casework.actors import actor_names
from bot.casework.states import STATES, TRANSITIONS
from bot.console import access, conversation, work_views
from bot.console.auth import actor, login_required, role_required
from bot.console.exports import SafeCsvWriter
from bot.console.params import day
from bot.console.queue import queue_page
from bot.console.templating import BANGKOK
from bot.media import stored_content_response
from bot.services import current_services
from storage import integrations
from storage import staff as staff_store
from storage.models import (
    Case, CaseAttachment, CaseSourceEvent, Citizen, InboxEvent, StatusChange, StoredContent,
)
from storage.staff import agency_name

blueprint = Blueprint("console_cases", __name__)
REFERENCE_LABELS = {"1111": "สายด่วน 1111", "1567": "ศูนย์ดำรงธรรม 1567", "traffy": "Traffy Fondue",
                    "letter": "เลขที่หนังสือ", "other": "อื่น ๆ"}


@blueprint.get("/")
@login_required
def home():
    if g.staff.role == "executive":
        return redirect(url_for("console_dashboard.dashboard"))
    if g.staff.role == "announcer":
        return render_template("console/home_announcer.html")
    return redirect(url_for("console_cases.queue"))


@blueprint.get("/cases")
@role_required(*access.CASE_READERS)
def queue():
    with current_services().transaction() as db:
        result = queue_page(db, g.staff, request.args)
        officers = work_views.officers_for_filter(db, g.staff)
        categories = staff_store.category_table(db)
        agencies = staff_store.agency_names(db) if g.staff.role != "agency_staff" else {}
    return render_template("console/queue.html", result=result, args=request.args, states=STATES,
                           categories=categories, agencies=agencies, officers=officers,
                           overdue_ids=_overdue_ids(result.cases))


def _overdue_ids(cases: list[Case]) -> set[int]:
    now = datetime.now(timezone.utc)
    return {c.id for c in cases if c.target_due_at and STATES[c.status].open
            and c.target_due_at < now}


def _load_case(db, ticket: str) -> Case:
    """The case, or 404 for a case the user may not see (its existence is not revealed)."""
    case = db.scalar(select(Case).where(Case.ticket == ticket))
    if case is None or not access.may_see_case(g.staff, case):
        abort(404)
    return case


def _citizen_messages(db, case: Case) -> list[dict]:
    """What the citizen wrote: the messages the case was made from."""
    out = []
    events = db.scalars(select(InboxEvent).join(CaseSourceEvent, CaseSourceEvent.inbox_event_id == InboxEvent.id)
                        .where(CaseSourceEvent.case_id == case.id).order_by(InboxEvent.id))
    for event in events:
        try:
            message = json.loads(event.payload).get("message", {})
        except ValueError:
            continue
        if message.get("type") == "text":
            out.append({"at": event.occurred_at or event.received_at, "text": message.get("text", "")})
        elif message.get("type"):
            out.append({"at": event.occurred_at or event.received_at, "text": f"[{message['type']}]"})
    return out  # what they added later is in the conversation (``bot.console.conversation``)


def _timeline(history: list[StatusChange], notes) -> list[dict]:
    """Every agency's steps in one list: the lead's status changes, co-handlers' part steps, notes."""
    items = [{"at": h.created_at, "kind": "part" if h.part else "status", "status": h.to_status,
              "from": h.from_status, "actor": h.actor, "text": h.note, "agency": h.agency_id} for h in history]
    items += [{"at": n.created_at, "kind": n.kind, "actor": n.author, "text": n.text, "agency": n.agency_id}
              for n in notes]
    return sorted(items, key=lambda item: item["at"])


@blueprint.get("/cases/<ticket>")
@role_required(*access.CASE_READERS)
def case_page(ticket: str):
    from bot.api.public import public_text

    with current_services().transaction() as db:
        case = _load_case(db, ticket)
        personal = access.sees_personal_data(g.staff, case)
        citizen = db.get(Citizen, case.citizen_id) if personal and case.citizen_id else None
        history = list(db.scalars(select(StatusChange).where(StatusChange.case_id == case.id)
                                  .order_by(StatusChange.id)))
        timeline = _timeline(history, staff_store.notes_of(db, case.id))
        photos = list(db.scalars(select(CaseAttachment.content_id).join(
            StoredContent, StoredContent.id == CaseAttachment.content_id).where(
            CaseAttachment.case_id == case.id, CaseAttachment.kind == "citizen", StoredContent.status == "stored")))
        messages = _citizen_messages(db, case)
        if not personal:
            messages = [{**m, "text": public_text(case, m["text"])} for m in messages]
            timeline = [{**item, "text": public_text(case, item["text"]) if item["text"] else item["text"]}
                        for item in timeline]
        description = case.description if personal else public_text(case, case.description)
        categories = staff_store.category_table(db)
        agencies = staff_store.agency_names(db)
        chat = conversation.case_items(db, case, personal)
        thread_open = threads.is_open(db, current_services().settings.thread_idle_seconds, case_id=case.id)
        together = work_views.case_context(db, case)
        can_work = access.may_work_case(g.staff, case)  # inside: a co-handler's part is read from the session
        references = integrations.references_of(db, case.id)
        names = actor_names(db, [item["actor"] for item in timeline] + [r.added_by for r in references])
    overdue = bool(case.target_due_at and STATES[case.status].open and case.target_due_at < datetime.now(timezone.utc))
    return render_template("console/case.html", case=case, citizen=citizen, personal=personal,
                           description=description, timeline=timeline, photos=photos, messages=messages,
                           exact_place=access.sees_exact_place(g.staff),
                           next_states=sorted(TRANSITIONS.get(case.status, ())), can_work=can_work,
                           categories=categories, agencies=agencies, overdue=overdue, conversation=chat, **together,
                           references=references, reference_kinds=REFERENCE_LABELS, actor_names=names,
                           thread_open=thread_open,
                           conversation_url=url_for("console_cases.case_conversation", ticket=case.ticket),
                           close_url=url_for("console_cases.close_thread", ticket=case.ticket)
                           if can_work and thread_open else None)


@blueprint.get("/cases/<ticket>/conversation")
@role_required(*access.CASE_READERS)
def case_conversation(ticket: str):
    """The chat with the citizen as JSON, for the case page's live view."""
    with current_services().transaction() as db:
        case = _load_case(db, ticket)
        items = conversation.case_items(db, case, access.sees_personal_data(g.staff, case))
        open_now = threads.is_open(db, current_services().settings.thread_idle_seconds, case_id=case.id)
    response = jsonify({"open": open_now, "items": items})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/cases/<ticket>/photos/<int:content_id>")
@role_required(*access.CASE_READERS)
def case_photo(ticket: str, content_id: int):
    with current_services().transaction() as db:
        case = _load_case(db, ticket)
        attached = db.scalar(select(CaseAttachment.id).where(CaseAttachment.case_id == case.id,
                                                             CaseAttachment.content_id == content_id))
        return stored_content_response(db, content_id if attached else None, "private, max-age=3600")


def _act(ticket: str, action, lead_only: bool = False) -> Response:
    """Run one action on a case the user may work (``lead_only``: the lead agency's work, which a
    co-handler's staff may not do), then come back to the case page."""
    with current_services().transaction() as db:
        case = _load_case(db, ticket)
        if not access.may_work_case(g.staff, case) or (lead_only and not access.leads_case(g.staff, case)):
            abort(403)
        try:
            message = action(db, case)
        except (ValueError, work.TransitionError) as error:
            db.rollback()
            flash(f"ทำรายการไม่ได้: {error}", "error")
            return redirect(url_for("console_cases.case_page", ticket=ticket))
        still_visible = access.may_see_case(g.staff, case)
    flash(message, "ok")
    if not still_visible:  # forwarded out of the user's agency: the case is no longer theirs to open
        return redirect(url_for("console_cases.queue"))
    return redirect(url_for("console_cases.case_page", ticket=ticket))


@blueprint.post("/cases/<ticket>/status")
@role_required(*access.CASE_WORKERS)
def change_status(ticket: str):
    form = request.form

    photo = request.files.get("after_photo")

    def action(db, case):
        if photo is not None and photo.filename:  # the after-photo may come with the resolution itself
            proof.store_upload(db, case, photo.read(), photo.mimetype, actor(), photo.filename)
        work.set_status(db, case, form.get("status", ""), actor(), note=form.get("note", "").strip(),
                        reason=form.get("reason", "").strip(), address=request.remote_addr)
        message = "เปลี่ยนสถานะแล้ว และแจ้งประชาชนทาง LINE (status changed; the citizen is notified)"
        still_open = cohandling.open_parts(db, case) if case.status == "resolved" else []
        if still_open:
            message += " · หน่วยงานร่วมที่ยังไม่เสร็จ: " + ", ".join(
                f"{agency_name(db, p.agency_id) or p.agency_id} ({cohandling.part_label(p.status)})"
                for p in still_open)
        return message
    return _act(ticket, action, lead_only=True)


@blueprint.post("/cases/<ticket>/forward")
@role_required(*access.CASE_WORKERS)
def forward(ticket: str):
    def action(db, case):
        override = g.staff.role == "administrator" and request.form.get("override") == "1"
        picked = request.form.get("agency", "")
        agency_id = staff_store.resolve_agency(db, picked)
        if agency_id is None:
            raise ValueError(f"ไม่พบหน่วยงาน “{picked}” กรุณาเลือกจากรายการ")
        work.forward(db, case, agency_id, actor(), note=request.form.get("note", "").strip(),
                     address=request.remote_addr, override=override)
        return "ส่งต่อหน่วยงานแล้ว (forwarded)"
    return _act(ticket, action, lead_only=True)


@blueprint.post("/cases/<ticket>/category")
@role_required(*access.CASE_WORKERS)
def correct_category(ticket: str):
    def action(db, case):
        work.correct_category(db, case, request.form.get("category", ""), actor(), address=request.remote_addr)
        return "แก้ไขประเภทแล้ว (category corrected)"
    return _act(ticket, action, lead_only=True)


@blueprint.post("/cases/<ticket>/references")
@role_required(*access.CASE_WORKERS)
def add_reference(ticket: str):
    def action(db, case):
        added = integrations.add_reference(db, case.id, request.form.get("kind", ""),
                                           request.form.get("value", ""), actor())
        if added is not None:
            staff_store.audit(db, actor(), "case_reference", case.ticket, {"kind": added.kind, "value": added.value},
                              request.remote_addr)
        return "บันทึกเลขอ้างอิงแล้ว (reference saved)" if added else "มีเลขอ้างอิงนี้อยู่แล้ว (already there)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/references/<int:reference_id>/delete")
@role_required(*access.CASE_WORKERS)
def remove_reference(ticket: str, reference_id: int):
    def action(db, case):
        removed = integrations.remove_reference(db, case.id, reference_id)
        if removed is None:
            raise ValueError("ไม่พบเลขอ้างอิงนี้")
        staff_store.audit(db, actor(), "case_reference_remove", case.ticket,
                          {"kind": removed.kind, "value": removed.value}, request.remote_addr)
        return "ลบเลขอ้างอิงแล้ว (reference removed)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/notes")
@role_required(*access.CASE_WORKERS)
def add_note(ticket: str):
    def action(db, case):
        work.add_note(db, case, request.form.get("text", ""), actor(), address=request.remote_addr,
                      agency_id=g.staff.agency_id or case.agency_id)
        return "บันทึกแล้ว (note saved)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/reply")
@role_required(*access.CASE_WORKERS)
def reply(ticket: str):
    def action(db, case):
        work.reply_to_citizen(db, case, request.form.get("text", ""), actor(), address=request.remote_addr)
        return "ส่งข้อความถึงประชาชนแล้ว (reply sent)"
    return _act(ticket, action)


@blueprint.post("/cases/<ticket>/thread/close")
@role_required(*access.CASE_WORKERS)
def close_thread(ticket: str):
    def action(db, case):
        if not work.close_thread(db, case, actor(), address=request.remote_addr):
            raise ValueError("ไม่มีการสนทนาที่เปิดอยู่ (no open conversation)")
        return "ปิดการสนทนาแล้ว ข้อความต่อไปของประชาชนจะไปที่ระบบตามปกติ (conversation closed)"
    return _act(ticket, action)


# --- CSV export -------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["ticket", "created_at", "status", "category", "agency_id", "province", "district", "urgent",
                  "target_due_at", "resolved_at", "closed_at", "rating", "channel", "description"]


@blueprint.get("/cases.csv")
@role_required(*access.CASE_READERS)
def export_csv():
    """Cases created in a period (``from``/``to``, inclusive days, Bangkok time), personal data removed."""
    from bot.nlp.pii import mask_public

    today = datetime.now(BANGKOK).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day(request.args.get("from"), today - timedelta(days=30), "from")
    end = day(request.args.get("to"), today, "to") + timedelta(days=1)
    services, user = current_services(), g.staff

    def rows():
        out = io.StringIO()
        writer = SafeCsvWriter(out)
        writer.writerow(EXPORT_COLUMNS)
        with services.transaction() as db:
            staff_store.audit(db, f"staff:{user.id}", "export_cases", None,
                              {"from": start.isoformat(), "to": end.isoformat()})
        with services.transaction() as db:
            query = access.scoped(select(Case), user).where(Case.created_at >= start, Case.created_at < end)
            for case in db.scalars(query.order_by(Case.created_at, Case.id).execution_options(yield_per=1000)):
                writer.writerow([case.ticket, _iso(case.created_at), case.status, case.category, case.agency_id,
                                 case.province, case.district, int(bool(case.urgent)), _iso(case.target_due_at),
                                 _iso(case.resolved_at), _iso(case.closed_at), case.rating, case.channel,
                                 mask_public(case.description or "")])
                if out.tell() > 64 * 1024:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"siang-cases-{start:%Y%m%d}-{(end - timedelta(days=1)):%Y%m%d}.csv"
    return Response(rows(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(BANGKOK).isoformat()
