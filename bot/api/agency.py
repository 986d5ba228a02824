"""The JSON API through which agency systems read their cases and update their status.

Each key belongs to one agency and sees only that agency's cases (another agency's case is a 404, as if it did
not exist). Status changes go through ``bot.casework.lifecycle.change_status`` like the console's, so the
citizen is told in LINE the same way. Described by ``openapi.json`` (``bot/api/openapi.py``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from bot.api.openapi import OPENAPI
from bot.api.public import public_description, public_place, public_text, w3c
from bot.casework.states import STATES
from bot.casework import work
from bot.integrations.webhooks import ORIGIN_KEY
from bot.services import current_services
from storage import staff as staff_store
from storage.models import Case, StatusChange

blueprint = Blueprint("agency_api", __name__)
MAX_LIMIT = 500


def problem(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@blueprint.before_request
def authenticate():
    if request.endpoint == "agency_api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    plain = header[7:] if header.lower().startswith("bearer ") else request.headers.get("X-Api-Key")
    with current_services().transaction() as db:
        key = staff_store.api_key_for(db, plain, "agency")
        if key is None or not key.agency_id:
            return problem(401, "unauthorized", "a valid agency API key is required (Authorization: Bearer KEY)")
        g.api_key_id, g.api_agency = key.id, key.agency_id
    return None


def case_json(case: Case, history: list[StatusChange] | None = None, references: list[dict] | None = None) -> dict:
    data = {"ticket": case.ticket, "status": case.status, "category": case.category, "agency_id": case.agency_id,
            "province": case.province, "place": public_place(case), "urgent": bool(case.urgent),
            "description": public_description(case), "created_at": w3c(case.created_at),
            "updated_at": w3c(case.updated_at), "target_due_at": w3c(case.target_due_at),
            "resolved_at": w3c(case.resolved_at), "channel": case.channel,
            "references": _references(case) if references is None else references}
    if history is not None:
        data["history"] = [{"status": h.to_status, "from_status": h.from_status, "at": w3c(h.created_at),
                            "note": public_text(case, h.note) if h.note else None} for h in history]
    return data


def _references(case: Case) -> list[dict]:
    from sqlalchemy.orm import object_session

    from storage import integrations

    session = object_session(case)
    if session is None or case.id is None:
        return []
    return [{"kind": r.kind, "value": r.value, "added_at": w3c(r.created_at)}
            for r in integrations.references_of(session, case.id)]


def _references_of(db, case_ids: list[int]) -> dict[int, list[dict]]:
    """The references of many cases in one query (a list of 500 cases is not 500 queries)."""
    from storage.models import CaseReference

    found: dict[int, list[dict]] = {}
    if case_ids:
        for r in db.scalars(select(CaseReference).where(CaseReference.case_id.in_(case_ids)).order_by(CaseReference.id)):
            found.setdefault(r.case_id, []).append({"kind": r.kind, "value": r.value, "added_at": w3c(r.created_at)})
    return found


class CaseNotFound(Exception):
    """No case ``ticket`` for the key's agency: raised by :func:`own_case`, answered as one 404 by the blueprint."""

    def __init__(self, ticket: str) -> None:
        super().__init__(ticket)
        self.ticket = ticket


@blueprint.errorhandler(CaseNotFound)
def case_not_found(error: CaseNotFound):
    return problem(404, "not_found", f"no case {error.ticket} for this agency")


def own_case(db, ticket: str) -> Case:
    """The key's agency's case ``ticket``. Another agency's case is not found, as if it did not exist: every
    route that names a case looks it up here, so none can forget the agency or answer differently."""
    case = db.scalar(select(Case).where(Case.ticket == ticket, Case.agency_id == g.api_agency))
    if case is None:
        raise CaseNotFound(ticket)
    return case


def history(db, case: Case) -> list[StatusChange]:
    """The case's status changes, oldest first (a single case's answer carries them)."""
    return list(db.scalars(select(StatusChange).where(StatusChange.case_id == case.id).order_by(StatusChange.id)))


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@blueprint.get("/cases")
def list_cases():
    query = select(Case).where(Case.agency_id == g.api_agency)
    reference = (request.args.get("reference") or "").strip()
    if reference:
        from storage.integrations import cases_with_reference

        query = query.where(Case.id.in_(cases_with_reference(reference)))
    status = request.args.get("status")
    if status:
        if status not in STATES:
            return problem(400, "invalid_status", f"unknown status {status}")
        query = query.where(Case.status == status)
    since = request.args.get("updated_since")
    if since:
        try:
            parsed = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            return problem(400, "invalid_date", "updated_since must be an ISO 8601 datetime")
        query = query.where(Case.updated_at >= (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)))
    try:
        limit = min(MAX_LIMIT, max(1, int(request.args.get("limit", 100))))
    except ValueError:
        return problem(400, "invalid_limit", "limit must be a number")
    with current_services().transaction() as db:
        rows = list(db.scalars(query.order_by(Case.updated_at.desc(), Case.id.desc()).limit(limit)))
        references = _references_of(db, [c.id for c in rows])
        cases = [case_json(c, references=references.get(c.id, [])) for c in rows]
    return jsonify({"cases": cases})


@blueprint.get("/cases/<ticket>")
def get_case(ticket: str):
    with current_services().transaction() as db:
        case = own_case(db, ticket)
        return jsonify(case_json(case, history(db, case)))


@blueprint.post("/cases/<ticket>/status")
def update_status(ticket: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return problem(400, "invalid_body", 'send JSON {"status": "...", "note": "...", "reason": "..."}')
    note, reason = body.get("note"), body.get("reason")
    if any(v is not None and not isinstance(v, str) for v in (note, reason)):
        return problem(400, "invalid_body", "note and reason are strings")
    with current_services().transaction() as db:
        db.info[ORIGIN_KEY] = g.api_key_id
        case = own_case(db, ticket)
        try:
            work.set_status(db, case, body["status"], f"api:{g.api_agency}", note=note, reason=reason,
                            address=request.remote_addr)
        except work.TransitionError as error:
            db.rollback()
            return problem(409, "transition_not_allowed", str(error))
        return jsonify(case_json(case, history(db, case)))


# --- intake, references, comments, webhooks (bot/api/integrations.py) -------------------------------------

from bot.api import integrations as _integrations  # noqa: E402,F401  (registers its routes on the blueprint)
