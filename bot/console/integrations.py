"""Webhook registrations and their delivery log, for administrators (every registration, also those for all
cases) and agency staff (their agency's). The deliveries are outbox rows of kind ``webhook``; the log shows
each with its attempts, the last error and whether the integrator accepted it."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.console.auth import actor, audit, role_required
from bot.integrations import webhooks
from bot.services import current_services
from storage import integrations as store
from storage import staff as staff_store
from storage.models import ApiKey, Case, WebhookRegistration

blueprint = Blueprint("console_integrations", __name__)
managers = role_required("administrator", "agency_staff")
EVENT_LABELS = {"case.created": "เรื่องใหม่", "case.status_changed": "เปลี่ยนสถานะ", "case.rated": "ประชาชนให้คะแนน",
                "case.commented": "ความเห็น/บันทึก"}
STATUS_LABELS = {"pending": "รอส่ง/รอส่งซ้ำ", "sending": "กำลังส่ง", "sent": "ส่งสำเร็จ", "failed": "ส่งไม่สำเร็จ"}


def _admin() -> bool:
    return g.staff.role == "administrator"


def _visible(db) -> list[WebhookRegistration]:
    if _admin():
        return store.registrations(db, everyone=True)
    return store.registrations(db, g.staff.agency_id or "\0")


@blueprint.route("/webhooks", methods=["GET", "POST"])
@managers
def index():
    created = None
    with current_services().transaction() as db:
        agencies = staff_store.agency_names(db)
        if request.method == "POST":
            form = request.form
            if _admin():
                agency_id = staff_store.resolve_agency(db, form.get("agency")) if form.get("agency") else None
                if form.get("agency") and agency_id is None:
                    flash(f"ไม่พบหน่วยงาน “{form.get('agency')}” กรุณาเลือกจากรายการ", "error")
                    return redirect(url_for("console_integrations.index"))
            else:
                agency_id = g.staff.agency_id
            key_id = int(form["api_key"]) if form.get("api_key", "").isdigit() else None
            key = db.get(ApiKey, key_id) if key_id else None
            if key_id and (key is None or (agency_id and key.agency_id != agency_id)):
                flash("API key นี้ไม่ใช่ของหน่วยงานที่เลือก", "error")
                return redirect(url_for("console_integrations.index"))
            try:
                url = webhooks.check_url(form.get("url", ""), current_services().settings.webhook_allow_private)
                events = webhooks.parse_events(form.getlist("events"))
            except ValueError as error:
                flash(f"ลงทะเบียนไม่ได้: {error}", "error")
                return redirect(url_for("console_integrations.index"))
            row = store.add_registration(db, name=form.get("name", "").strip() or url, url=url, events=events,
                                         agency_id=agency_id, api_key_id=key_id, created_by=actor())
            audit(db, "webhook_register", f"webhook:{row.id}", url=url, agency=agency_id)
            created = {"id": row.id, "secret": row.secret, "name": row.name}
        rows = _visible(db)
        keys = list(db.scalars(select(ApiKey).where(ApiKey.scope == "agency", ApiKey.active.is_(True))
                               .order_by(ApiKey.name)))
        if not _admin():
            keys = [k for k in keys if k.agency_id == g.staff.agency_id]
        key_names = {k.id: k.name for k in keys}
    return render_template("console/webhooks.html", registrations=rows, agencies=agencies, keys=keys,
                           key_names=key_names, events=EVENT_LABELS, created=created)


@blueprint.post("/webhooks/<int:registration_id>/delete")
@managers
def remove(registration_id: int):
    with current_services().transaction() as db:
        row = db.get(WebhookRegistration, registration_id)
        if row is None or row not in _visible(db):
            abort(404)
        row.active = False
        audit(db, "webhook_remove", f"webhook:{row.id}")
    flash("ยกเลิกการส่งไปยัง URL นี้แล้ว", "ok")
    return redirect(url_for("console_integrations.index"))


@blueprint.get("/webhooks/deliveries")
@managers
def deliveries():
    """The delivery log: newest first; ``failures=1`` shows only deliveries that failed or had to be retried."""
    failures = request.args.get("failures") == "1"
    with current_services().transaction() as db:
        visible = {r.id: r for r in _visible(db)}
        wanted = request.args.get("registration", "")
        ids = [int(wanted)] if wanted.isdigit() and int(wanted) in visible else list(visible)
        if _admin() and not wanted:
            ids = None  # also those of registrations removed since
        rows = store.deliveries(db, ids, failures_only=failures)
        tickets = dict(db.execute(select(Case.id, Case.ticket).where(
            Case.id.in_({r.case_id for r in rows if r.case_id}))).all())
        names = {r.id: r.name for r in db.scalars(select(WebhookRegistration))}
        log = [{"row": r, "event": _event(r), "registration": names.get(store.registration_of(r), "-"),
                "ticket": tickets.get(r.case_id)} for r in rows]
    return render_template("console/webhook_deliveries.html", log=log, failures=failures, events=EVENT_LABELS,
                           statuses=STATUS_LABELS, registrations=visible, wanted=wanted)


def _event(row) -> str:
    try:
        return json.loads(row.messages).get("event", "")
    except ValueError:
        return ""
