"""Administrators' pages: staff accounts, agencies, categories and their targets, opinion topics, API keys,
the audit log, and delivery problems."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.console import passwords
from bot.console.access import ROLE_LABELS
from bot.console.auth import actor, audit, role_required
from bot.console.params import page_number
from bot.console.templating import BANGKOK
from bot.services import current_services
from storage import outbox
from storage import staff as staff_store
from storage.models import Agency, ApiKey, Category, OpinionTopic, StaffUser

blueprint = Blueprint("console_admin", __name__)
admin_only = role_required("administrator")


@blueprint.get("/admin")
@admin_only
def index():
    return redirect(url_for("console_admin.staff"))


# --- staff accounts ---------------------------------------------------------------------------------------

@blueprint.route("/admin/staff", methods=["GET", "POST"])
@admin_only
def staff():
    with current_services().transaction() as db:
        if request.method == "POST":
            form = request.form
            role = form.get("role", "")
            picked = staff_store.resolve_agency(db, form.get("agency_id"))
            if role not in ROLE_LABELS or (role == "agency_staff" and not picked):
                flash("บทบาทหรือหน่วยงานไม่ถูกต้อง (role/agency missing)", "error")
            elif staff_store.staff_by_username(db, form.get("username", "")):
                flash("ชื่อผู้ใช้นี้มีแล้ว (user name taken)", "error")
            else:
                try:
                    hashed = passwords.hash_password(form.get("password", ""))
                except ValueError as error:
                    flash(str(error), "error")
                else:
                    user = staff_store.add_staff(db, username=form["username"], display_name=form.get(
                        "display_name") or form["username"], password_hash=hashed, role=role,
                        agency_id=picked if role == "agency_staff" else None,
                        provinces=form.get("provinces"))
                    audit(db, "staff_create", f"staff:{user.id}", role=role, agency=user.agency_id)
                    flash("เพิ่มผู้ใช้แล้ว (account created)", "ok")
            return redirect(url_for("console_admin.staff"))
        users = list(db.scalars(select(StaffUser).order_by(StaffUser.username)))
        agencies = staff_store.agency_names(db)
    return render_template("console/admin_staff.html", users=users, agencies=agencies)


@blueprint.post("/admin/staff/<int:user_id>")
@admin_only
def staff_update(user_id: int):
    form = request.form
    with current_services().transaction() as db:
        user = db.get(StaffUser, user_id) or abort(404)
        changes = {}
        if form.get("role") in ROLE_LABELS:
            user.role = changes["role"] = form["role"]
        if "agency_id" in form:
            user.agency_id = changes["agency"] = staff_store.resolve_agency(db, form["agency_id"])
        if "provinces" in form:
            user.provinces = changes["provinces"] = form["provinces"] or None
        if "active" in form:
            user.active = changes["active"] = form["active"] == "1"
        if form.get("password"):
            try:
                user.password_hash = passwords.hash_password(form["password"])
            except ValueError as error:
                flash(str(error), "error")
                return redirect(url_for("console_admin.staff"))
            changes["password"] = "changed"
        if form.get("reset_totp") == "1":
            user.totp_secret = user.totp_last_step = None
            changes["totp"] = "reset"
        if changes.get("active") is False or "password" in changes or "totp" in changes:
            # Whoever holds a session of this account now (perhaps the reason for the change) is signed out.
            user.session_version = (user.session_version or 0) + 1
        audit(db, "staff_update", f"staff:{user.id}", **changes)
    flash("บันทึกแล้ว (saved)", "ok")
    return redirect(url_for("console_admin.staff"))


# --- agencies and categories ------------------------------------------------------------------------------

@blueprint.route("/admin/agencies", methods=["GET", "POST"])
@admin_only
def agencies():
    with current_services().transaction() as db:
        if request.method == "POST":
            form = request.form
            agency = db.get(Agency, form.get("id", "").strip())
            if agency is None:
                agency = Agency(id=form["id"].strip(), level=form.get("level") or "national", active=True)
                db.add(agency)
            agency.name_th = form.get("name_th") or agency.name_th or agency.id
            agency.name_en = form.get("name_en") or agency.name_en
            agency.hotline = form.get("hotline") or agency.hotline
            agency.active = form.get("active", "1") == "1"
            audit(db, "agency_save", agency.id, name_th=agency.name_th, active=agency.active)
            flash("บันทึกแล้ว (saved)", "ok")
            return redirect(url_for("console_admin.agencies", q=request.args.get("q", "")))
        q = request.args.get("q", "").strip()
        query = select(Agency).order_by(Agency.id)
        if q:
            query = query.where(Agency.name_th.contains(q) | Agency.id.contains(q))
        rows = list(db.scalars(query.limit(200)))
    return render_template("console/admin_agencies.html", agencies=rows, q=q)


@blueprint.route("/admin/categories", methods=["GET", "POST"])
@admin_only
def categories():
    with current_services().transaction() as db:
        if request.method == "POST":
            category = db.get(Category, request.form.get("id", "")) or abort(404)
            try:
                days = float(request.form.get("target_days", ""))
            except ValueError:
                abort(400)
            if days <= 0:
                abort(400)
            old = category.target_days
            category.target_days = days
            category.label_th = request.form.get("label_th") or category.label_th
            category.active = request.form.get("active", "1") == "1"
            category.requires_after_photo = request.form.get("after_photo") == "1"
            audit(db, "category_save", category.id, target_days_from=old, target_days_to=days,
                  requires_after_photo=category.requires_after_photo)
            flash("บันทึกแล้ว (saved)", "ok")
            return redirect(url_for("console_admin.categories"))
        rows = list(db.scalars(select(Category).order_by(Category.position, Category.id)))
    return render_template("console/admin_categories.html", categories=rows)


# --- opinion topics (the conversation flows' table) -----------------------------------------------------------

@blueprint.route("/admin/topics", methods=["GET", "POST"])
@admin_only
def topics():
    with current_services().transaction() as db:
        if request.method == "POST":
            form = request.form
            topic = db.get(OpinionTopic, int(form["id"])) if form.get("id") else None
            if topic is None:
                topic = OpinionTopic(title_th=form.get("title_th", "").strip() or abort(400))
                db.add(topic)
            topic.title_th = form.get("title_th") or topic.title_th
            topic.title_en = form.get("title_en") or topic.title_en
            topic.description = form.get("description") or topic.description
            topic.active = form.get("active", "1") == "1"
            if form.get("closes_on"):
                topic.closes_at = datetime.strptime(form["closes_on"], "%Y-%m-%d").replace(tzinfo=BANGKOK)
            db.flush()
            audit(db, "topic_save", f"topic:{topic.id}", title=topic.title_th, active=topic.active)
            flash("บันทึกแล้ว (saved)", "ok")
            return redirect(url_for("console_admin.topics"))
        rows = list(db.scalars(select(OpinionTopic).order_by(OpinionTopic.id.desc())))
    return render_template("console/admin_topics.html", topics=rows)


# --- API keys -----------------------------------------------------------------------------------------------

@blueprint.route("/admin/api-keys", methods=["GET", "POST"])
@admin_only
def api_keys():
    plain = None
    with current_services().transaction() as db:
        if request.method == "POST":
            form = request.form
            if form.get("revoke"):
                key = db.get(ApiKey, int(form["revoke"])) or abort(404)
                key.active = False
                audit(db, "api_key_revoke", f"api_key:{key.id}")
            else:
                try:
                    key, plain = staff_store.create_api_key(db, name=form.get("name") or "key",
                                                            scope=form.get("scope", ""),
                                                            agency_id=staff_store.resolve_agency(
                                                                db, form.get("agency_id")),
                                                            created_by=actor())
                    audit(db, "api_key_create", f"api_key:{key.id}", scope=key.scope, agency=key.agency_id)
                except ValueError as error:
                    flash(str(error), "error")
        keys = list(db.scalars(select(ApiKey).order_by(ApiKey.id.desc())))
        agencies = staff_store.agency_names(db)
    return render_template("console/admin_api_keys.html", keys=keys, plain=plain, agencies=agencies)


@blueprint.get("/admin/audit")
@admin_only
def audit_log():
    page = page_number(request.args.get("page"))
    with current_services().transaction() as db:
        entries = staff_store.audit_entries(db, actor=request.args.get("actor") or None,
                                            action=request.args.get("action") or None, page=page)
    return render_template("console/admin_audit.html", entries=entries, page=page)


@blueprint.get("/admin/deliveries")
@admin_only
def deliveries():
    """What LINE refused for good (with its own error details) and open alerts such as the monthly limit."""
    with current_services().transaction() as db:
        alerts = outbox.open_alerts(db)
        failed = [(row, outbox.error_details(row)) for row in outbox.failures(db, limit=100)]
    return render_template("console/admin_deliveries.html", alerts=alerts, failed=failed)
