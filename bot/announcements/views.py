"""Staff pages for announcements: compose, preview as the citizen will see it, test to oneself, publish
(now or at a Bangkok time), cancel, and progress while it runs. Thin: every change goes through ``service``.

Mounted under ``/console`` so the console's sign-in, roles (``announcer``, ``administrator``) and CSRF apply.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from bot.announcements import compose, service
from bot.announcements.service import AnnouncementError
from bot.announcements.topics import ALL, TOPICS
from bot.console.auth import actor, role_required
from bot.services import current_services
from storage import announcements as repo

blueprint = Blueprint("announcements", __name__, url_prefix="/console/announcements")
ANNOUNCERS = ("administrator", "announcer")


@blueprint.get("/")
@role_required(*ANNOUNCERS)
def index():
    with current_services().transaction() as db:
        rows = repo.recent(db)
    return render_template("announcements/index.html", rows=rows)


@blueprint.route("/new", methods=["GET", "POST"])
@role_required(*ANNOUNCERS)
def compose_page():
    form = request.form
    if request.method == "POST":
        draft = compose.Draft(title=form.get("title", ""), text=form.get("text", ""),
                              topics=form.getlist("topics"), provinces=_provinces(form.get("provinces", "")),
                              image_url=form.get("image_url") or None, link_url=form.get("link_url") or None,
                              everyone=form.get("everyone") == "1")
        try:
            announcement_id = service.create(current_services(), draft, actor())
        except AnnouncementError as exc:
            return render_template("announcements/compose.html", form=form, problems=exc.problems,
                                   topics=TOPICS), 400
        return redirect(url_for("announcements.detail", announcement_id=announcement_id))
    return render_template("announcements/compose.html", form=form, problems=[], topics=TOPICS)


@blueprint.get("/<int:announcement_id>")
@role_required(*ANNOUNCERS)
def detail(announcement_id: int):
    services = current_services()
    _known(announcement_id)
    figures = service.progress(services, announcement_id)
    with services.transaction() as db:
        row = repo.get(db, announcement_id)
        history = repo.history(db, announcement_id)
    estimate = service.estimate_audience(services, announcement_id) if row.status in ("draft", "scheduled") else None
    return render_template("announcements/detail.html", row=row, preview=service.preview(services, announcement_id),
                           figures=figures, estimate=estimate, history=history, topics=json.loads(row.topics),
                           provinces=json.loads(row.provinces), test_to=session.get("announcement_test_to", ""))


def _known(announcement_id: int) -> None:
    """An unknown announcement is a 404, not an error deep in the figures."""
    with current_services().transaction() as db:
        if repo.get(db, announcement_id) is None:
            abort(404, description=f"no announcement {announcement_id}")


@blueprint.get("/<int:announcement_id>/progress.json")
@role_required(*ANNOUNCERS)
def progress_json(announcement_id: int):
    _known(announcement_id)
    figures = service.progress(current_services(), announcement_id)
    return {**{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(figures).items()},
            "duration_seconds": figures.duration_seconds}


@blueprint.post("/<int:announcement_id>/test")
@role_required(*ANNOUNCERS)
def send_test(announcement_id: int):
    _known(announcement_id)
    to = request.form.get("to", "").strip()
    if not (to.startswith("U") and len(to) == 33):
        flash("กรุณาใส่ LINE user ID ของคุณ (ขึ้นต้นด้วย U, 33 ตัวอักษร)", "error")
    else:
        session["announcement_test_to"] = to
        service.send_test(current_services(), announcement_id, to, actor())
        flash("ส่งทดสอบถึงคุณแล้ว (test sent)")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))


@blueprint.post("/<int:announcement_id>/publish")
@role_required(*ANNOUNCERS)
def publish(announcement_id: int):
    _known(announcement_id)
    when = request.form.get("at", "").strip()
    try:
        at = compose.schedule_from_local(when, service.TIMEZONE) if when else None
        service.publish(current_services(), announcement_id, actor(), at)
        flash("เผยแพร่แล้ว (published)" if at is None else f"ตั้งเวลาส่ง {when} (เวลาไทย)")
    except (AnnouncementError, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))


@blueprint.post("/<int:announcement_id>/cancel")
@role_required(*ANNOUNCERS)
def cancel(announcement_id: int):
    _known(announcement_id)
    try:
        busy = service.cancel(current_services(), announcement_id, actor())
        flash("ยกเลิกแล้ว ไม่มีผู้รับเพิ่มอีก (cancelled)" if busy == 0
              else f"ยกเลิกแล้ว; {busy} คำขอกำลังส่งอยู่ที่ LINE", "warning" if busy else "info")
    except AnnouncementError as exc:
        flash(str(exc), "error")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))


def _provinces(value: str) -> list[str]:
    names = [" ".join(part.split()) for part in value.replace("\n", ",").split(",") if part.strip()]
    return names or [ALL]
