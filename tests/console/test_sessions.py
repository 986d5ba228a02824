"""Console sessions end when they should: sign-out, a disabled account, a changed password; the cookie is
HttpOnly, SameSite=Lax, Secure in production, and lives no longer than a session may."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
from itsdangerous import URLSafeTimedSerializer

from bot import create_app
from bot.config import Settings
from tests.conftest import SECRET, TOKEN, make_settings
from tests.console.conftest import login, make_staff, seed, token


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(console, cookie: str):
    """A second browser that only has a copy of the cookie (stolen, or left on a shared computer)."""
    thief = console.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/console/cases")


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(console, services):
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")
    copy = _cookie(client)
    assert _replay(console, copy).status_code == 200
    client.post("/console/logout", data={"csrf_token": token(client)})
    assert _replay(console, copy).status_code == 302


@pytest.mark.parametrize("change", [{"active": "0"}, {"password": "a new long password"}],
                         ids=["disabled", "password-changed"])
def test_an_administrators_change_ends_the_accounts_sessions(console, services, change):
    staff_id = make_staff(services, "bma1", "agency_staff", agency_id="bma")
    make_staff(services, "admin", "administrator")
    officer, admin = console.test_client(), console.test_client()
    login(officer, "bma1")
    login(admin, "admin")
    assert officer.get("/console/cases").status_code == 200
    copy = _cookie(officer)
    response = admin.post(f"/console/admin/staff/{staff_id}", data={**change, "csrf_token": token(admin)})
    assert response.status_code == 302
    assert officer.get("/console/cases").status_code == 302
    if "active" in change:  # enabled again: the old session stays over
        admin.post(f"/console/admin/staff/{staff_id}", data={"active": "1", "csrf_token": token(admin)})
        assert _replay(console, copy).status_code == 302


def test_a_cookie_signed_with_the_old_development_constant_is_worthless(database_url, emulator_server):
    """Before, an app configured without SECRET_KEY signed sessions with a constant anyone can read."""
    settings = Settings.from_env({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                                  "LINE_API_BASE_URL": emulator_server.base_url, "DATABASE_URL": database_url},
                                 development_secret=True)
    app = create_app(settings)
    seed(app.extensions["siang"])
    staff_id = make_staff(app.extensions["siang"], "admin", "administrator")
    forged = URLSafeTimedSerializer("embedded-development-only", salt="cookie-session",
                                    signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"})
    cookie = forged.dumps({"staff_id": staff_id, "version": 0, "login_at": time.time(), "seen_at": time.time()})
    assert _replay(app, cookie).status_code == 302
    app.extensions["siang"].engine.dispose()


def _set_cookie(response) -> SimpleCookie:
    jar = SimpleCookie()
    jar.load(response.headers["Set-Cookie"])
    return jar


def test_the_session_cookie_is_httponly_lax_and_expires_with_the_session(console, services):
    make_staff(services, "admin", "administrator")
    response = login(console.test_client(), "admin")
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header  # embedded: plain http
    expires = parsedate_to_datetime(_set_cookie(response)["session"]["expires"]).timestamp()
    assert abs(expires - time.time() - console.config["CONSOLE_SESSION_MAX_SECONDS"]) < 60


def test_in_production_the_session_cookie_is_secure(database_url, emulator_server):
    app = create_app(make_settings(database_url, emulator_server.base_url, session_cookie_secure=True))
    seed(app.extensions["siang"])
    make_staff(app.extensions["siang"], "admin", "administrator")
    client = app.test_client()
    response = login(client, "admin")
    assert "Secure" in response.headers["Set-Cookie"]
    app.extensions["siang"].engine.dispose()


def test_a_session_of_an_account_whose_version_moved_on_is_refused_on_the_next_request(console, services):
    """The check is made on every request, not only at sign-in."""
    staff_id = make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    from storage import staff as staff_store

    with services.transaction() as db:
        staff_store.end_sessions(db, staff_id)
    assert client.get("/console/cases").status_code == 302
