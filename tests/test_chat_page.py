"""A newcomer's first minute, in a real browser: the emulator's chat page talking to the real bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import messages

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_citizen_types_thai_sees_the_answer_and_taps_a_quick_reply(bot, line, emulator_server, page, tmp_path):
    page.goto(emulator_server.base_url + "/")
    page.fill("#new-user-name", "สมศรี มีสุข")
    page.click("#create-user")
    page.wait_for_function("document.querySelector('#user-select').selectedOptions[0]?.text.includes('สมศรี')")
    page.wait_for_function("document.querySelector('#setup').open === false")  # created, then followed
    [user] = line.users()

    page.fill("#message-input", "สวัสดีค่ะ")
    page.click("#send-button")
    line.wait_for_messages(user["user_id"], 1, timeout=15)
    quick = page.locator("#quick-replies button")
    quick.first.wait_for()
    labels = quick.all_inner_texts()
    assert messages.text("menu_complaint", "th") in labels

    before = len(line.messages_for(user["user_id"]))
    quick.filter(has_text=messages.text("menu_complaint", "th")).first.click()
    line.wait_for_messages(user["user_id"], before + 1, timeout=15)
    page.wait_for_function(f"document.querySelectorAll('.item.bot').length >= {before + 1}")
    shot = Path(tmp_path / "chat-with-siang.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
