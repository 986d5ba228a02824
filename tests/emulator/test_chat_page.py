"""The chat page in headless Chromium against a stand-in bot: Thai text in, reply and quick replies out,
pushes arriving live, Flex rendered, the rich menu clickable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from linebot.v3.messaging import (FlexBox, FlexBubble, FlexButton, FlexMessage, FlexText, MessageAction,
                                  PostbackAction, PushMessageRequest, RichMenuArea, RichMenuBounds,
                                  RichMenuRequest, RichMenuSize)

from emulator.assets import sample_png

pytestmark = pytest.mark.browser


def add_rich_menu(line, blob) -> None:
    menu = line.create_rich_menu(RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=True, name="main", chat_bar_text="เมนู",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                            action=MessageAction(label="แจ้งเรื่อง", text="เมนู: แจ้งเรื่อง")),
               RichMenuArea(bounds=RichMenuBounds(x=1250, y=0, width=1250, height=843),
                            action=PostbackAction(label="ติดตามเรื่อง", data="action=rich-track"))]))
    blob.set_rich_menu_image(menu.rich_menu_id, body=sample_png("แจ้งเรื่อง | ติดตามเรื่อง", (2500, 843)),
                             _headers={"Content-Type": "image/png"})
    line.set_default_rich_menu(menu.rich_menu_id)


def case_card() -> FlexMessage:
    return FlexMessage(alt_text="สถานะเรื่อง", contents=FlexBubble(
        body=FlexBox(layout="vertical", contents=[
            FlexText(text="เรื่อง DR-2569-000123", weight="bold", size="lg"),
            FlexText(text="สถานะ: กำลังดำเนินการโดยสำนักงานเขตพระนคร", wrap=True)]),
        footer=FlexBox(layout="vertical", contents=[
            FlexButton(style="primary", action=PostbackAction(label="ดูรายละเอียด", data="case=123"))])))


def test_a_citizen_chats_with_the_bot_in_the_browser(emulator, client, bot, line, blob, page, tmp_path):
    bot.replies = True
    add_rich_menu(line, blob)
    page.goto(emulator.base_url + "/")
    page.fill("#new-user-name", "สมศรี มีสุข")
    page.click("#create-user")
    page.wait_for_function("document.querySelector('#user-select').selectedOptions[0]?.text.includes('สมศรี')")
    # The page creates the user, then sends the follow event, then folds the setup panel away.
    page.wait_for_function("document.querySelector('#setup').open === false")
    [user] = client.users()
    assert user["display_name"] == "สมศรี มีสุข" and user["status"] == "friend"

    page.fill("#message-input", "สวัสดีครับ")
    page.click("#send-button")
    page.get_by_text("ได้รับข้อความ: สวัสดีครับ").wait_for()
    page.locator("#quick-replies button", has_text="แจ้งเรื่อง").click()
    page.get_by_text("ได้รับข้อความ: แจ้งเรื่องร้องเรียน").wait_for()
    page.locator("#quick-replies button", has_text="ติดตามเรื่อง").click()
    page.get_by_text("postback: action=track").wait_for()

    line.push_message(PushMessageRequest(to=user["user_id"], messages=[case_card()]))
    page.get_by_text("เรื่อง DR-2569-000123").wait_for()
    page.get_by_role("button", name="ดูรายละเอียด").click()
    page.get_by_text("postback: case=123").wait_for()

    page.locator(".rich-menu-area[aria-label='ติดตามเรื่อง']").click()
    page.get_by_text("postback: action=rich-track").wait_for()

    page.locator("#quick-replies button", has_text="เลือกวัน").click()
    page.fill("#datetime-input", "2026-11-23")
    page.click("#datetime-ok")
    page.get_by_text("postback: action=date {'date': '2026-11-23'}").wait_for()

    page.click("#open-extras")
    page.click("#open-location")
    page.get_by_role("button", name="ศาลาว่าการกรุงเทพมหานคร").click()
    page.click("#send-sticker")
    page.wait_for_function("document.querySelectorAll('.item.user').length >= 4")

    kinds = [type(e.message).__name__ for e in bot.events() if hasattr(e, "message")]
    assert "LocationMessageContent" in kinds and "StickerMessageContent" in kinds
    assert [e.postback.data for e in bot.events() if hasattr(e, "postback")] == [
        "action=track", "case=123", "action=rich-track", "action=date"]
    client.assert_no_spec_violations()
    shot = Path(os.environ.get("EMULATOR_SCREENSHOT", tmp_path / "chat.png"))
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
