"""The agency API: per-agency keys, scoped cases, status changes through the case service, and responses
that match the published OpenAPI document."""

from __future__ import annotations

import re

import jsonschema
import pytest

from bot.api.openapi import OPENAPI
from storage import staff as staff_store
from tests.factories import console_case


def check(payload, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": OPENAPI["components"]}
    jsonschema.Draft202012Validator(schema).validate(payload)


def response_schema(path: str, method: str, status: int) -> dict:
    return OPENAPI["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def check_response(response, path: str, method: str) -> None:
    schema = {**response_schema(path, method, response.status_code), "components": OPENAPI["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.get_json())


@pytest.fixture
def keys(services):
    with services.transaction() as db:
        _, bma = staff_store.create_api_key(db, name="bma", scope="agency", agency_id="bma", created_by="t")
        _, mea = staff_store.create_api_key(db, name="mea", scope="agency", agency_id="mea", created_by="t")
    return {"bma": {"Authorization": f"Bearer {bma}"}, "mea": {"Authorization": f"Bearer {mea}"}}


def test_the_openapi_document_is_valid_and_covers_every_route(console):
    from openapi_schema_validator import OAS31Validator

    client = console.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc == OPENAPI
    for schema in doc["components"]["schemas"].values():
        OAS31Validator.check_schema(schema)
    served = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
              for rule in console.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    assert served - {"/openapi.json"} == set(doc["paths"])


def test_an_agency_key_reads_and_moves_only_its_own_cases(console, services, keys):
    mine = console_case(services, agency_id="bma")
    theirs = console_case(services, agency_id="mea")
    client = console.test_client()
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer sk_nope"}).status_code == 401
    listed = client.get("/api/v1/cases", headers=keys["bma"])
    check_response(listed, "/cases", "get")
    assert [c["ticket"] for c in listed.get_json()["cases"]] == [mine]
    assert "0812345678" not in listed.get_data(as_text=True)
    missing = client.get(f"/api/v1/cases/{theirs}", headers=keys["bma"])
    assert missing.status_code == 404
    check_response(missing, "/cases/{ticket}", "get")
    refused = client.post(f"/api/v1/cases/{theirs}/status", json={"status": "accepted"}, headers=keys["bma"])
    assert refused.status_code == 404

    moved = client.post(f"/api/v1/cases/{mine}/status", json={"status": "accepted", "note": "รับเรื่องแล้ว"},
                        headers=keys["bma"])
    assert moved.status_code == 200, moved.get_json()
    check_response(moved, "/cases/{ticket}/status", "post")
    assert moved.get_json()["status"] == "accepted" and moved.get_json()["history"][-1]["note"] == "รับเรื่องแล้ว"
    conflict = client.post(f"/api/v1/cases/{mine}/status", json={"status": "received"}, headers=keys["bma"])
    assert conflict.status_code == 409
    check_response(conflict, "/cases/{ticket}/status", "post")
    bad = client.post(f"/api/v1/cases/{mine}/status", json={"state": "x"}, headers=keys["bma"])
    assert bad.status_code == 400
    check_response(client.get(f"/api/v1/cases/{mine}", headers=keys["bma"]), "/cases/{ticket}", "get")
    with services.transaction() as db:
        actions = [e.action for e in staff_store.audit_entries(db)]
    assert "case_status" in actions


def test_every_route_naming_a_case_answers_another_agencys_case_as_a_missing_one(console, services, keys):
    """One own-case lookup: reading, moving, referencing or commenting on another agency's case is the same 404
    as a ticket that does not exist, and changes nothing."""
    from storage.models import Case, CaseNote, StatusChange
    from storage.models.integrations import CaseReference

    theirs = console_case(services, agency_id="mea")

    def state():
        with services.transaction() as db:
            case = db.query(Case).filter_by(ticket=theirs).one()
            return (case.status, *(db.query(model).filter_by(case_id=case.id).count()
                                   for model in (StatusChange, CaseReference, CaseNote)))

    before = state()
    client = console.test_client()
    calls = (("get", "", None), ("post", "/status", {"status": "accepted"}),
             ("post", "/references", {"kind": "1111", "value": "R-1"}), ("post", "/comments", {"text": "รับทราบ"}))
    for method, tail, body in calls:
        for ticket in (theirs, "XX-0000-000"):
            answer = getattr(client, method)(f"/api/v1/cases/{ticket}{tail}", json=body, headers=keys["bma"])
            assert answer.status_code == 404, (tail, ticket, answer.get_json())
            assert answer.get_json() == {"error": {"code": "not_found", "message": f"no case {ticket} for this agency"}}
    assert state() == before
