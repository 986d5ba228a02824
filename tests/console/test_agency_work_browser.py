"""Two agencies work one case in a real browser (headless Chromium), the citizen reading every step in LINE
(the emulator): templates managed and inserted, the case taken by an officer, a co-handler invited who works
its own part, the lead resolving with a note and an after-photo, the citizen's push carrying both."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from emulator.assets import sample_png
from storage.models import AuditEntry, Case, CasePart, StatusChange
from tests.console.conftest import make_staff, seed
from tests.factories import console_case
from tests.support import sign_in, wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                                      indirect=True)]
WAIT = 30
LEAD, CO, THIRD = "bma-district:1006", "mwa", "mea"


def sign_out(page) -> None:
    page.click("header.top form button")
    page.wait_for_selector("#login-button")


def test_two_agencies_work_one_case_and_the_citizen_sees_the_note_and_the_after_photo(bot, line, page, tmp_path):
    services = bot.services
    services.settings = services.settings.with_overrides(media_base_url=bot.url)
    seed(services)
    citizen = line.create_user("สมศรี มีสุข")["user_id"]
    ticket = console_case(services, line_user_id=citizen, agency_id=LEAD, description="ถนนทรุดเพราะท่อประปาแตก")
    make_staff(services, "admin", "administrator")
    make_staff(services, "lead1", "agency_staff", agency_id=LEAD)
    make_staff(services, "lead2", "agency_staff", agency_id=LEAD)
    make_staff(services, "water1", "agency_staff", agency_id=CO)

    # The administrator makes road cases need an after-photo and adds a shared template for resolutions.
    sign_in(page, bot.url, "admin")
    page.goto(f"{bot.url}/console/admin/categories")
    row = page.locator("tr", has=page.locator("input[data-category='ถนน']"))
    row.locator("input[data-category='ถนน']").check()
    row.locator("button[type=submit]").click()
    page.goto(f"{bot.url}/console/templates")
    page.fill("#template-title", "แก้ไขเสร็จ")
    page.fill("#template-body", "ดำเนินการแก้ไขเรื่อง {ticket} เรียบร้อยแล้ว ขอบคุณที่แจ้งค่ะ")
    page.select_option("#template-state", "resolved")
    page.click("#template-submit")
    page.wait_for_selector("#templates:has-text('แก้ไขเสร็จ')")
    sign_out(page)

    # The lead's officer adds the agency's own template, takes the case, accepts it and invites two agencies.
    sign_in(page, bot.url, "lead1")
    page.goto(f"{bot.url}/console/templates")
    page.fill("#template-title", "รับเรื่อง")
    page.fill("#template-body", "รับเรื่องแล้ว กำลังส่งทีมสำรวจ")
    page.click("#template-submit")
    page.goto(f"{bot.url}/console/cases/{ticket}")
    page.click("#take-submit")
    page.wait_for_selector("#lead-officer:has-text('คุณlead1')")
    page.select_option("#new-status", "accepted")
    page.select_option("#status-note-template", label="รับเรื่อง")
    assert page.input_value("#status-note") == "รับเรื่องแล้ว กำลังส่งทีมสำรวจ"
    # The shared resolution template is offered only for "resolved".
    assert page.locator("#status-note-template option:has-text('แก้ไขเสร็จ')").is_hidden()
    page.click("#status-submit")
    page.wait_for_selector("#case-status:has-text('รับเรื่อง')")
    for agency in (CO, THIRD):
        page.select_option("#invite-agency", agency)
        page.click("#invite-submit")
        page.wait_for_selector(f"#parts tr[data-agency='{agency}']")
    page.goto(f"{bot.url}/console/cases?mine=1&status=open")
    assert page.locator(f"#queue a:has-text('{ticket}')").count() == 1
    sign_out(page)

    # The water authority's officer finds it in its queue and works its own part, not the case's status.
    sign_in(page, bot.url, "water1")
    page.goto(f"{bot.url}/console/cases")
    page.click(f"text={ticket}")
    assert page.locator("#status-form").count() == 0 and page.locator("#forward-form").count() == 0
    page.click("#take-submit")
    page.select_option("#part-status", "done")
    page.fill("#part-note", "ซ่อมท่อประปาที่แตกแล้ว")
    page.click("#part-submit")
    page.wait_for_selector("#my-part-status:has-text('ดำเนินการส่วนของตนเสร็จแล้ว')")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"{bot.url}/console/cases/{ticket}/status",
                                form={"status": "resolved", "note": "x", "csrf_token": csrf})
    assert refused.status == 403  # a co-handler cannot resolve the lead's case
    sign_out(page)

    # The lead resolves: a note is needed, then the photo; the parts still open are listed.
    sign_in(page, bot.url, "lead1")
    page.goto(f"{bot.url}/console/cases/{ticket}")
    assert "การไฟฟ้านครหลวง" in page.inner_text("#open-parts")
    page.select_option("#new-status", "resolved")
    page.click("#status-submit")
    page.wait_for_selector(".flash.error:has-text('หมายเหตุถึงประชาชน')")
    page.select_option("#new-status", "resolved")
    page.select_option("#status-note-template", label="แก้ไขเสร็จ (ใช้ร่วมกัน)")
    assert page.input_value("#status-note") == f"ดำเนินการแก้ไขเรื่อง {ticket} เรียบร้อยแล้ว ขอบคุณที่แจ้งค่ะ"
    page.click("#status-submit")
    page.wait_for_selector(".flash.error:has-text('รูปถ่ายหลังแก้ไข')")
    photo = tmp_path / "after.png"
    photo.write_bytes(sample_png("หลังซ่อม"))
    page.select_option("#new-status", "resolved")
    page.fill("#status-note", "ปูถนนใหม่และซ่อมท่อแล้วค่ะ")
    page.set_input_files("#after-photo", str(photo))
    page.click("#status-submit")
    page.wait_for_selector(".flash")
    assert page.locator(".flash.error").count() == 0, page.inner_text(".flash")
    page.wait_for_selector("#case-status:has-text('ดำเนินการแก้ไขแล้ว')")
    assert "การไฟฟ้านครหลวง" in page.inner_text(".flash.ok")  # its part is still open
    timeline = page.inner_text("#timeline")
    assert "การประปานครหลวง" in timeline and "ซ่อมท่อประปาที่แตกแล้ว" in timeline

    # The citizen's resolution push: the status card with the note, then the after-photo as an image.
    with services.transaction() as db:
        case = db.scalar(select(Case).where(Case.ticket == ticket))
        assert case.status == "resolved" and case.agency_id == LEAD
        assert {p.agency_id: p.status for p in db.scalars(select(CasePart))} == {CO: "done", THIRD: "invited"}
        assert db.scalar(select(StatusChange.note).where(StatusChange.case_id == case.id,
                                                         StatusChange.to_status == "resolved")) == \
            "ปูถนนใหม่และซ่อมท่อแล้วค่ะ"
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "case_assign")) is not None

    def image_message():
        return next((m for m in line.messages_for(citizen) if m["message"]["type"] == "image"), None)

    image = wait_until(image_message, timeout=WAIT, what="the after-photo reaching the citizen")
    everything = [m["message"] for m in line.messages_for(citizen)]
    card = everything[everything.index(image["message"]) - 1]
    assert "ปูถนนใหม่และซ่อมท่อแล้วค่ะ" in json.dumps(card, ensure_ascii=False)
    url = image["message"]["originalContentUrl"]
    assert url.startswith(f"{bot.url}/media/")
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == photo.read_bytes()
    assert requests.get(url[:-4] + "0000", timeout=10).status_code == 404  # a forged signature
    # Each co-handler's step reached the citizen by agency name.
    said = json.dumps(everything, ensure_ascii=False)
    assert "การประปานครหลวง" in said and "ร่วมดำเนินการ" in said and "mwa" not in said
