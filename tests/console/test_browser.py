"""The console in a real browser (headless Chromium): a case worked end to end, the citizen receiving each
step in LINE (the emulator), scoping, CSRF, roles, and the dashboard rendering Thai."""

from __future__ import annotations

import json

from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Case, CategoryCorrection
from tests.console.conftest import make_staff, seed
from tests.factories import console_case
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
WAIT = 30


def test_a_case_is_worked_end_to_end_and_the_citizen_hears_each_step(bot, line, page, tmp_path):
    services = bot.services
    seed(services)
    user = line.create_user("สมศรี มีสุข")["user_id"]
    ticket = console_case(services, line_user_id=user, agency_id="bma", description="ไฟถนนดับทั้งซอย มืดมาก")
    other = console_case(services, agency_id="mea")
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    make_staff(services, "mea1", "agency_staff", agency_id="mea")
    make_staff(services, "exec", "executive")

    sign_in(page, bot.url, "bma1")
    page.goto(f"{bot.url}/console/cases?q={ticket}")
    page.click(f"text={ticket}")
    page.select_option("#new-status", "accepted")
    page.fill("#status-note", "รับเรื่องแล้ว จะส่งทีมไปตรวจสอบ")
    page.click("#status-submit")
    page.wait_for_selector("#case-status:has-text('รับเรื่อง')")
    [card] = line.wait_for_messages(user, 1, timeout=WAIT)
    assert ticket in str(card["message"]) and "จะส่งทีมไปตรวจสอบ" in str(card["message"])

    page.fill("#reply-text", "ขอบคุณที่แจ้งครับ")
    page.click("#reply-submit")
    delivered = line.wait_for_messages(user, 2, timeout=WAIT)
    assert "ขอบคุณที่แจ้งครับ" in delivered[-1]["message"]["text"]

    # A power cut is the electricity authority's: the correction routes the case there, as filing would, and
    # the citizen is told the new owner; the BMA officer lands back on the queue.
    page.select_option("#new-category", "ไฟฟ้า")
    page.click("#category-submit")
    page.wait_for_selector(".flash:has-text('แก้ไขประเภทแล้ว')")
    with services.transaction() as db:
        correction = db.scalar(select(CategoryCorrection))
        assert (correction.old_category, correction.new_category) == ("ถนน", "ไฟฟ้า")
        assert db.scalar(select(Case.agency_id).where(Case.ticket == ticket)) == "mea"
    told = line.wait_for_messages(user, 3, timeout=WAIT)
    assert "การไฟฟ้านครหลวง" in json.dumps(told[-1]["message"], ensure_ascii=False)

    # The case is now the MEA's: the BMA user can no longer open it, nor another agency's case, by URL.
    for hidden in (ticket, other):
        assert page.goto(f"{bot.url}/console/cases/{hidden}").status == 404
    # A form posted without its CSRF token is refused.
    assert page.request.post(f"{bot.url}/console/cases/{other}/notes", form={"text": "x"}).status == 400

    page.goto(f"{bot.url}/console/cases")
    page.click("header.top button")  # sign out
    page.wait_for_selector("#login-button")
    sign_in(page, bot.url, "exec")
    page.goto(f"{bot.url}/console/cases/{ticket}")
    assert page.locator("#status-form").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"{bot.url}/console/cases/{ticket}/status",
                                form={"status": "in_progress", "csrf_token": csrf})
    assert refused.status == 403
    assert len(line.messages_for(user)) == 3  # nothing more reached the citizen

    page.goto(f"{bot.url}/console/dashboard?period=30")
    page.wait_for_selector("#totals")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Thai\"', 'แดชบอร์ด')")
    assert "แดชบอร์ดผู้บริหาร" in page.inner_text("h1") and "ไฟฟ้า" in page.inner_text("#by-category")
    shots = Path(tmp_path)
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    assert (shots / "dashboard.png").stat().st_size > 20_000
