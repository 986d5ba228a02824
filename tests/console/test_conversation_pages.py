"""The console's conversation views: what each role sees, and background polling that keeps no one signed in."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.console.auth import BACKGROUND_HEADER
from bot.casework.work import reply_to_citizen
from storage.models import Case, CaseMessage
from tests.console.conftest import login, make_staff
from tests.factories import console_case


def _conversation(console, services, ticket: str) -> None:
    with console.app_context(), services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        reply_to_citizen(db, case, "ขอบ้านเลขที่ด้วยครับ", "staff:1")
        db.add(CaseMessage(case_id=case.id, text="บ้านเลขที่ 88/8 โทร 0812345678", latitude=13.75, longitude=100.5))


def test_the_conversation_json_is_masked_and_without_coordinates_for_roles_without_personal_data(console, services):
    ticket = console_case(services, line_user_id="U" + "4" * 32, agency_id="bma")
    _conversation(console, services, ticket)
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    make_staff(services, "exec", "executive")
    officer, executive = console.test_client(), console.test_client()
    login(officer, "bma1")
    login(executive, "exec")
    mine = officer.get(f"/console/cases/{ticket}/conversation").json
    assert mine["open"] is True and [i["who"] for i in mine["items"]] == ["staff", "citizen"]
    assert "0812345678" in mine["items"][1]["text"] and mine["items"][1]["map"]
    seen = executive.get(f"/console/cases/{ticket}/conversation").json
    assert "0812345678" not in seen["items"][1]["text"] and "88/8" not in seen["items"][1]["text"]
    assert seen["items"][1]["map"] is None
    make_staff(services, "mea1", "agency_staff", agency_id="mea")
    other = console.test_client()
    login(other, "mea1")
    assert other.get(f"/console/cases/{ticket}/conversation").status_code == 404


def test_background_polling_does_not_keep_an_unattended_session_alive(console, services):
    ticket = console_case(services, line_user_id="U" + "5" * 32, agency_id="bma")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")
    long_ago = time.time() - 600
    with client.session_transaction() as session:
        session["seen_at"] = long_ago
    polled = client.get(f"/console/cases/{ticket}/conversation", headers={BACKGROUND_HEADER: "1"})
    assert polled.status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] == long_ago
    assert client.get(f"/console/cases/{ticket}").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] > long_ago
