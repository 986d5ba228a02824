"""Scoping beyond the case queue: hand-over requests are the agency's own, group forward postbacks accept
only real agencies, executives see the district and province of a case, not the house or its coordinates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import flows as flow_store
from storage.models import Case, GroupAction, HandoverRequest, OutboxMessage
from tests.console.conftest import login, make_staff, token
from tests.factories import console_case
from tests.groups.conftest import AGENCY, Groups, buttons
from tests.support import wait_until


def _handover(services, ticket: str, message: str) -> int:
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        return flow_store.request_handover(db, case.citizen_id, None, "category_unknown", message, case.province,
                                           case.id).id


@pytest.fixture
def handovers(services):
    mine = console_case(services, line_user_id="U" + "1" * 32, agency_id="bma")
    theirs = console_case(services, line_user_id="U" + "2" * 32, agency_id="mea")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    make_staff(services, "admin", "administrator")
    return _handover(services, mine, "ขอคุยเรื่องถนนของกทม"), _handover(services, theirs, "ขอคุยเรื่องไฟฟ้าของกฟน")


def test_agency_staff_see_only_their_agencys_hand_over_requests(console, handovers):
    client = console.test_client()
    login(client, "bma1")
    page = client.get("/console/handovers").get_data(as_text=True)
    assert "ถนนของกทม" in page and "ไฟฟ้าของกฟน" not in page
    admin = console.test_client()
    login(admin, "admin")
    everything = admin.get("/console/handovers").get_data(as_text=True)
    assert "ถนนของกทม" in everything and "ไฟฟ้าของกฟน" in everything


def test_agency_staff_cannot_answer_another_agencys_citizen(console, services, handovers):
    mine, theirs = handovers
    client = console.test_client()
    login(client, "bma1")
    csrf = token(client, "/console/handovers")
    refused = client.post(f"/console/handovers/{theirs}", data={"action": "reply", "text": "สวัสดีครับ",
                                                                "csrf_token": csrf})
    assert refused.status_code == 404
    assert client.post(f"/console/handovers/{theirs}", data={"action": "take", "csrf_token": csrf}).status_code == 404
    with services.transaction() as db:
        assert db.scalar(select(OutboxMessage.id)) is None
        assert db.get(HandoverRequest, theirs).status == "open"
    ok = client.post(f"/console/handovers/{mine}", data={"action": "reply", "text": "สวัสดีครับ", "csrf_token": csrf})
    assert ok.status_code == 302
    with services.transaction() as db:
        assert db.scalar(select(OutboxMessage.id)) is not None


def test_executives_see_the_district_and_province_but_not_the_house_or_its_coordinates(console, services):
    ticket = console_case(services, line_user_id="U" + "3" * 32, address="บ้านเลขที่ 88/8 ซอยสุขใจ", district="จตุจักร",
                          description="นายสมปอง ข้างบ้านเลขที่ 12 เผาขยะ")
    make_staff(services, "exec", "executive")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    executive, officer = console.test_client(), console.test_client()
    login(executive, "exec")
    login(officer, "bma1")
    seen = executive.get(f"/console/cases/{ticket}").get_data(as_text=True)
    assert "จตุจักร" in seen and "กรุงเทพมหานคร" in seen
    for secret in ("88/8", "ซอยสุขใจ", "13.7563", "100.5018", "openstreetmap", "สมปอง", "บ้านเลขที่ 12"):
        assert secret not in seen, secret
    worked = officer.get(f"/console/cases/{ticket}").get_data(as_text=True)
    assert "88/8" in worked and "13.7563" in worked  # those who fix it still find it


@pytest.mark.parametrize("forged", ["no-such-agency", "", "bma' OR 1=1"])
def test_a_forged_group_forward_to_an_unknown_agency_moves_nothing(bot, line, forged):
    groups = Groups(bot, line)
    gid, members = groups.link(AGENCY, staff=1)
    case_id = groups.file(AGENCY)
    card = wait_until(lambda: groups.cards(gid) or None)[0]
    status = groups.case(case_id).status
    assert "ส่งต่อหน่วยงานอื่น" in buttons(card)
    groups.press(gid, members[0], f"grp=fwdto&c={case_id}&s={status}&to={forged}", expect=None)
    case = groups.case(case_id)
    assert (case.agency_id, case.status) == (AGENCY, status)
    with groups.session() as db:
        assert db.scalar(select(GroupAction.outcome).where(GroupAction.action == "fwdto")) == "invalid"
