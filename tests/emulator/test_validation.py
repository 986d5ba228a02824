"""Bodies are checked against LINE's OpenAPI file, discriminators included: what the SDK sends passes, what
LINE would refuse is 400 and recorded as a spec violation for the tests to fail on."""

from __future__ import annotations

import pytest
import requests
from linebot.v3.messaging import (ButtonsTemplate, CameraAction, CarouselColumn, CarouselTemplate, ClipboardAction,
                                  ConfirmTemplate, DatetimePickerAction, FlexBox, FlexBubble, FlexButton,
                                  FlexCarousel, FlexImage, FlexMessage, FlexSeparator, FlexText, LocationAction,
                                  LocationMessage, MessageAction, PostbackAction, PushMessageRequest, QuickReply,
                                  QuickReplyItem, StickerMessage, TemplateMessage, TextMessage, URIAction)

from emulator.validation import load_spec_validator

@pytest.fixture(scope="module")
def validator(spec_path):
    return load_spec_validator(str(spec_path))


def push_errors(validator, messages: list[dict]) -> list[dict]:
    operation = validator.find("POST", "/v2/bot/message/push")
    return validator.validate(operation, {"to": "U" + "a" * 32, "messages": messages})


BUBBLE = {"type": "bubble", "hero": {"type": "image", "url": "https://example.com/a.png", "size": "full"},
          "body": {"type": "box", "layout": "vertical", "contents": [
              {"type": "text", "text": "เรื่อง DR-2569-000123", "weight": "bold", "wrap": True},
              {"type": "separator"},
              {"type": "box", "layout": "baseline", "contents": [{"type": "text", "text": "สถานะ", "flex": 1}]}]},
          "footer": {"type": "box", "layout": "vertical", "contents": [
              {"type": "button", "action": {"type": "postback", "label": "ดูรายละเอียด", "data": "case=123"}}]}}


def test_good_bodies_pass(validator):
    assert push_errors(validator, [{"type": "flex", "altText": "เรื่องของคุณ", "contents": BUBBLE}]) == []
    assert push_errors(validator, [{"type": "flex", "altText": "x",
                                    "contents": {"type": "carousel", "contents": [BUBBLE, BUBBLE]}}]) == []
    assert push_errors(validator, [{"type": "text", "text": "แชร์ตำแหน่ง", "quickReply": {"items": [
        {"type": "action", "action": {"type": "location", "label": "ส่งตำแหน่ง"}},
        {"type": "action", "action": {"type": "datetimepicker", "label": "วัน", "data": "d", "mode": "date"}}]}}]) == []


@pytest.mark.parametrize("messages, prop, words", [
    ([{"type": "text", "text": "x"}] * 6, "messages", "Size must be between 1 and 5"),
    ([{"type": "txet", "text": "x"}], "messages[0].type", "not one of"),
    ([{"type": "text"}], "messages[0].text", "must be specified"),
    ([{"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
      "contents": [{"type": "txt", "text": "x"}]}}}], "messages[0].contents.body.contents[0].type", "not one of"),
    ([{"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"type": "box",
                                                                             "contents": []}}}],
     "messages[0].contents.body.layout", "must be specified"),
    ([{"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "x", "data": "d" * 301}}]}}],
     "messages[0].quickReply.items[0].action.data", "Length must be between 0 and 300"),
    ([{"type": "template", "altText": "x", "template": {"type": "confirm", "text": "ยืนยัน?"}}],
     "messages[0].template.actions", "must be specified"),
    ([{"type": "image", "originalContentUrl": "not a url", "previewImageUrl": "https://x/p.png"}],
     "messages[0].originalContentUrl", "uri"),
])
def test_bad_bodies_name_the_property(validator, messages, prop, words):
    errors = push_errors(validator, messages)
    assert any(e["property"] == prop and words in e["message"] for e in errors), errors


def sdk_messages() -> list[list]:
    quick = QuickReply(items=[
        QuickReplyItem(action=MessageAction(label="แจ้งเรื่อง", text="แจ้งเรื่อง")),
        QuickReplyItem(action=PostbackAction(label="ติดตาม", data="action=track", display_text="ติดตาม")),
        QuickReplyItem(action=LocationAction(label="ตำแหน่ง")),
        QuickReplyItem(action=CameraAction(label="ถ่ายรูป")),
        QuickReplyItem(action=DatetimePickerAction(label="วันเวลา", data="when", mode="datetime")),
        QuickReplyItem(action=ClipboardAction(label="คัดลอก", clipboard_text="DR-2569-000123")),
    ])
    bubble = FlexBubble(
        hero=FlexImage(url="https://example.com/hero.png", size="full"),
        body=FlexBox(layout="vertical", contents=[FlexText(text="เรื่อง DR-2569-000123", weight="bold", wrap=True),
                                                  FlexSeparator(), FlexText(text="สถานะ: รับเรื่อง")]),
        footer=FlexBox(layout="vertical", contents=[
            FlexButton(action=URIAction(label="เปิดเว็บ", uri="https://example.go.th/case/123"))]))
    return [
        [TextMessage(text="เลือกเมนู", quick_reply=quick)],
        [FlexMessage(alt_text="เรื่องของคุณ", contents=bubble),
         FlexMessage(alt_text="หลายเรื่อง", contents=FlexCarousel(contents=[bubble, bubble]))],
        [TemplateMessage(alt_text="ยืนยัน", template=ConfirmTemplate(text="ยืนยันการแจ้ง?", actions=[
            PostbackAction(label="ยืนยัน", data="confirm=yes"), MessageAction(label="ยกเลิก", text="ยกเลิก")])),
         TemplateMessage(alt_text="ปุ่ม", template=ButtonsTemplate(text="ต้องการทำอะไร", actions=[
             PostbackAction(label="แจ้ง", data="a=1")])),
         TemplateMessage(alt_text="การ์ด", template=CarouselTemplate(columns=[
             CarouselColumn(text="หนึ่ง", actions=[MessageAction(label="เลือก", text="หนึ่ง")])]))],
        [StickerMessage(package_id="446", sticker_id="1988"),
         LocationMessage(title="ศาลากลาง", address="ถนนราชดำเนิน", latitude=13.75, longitude=100.49)],
    ]


def test_what_the_sdk_sends_is_accepted(client, line, citizen):
    for messages in sdk_messages():
        line.push_message(PushMessageRequest(to=citizen["user_id"], messages=messages))
    client.assert_no_spec_violations()
    assert len(client.messages_for(citizen["user_id"])) == 8


def test_a_bad_body_over_http_is_400_and_recorded(emulator, client, citizen, auth):
    response = requests.post(f"{emulator.base_url}/v2/bot/message/push", timeout=5,
                             headers=auth,
                             json={"to": citizen["user_id"], "messages": [{"type": "carousel"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "The request body has 1 error(s)"
    assert body["details"] == [{"message": body["details"][0]["message"], "property": "messages[0].type"}]
    [violation] = client.spec_violations()
    assert violation["operation"] == "pushMessage" and violation["details"] == body["details"]
    with pytest.raises(AssertionError, match="LINE would reject"):
        client.assert_no_spec_violations()
    assert client.rejections() == {"spec_violation": 1}
    assert client.messages_for(citizen["user_id"], include_undelivered=True) == []
