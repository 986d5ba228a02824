"""Signing in: Argon2 hashes, throttling, TOTP, expiring sessions, CSRF on every form."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from storage.models import AuditEntry, StaffUser
from tests.console.conftest import PASSWORD, login, make_staff, token

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_passwords_are_stored_as_argon2id_hashes_and_a_right_password_signs_in(console, services):
    make_staff(services, "admin", "administrator")
    with services.transaction() as db:
        stored = db.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    client = console.test_client()
    assert login(client, "admin").status_code == 302
    assert client.get("/console/cases").status_code == 200


def test_a_wrong_password_is_refused_and_audited(console, services):
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    assert login(client, "admin", "wrong password!").status_code == 401
    assert client.get("/console/cases").status_code == 302  # back to the login page
    with services.transaction() as db:
        assert db.scalar(select(AuditEntry.action)) == "login_failed"


def test_five_failures_lock_the_account_for_a_while_even_with_the_right_password(console, services):
    make_staff(services, "staff1", "administrator")
    client = console.test_client()
    for _ in range(5):
        assert login(client, "staff1", "guess-guess-guess").status_code == 401
    response = login(client, "staff1")
    assert response.status_code == 429
    assert "15 นาที" in response.get_data(as_text=True)


def test_with_totp_the_password_alone_does_not_sign_in(console, services):
    secret = pyotp.random_base32()
    make_staff(services, "exec", "executive", totp_secret=secret)
    client = console.test_client()
    response = login(client, "exec")
    assert response.status_code == 302 and "/console/login/totp" in response.location
    assert client.get("/console/dashboard").status_code == 302
    form_token = token(client, "/console/login/totp")
    assert client.post("/console/login/totp", data={"code": "000000", "csrf_token": form_token}).status_code == 401
    ok = client.post("/console/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": form_token})
    assert ok.status_code == 302
    assert client.get("/console/dashboard").status_code == 200


def test_a_session_idle_longer_than_allowed_expires(console, services):
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    assert client.get("/console/cases").status_code == 200
    console.config["CONSOLE_IDLE_SECONDS"] = -1
    response = client.get("/console/cases")
    assert response.status_code == 302 and "/console/login" in response.location


def test_a_form_posted_without_its_csrf_token_is_refused(console, services):
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    assert client.post("/console/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    login(client, "admin")
    response = client.post("/console/admin/staff", data={"username": "x", "password": "long enough pw",
                                                          "role": "executive"})
    assert response.status_code == 400
    with services.transaction() as db:
        assert db.scalar(select(StaffUser).where(StaffUser.username == "x")) is None
