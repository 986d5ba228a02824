"""CSV exports (cases for the period, classifier corrections, volunteers) and the audit log page."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from storage.models import Case
from tests.console.conftest import login, make_staff, token
from tests.factories import console_case

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_cases_export_as_csv_for_the_period_without_personal_data_and_scoped(console, services):
    mine = console_case(services, agency_id="bma")
    theirs = console_case(services, agency_id="mea")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")
    response = client.get("/console/cases.csv")
    assert response.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["ticket"] for r in rows] == [mine] and theirs not in response.get_data(as_text=True)
    assert "0812345678" not in rows[0]["description"] and rows[0]["category"] == "ถนน"
    assert client.get("/console/cases.csv?from=2000-01-01&to=2000-01-31").get_data(as_text=True).count("\n") == 1


def test_the_export_days_are_bangkok_days_on_sqlite_too(console, services):
    """00:30 in Bangkok on 1 March is 17:30 UTC on 28 February: it belongs to March's export, not February's.

    (SQLite keeps no offset: without the UTC column type the period's Bangkok midnights were compared as UTC.)"""
    bangkok = timezone(timedelta(hours=7))
    early = console_case(services, agency_id="bma", now=datetime(2026, 3, 1, 0, 30, tzinfo=bangkok))
    late = console_case(services, agency_id="bma", now=datetime(2026, 2, 28, 23, 30, tzinfo=bangkok))
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")

    def tickets(first: str, last: str) -> list[str]:
        body = client.get(f"/console/cases.csv?from={first}&to={last}").get_data(as_text=True).lstrip("\ufeff")
        return [row["ticket"] for row in csv.DictReader(io.StringIO(body))]

    assert tickets("2026-03-01", "2026-03-31") == [early]
    assert tickets("2026-02-01", "2026-02-28") == [late]
    with services.transaction() as db:  # read back as the same moment, aware, whatever the database keeps
        filed = db.scalar(select(Case.created_at).where(Case.ticket == early))
    assert filed == datetime(2026, 2, 28, 17, 30, tzinfo=timezone.utc) and filed.utcoffset() == timedelta(0)


def test_category_corrections_are_stored_and_exported_for_training(console, services, monkeypatch):
    ticket = console_case(services, agency_id="bma", description="ไฟถนนดับทั้งซอย")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")
    csrf = token(client, f"/console/cases/{ticket}")
    client.post(f"/console/cases/{ticket}/category", data={"category": "ไฟฟ้า", "csrf_token": csrf})
    monkeypatch.setenv("DATABASE_URL", services.settings.database_url)
    result = CliRunner().invoke(main, ["console", "export-corrections"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["text,category", "ไฟถนนดับทั้งซอย,ไฟฟ้า"]


def test_every_staff_action_lands_in_the_audit_log_which_only_administrators_read(console, services):
    ticket = console_case(services, agency_id="bma")
    make_staff(services, "admin", "administrator")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    worker = console.test_client()
    login(worker, "bma1")
    csrf = token(worker, f"/console/cases/{ticket}")
    worker.post(f"/console/cases/{ticket}/notes", data={"text": "โทรประสานเขตแล้ว", "csrf_token": csrf})
    worker.post(f"/console/cases/{ticket}/status", data={"status": "accepted", "csrf_token": csrf})
    assert worker.get("/console/admin/audit").status_code == 403
    admin = console.test_client()
    login(admin, "admin")
    page = admin.get("/console/admin/audit").get_data(as_text=True)
    for action in ("login", "case_note", "case_status"):
        assert f"<td>{action}</td>" in page
    assert ticket in page


def test_volunteers_export_as_csv_with_filters(console, services):
    from storage import people
    from storage.models import Volunteer

    with services.transaction() as db:
        for i, province in enumerate(("เชียงใหม่", "ภูเก็ต")):
            citizen = people.touch_citizen(db, f"U{i:032d}")
            db.add(Volunteer(citizen_id=citizen.id, name=f"อาสา{i}", phone="0800000000", province=province,
                             skills="ปฐมพยาบาล", availability="weekend", consent_version="1"))
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    body = client.get("/console/volunteers.csv?province=เชียงใหม่").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["อาสา0"]


def test_administrators_see_what_line_refused_and_open_delivery_alerts(console, services):
    import json

    from storage import outbox
    from storage.models import DeliveryAlert, utcnow

    with services.transaction() as db:
        row = outbox.add_message(db, kind="push", recipient="U" + "1" * 32, messages=[{"type": "text", "text": "x"}])
        row.status, row.error_status, row.failed_at = "failed", 400, utcnow()
        row.error_details = json.dumps({"message": "The request body has 1 error(s)",
                                        "details": [{"message": "Length must be between 0 and 5000",
                                                     "property": "messages[0].text"}]})
        db.add(DeliveryAlert(kind="monthly_limit", message="You have reached your monthly limit."))
    make_staff(services, "admin", "administrator")
    make_staff(services, "exec", "executive")
    reader = console.test_client()
    login(reader, "exec")
    assert reader.get("/console/admin/deliveries").status_code == 403
    admin = console.test_client()
    login(admin, "admin")
    page = admin.get("/console/admin/deliveries").get_data(as_text=True)
    assert "messages[0].text" in page and "Length must be between 0 and 5000" in page
    assert "You have reached your monthly limit." in page
