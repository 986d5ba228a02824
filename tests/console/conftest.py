"""Console fixtures: seeded catalogue, staff accounts of every role, cases, and a signed-in test client."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from bot.casework import CaseDraft, file_case
from bot.console.passwords import hash_password
from storage import people
from storage import staff as staff_store

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per run


def seed(services) -> None:
    with services.transaction() as db:
        staff_store.seed_catalogue(db)


def make_staff(services, username: str, role: str, agency_id: str | None = None,
               provinces: str | None = None, totp_secret: str | None = None) -> int:
    with services.transaction() as db:
        user = staff_store.add_staff(db, username=username, display_name=f"คุณ{username}", password_hash=_HASH,
                                     role=role, agency_id=agency_id, provinces=provinces)
        user.totp_secret = totp_secret
        return user.id


def make_case(services, *, line_user_id: str | None = None, agency_id: str = "bma", category: str = "ถนน",
              province: str = "กรุงเทพมหานคร", description: str = "ถนนหน้าบ้านเป็นหลุมใหญ่ โทร 0812345678",
              anonymous: bool = False, target_days: float | None = 15, phone: str | None = "0812345678",
              display_name: str = "สมชาย ใจดี", now: datetime | None = None, **extra) -> str:
    with services.transaction() as db:
        citizen_id = None
        if line_user_id:
            citizen = people.touch_citizen(db, line_user_id)
            citizen.display_name = display_name
            citizen_id = citizen.id
        case = file_case(db, CaseDraft(description=description, category=category, agency_id=agency_id,
                                       province=province, phone=phone, anonymous=anonymous,
                                       target_days=target_days, latitude=13.7563, longitude=100.5018, **extra),
                         citizen_id, now=now)
        return case.ticket


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
