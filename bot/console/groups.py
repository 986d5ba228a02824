"""Agencies' LINE groups in the console: linked groups, one-time link codes, and broadcasts to groups.

Administrators see and act on every group; agency staff only on the groups of their own agency (and, when
their account is limited to some provinces, codes only for those provinces). A broadcast is estimated first
(members × groups against the month's remaining quota) and sent only by a second, confirming POST, which
``bot.groups.broadcasts.create`` estimates again and refuses when the quota is short.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from bot.console.auth import actor, audit, role_required
from bot.console.templating import BANGKOK
from bot.groups import broadcasts
from bot.groups.linking import UnknownAgency, create_code
from bot.places import provinces as province_table
from bot.places import resolve_province
from bot.services import current_services
from storage import groups as store
from storage import staff as staff_store

log = logging.getLogger(__name__)

blueprint = Blueprint("console_groups", __name__)
group_managers = role_required("administrator", "agency_staff")

CODE_WORDS = {"group": "เชื่อมกลุ่ม", "staff": "ลงทะเบียนเจ้าหน้าที่"}
MAX_CODE_HOURS = 24 * 7


def _is_admin() -> bool:
    return g.staff.role == "administrator"


def _may_manage(agency_id: str | None) -> bool:
    return _is_admin() or (bool(g.staff.agency_id) and agency_id == g.staff.agency_id)


def _province_names(codes: list[str]) -> str:
    table = province_table()
    return ", ".join(table[c].name_th if c in table else c for c in codes) or "-"


def _visible_links(db) -> list[tuple]:
    agency_id = None if _is_admin() else (g.staff.agency_id or "\0")
    return store.linked_groups(db, agency_id=agency_id)


def _split(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").replace("\n", ",").split(",") if p.strip()]


# --- linked groups and codes ------------------------------------------------------------------------------

@blueprint.get("/groups")
@group_managers
def index():
    with current_services().transaction() as db:
        rows = [{"line_id": group.line_id, "name": group.name, "agency_id": link.agency_id,
                     "provinces": _province_names(store.provinces_of(link)), "members": group.member_count,
                     "digest": link.digest_time, "linked_at": link.linked_at}
                for link, group in _visible_links(db)]
        agencies = staff_store.agency_names(db) if _is_admin() else {}
    return render_template("console/groups.html", rows=rows, agencies=agencies, code=None)


@blueprint.post("/groups/codes")
@group_managers
def create_link_code():
    form = request.form
    agency_id = (form.get("agency_id") or (g.staff.agency_id if not _is_admin() else "") or "").strip()
    with current_services().transaction() as db:
        agency_id = staff_store.resolve_agency(db, agency_id) or agency_id  # the name picked from the list
    purpose = form.get("purpose", "group")
    if purpose not in CODE_WORDS:
        abort(400)
    if not _may_manage(agency_id):
        abort(403)
    wanted = _split(form.get("provinces"))
    codes = [resolve_province(name) for name in wanted]
    if None in codes:
        flash("ไม่รู้จักจังหวัด: " + ", ".join(n for n, c in zip(wanted, codes) if c is None), "error")
        return redirect(url_for("console_groups.index"))
    allowed = g.staff.province_list if not _is_admin() else None
    if allowed:
        if not codes:
            codes = [c for c in (resolve_province(p) for p in allowed) if c]
        elif not set(codes) <= {resolve_province(p) for p in allowed}:
            abort(403)
    try:
        hours = min(max(float(form.get("hours") or 24), 0.25), MAX_CODE_HOURS)
    except ValueError:
        hours = 24.0
    with current_services().transaction() as db:
        try:
            row = create_code(db, agency_id, actor(), codes, timedelta(hours=hours), purpose=purpose)
        except (UnknownAgency, ValueError) as error:
            flash(f"สร้างรหัสไม่ได้: หน่วยงานหรือจังหวัดไม่ถูกต้อง ({error})", "error")
            return redirect(url_for("console_groups.index"))
        audit(db, "group_code_create", f"agency:{agency_id}", purpose=purpose, provinces=codes, hours=hours,
              code_id=row.id)
        code = {"word": CODE_WORDS[purpose], "code": row.code, "agency_id": agency_id, "purpose": purpose,
                    "provinces": _province_names(store.provinces_of(row)), "expires_at": row.expires_at}
        rows = [{"line_id": group.line_id, "name": group.name, "agency_id": link.agency_id,
                     "provinces": _province_names(store.provinces_of(link)), "members": group.member_count,
                     "digest": link.digest_time, "linked_at": link.linked_at}
                for link, group in _visible_links(db)]
        agencies = staff_store.agency_names(db) if _is_admin() else {}
    return render_template("console/groups.html", rows=rows, agencies=agencies, code=code)


@blueprint.post("/groups/<group_line_id>/unlink")
@group_managers
def unlink(group_line_id: str):
    with current_services().transaction() as db:
        link = store.active_link(db, group_line_id)
        if link is None:
            abort(404)
        if not _may_manage(link.agency_id):
            abort(403)
        store.unlink_group(db, group_line_id, actor())
        audit(db, "group_unlink", f"group:{group_line_id}", agency=link.agency_id)
    flash("ยกเลิกการเชื่อมกลุ่มแล้ว (group unlinked)", "ok")
    return redirect(url_for("console_groups.index"))


# --- broadcasts -------------------------------------------------------------------------------------------

def _form_target(form) -> broadcasts.Target:
    """The chosen target, narrowed to the signed-in agency staff's own agency (403 outside it)."""
    mode = form.get("target", "groups")
    own = None if _is_admin() else (g.staff.agency_id or abort(403))
    if mode == "groups":
        chosen = tuple(form.getlist("group"))
        if not chosen:
            raise ValueError("กรุณาเลือกกลุ่มอย่างน้อยหนึ่งกลุ่ม")
        return broadcasts.Target(groups=chosen, agency_id=own)
    if mode == "province":
        province = (form.get("province") or "").strip()
        if not resolve_province(province):
            raise ValueError("ไม่รู้จักจังหวัดนี้")
        return broadcasts.Target(province=province, agency_id=own)
    if mode == "agency":
        agency_id = (form.get("agency_id") or own or "").strip()
        with current_services().transaction() as db:
            agency_id = staff_store.resolve_agency(db, agency_id) or agency_id
        if not agency_id:
            raise ValueError("กรุณาระบุหน่วยงาน")
        if not _may_manage(agency_id):
            abort(403)
        return broadcasts.Target(agency_id=agency_id)
    abort(400)


def _send_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=BANGKOK)
    except ValueError as error:
        raise ValueError("วันเวลาที่ตั้งส่งไม่ถูกต้อง") from error


def _message(form) -> tuple[str, str | None, str | None]:
    text = (form.get("text") or "").strip()
    image = (form.get("image_url") or "").strip() or None
    link = (form.get("link_url") or "").strip() or None
    if not text:
        raise ValueError("กรุณาพิมพ์ข้อความ")
    if len(text) > 4000:
        raise ValueError("ข้อความยาวเกิน 4,000 ตัวอักษร")
    if image and not image.startswith("https://"):
        raise ValueError("ลิงก์รูปภาพต้องขึ้นต้นด้วย https://")
    if link and not link.startswith(("https://", "http://")):
        raise ValueError("ลิงก์ต้องขึ้นต้นด้วย https:// หรือ http://")
    return text, image, link


def _short_message(cost: broadcasts.Estimate) -> str:
    return (f"ส่งไม่ได้: โควตาข้อความเดือนนี้ไม่พอ ต้องใช้ {cost.members:,} ข้อความ "
            f"แต่เหลือเพียง {cost.remaining:,} ข้อความ (monthly quota is short)")


@blueprint.route("/groups/broadcast", methods=["GET", "POST"])
@group_managers
def broadcast():
    services = current_services()
    with services.transaction() as db:
        links = [{"line_id": group.line_id, "name": group.name, "agency_id": link.agency_id, "members": group.member_count,
                      "provinces": _province_names(store.provinces_of(link))} for link, group in _visible_links(db)]
        agencies = staff_store.agency_names(db) if _is_admin() else {}
    page = {"links": links, "form": request.form, "estimate": None, "error": None, "refused": None,
            "agencies": agencies}
    if request.method == "GET":
        return render_template("console/groups_broadcast.html", **page)
    form = request.form
    try:
        target = _form_target(form)
        text, image, link = _message(form)
        send_at = _send_at(form.get("send_at"))
    except ValueError as error:
        page["error"] = str(error)
        return render_template("console/groups_broadcast.html", **page), 400
    confirm = form.get("action") == "send"
    # Pages are rendered after the transaction ends: the template helpers open their own (SQLite allows one writer).
    status, row_status = None, None
    with services.transaction() as db:
        status = _estimate_or_send(db, services, page, target, text, image, link, send_at, confirm)
        if isinstance(status, str):
            row_status, status = status, None
    if status is not None:
        return render_template("console/groups_broadcast.html", **page), status
    cost = page["estimate"]
    flash(f"ส่งประกาศถึง {cost.groups} กลุ่มแล้ว ({cost.members:,} ข้อความ)" if row_status != "scheduled"
          else f"ตั้งเวลาส่งประกาศถึง {cost.groups} กลุ่มแล้ว", "ok")
    return redirect(url_for("console_groups.broadcast"))


def _estimate_or_send(db, services, page: dict, target: broadcasts.Target, text: str, image: str | None,
                      link: str | None, send_at: datetime | None, confirm: bool) -> int | str:
    """An HTTP status for the page to show, or the new broadcast's status once sent."""
    try:
        cost = broadcasts.estimate(db, services, target)
    except ValueError as error:
        page["error"] = str(error)
        return 400
    except Exception:
        log.warning("quota lookup failed", exc_info=True)
        page["error"] = "ตรวจสอบโควตาข้อความกับ LINE ไม่ได้ กรุณาลองใหม่ภายหลัง"
        return 503
    page["estimate"] = cost
    details = {"chosen": target.to_json(), "groups": cost.groups, "cost": cost.members, "remaining": cost.remaining}
    if cost.groups == 0:
        page["error"] = "ไม่มีกลุ่มที่เชื่อมแล้วตรงกับที่เลือก"
        return 400
    if not cost.affordable:
        audit(db, "group_broadcast_refused", None, **details)
        page["refused"] = _short_message(cost)
        return 409
    if not confirm:
        audit(db, "group_broadcast_estimate", None, **details)
        return 200
    try:
        row = broadcasts.create(db, services, text=text, created_by=actor(), target=target, image_url=image,
                                link_url=link, send_at=send_at)
    except broadcasts.QuotaShort as short:
        audit(db, "group_broadcast_refused", None, **details)
        page["estimate"], page["refused"] = short.estimate, _short_message(short.estimate)
        return 409
    except ValueError as error:
        page["error"] = str(error)
        return 400
    audit(db, "group_broadcast_send", f"broadcast:{row.id}", status=row.status, **details)
    return row.status
