"""The response templates page (``/console/templates``): ready Thai texts staff insert into notes, replies and
status notes on the case page.

Administrators manage every template, shared ones (no agency) included; an agency's staff manage their own
agency's and use the shared ones. A template tied to a state is offered when moving a case to that state.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from bot.casework.states import STATES
from bot.console import access
from bot.console.auth import actor, role_required
from bot.services import current_services
from storage import response_templates as store
from storage import staff as staff_store
from storage.models import ResponseTemplate

blueprint = Blueprint("console_templates", __name__)
LANGS = {"th": "ไทย", "en": "English"}


def _may_manage(row: ResponseTemplate) -> bool:
    return g.staff.role == "administrator" or (row.agency_id is not None and row.agency_id == g.staff.agency_id)


@blueprint.get("/templates")
@role_required(*access.CASE_WORKERS)
def index():
    with current_services().transaction() as db:
        rows = store.managed_by(db, g.staff.agency_id, g.staff.role == "administrator")
        agencies = staff_store.agency_names(db)
        editable = {row.id for row in rows if _may_manage(row)}
    return render_template("console/templates.html", rows=rows, agencies=agencies, states=STATES, langs=LANGS,
                           editable=editable)


@blueprint.post("/templates")
@role_required(*access.CASE_WORKERS)
def create():
    form = request.form
    title, body = form.get("title", "").strip(), form.get("body", "").strip()
    state = form.get("state") or None
    agency_id = form.get("agency") or None if g.staff.role == "administrator" else g.staff.agency_id
    if not title or not body or (state is not None and state not in STATES) or form.get("lang", "th") not in LANGS:
        flash("ทำรายการไม่ได้: ต้องมีชื่อและข้อความ (title and text are required)", "error")
        return redirect(url_for("console_templates.index"))
    with current_services().transaction() as db:
        if agency_id is not None and not staff_store.is_agency(db, agency_id):
            abort(400)
        row = store.add(db, title=title[:200], body=body[:4000], agency_id=agency_id, state=state,
                        lang=form.get("lang", "th"), created_by=actor())
        staff_store.audit(db, actor(), "template_add", str(row.id), {"agency": agency_id, "state": state},
                          request.remote_addr)
    flash("บันทึกแม่แบบแล้ว (template saved)", "ok")
    return redirect(url_for("console_templates.index"))


@blueprint.post("/templates/<int:template_id>")
@role_required(*access.CASE_WORKERS)
def update(template_id: int):
    form = request.form
    with current_services().transaction() as db:
        row = db.get(ResponseTemplate, template_id)
        if row is None or not _may_manage(row):
            abort(404)
        if form.get("action") == "toggle":
            row.active = not row.active
        else:
            state = form.get("state") or None
            if state is not None and state not in STATES:
                abort(400)
            row.title = (form.get("title") or row.title).strip()[:200]
            row.body = (form.get("body") or row.body).strip()[:4000]
            row.state = state
        staff_store.audit(db, actor(), "template_edit", str(row.id), {"active": row.active}, request.remote_addr)
    flash("บันทึกแม่แบบแล้ว (template saved)", "ok")
    return redirect(url_for("console_templates.index"))
