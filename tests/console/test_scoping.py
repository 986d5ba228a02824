"""Roles and scoping: an agency sees only its cases, executives only read, personal data only to workers."""

from __future__ import annotations

import pytest

from tests.console.conftest import login, make_staff, token
from tests.factories import console_case


@pytest.fixture
def two_agencies(services):
    mine = console_case(services, line_user_id="U" + "1" * 32, agency_id="bma")
    theirs = console_case(services, line_user_id="U" + "2" * 32, agency_id="mea", description="ไฟฟ้าดับทั้งซอย")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    make_staff(services, "exec", "executive")
    make_staff(services, "news", "announcer")
    return mine, theirs


def test_an_agency_user_sees_only_its_agencys_cases_and_cannot_open_another_by_url(console, two_agencies):
    mine, theirs = two_agencies
    client = console.test_client()
    login(client, "bma1")
    queue = client.get("/console/cases").get_data(as_text=True)
    assert mine in queue and theirs not in queue
    assert client.get(f"/console/cases/{mine}").status_code == 200
    assert client.get(f"/console/cases/{theirs}").status_code == 404
    csrf = token(client, f"/console/cases/{mine}")
    refused = client.post(f"/console/cases/{theirs}/status", data={"status": "accepted", "csrf_token": csrf})
    assert refused.status_code == 404


def test_provinces_narrow_an_agency_users_cases(console, services, two_agencies):
    other_province = console_case(services, agency_id="bma", province="นนทบุรี")
    make_staff(services, "bma-bkk", "agency_staff", agency_id="bma", provinces="กรุงเทพมหานคร")
    client = console.test_client()
    login(client, "bma-bkk")
    assert client.get(f"/console/cases/{two_agencies[0]}").status_code == 200
    assert client.get(f"/console/cases/{other_province}").status_code == 404


def test_an_executive_reads_without_personal_data_and_cannot_change_anything(console, two_agencies):
    mine, _ = two_agencies
    client = console.test_client()
    login(client, "exec")
    page = client.get(f"/console/cases/{mine}").get_data(as_text=True)
    assert "0812345678" not in page and "สมชาย" not in page and 'id="status-form"' not in page
    csrf = token(client, "/console/dashboard")
    for action in ("status", "forward", "category", "notes", "reply"):
        response = client.post(f"/console/cases/{mine}/{action}", data={"status": "accepted", "csrf_token": csrf})
        assert response.status_code == 403, action
    assert client.get("/console/admin/staff").status_code == 403


def test_an_announcer_publishes_nothing_about_cases_and_sees_no_case(console, two_agencies):
    mine, _ = two_agencies
    client = console.test_client()
    login(client, "news")
    assert client.get("/console/cases").status_code == 403
    assert client.get(f"/console/cases/{mine}").status_code == 403
    assert client.get("/console/dashboard").status_code == 403
    assert client.get("/console/opinions").status_code == 200


def test_the_agency_worker_sees_the_citizen_but_not_when_the_case_is_anonymous(console, services, two_agencies):
    mine, _ = two_agencies
    hidden = console_case(services, line_user_id="U" + "3" * 32, agency_id="bma", anonymous=True,
                          display_name="ผู้ไม่ประสงค์ออกนาม")
    client = console.test_client()
    login(client, "bma1")
    assert "สมชาย ใจดี" in client.get(f"/console/cases/{mine}").get_data(as_text=True)
    page = client.get(f"/console/cases/{hidden}").get_data(as_text=True)
    assert "ผู้ไม่ประสงค์ออกนาม" not in page and "0812345678" not in page and "anonymous" in page
