"""Console fixtures: seeded catalogue, staff of every role, a signed-in test client (cases: tests.factories)."""

from __future__ import annotations

import re

import pytest

from bot.console.passwords import hash_password
from storage import staff as staff_store
from tests import factories
from tests.support import PASSWORD

_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per run


def seed(services) -> None:
    with services.transaction() as db:
        staff_store.seed_catalogue(db)


def make_staff(services, username: str, role: str, agency_id: str | None = None,
               provinces: str | None = None, totp_secret: str | None = None) -> int:
    """A staff account that signs in with :data:`PASSWORD`."""
    with services.transaction() as db:
        return factories.staff(db, username, role, agency_id, password_hash=_HASH, provinces=provinces,
                               totp_secret=totp_secret).id


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})


def token(client, path: str = "/console/") -> str:
    return csrf_of(client.get(path, follow_redirects=True).get_data(as_text=True))


@pytest.fixture
def console(app):
    """The app (no background worker) with the catalogue seeded."""
    seed(app.extensions["siang"])
    return app


@pytest.fixture
def services(console):
    return console.extensions["siang"]
