"""The OpenAPI 3.1 document of the agency API (served at ``/api/v1/openapi.json``; tests validate real
responses against it)."""

from __future__ import annotations

from bot.casework.states import STATES

_datetime = {"type": ["string", "null"], "format": "date-time"}
_error = {"$ref": "#/components/schemas/Error"}


def _response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_errors = {"401": _response("Missing or invalid key", _error), "404": _response("No such case for this agency", _error)}

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {"title": "Siang agency API", "version": "1.0.0",
             "description": "Agency systems read their cases and update their status. Every key belongs to one "
                            "agency and sees only that agency's cases. No personal data is exposed."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/cases": {"get": {
            "operationId": "listCases", "summary": "The agency's cases, most recently updated first",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
                {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            ],
            "responses": {"200": _response("Cases", {"type": "object", "required": ["cases"], "properties": {
                "cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}}}),
                "400": _response("Bad parameter", _error), "401": _errors["401"]}}},
        "/cases/{ticket}": {"get": {
            "operationId": "getCase", "summary": "One case with its status history",
            "parameters": [{"name": "ticket", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _response("The case", {"$ref": "#/components/schemas/CaseWithHistory"}), **_errors}}},
        "/cases/{ticket}/status": {"post": {
            "operationId": "updateStatus", "summary": "Move the case to a new status; the citizen is notified",
            "parameters": [{"name": "ticket", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/StatusUpdate"}}}},
            "responses": {"200": _response("The updated case", {"$ref": "#/components/schemas/CaseWithHistory"}),
                          "400": _response("Invalid body", _error), **_errors,
                          "409": _response("Transition not allowed from the current status", _error)}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Status": {"type": "string", "enum": list(STATES)},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "StatusUpdate": {"type": "object", "required": ["status"], "additionalProperties": False, "properties": {
                "status": {"$ref": "#/components/schemas/Status"},
                "note": {"type": ["string", "null"], "description": "Shown to the citizen"},
                "reason": {"type": ["string", "null"], "description": "Required for rejected"}}},
            "Case": {"type": "object",
                     "required": ["ticket", "status", "category", "agency_id", "description", "created_at",
                                  "updated_at"],
                     "properties": {
                         "ticket": {"type": "string", "pattern": "^[A-Z]+-[0-9]{4}-[0-9]{6}$"},
                         "status": {"$ref": "#/components/schemas/Status"},
                         "category": {"type": "string"}, "agency_id": {"type": ["string", "null"]},
                         "province": {"type": ["string", "null"]}, "place": {"type": ["string", "null"]},
                         "urgent": {"type": "boolean"}, "description": {"type": "string"},
                         "created_at": _datetime, "updated_at": _datetime, "target_due_at": _datetime,
                         "resolved_at": _datetime}},
            "CaseWithHistory": {"allOf": [{"$ref": "#/components/schemas/Case"}], "type": "object",
                                "required": ["history"], "properties": {
                "history": {"type": "array", "items": {"type": "object", "required": ["status", "at"], "properties": {
                    "status": {"$ref": "#/components/schemas/Status"},
                    "from_status": {"type": ["string", "null"]}, "at": _datetime,
                    "note": {"type": ["string", "null"]}}}}}},
        },
    },
}
