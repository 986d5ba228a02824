"""Open data leaks no person: Open311, the agency API and agencies' group cards mask titled Thai names, the
citizen's own names and house numbers (also for anonymous complaints); no key holder can post a request
that breaks the public JSON or XML feed."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from bot.groups.cards import case_card
from storage import staff as staff_store
from storage.models import Case
from tests.factories import console_case

STORY = ("นายสมปอง ใจดี ข้างบ้านเลขที่ 123/45 เผาขยะทุกคืน คุณวิชัยก็เห็น ประยุทธ์ถ่ายรูปไว้แล้ว "
         "โทร 0812345678")
SECRETS = ("สมปอง", "ใจดี", "123/45", "วิชัย", "ประยุทธ์", "มั่นคง", "0812345678", "88/8")


@pytest.fixture
def cases(services):
    """The same story, once named and once anonymous, from a citizen whose LINE name is ประยุทธ์ มั่นคง."""
    tickets = [console_case(services, line_user_id="U" + "7" * 32, display_name="ประยุทธ์ มั่นคง", description=STORY,
                            anonymous=anonymous, address="บ้านเลขที่ 88/8 ซอยสุขใจ", district="จตุจักร")
               for anonymous in (False, True)]
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == tickets[0]))
        from bot.casework import work

        work.set_status(db, case, "accepted", "staff:1", note="โทรคุยกับนายสมปองแล้ว นัดดูที่บ้านเลขที่ 123/45")
    return tickets


def _leaks(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]


def test_open311_feeds_publish_neither_names_nor_house_numbers(console, cases):
    client = console.test_client()
    for path in ("/open311/v2/requests.json", "/open311/v2/requests.xml",
                 *(f"/open311/v2/requests/{t}.json" for t in cases), *(f"/open311/v2/requests/{t}.xml" for t in cases)):
        body = client.get(path).get_data(as_text=True)
        assert cases[0] in body or cases[1] in body
        assert _leaks(body) == [], path
    [one] = client.get(f"/open311/v2/requests/{cases[1]}.json").get_json()
    assert "เผาขยะทุกคืน" in one["description"] and "[ชื่อ]" in one["description"]


def test_the_agency_api_publishes_neither_names_nor_house_numbers(console, services, cases):
    with services.transaction() as db:
        _, key = staff_store.create_api_key(db, name="bma", scope="agency", agency_id="bma", created_by="t")
    client = console.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    listed = client.get("/api/v1/cases", headers=headers)
    assert len(listed.get_json()["cases"]) == 2 and _leaks(listed.get_data(as_text=True)) == []
    for ticket in cases:
        detail = client.get(f"/api/v1/cases/{ticket}", headers=headers)
        assert detail.get_json()["history"] and _leaks(detail.get_data(as_text=True)) == []


def test_a_group_case_card_masks_the_story_and_the_place(console, services, cases):
    with console.app_context(), services.transaction() as db:
        for ticket in cases:
            case = db.scalar(select(Case).where(Case.ticket == ticket))
            card = json.dumps(case_card(db, case), ensure_ascii=False)
            named = not case.anonymous
            leaks = [s for s in _leaks(card) if not (named and s in ("ประยุทธ์", "มั่นคง", "0812345678"))]
            assert leaks == [], ticket  # a named citizen's own name and phone are on the card's citizen row
            assert "เผาขยะทุกคืน" in card and "จตุจักร" in card


def _post(client, key, fmt="json", **fields):
    form = {"api_key": key, "service_code": "ถนน", "lat": "13.75", "long": "100.5", "description": "ทางเท้าพัง"}
    return client.post(f"/open311/v2/requests.{fmt}", data={**form, **fields})


BAD_POSTS = [
    ({"lat": "NaN"}, "lat"), ({"long": "Infinity"}, "long"), ({"lat": "-inf"}, "lat"), ({"lat": "1e400"}, "lat"),
    ({"lat": "91"}, "lat"), ({"long": "-180.5"}, "long"), ({"description": "ถนนพัง\x00"}, "description"),
    ({"description": "ถนน\x0bพัง"}, "description"), ({"address_string": "ซอย\x1b[31m"}, "address_string"),
    ({"description": "bad\x7f"}, "description"),
]


@pytest.mark.parametrize("fields,named", BAD_POSTS, ids=[repr(f) for f, _ in BAD_POSTS])
def test_open311_refuses_what_would_break_the_public_feeds(console, services, fields, named):
    with services.transaction() as db:
        _, key = staff_store.create_api_key(db, name="1111", scope="open311", agency_id=None, created_by="t")
    client = console.test_client()
    for fmt in ("json", "xml"):
        refused = _post(client, key, fmt, **fields)
        assert refused.status_code == 400
        assert named in refused.get_data(as_text=True)
    with services.transaction() as db:
        assert db.scalar(select(Case.id)) is None
    _assert_feeds_parse(client)


def test_feeds_stay_parseable_whatever_a_citizen_typed_in_chat(console, services):
    """LINE text may carry control characters; the XML feed drops them rather than break."""
    console_case(services, description="ไฟดับ\x0b\x1f\x08ทั้งซอย", anonymous=True)
    client = console.test_client()
    _assert_feeds_parse(client)
    assert "ไฟดับทั้งซอย" in client.get("/open311/v2/requests.xml").get_data(as_text=True)


def _assert_feeds_parse(client) -> None:
    def no_constants(name):
        raise ValueError(f"{name} is not JSON")

    json.loads(client.get("/open311/v2/requests.json").get_data(as_text=True), parse_constant=no_constants)
    ElementTree.fromstring(client.get("/open311/v2/requests.xml").data)
