"""Issue 15 in a real browser (headless Chromium) against the bot, the LINE emulator and a real webhook
receiver: webhooks registered and their delivery log, outside references entered and searched, agencies
picked by name, officers named in the timeline, the dashboard's empty trend and district map, the
announcer's home and Thai labels. Screenshots go to $SIANG_SHOTS (default: the test's tmp dir)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.announcements import compose, service
from storage import staff as staff_store
from storage.models import Case, StaffUser
from tests.console.conftest import PASSWORD, make_staff
from tests.factories import console_case

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
BANG_KAPI = "bma-district:1006"
WAIT = 40


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("header.top form")


def sign_out(page) -> None:
    page.click("header.top button")
    page.wait_for_selector("#login-button")


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SIANG_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def thai_font_ready(page) -> bool:
    return page.evaluate("""async () => { await document.fonts.ready;
        return document.fonts.check('16px "Noto Sans Thai"', 'ก') && [...document.fonts].some(
            f => f.family.includes('Noto Sans Thai') && f.status === 'loaded'); }""")


def test_webhooks_references_and_names_through_the_console(bot, line, page, receiver, agency_keys, tmp_path):
    folder = shots(tmp_path)
    services = bot.services
    make_staff(services, "admin", "administrator")
    officer = make_staff(services, "somsri", "agency_staff", agency_id=BANG_KAPI)
    with services.transaction() as db:
        db.get(StaffUser, officer).display_name = "สมศรี ใจดี"
        key, _ = staff_store.create_api_key(db, name="ระบบสารบรรณเขตบางกะปิ", scope="agency", agency_id=BANG_KAPI,
                                            created_by="t")
        key_id = key.id
    citizen = line.create_user("สมหญิง รักเมือง")["user_id"]

    # The administrator registers the district's document system, picking the agency by its name.
    sign_in(page, bot.url, "admin")
    page.goto(f"{bot.url}/console/webhooks")
    page.fill("#webhook-name", "ระบบสารบรรณ")
    page.fill("#webhook-url", f"{receiver.url}/saraban")
    page.fill("#webhook-agency", "สำนักงานเขตบางกะปิ")
    page.select_option("#webhook-key", str(key_id))
    page.click("#webhook-submit")
    page.wait_for_selector("#webhook-secret")
    secret = page.locator("#webhook-secret code").inner_text().strip()
    assert "สำนักงานเขตบางกะปิ" in page.locator("#webhooks").inner_text()
    assert "bma-district" not in page.locator("#webhooks").inner_text()
    page.screenshot(path=str(folder / "webhooks.png"), full_page=True)
    sign_out(page)

    ticket = console_case(services, line_user_id=citizen, agency_id=BANG_KAPI, district="บางกะปิ",
                          description="ทางเท้าหน้าซอยลาดพร้าว 101 ชำรุด มีคนสะดุดล้ม")
    sign_in(page, bot.url, "somsri")
    page.goto(f"{bot.url}/console/cases/{ticket}")
    page.select_option("#reference-kind", "traffy")
    page.fill("#reference-value", "2025-FQXW7B")
    page.click("#reference-submit")
    page.wait_for_selector("#references .reference-value:has-text('2025-FQXW7B')")
    assert "Traffy Fondue" in page.locator("#references").inner_text()
    page.select_option("#new-status", "accepted")
    page.fill("#status-note", "รับเรื่องแล้ว")
    page.click("#status-submit")
    page.wait_for_selector("#case-status:has-text('รับเรื่อง')")
    timeline = page.locator("#timeline").inner_text()
    assert "สมศรี ใจดี, สำนักงานเขตบางกะปิ" in timeline and "staff:" not in timeline
    page.fill("#note-text", "นัดช่างวันพรุ่งนี้")
    page.click("#note-submit")
    page.wait_for_selector(".flash:has-text('บันทึกแล้ว')")
    assert thai_font_ready(page)
    page.screenshot(path=str(folder / "case.png"), full_page=True)

    # The queue finds the case by the Traffy id.
    page.goto(f"{bot.url}/console/cases")
    page.fill("#q", "2025-FQXW7B")
    page.click("#queue-filters button[type=submit]")
    page.wait_for_selector(f"#queue a:has-text('{ticket}')")
    assert page.locator("#queue tbody tr").count() == 1

    # Forwarding: staff type part of a name and pick it; nobody types bma-district:1001.
    page.goto(f"{bot.url}/console/cases/{ticket}")
    options = page.locator("#forward-agency-list option")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert "สำนักงานเขตพระนคร" in values and not any(":" in v for v in values)
    page.fill("#forward-agency", "สำนักงานเขตพระนคร")
    page.click("#forward-submit")
    page.wait_for_selector(".flash:has-text('ส่งต่อหน่วยงานแล้ว')")
    with services.transaction() as db:
        assert db.scalar(select(Case.agency_id).where(Case.ticket == ticket)) == "bma-district:1001"
    sign_out(page)

    # The receiver refused each first attempt: the log shows every delivery accepted on its second.
    deadline = time.monotonic() + WAIT
    while len(receiver.accepted("/saraban")) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = [a["json"]["event"] for a in receiver.accepted("/saraban")]
    assert events == ["case.created", "case.status_changed", "case.commented", "case.status_changed"]
    from tests.integrations.conftest import valid_signature

    assert all(valid_signature(secret, a) for a in receiver.accepted("/saraban"))
    sign_in(page, bot.url, "admin")
    page.goto(f"{bot.url}/console/webhooks")
    page.click("#failures-link")
    page.wait_for_selector("#deliveries tr.delivery")
    rows = page.locator("#deliveries tr.delivery")
    assert rows.count() == 4
    for i in range(4):
        assert rows.nth(i).locator(".status").inner_text().startswith("ส่งสำเร็จ")
        assert rows.nth(i).locator(".attempts").inner_text() == "2"
        assert rows.nth(i).locator(".error").inner_text().startswith("500")
    page.screenshot(path=str(folder / "webhook_deliveries.png"), full_page=True)


def test_dashboard_trend_and_district_map_and_the_announcer_pages(bot, line, page, tmp_path):
    folder = shots(tmp_path)
    services = bot.services
    from tests.console.conftest import seed

    seed(services)
    make_staff(services, "exec", "executive")
    make_staff(services, "news", "announcer")
    for district, n in (("บางกะปิ", 3), ("บางรัก", 1)):
        for _ in range(n):
            console_case(services, agency_id=BANG_KAPI, district=district)

    sign_in(page, bot.url, "exec")
    page.goto(f"{bot.url}/console/dashboard")
    # Every case was filed today: one day is no trend, and the page says so instead of an empty frame.
    assert "ข้อมูลยังไม่พอ" in page.locator("#trend-empty").inner_text()
    assert page.locator("svg.chart").count() == 0
    districts = page.locator("#district-map path.district")
    assert districts.count() == 50
    kapi = page.locator("#district-map path[data-district='บางกะปิ']")
    assert kapi.get_attribute("data-open") == "3"
    quiet = page.locator("#district-map path[data-district='หนองจอก']")
    assert quiet.get_attribute("data-open") == "0" and kapi.get_attribute("fill") != quiet.get_attribute("fill")
    assert page.locator("#district-map circle").count() == 0
    assert thai_font_ready(page)
    page.screenshot(path=str(folder / "dashboard.png"), full_page=True)
    sign_out(page)

    announcement = service.create(services, compose.Draft(title="วัคซีนไข้หวัดใหญ่ฟรี", text="ฉีดได้ที่ศูนย์บริการสาธารณสุข",
                                                         topics=["health"], provinces=["all"]), "staff:1")
    service.publish(services, announcement, "staff:1", compose.schedule_from_local("2030-01-15T09:30",
                                                                                  service.TIMEZONE))
    sign_in(page, bot.url, "news")
    page.click("#announcements-link")
    page.wait_for_selector("text=วัคซีนไข้หวัดใหญ่ฟรี")
    listing = page.locator("main table").inner_text()
    assert "ตั้งเวลาส่งแล้ว" in listing and "สุขภาพ" in listing and "scheduled" not in listing
    assert "15/01/2573 09:30" in listing  # Bangkok time, Buddhist-era year
    page.click("text=วัคซีนไข้หวัดใหญ่ฟรี")
    page.wait_for_selector("#topics")
    assert page.locator("#topics").inner_text() == "สุขภาพ"
    assert page.locator("#scheduled-at").inner_text() == "15/01/2573 09:30"
    assert "staff:" not in page.locator("#history").inner_text()
    page.screenshot(path=str(folder / "announcement.png"), full_page=True)
