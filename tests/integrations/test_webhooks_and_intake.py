"""The agency API's intake (idempotent by client_ticket_id), outside references, and outbound webhooks:
signed, exactly one accepted delivery per event and registration through the outbox (a real receiver that
answers 500 first), and no echo of an integrator's own changes."""

from __future__ import annotations

import time

import requests
from sqlalchemy import func, select

from bot.casework.lifecycle import rate
from bot.casework import work
from storage.models import ApiCaseIntake, Case, OutboxMessage
from tests.factories import console_case
from tests.integrations.conftest import valid_signature

WAIT = 40


def api(bot, method: str, path: str, key: dict, **kwargs):
    return requests.request(method, f"{bot.url}/api/v1{path}", headers={"Authorization": key["Authorization"]},
                            timeout=20, **kwargs)


def register(bot, key: dict, receiver, path: str) -> dict:
    answer = api(bot, "POST", "/webhooks", key, json={"url": f"{receiver.url}{path}", "name": path})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_settled(bot, expected_rows: int) -> None:
    """Every webhook row delivered (none pending or sending), and as many as expected."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with bot.services.transaction() as db:
            rows = db.execute(select(OutboxMessage.status, func.count()).where(OutboxMessage.kind == "webhook")
                              .group_by(OutboxMessage.status)).all()
        counts = dict(rows)
        if sum(counts.values()) >= expected_rows and set(counts) <= {"sent", "failed"}:
            assert counts == {"sent": expected_rows}, counts
            return
        time.sleep(0.1)
    raise AssertionError(f"webhook rows not settled: {counts}")


def test_phone_complaints_are_created_once_per_client_ticket_id_with_their_references(bot, line, agency_keys):
    key = agency_keys["saraban"]
    body = {"client_ticket_id": "SRB-2569-0042", "channel": "letter",
            "description": "หนังสือร้องเรียน ท่อระบายน้ำอุดตันหน้าตลาด น้ำท่วมขังทุกครั้งที่ฝนตก",
            "district": "บางกะปิ", "province": "กรุงเทพมหานคร",
            "references": [{"kind": "letter", "value": "กทม 0123/2569"}, {"kind": "1111", "value": "1111-66-778899"}]}
    first = api(bot, "POST", "/cases", key, json=body)
    assert first.status_code == 201, first.text
    again = api(bot, "POST", "/cases", key, json=body)
    assert again.status_code == 200
    assert again.json()["ticket"] == first.json()["ticket"]
    case = first.json()
    assert case["agency_id"] == "bma" and case["channel"] == "letter"
    assert {(r["kind"], r["value"]) for r in case["references"]} == {("letter", "กทม 0123/2569"),
                                                                       ("1111", "1111-66-778899")}
    # Another agency's system may use the same numbering: its own case.
    other = api(bot, "POST", "/cases", agency_keys["mea-erp"], json={**body, "references": []})
    assert other.status_code == 201 and other.json()["ticket"] != case["ticket"]
    with bot.services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 2
        assert db.scalar(select(func.count()).select_from(ApiCaseIntake)) == 2

    # Found by a reference, added later through the API, and returned with the case.
    assert api(bot, "POST", f"/cases/{case['ticket']}/references", key,
               json={"kind": "traffy", "value": "2024-ABCD12"}).status_code == 201
    assert api(bot, "POST", f"/cases/{case['ticket']}/references", key,
               json={"kind": "traffy", "value": "2024-ABCD12"}).status_code == 200
    assert api(bot, "POST", f"/cases/{case['ticket']}/references", key,
               json={"kind": "fax", "value": "1"}).status_code == 400
    found = api(bot, "GET", "/cases?reference=2024-ABCD12", key).json()["cases"]
    assert [c["ticket"] for c in found] == [case["ticket"]]
    assert api(bot, "GET", "/cases?reference=2024-ABCD12", agency_keys["mea-erp"]).json()["cases"] == []
    assert api(bot, "POST", "/cases", key, json={"description": "x"}).status_code == 400


def test_each_event_reaches_each_registration_once_signed_and_not_echoed(bot, line, agency_keys, receiver):
    traffy, saraban = agency_keys["traffy"], agency_keys["saraban"]
    hook_t = register(bot, traffy, receiver, "/traffy")
    hook_s = register(bot, saraban, receiver, "/saraban")
    hook_mea = register(bot, agency_keys["mea-erp"], receiver, "/mea")
    citizen = line.create_user("สมหญิง รักเมือง")["user_id"]

    # 1. Traffy files a case: Saraban hears "created", Traffy (who made it) does not.
    made = api(bot, "POST", "/cases", traffy, json={"client_ticket_id": "TF-1", "description":
                                                      "ไฟถนนดับทั้งซอย ลาดพร้าว 101", "district": "บางกะปิ"})
    assert made.status_code == 201
    ticket = made.json()["ticket"]
    # 2. Traffy moves it: again only Saraban hears.
    assert api(bot, "POST", f"/cases/{ticket}/status", traffy, json={"status": "accepted"}).status_code == 200
    # 3. Saraban comments: only Traffy hears.
    assert api(bot, "POST", f"/cases/{ticket}/comments", saraban, json={"text": "รับหนังสือแล้ว"}).status_code == 201
    # 4. The console moves it and a citizen's case is rated: both hear; the MEA's hook hears nothing of the BMA.
    with bot.app.app_context(), bot.services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        work.set_status(db, case, "resolved", "staff:1", note="ซ่อมแล้ว")
    rated = console_case(bot.services, line_user_id=citizen, agency_id="bma")
    with bot.app.app_context(), bot.services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == rated))
        work.set_status(db, case, "accepted", "staff:1")
        work.set_status(db, case, "resolved", "staff:1", note="ซ่อมแล้ว")
    with bot.app.app_context(), bot.services.transaction() as db:
        rate(db, db.scalar(select(Case).where(Case.ticket == rated)), 4, None, "citizen")

    # The second case (created, accepted, resolved, rated) reaches both; of the first, Traffy hears the
    # comment and the console's resolution, Saraban the creation, Traffy's acceptance and the resolution.
    second = ["case.created", "case.status_changed", "case.status_changed", "case.rated"]
    expected = {"/traffy": ["case.commented", "case.status_changed", *second],
                "/saraban": ["case.created", "case.status_changed", "case.status_changed", *second]}
    wait_settled(bot, sum(len(v) for v in expected.values()))
    secrets = {"/traffy": hook_t["secret"], "/saraban": hook_s["secret"]}
    for path, events in expected.items():
        accepted = receiver.accepted(path)
        assert [a["json"]["event"] for a in accepted] == events, path
        assert len({a["json"]["id"] for a in accepted}) == len(events)  # exactly one accepted delivery per event
        assert all(valid_signature(secrets[path], a) for a in accepted)
        assert all(a["event"] == a["json"]["event"] for a in accepted)
        attempts = receiver.all(path)
        # Each delivery was refused once (500) and accepted once, with the same retry key both times.
        assert len(attempts) == 2 * len(events)
        for a in accepted:
            assert [b["status"] for b in attempts if b["retry_key"] == a["retry_key"]] == [500, 200]
    assert receiver.all("/mea") == []
    last = receiver.accepted("/saraban")[-1]["json"]
    assert last["case"]["ticket"] == rated and last["rating"] == 4
    assert "0812345678" not in str(receiver.accepted("/saraban"))  # the agency API's masked view

    # A forged or altered body does not match the signature.
    tampered = {**receiver.accepted("/traffy")[0], "body": receiver.accepted("/traffy")[0]["body"] + b" "}
    assert not valid_signature(hook_t["secret"], tampered)
    assert hook_mea["events"] == ["case.created", "case.status_changed", "case.rated", "case.commented"]


def test_a_private_address_is_refused_unless_allowed(bot, line, agency_keys, monkeypatch):
    from bot.integrations.webhooks import check_url

    assert check_url("http://127.0.0.1:9/x", allow_private=True)
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.5/x", "ftp://example.org/x", "http:///x"):
        try:
            check_url(url, allow_private=False)
        except ValueError:
            continue
        raise AssertionError(f"{url} accepted")


def test_concurrent_retries_of_one_client_ticket_id_make_one_case(bot, line, agency_keys):
    """A system that times out and retries at once: eight identical requests in parallel, one case."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"client_ticket_id": "TEL-0001", "channel": "phone", "description": "โทรแจ้ง ขยะไม่ได้เก็บสามวัน ส่งกลิ่นเหม็น"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: api(bot, "POST", "/cases", agency_keys["saraban"], json=body), range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["ticket"] for a in answers}) == 1
    with bot.services.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1
