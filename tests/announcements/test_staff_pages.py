"""Staff compose, preview, test to themselves, publish and watch progress; other roles are refused."""

from __future__ import annotations

import re

from tests.announcements.conftest import add_subscribers, line_id, received, wait_for_status
from tests.console.conftest import csrf_of, login, make_staff, seed


def signed_in(bot, username: str, role: str):
    services = bot.services
    seed(services)
    make_staff(services, username, role)
    client = bot.app.test_client()
    login(client, username)
    return client


def test_an_announcer_composes_previews_tests_publishes_and_sees_progress(bot, line):
    me = line.create_user("เจ้าหน้าที่ประกาศ")["user_id"]
    add_subscribers(bot.services.settings.database_url, {line_id(n, "page"): [("health", "all")] for n in range(3)})
    client = signed_in(bot, "announcer1", "announcer")
    form = client.get("/console/announcements/new").get_data(as_text=True)
    too_long = client.post("/console/announcements/new", data={
        "csrf_token": csrf_of(form), "title": "ยาวเกิน", "text": "ก" * 5000, "topics": ["health"]})
    assert too_long.status_code == 400 and "UTF-16" in too_long.get_data(as_text=True)

    created = client.post("/console/announcements/new", data={
        "csrf_token": csrf_of(form), "title": "วัคซีนฟรี", "text": "ฉีดวัคซีนไข้หวัดใหญ่ฟรีที่ รพ.สต. ใกล้บ้าน",
        "topics": ["health"], "provinces": "", "link_url": "https://www.moph.go.th"})
    assert created.status_code == 302
    page_url = created.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert "📢 วัคซีนฟรี" in page and "ผู้รับโดยประมาณตอนนี้: 3" in page

    client.post(f"{page_url}/test", data={"csrf_token": csrf_of(page), "to": me})
    tested = line.wait_for_messages(me, 1, timeout=10)
    assert tested[0]["message"]["text"].startswith("📢 วัคซีนฟรี") and tested[0]["endpoint"] == "push"

    client.post(f"{page_url}/publish", data={"csrf_token": csrf_of(page), "at": ""})
    announcement_id = int(re.search(r"/(\d+)$", page_url).group(1))
    wait_for_status(bot.services, announcement_id, "sent")
    assert received(line, "วัคซีนฟรี") == {line_id(n, "page"): 1 for n in range(3)}
    figures = client.get(f"{page_url}/progress.json").get_json()
    assert (figures["audience"], figures["delivered"], figures["failed"]) == (3, 3, 0)
    page = client.get(page_url).get_data(as_text=True)
    # audited, with who did it: in Thai and by name, never "published" or "staff:4" (issue 15)
    assert "เผยแพร่/ตั้งเวลา · คุณannouncer1" in page and "staff:" not in page


def test_other_roles_cannot_publish(bot, line):
    client = signed_in(bot, "agency1", "agency_staff")
    assert client.get("/console/announcements/").status_code == 403
    anonymous = bot.app.test_client()
    assert anonymous.get("/console/announcements/new").status_code == 302  # to the login page
