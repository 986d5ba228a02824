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
        "/cases": {"post": {
            "operationId": "createCase",
            "summary": "File a complaint that reached the agency by phone, letter or in person; idempotent by "
                       "client_ticket_id (the same id again: 200 with the same case)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/CaseCreate"}}}},
            "responses": {"201": _response("The new case", {"$ref": "#/components/schemas/CaseWithHistory"}),
                          "200": _response("The case this client_ticket_id made before",
                                           {"$ref": "#/components/schemas/CaseWithHistory"}),
                          "400": _response("Invalid body", _error), "401": _errors["401"]}}, "get": {
            "operationId": "listCases", "summary": "The agency's cases, most recently updated first",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
                {"name": "reference", "in": "query", "schema": {"type": "string"},
                 "description": "Cases carrying this outside reference (1111, 1567, Traffy, letter number)"},
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
        "/cases/{ticket}/references": {"post": {
            "operationId": "addReference", "summary": "Record the case's number in another channel",
            "parameters": [{"name": "ticket", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Reference"}}}},
            "responses": {"201": _response("Added", {"$ref": "#/components/schemas/Case"}),
                          "200": _response("Already there", {"$ref": "#/components/schemas/Case"}),
                          "400": _response("Invalid reference", _error), **_errors}}},
        "/cases/{ticket}/comments": {"post": {
            "operationId": "addComment", "summary": "An internal note on the case's timeline",
            "parameters": [{"name": "ticket", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}}}},
            "responses": {"201": _response("The case", {"$ref": "#/components/schemas/CaseWithHistory"}),
                          "400": _response("Invalid body", _error), **_errors}}},
        "/webhooks": {
            "get": {"operationId": "listWebhooks", "summary": "This key's webhook registrations",
                    "responses": {"200": _response("Registrations", {"type": "object", "properties": {
                        "webhooks": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}}),
                        "401": _errors["401"]}},
            "post": {"operationId": "registerWebhook",
                     "summary": "POST signed case events (X-Siang-Signature: sha256=HMAC of the body) to a URL",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["url"], "properties": {
                             "url": {"type": "string"}, "name": {"type": "string"},
                             "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}}}},
                     "responses": {"201": _response("Registered; the secret is shown once", {
                         "allOf": [{"$ref": "#/components/schemas/Webhook"}], "required": ["secret"],
                         "properties": {"secret": {"type": "string"}}}),
                         "400": _response("Invalid URL or events", _error), "401": _errors["401"]}}},
        "/webhooks/{registration_id}": {"delete": {
            "operationId": "removeWebhook", "summary": "Stop sending to this registration",
            "parameters": [{"name": "registration_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "responses": {"204": {"description": "Removed"}, "401": _errors["401"],
                          "404": _response("No such registration of this key", _error)}}},
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
                         "resolved_at": _datetime, "channel": {"type": "string"},
                         "references": {"type": "array", "items": {"$ref": "#/components/schemas/Reference"}}}},
            "Reference": {"type": "object", "required": ["kind", "value"], "properties": {
                "kind": {"type": "string", "enum": ["1111", "1567", "traffy", "letter", "other"]},
                "value": {"type": "string", "maxLength": 120}, "added_at": _datetime}},
            "CaseCreate": {"type": "object", "required": ["client_ticket_id", "description"], "properties": {
                "client_ticket_id": {"type": "string", "maxLength": 120,
                                     "description": "The agency system's own id: the same id again is the same case"},
                "description": {"type": "string", "maxLength": 4000},
                "channel": {"type": "string", "enum": ["phone", "letter", "walk_in", "email", "other"]},
                "category": {"type": "string", "description": "A category id; classified from the text if absent"},
                "province": {"type": "string"}, "district": {"type": "string"}, "address": {"type": "string"},
                "latitude": {"type": "number"}, "longitude": {"type": "number"}, "phone": {"type": "string"},
                "urgent": {"type": "boolean"},
                "references": {"type": "array", "items": {"$ref": "#/components/schemas/Reference"}}}},
            "Event": {"type": "string", "enum": ["case.created", "case.status_changed", "case.rated",
                                                 "case.commented"]},
            "Webhook": {"type": "object", "required": ["id", "url", "events", "active"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"},
                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                "agency_id": {"type": ["string", "null"]}, "active": {"type": "boolean"}}},
            "CaseWithHistory": {"allOf": [{"$ref": "#/components/schemas/Case"}], "type": "object",
                                "required": ["history"], "properties": {
                "history": {"type": "array", "items": {"type": "object", "required": ["status", "at"], "properties": {
                    "status": {"$ref": "#/components/schemas/Status"},
                    "from_status": {"type": ["string", "null"]}, "at": _datetime,
                    "note": {"type": ["string", "null"]}}}}}},
        },
    },
}
