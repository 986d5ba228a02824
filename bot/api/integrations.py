"""The agency API's integration routes: creating cases for complaints that came by phone or letter
(idempotent by the agency system's ``client_ticket_id``), outside references, comments, and the webhook
registrations of the key's agency. Registered on the agency API's blueprint (same key check, same errors).

Every write marks its transaction with the key (``webhooks.ORIGIN_KEY``): the integrator's own
registrations are not sent the change it just made.
"""

from __future__ import annotations

from flask import g, jsonify, request

from bot.api.agency import blueprint, case_json, history, own_case, problem
from bot.integrations import webhooks
from bot.integrations.webhooks import ORIGIN_KEY
from bot.services import current_services
from storage import integrations as store
from storage import staff as staff_store
from storage.models import WebhookRegistration
from storage.models.integrations import REFERENCE_KINDS

CHANNELS = ("phone", "letter", "walk_in", "email", "other")


def _text(body: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{name} must be text of at most {limit} characters")
    return value.strip()


def _draft(db, body: dict):
    """The case draft of a posted complaint, or ValueError naming what is wrong."""
    from bot.casework import CaseDraft
    from bot.nlp import classify, detect_urgency

    description = _text(body, "description", 4000, required=True)
    category = _text(body, "category", 64)
    known = {c.id: c for c in staff_store.category_table(db)}
    if category is not None and category not in known:
        raise ValueError(f"unknown category {category}")
    category = category or classify(description).category
    lat, lon = body.get("latitude"), body.get("longitude")
    if (lat is None) != (lon is None) or any(v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool))
                                             for v in (lat, lon)):
        raise ValueError("latitude and longitude are numbers, both or neither")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude/longitude out of range")
    urgent = body.get("urgent")
    if urgent is not None and not isinstance(urgent, bool):
        raise ValueError("urgent is true or false")
    province, district = _text(body, "province", 64), _text(body, "district", 64)
    address = _text(body, "address", 300)
    if lat is not None or address or district:
        from bot import places

        found = places.resolve(lat, lon, " ".join(p for p in (address, district, province) if p) or None)
        if found is not None:
            province, district = province or found.province, district or found.district
    target = known[category].target_days if category in known else None
    return CaseDraft(description=description, category=category, agency_id=g.api_agency, province=province,
                     district=district, address=address, latitude=lat, longitude=lon,
                     phone=_text(body, "phone", 32), target_days=target,
                     urgent=detect_urgency(description).urgent if urgent is None else urgent)


@blueprint.post("/cases")
def create_case():
    """A complaint that reached the agency another way (phone, letter): filed as a case of the key's agency.

    The same ``client_ticket_id`` again answers 200 with the case the first call made (201), never a
    second case: a retry after a lost answer is safe."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "invalid_body", "send a JSON object")
    try:
        client_id = _text(body, "client_ticket_id", 120, required=True)
        channel = _text(body, "channel", 16) or "phone"
        if channel not in CHANNELS:
            raise ValueError(f"channel is one of {', '.join(CHANNELS)}")
        references = body.get("references") or []
        if not isinstance(references, list) or not all(isinstance(r, dict) for r in references):
            raise ValueError('references is a list of {"kind": ..., "value": ...}')
    except ValueError as error:
        return problem(400, "invalid_body", str(error))
    from bot.casework import file_case
    from bot.groups import post_case_card

    with current_services().transaction() as db:
        db.info[ORIGIN_KEY] = g.api_key_id
        existing = store.intake_case(db, g.api_agency, client_id)
        if existing is not None:
            return jsonify(case_json(existing, history(db, existing))), 200
        try:
            draft = _draft(db, body)
            case = file_case(db, draft, citizen_id=None, actor=f"api:{g.api_agency}")
            case.channel = channel
            for reference in references:
                store.add_reference(db, case.id, str(reference.get("kind", "")), str(reference.get("value", "")),
                                    f"api:{g.api_agency}")
        except ValueError as error:
            db.rollback()
            return problem(400, "invalid_body", str(error))
        if not store.claim_intake(db, g.api_agency, client_id, case.id, g.api_key_id):
            db.rollback()  # a twin request filed it first: its case is the answer
            existing = store.intake_case(db, g.api_agency, client_id)
            return jsonify(case_json(existing, history(db, existing))), 200
        post_case_card(db, case)
        staff_store.audit(db, f"api_key:{g.api_key_id}", "api_case_create", case.ticket,
                          {"client_ticket_id": client_id, "channel": channel}, request.remote_addr)
        db.flush()
        return jsonify(case_json(case, history(db, case))), 201


@blueprint.post("/cases/<ticket>/references")
def add_reference(ticket: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("kind"), str) or not isinstance(body.get("value"), str):
        return problem(400, "invalid_body", f'send {{"kind": one of {", ".join(REFERENCE_KINDS)}, "value": "..."}}')
    with current_services().transaction() as db:
        db.info[ORIGIN_KEY] = g.api_key_id
        case = own_case(db, ticket)
        try:
            added = store.add_reference(db, case.id, body["kind"], body["value"], f"api:{g.api_agency}")
        except ValueError as error:
            return problem(400, "invalid_reference", str(error))
        if added is not None:
            staff_store.audit(db, f"api_key:{g.api_key_id}", "case_reference", case.ticket,
                              {"kind": added.kind, "value": added.value}, request.remote_addr)
        return jsonify(case_json(case)), 201 if added is not None else 200


@blueprint.post("/cases/<ticket>/comments")
def add_comment(ticket: str):
    """An internal note from the agency's system, shown on the case's timeline in the console."""
    from bot.casework import work

    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip() \
            or len(body["text"]) > 4000:
        return problem(400, "invalid_body", 'send {"text": "..."} (1 to 4000 characters)')
    with current_services().transaction() as db:
        db.info[ORIGIN_KEY] = g.api_key_id
        case = own_case(db, ticket)
        work.add_note(db, case, body["text"], f"api:{g.api_agency}", address=request.remote_addr)
        return jsonify(case_json(case, history(db, case))), 201


def _registration_json(row: WebhookRegistration, secret: bool = False) -> dict:
    data = {"id": row.id, "name": row.name, "url": row.url, "events": row.events.split(","),
            "agency_id": row.agency_id, "active": row.active}
    if secret:
        data["secret"] = row.secret
    return data


@blueprint.get("/webhooks")
def list_webhooks():
    with current_services().transaction() as db:
        return jsonify({"webhooks": [_registration_json(r) for r in store.registrations(db, api_key_id=g.api_key_id)]})


@blueprint.post("/webhooks")
def register_webhook():
    """Register a URL for the key's agency's case events; the answer carries the signing secret (once)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        return problem(400, "invalid_body", 'send {"url": "https://...", "events": [...], "name": "..."}')
    try:
        url = webhooks.check_url(body["url"], current_services().settings.webhook_allow_private)
        events = webhooks.parse_events(body.get("events"))
        name = _text(body, "name", 200) or url
    except ValueError as error:
        return problem(400, "invalid_webhook", str(error))
    with current_services().transaction() as db:
        row = store.add_registration(db, name=name, url=url, events=events, agency_id=g.api_agency,
                                     api_key_id=g.api_key_id, created_by=f"api_key:{g.api_key_id}")
        staff_store.audit(db, f"api_key:{g.api_key_id}", "webhook_register", str(row.id), {"url": url},
                          request.remote_addr)
        return jsonify(_registration_json(row, secret=True)), 201


@blueprint.delete("/webhooks/<registration_id>")
def remove_webhook(registration_id: str):
    with current_services().transaction() as db:
        row = db.get(WebhookRegistration, int(registration_id)) if registration_id.isdigit() else None
        if row is None or row.api_key_id != g.api_key_id or not row.active:
            return problem(404, "not_found", f"no webhook {registration_id} for this key")
        row.active = False
        staff_store.audit(db, f"api_key:{g.api_key_id}", "webhook_remove", str(row.id), None, request.remote_addr)
    return "", 204
