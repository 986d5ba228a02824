"""Open311 GeoReport v2 over Siang's data: services = categories, requests = cases (docs/open311.md).

XML is the format the standard requires and JSON its mechanical mapping; both are served. Reads need no key;
posting a request needs an ``open311`` API key. No personal data is ever exposed.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

from flask import Blueprint, Response, json, request
from sqlalchemy import select

from bot import messages as catalogue
from bot.api.public import is_open, public_description, public_place, rounded, w3c
from bot.casework.filing import CaseDraft, file_case, route_case
from bot.casework.states import STATES
from bot.groups import post_case_card
from bot.services import current_services
from storage import staff as staff_store
from storage.models import Case
from storage.staff import agency_name

blueprint = Blueprint("open311", __name__)
FORMAT = "<any(json,xml):fmt>"
MAX_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_IDS = 100
# Characters XML 1.0 cannot carry (and no person types): C0 controls but tab/LF/CR, DEL-C1, surrogates,
# U+FFFE/U+FFFF. One of them in a stored text would make the public XML feed unparseable for everyone.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# --- rendering ------------------------------------------------------------------------------------------

def _xml_value(parent: ElementTree.Element, name: str, value) -> None:
    element = ElementTree.SubElement(parent, name)
    if isinstance(value, list):
        item_name = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}[name]
        for item in value:
            if isinstance(item, dict):
                child = ElementTree.SubElement(element, item_name)
                for key, inner in item.items():
                    _xml_value(child, key, inner)
            else:
                ElementTree.SubElement(element, item_name).text = _NOT_XML.sub("", str(item))
    elif value is not None:
        element.text = str(value).lower() if isinstance(value, bool) else _NOT_XML.sub("", str(value))


def render(fmt: str, root: str, item: str | None, data, status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
        return Response(body, status=status, mimetype="application/json", content_type="application/json; charset=utf-8")
    top = ElementTree.Element(root)
    if item is None:
        for key, value in data.items():
            _xml_value(top, key, value)
    else:
        for entry in data:
            child = ElementTree.SubElement(top, item)
            for key, value in entry.items():
                _xml_value(child, key, value)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(top, encoding="unicode")
    return Response(body, status=status, content_type="text/xml; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> Response:
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status)


# --- services ---------------------------------------------------------------------------------------------

def _services(db=None) -> list[dict]:
    if db is None:
        with current_services().transaction() as db:
            return _services(db)
    rows = [c for c in staff_store.category_table(db) if c.active]
    return [{"service_code": c.id, "service_name": c.label_th, "description": c.label_en or c.label_th,
             "metadata": False, "type": "realtime", "keywords": c.label_en or "", "group": "complaint"}
            for c in rows]


@blueprint.get(f"/discovery.{FORMAT}")
def discovery(fmt: str):
    base = request.url_root.rstrip("/") + "/open311/v2/"
    data = {"changeset": "2026-11-23T00:00:00+07:00", "contact": "Siang operators (docs/operators.md)",
            "key_service": "Ask a Siang administrator for an open311 API key",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                           "changeset": "2026-11-23T00:00:00+07:00", "type": "production",
                           "formats": ["text/xml", "application/json"]}]}
    return render(fmt, "discovery", None, data)


@blueprint.get(f"/services.{FORMAT}")
def services(fmt: str):
    return render(fmt, "services", "service", _services())


@blueprint.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    if code not in {s["service_code"] for s in _services()}:
        return errors(fmt, 404, f"unknown service_code {code}")
    return render(fmt, "service_definition", None, {"service_code": code, "attributes": []})


# --- requests ---------------------------------------------------------------------------------------------

def request_object(case: Case, agencies: dict[str, str], labels: dict[str, str]) -> dict:
    fine = catalogue.text(STATES[case.status].label_key, "th") if case.status in STATES else case.status
    updated = case.closed_at or case.resolved_at if not is_open(case) else case.updated_at
    return {
        "service_request_id": case.ticket,
        "status": "open" if is_open(case) else "closed",
        "status_notes": f"{case.status}: {fine}",
        "service_name": labels.get(case.category, case.category),
        "service_code": case.category,
        "description": public_description(case),
        "agency_responsible": agencies.get(case.agency_id or "", case.agency_id),
        "service_notice": None,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(updated or case.updated_at),
        "expected_datetime": w3c(case.target_due_at),
        "address": public_place(case),
        "address_id": None,
        "zipcode": None,
        "lat": rounded(case.latitude),
        "long": rounded(case.longitude),
        "media_url": None,
    }


def _parse_date(value: str | None) -> datetime | None:
    """A W3C datetime, or ValueError (also for dates a 90-day window cannot be computed around)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if not datetime(1900, 1, 1, tzinfo=timezone.utc) <= parsed <= datetime(9000, 1, 1, tzinfo=timezone.utc):
        raise ValueError("out of range")
    return parsed


def _lookups(db) -> tuple[dict[str, str], dict[str, str]]:
    return staff_store.agency_names(db), {c.id: c.label_th for c in staff_store.category_table(db)}


@blueprint.get(f"/requests.{FORMAT}")
def list_requests(fmt: str):
    args = {k: v for k, v in request.args.items() if v != ""}  # optional = absent
    query = select(Case)
    if args.get("service_request_id"):
        tickets = [t.strip() for t in args["service_request_id"].split(",")][:MAX_IDS + 1]
        if len(tickets) > MAX_IDS:
            return errors(fmt, 400, f"at most {MAX_IDS} service_request_id values")
        query = query.where(Case.ticket.in_(tickets))
    else:
        try:
            end = _parse_date(args.get("end_date")) or datetime.now(timezone.utc)
            start = _parse_date(args.get("start_date")) or end - MAX_WINDOW
        except ValueError:
            return errors(fmt, 400, "start_date/end_date must be W3C datetimes")
        if end - start > MAX_WINDOW or start > end:
            return errors(fmt, 400, "the date range may not exceed 90 days")
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        if args.get("service_code"):
            query = query.where(Case.category.in_([c.strip() for c in args["service_code"].split(",")]))
        wanted = {s.strip() for s in args.get("status", "").split(",") if s.strip()}
        if wanted - {"open", "closed"}:
            return errors(fmt, 400, "status is open, closed or both")
        open_ids = [s.id for s in STATES.values() if s.open]
        if wanted == {"open"}:
            query = query.where(Case.status.in_(open_ids))
        elif wanted == {"closed"}:
            query = query.where(Case.status.not_in(open_ids))
    with current_services().transaction() as db:
        agencies, labels = _lookups(db)
        cases = db.scalars(query.order_by(Case.created_at.desc()).limit(MAX_REQUESTS))
        data = [request_object(c, agencies, labels) for c in cases]
    return render(fmt, "service_requests", "request", data)


@blueprint.get(f"/requests/<ticket>.{FORMAT}")
def get_request(ticket: str, fmt: str):
    with current_services().transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        if case is None:
            return errors(fmt, 404, f"unknown service_request_id {ticket}")
        agencies, labels = _lookups(db)
        data = [request_object(case, agencies, labels)]
    return render(fmt, "service_requests", "request", data)


@blueprint.post(f"/requests.{FORMAT}")
def post_request(fmt: str):
    form = {k: v for k, v in request.form.items() if v != ""}
    with current_services().transaction() as db:
        key = staff_store.api_key_for(db, form.get("api_key"), "open311")
        if key is None:
            return errors(fmt, 403, "Invalid api_key received")
        services = {s["service_code"]: s for s in _services(db)}
        code = form.get("service_code")
        if code not in services:
            return errors(fmt, 404 if code else 400, "unknown or missing service_code")
        problem = _invalid_post(form)
        if problem:
            return errors(fmt, 400, problem)
        lat = float(form["lat"]) if "lat" in form else None
        lon = float(form["long"]) if "long" in form else None
        if (lat is None) != (lon is None) or (lat is None and not form.get("address_string")
                                               and not form.get("address_id")):
            return errors(fmt, 400, "a location is required: lat and long, address_string or address_id")
        description = (form.get("description") or services[code]["service_name"])[:4000]
        province, district = _place(lat, lon, form.get("address_string"))
        agency = route_case(code, province, district)
        target = next((c.target_days for c in staff_store.category_table(db) if c.id == code), None)
        draft = CaseDraft(description=description, category=code, agency_id=agency.id, latitude=lat, longitude=lon,
                          province=province, district=district, address=form.get("address_string"),
                          target_days=target, anonymous=True, urgent=_urgent(description))
        case = file_case(db, draft, citizen_id=None, actor=f"api:open311:{key.id}")
        case.channel = "open311"
        post_case_card(db, case)  # the owner's LINE group sees it as the chat's cases are seen
        staff_store.audit(db, f"api_key:{key.id}", "open311_post", case.ticket, {"service_code": code},
                          request.remote_addr)
        data = [{"service_request_id": case.ticket, "service_notice": agency_name(db, case.agency_id),
                 "account_id": None}]
    return render(fmt, "service_requests", "request", data)


def _place(lat: float | None, lon: float | None, address: str | None) -> tuple[str | None, str | None]:
    """Province and district of a posted request, by the same rules as chat: a district polygon wins, then a
    district the address names, then the nearest centre."""
    from bot import places

    found = places.resolve(lat, lon, address)
    return (found.province, found.district) if found is not None else (None, None)


def _urgent(description: str) -> bool:
    """Danger to life in a posted request flags it in the owner's queue and group, as in chat."""
    from bot.nlp import detect_urgency

    return detect_urgency(description).urgent


def _invalid_post(form: dict[str, str]) -> str | None:
    """Why a posted request is refused, or None. Checked before anything is stored: what a key holder posts
    is published in the feeds, so it must be a real place and plain text."""
    for name, value in form.items():
        if _NOT_XML.search(value):
            return f"{name} contains control characters"
    for name, limit in (("lat", 90.0), ("long", 180.0)):
        if name in form:
            try:
                number = float(form[name])
            except ValueError:
                return f"{name} must be a number"
            if not math.isfinite(number) or abs(number) > limit:
                return f"{name} must be a finite number between -{limit:g} and {limit:g}"
    return None
