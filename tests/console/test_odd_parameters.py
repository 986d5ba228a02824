"""No odd parameter makes a 500: every GET route of the console and the APIs (read from ``app.url_map``) is
requested with out-of-range dates, numbers like ``1e23``, unknown ids, control characters and CR/LF, and
must answer below 500; console pages refuse to be framed and are never content-sniffed."""

from __future__ import annotations

import random
import re
from urllib.parse import quote, urlencode

import pytest

from storage import staff as staff_store
from tests.console.conftest import login, make_staff
from tests.factories import console_case

PARAMS = ("page", "from", "to", "start_date", "end_date", "updated_since", "limit", "status", "topic", "q", "sort",
          "next", "service_request_id", "service_code", "actor", "action", "period", "province", "category",
          "agency", "urgent", "overdue", "skill", "availability", "lat", "long")
ODD = ("1e23", str(10 ** 23), "-1", "0", "NaN", "-Infinity", "9999-99-99", "0001-01-01", "10000-01-01T00:00:00",
       "0001-01-01T00:00:00+14:00", "2026-02-30", "\x00", "/console\r\nSet-Cookie: x=1", "\u202eไทย\u200b",
       "'; DROP TABLE cases; --", "%", "ก" * 3000, "DR-2569-999999,DR-0000-000001," * 60)
PATH_VALUES = {"int": ("1", str(10 ** 23), "0", "99999999999999999999"), "default": ("DR-2569-999999", "1e23",
               "%00", "..%2F..%2Fetc", "ก" * 300)}
SKIPPED = {"static", "console_font"}


def _get_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in SKIPPED
            and rule.rule.startswith(("/console", "/open311", "/api", "/healthz"))]


def _paths(rule, known: dict[str, str]) -> list[str]:
    """The rule with each of its variables set to a real value, then to each odd one."""
    converters = {name: type(conv).__name__ for name, conv in rule._converters.items()}

    def build(values: dict[str, str]) -> str:
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(value, safe=""), path, count=1)
        return path.replace("<any(json,xml):fmt>", "json")

    names = [n for n in converters if n != "fmt"]
    base = {n: known.get(n, "1") for n in names}
    paths = [build(base)]
    for name in names:
        kind = "int" if converters[name] == "IntegerConverter" else "default"
        paths += [build({**base, name: value}) for value in PATH_VALUES[kind]]
    if "fmt" in converters:
        paths += [p.replace(".json", ".xml") for p in list(paths)]
    return paths


@pytest.fixture
def signed_in(console, services):
    ticket = console_case(services, line_user_id="U" + "1" * 32)
    make_staff(services, "admin", "administrator")
    with services.transaction() as db:
        _, key = staff_store.create_api_key(db, name="bma", scope="agency", agency_id="bma", created_by="t")
    client = console.test_client()
    login(client, "admin")
    return client, {"ticket": ticket, "code": "ถนน"}, {"Authorization": f"Bearer {key}"}


def test_no_get_route_answers_5xx_to_odd_parameters(console, signed_in):
    client, known, headers = signed_in
    rng = random.Random(12)
    failures, asked = [], 0
    anonymous = console.test_client()
    for rule in _get_routes(console):
        # The sign-in pages end a half-finished sign-in: ask them as a visitor, the rest as the administrator.
        asking = anonymous if rule.endpoint.startswith("console_auth.") else client
        for path in _paths(rule, known):
            queries = [""] + [urlencode({p: value for p in PARAMS}) for value in ODD]
            queries += [urlencode({rng.choice(PARAMS): rng.choice(ODD)}) for _ in range(8)]
            for query in queries:
                response = asking.get(f"{path}?{query}" if query else path, headers=headers)
                asked += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {rule.endpoint} {path[:80]}?{query[:80]}")
    assert client.get("/console/cases").status_code == 200  # still signed in: every page was really reached
    assert asked > 1500
    by_route = {}
    for failure in failures:
        by_route.setdefault(failure.split()[1], failure)
    assert failures == [], f"{len(failures)} of {asked}, first of each route:\n" + "\n".join(by_route.values())


@pytest.mark.parametrize("query,status", [("from=2026-13-01", 400), ("from=0001-01-01", 400),
                                          ("to=9999-12-31", 400), ("page=1e23", 200)])
def test_an_odd_export_or_page_parameter_is_a_clear_4xx_or_ignored(console, signed_in, query, status):
    client, _, _ = signed_in
    path = "/console/cases.csv" if "page" not in query else "/console/cases"
    response = client.get(f"{path}?{query}")
    assert response.status_code == status
    if status == 400:
        assert "YYYY-MM-DD" in response.get_data(as_text=True)


@pytest.mark.parametrize("next_value", ["/console/cases\r\nSet-Cookie: stolen=1", "/console/\nx", "/console/\x00"])
def test_a_next_with_control_characters_is_refused_with_a_message(console, signed_in, next_value):
    client = console.test_client()
    response = client.get("/console/login?" + urlencode({"next": next_value}))
    assert response.status_code == 400 and "next" in response.get_data(as_text=True)


def test_unknown_and_huge_ids_are_clear_4xx(console, signed_in):
    client, known, _ = signed_in
    for path in (f"/console/announcements/{10 ** 23}", "/console/announcements/7",
                 f"/console/cases/{known['ticket']}/photos/{10 ** 23}", "/console/cases/DR-0000-000000"):
        assert client.get(path).status_code == 404, path
    refused = client.get(f"/console/opinions?topic={10 ** 23}")
    assert refused.status_code == 400 and "topic" in refused.get_data(as_text=True)
    assert client.get(f"/api/v1/cases?limit={10 ** 23}", headers=signed_in[2]).status_code == 400


def test_console_pages_cannot_be_framed_or_sniffed(console, signed_in):
    client, _, _ = signed_in
    for path in ("/console/login", "/console/cases", "/console/dashboard", "/console/cases.csv"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/open311/v2/services.json").headers["X-Content-Type-Options"] == "nosniff"
