"""Request bodies checked against LINE's own OpenAPI file, so a body the real platform would refuse fails here.

OpenAPI 3.0 is not quite JSON Schema, and LINE's spec leans on the difference: a polymorphic type such as
`Message`, `Action`, `FlexComponent` or `Template` is a base schema with a `discriminator` mapping, and each
concrete type (`TextMessage`...) is `allOf: [base, own fields]`. A plain JSON Schema validator would check a
message only against the base and accept an unknown `type` or a text message without `text`. So each
discriminated schema is converted twice: `X__base` (the base, used inside its subtypes' `allOf`) and `X` (the
dispatcher: the discriminator must be one of the mapping's keys, and `if type == k then $ref mapping[k]`).
`nullable` becomes a union with null; OpenAPI-only keywords are dropped.

Two shortcuts keep this cheap for an announcement's thousands of identical multicasts, with the same results:
- an array of plain strings (a multicast's 500 user ids) is checked in one pass (`_items`): the generic
  validator descends into each item separately, which cost about 3 ms per multicast;
- an item of any other array (a message object) that already passed against the same schema is remembered by
  its exact JSON (`_KnownValid`), so the same message sent 2,000 times is checked against the spec once
  (0.8 ms per multicast otherwise). Anything not remembered, or any array with an unknown item, goes through
  the generic check, which names every problem.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema import _keywords as keywords
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

_COMPONENT = "#/components/schemas/"
_DROPPED = {"discriminator", "example", "externalDocs", "xml", "nullable"}

format_checker = FormatChecker(formats=())


@format_checker.checks("uri")
def _is_absolute_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


# Keywords a one-pass item check understands; annotations do not constrain anything.
_SCALAR_KEYWORDS = {"type", "minLength", "maxLength", "pattern", "description", "title", "examples"}
_scalar_checks: dict[int, tuple[dict[str, Any], Callable[[Any], bool] | None]] = {}


def _scalar_check(items: Any) -> Callable[[Any], bool] | None:
    """A predicate equal to validating one item against ``items`` when that schema only constrains strings
    (type string, lengths, pattern); None for anything else. Cached per schema object (schemas live as long as
    their validator, which keeps the cached dict alive so its id is never reused)."""
    cached = _scalar_checks.get(id(items))
    if cached is not None and cached[0] is items:
        return cached[1]
    check: Callable[[Any], bool] | None = None
    if isinstance(items, dict) and items.get("type") == "string" and set(items) <= _SCALAR_KEYWORDS:
        low, high = items.get("minLength", 0), items.get("maxLength")
        pattern = re.compile(items["pattern"]) if "pattern" in items else None

        def string_check(value: Any) -> bool:
            return (isinstance(value, str) and len(value) >= low and (high is None or len(value) <= high)
                    and (pattern is None or pattern.search(value) is not None))
        check = string_check
    _scalar_checks[id(items)] = (items, check)
    return check


class _KnownValid:
    """Canonical JSON of items that passed against a schema object, at most ``limit`` per schema (then
    forgotten wholesale: a cache, never a decision)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._seen: dict[int, tuple[Any, set[str]]] = {}
        self._lock = threading.Lock()

    def keys(self, items: Any, instance: list[Any]) -> tuple[set[str], list[str]] | None:
        """(the remembered keys for ``items``, the instance's keys); None if an item cannot be keyed."""
        try:
            keys = [json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for item in instance]
        except (TypeError, ValueError):
            return None
        with self._lock:
            entry = self._seen.get(id(items))
            if entry is None or entry[0] is not items:
                entry = self._seen[id(items)] = (items, set())
        return entry[1], keys

    def remember(self, known: set[str], keys: list[str]) -> None:
        with self._lock:
            if len(known) + len(keys) > self.limit:
                known.clear()
            known.update(keys)


_known_valid = _KnownValid()


def _items(validator: Any, items: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """Draft 2020-12 ``items``, with arrays of plain strings checked in one pass and items already known to be
    valid against ``items`` not checked again; everything else (and every error) as the generic keyword."""
    if not isinstance(instance, list) or "prefixItems" in schema or isinstance(items, bool):
        yield from keywords.items(validator, items, instance, schema)
        return
    check = _scalar_check(items)
    if check is not None:
        if not all(check(item) for item in instance):
            yield from keywords.items(validator, items, instance, schema)
        return
    memo = _known_valid.keys(items, instance)
    if memo is not None and all(key in memo[0] for key in memo[1]):
        return
    errors = list(keywords.items(validator, items, instance, schema))
    if not errors and memo is not None:
        _known_valid.remember(*memo)
    yield from errors


LineSchemaValidator = extend(Draft202012Validator, validators={"items": _items})


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    operation_id: str
    validator: Any  # a LineSchemaValidator


def _convert(node: Any, components: dict[str, Any], in_subtype_allof: bool = False) -> Any:
    if isinstance(node, list):
        return [_convert(item, components, in_subtype_allof) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix(_COMPONENT)
        polymorphic = "discriminator" in components.get(name, {})
        suffix = "__base" if polymorphic and in_subtype_allof else ""
        return {"$ref": f"#/$defs/{name}{suffix}"}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties":
            out[key] = {prop: _convert(sub, components) for prop, sub in value.items()}
        elif key == "allOf":
            out[key] = _convert(value, components, in_subtype_allof=True)
        elif key in ("items", "additionalProperties", "not", "anyOf", "oneOf"):
            out[key] = _convert(value, components)
        else:
            out[key] = value
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _dispatcher(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    prop = schema["discriminator"]["propertyName"]
    mapping: dict[str, str] = schema["discriminator"]["mapping"]
    return {
        "type": "object",
        "required": [prop],
        "properties": {prop: {"enum": sorted(mapping)}},
        "allOf": [
            {"if": {"properties": {prop: {"const": key}}, "required": [prop]},
             "then": {"$ref": "#/$defs/" + ref.removeprefix(_COMPONENT)}}
            for key, ref in mapping.items()
        ],
    }


def _definitions(components: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name, schema in components.items():
        if "discriminator" in schema:
            defs[f"{name}__base"] = _convert(schema, components)
            defs[name] = _dispatcher(name, schema)
        else:
            defs[name] = _convert(schema, components)
    return defs


def _property_path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        if missing:
            path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path


def _error_message(error: ValidationError) -> str:
    if error.validator == "required":
        return "must be specified"
    if error.validator == "maxItems" or error.validator == "minItems":
        return f"Size must be between {error.schema.get('minItems', 0)} and {error.schema.get('maxItems', '∞')}"
    if error.validator == "maxLength":
        return f"Length must be between 0 and {error.validator_value}"
    return error.message


class SpecValidator:
    """Finds the operation for a method and path and lists what is wrong with a JSON body."""

    def __init__(self, spec: dict[str, Any]) -> None:
        defs = _definitions(spec["components"]["schemas"])
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            for method, operation in item.items():
                content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) \
                    else {}
                schema = content.get("application/json", {}).get("schema")
                if schema is None:
                    continue
                regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
                root = {"$defs": defs, **_convert(schema, spec["components"]["schemas"])}
                validator = LineSchemaValidator(root, format_checker=format_checker)
                self.operations.append(Operation(method.upper(), template, re.compile(regex),
                                                 operation.get("operationId", ""), validator))
        # Literal paths first, so /v2/bot/user/all/richmenu/{id} wins over /v2/bot/user/{userId}/richmenu/{id}.
        self.operations.sort(key=lambda op: op.template.count("{"))
        self._found: dict[tuple[str, str], Operation | None] = {}

    def find(self, method: str, path: str) -> Operation | None:
        """The operation for a request; remembered per (method, path), since each lookup tries every path
        pattern of the spec in turn and a bench sends thousands of requests to one path."""
        key = (method, path)
        if key not in self._found:
            if len(self._found) > 4096:
                self._found.clear()
            self._found[key] = next((op for op in self.operations
                                     if op.method == method and op.pattern.match(path)), None)
        return self._found[key]

    def validate(self, operation: Operation, body: Any) -> list[dict[str, str]]:
        errors = sorted(operation.validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        return [{"message": _error_message(e), "property": _property_path(e)} for e in errors]


@functools.lru_cache(maxsize=4)
def load_spec_validator(spec_path: str) -> SpecValidator:
    """Parsing the 6,000-line spec takes a moment; every emulator in a test run shares one validator."""
    with open(spec_path, encoding="utf-8") as handle:
        return SpecValidator(yaml.safe_load(handle))
