"""Open311 GeoReport v2: categories as services, cases as requests, JSON and XML, never personal data."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from storage import staff as staff_store
from storage.models import Case
from tests.factories import console_case

PERSONAL = ("0812345678", "สมชาย", "U" + "1" * 32, "บ้านเลขที่ 99")


@pytest.fixture
def ticket(services):
    return console_case(services, line_user_id="U" + "1" * 32, address="บ้านเลขที่ 99 ซอยสุขใจ")


def test_services_list_the_categories_in_json_and_xml(console):
    client = console.test_client()
    services = client.get("/open311/v2/services.json").get_json()
    assert {"service_code": "ถนน", "service_name": "ถนน"}.items() <= services[0].items()
    xml = client.get("/open311/v2/services.xml")
    assert xml.content_type == "text/xml; charset=utf-8"
    root = ElementTree.fromstring(xml.data)
    assert root.tag == "services" and root.find("service/service_code").text == "ถนน"


def test_requests_are_served_in_both_formats_without_personal_data(console, ticket):
    client = console.test_client()
    [one] = client.get(f"/open311/v2/requests/{ticket}.json").get_json()
    assert one["service_request_id"] == ticket and one["status"] == "open"
    assert one["requested_datetime"].endswith("+07:00") and one["agency_responsible"] == "กรุงเทพมหานคร"
    xml = client.get("/open311/v2/requests.xml").get_data(as_text=True)
    listed = client.get("/open311/v2/requests.json?status=open&service_code=ถนน").get_json()
    assert [r["service_request_id"] for r in listed] == [ticket]
    assert ElementTree.fromstring(xml.encode()).find("request/service_request_id").text == ticket
    for body in (str(one), xml, str(listed)):
        assert not any(secret in body for secret in PERSONAL)
    assert client.get("/open311/v2/requests.json?status=closed").get_json() == []
    assert client.get("/open311/v2/requests/DR-0000-000000.json").status_code == 404


def test_posting_a_request_needs_an_open311_key(console, services):
    client = console.test_client()
    form = {"service_code": "ถนน", "lat": "13.75", "long": "100.5", "description": "ทางเท้าพัง"}
    denied = client.post("/open311/v2/requests.json", data=form)
    assert denied.status_code == 403 and denied.get_json()[0]["code"] == 403
    with services.transaction() as db:
        _, agency_key = staff_store.create_api_key(db, name="a", scope="agency", agency_id="bma", created_by="t")
        _, key = staff_store.create_api_key(db, name="1111", scope="open311", agency_id=None, created_by="t")
    assert client.post("/open311/v2/requests.json", data={**form, "api_key": agency_key}).status_code == 403
    assert client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "ถนน"}).status_code == 400
    [created] = client.post("/open311/v2/requests.json", data={**form, "api_key": key}).get_json()
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == created["service_request_id"]))
        assert (case.channel, case.category, case.citizen_id) == ("open311", "ถนน", None)
    xml = client.post("/open311/v2/requests.xml", data={**form, "api_key": key})
    assert ElementTree.fromstring(xml.data).find("request/service_request_id").text.startswith("DR-")
