"""The data host: content that is still preparing, gone after unsend; rich menus from create to default."""

from __future__ import annotations

import pytest
from linebot.v3.messaging import (ApiException, MessageAction, PostbackAction, RichMenuArea, RichMenuBounds,
                                  RichMenuRequest, RichMenuSize)

from emulator.assets import sample_png


def test_content_answers_202_while_preparing_then_200(client, blob, citizen):
    video = client.send_video(citizen["user_id"], data=b"mp4-bytes", preparing_calls=2)
    assert blob.get_message_content_transcoding_by_message_id(video.message_id).status == "processing"
    statuses = [blob.get_message_content_with_http_info(video.message_id).status_code for _ in range(3)]
    assert statuses == [202, 202, 200]
    assert blob.get_message_content_transcoding_by_message_id(video.message_id).status == "succeeded"
    assert bytes(blob.get_message_content(video.message_id)) == b"mp4-bytes"


def test_content_is_404_when_unknown_and_410_after_unsend(client, blob, citizen):
    with pytest.raises(ApiException) as unknown:
        blob.get_message_content("999")
    assert unknown.value.status == 404
    image = client.send_image(citizen["user_id"])
    client.unsend(citizen["user_id"], image.message_id)
    with pytest.raises(ApiException) as gone:
        blob.get_message_content(image.message_id)
    assert gone.value.status == 410


def menu_request() -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=True, name="เมนูหลัก", chat_bar_text="เมนู",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                            action=MessageAction(label="แจ้งเรื่อง", text="แจ้งเรื่อง")),
               RichMenuArea(bounds=RichMenuBounds(x=1250, y=0, width=1250, height=843),
                            action=PostbackAction(label="ติดตาม", data="action=track"))])


def test_a_rich_menu_from_create_to_default_and_per_user_link(client, line, blob, citizen):
    menu_id = line.create_rich_menu(menu_request()).rich_menu_id
    with pytest.raises(ApiException) as no_image:
        line.set_default_rich_menu(menu_id)
    assert no_image.value.status == 400
    png = sample_png("เมนู", (2500, 843))
    blob.set_rich_menu_image(menu_id, body=png, _headers={"Content-Type": "image/png"})
    line.set_default_rich_menu(menu_id)
    assert line.get_default_rich_menu_id().rich_menu_id == menu_id
    assert [m.rich_menu_id for m in line.get_rich_menu_list().richmenus] == [menu_id]
    shown = client.rich_menu(citizen["user_id"])
    assert shown["richMenuId"] == menu_id and len(shown["areas"]) == 2
    assert shown["areas"][1]["action"]["data"] == "action=track"
    other = line.create_rich_menu(menu_request()).rich_menu_id
    blob.set_rich_menu_image(other, body=png, _headers={"Content-Type": "image/png"})
    line.link_rich_menu_id_to_user(citizen["user_id"], other)
    assert line.get_rich_menu_id_of_user(citizen["user_id"]).rich_menu_id == other
    assert client.rich_menu(citizen["user_id"])["richMenuId"] == other
    line.delete_rich_menu(other)
    assert client.rich_menu(citizen["user_id"])["richMenuId"] == menu_id


def test_a_rich_menu_image_must_be_png_or_jpeg(line, blob):
    menu_id = line.create_rich_menu(menu_request()).rich_menu_id
    with pytest.raises(ApiException) as wrong_type:
        blob.set_rich_menu_image(menu_id, body=b"GIF89a", _headers={"Content-Type": "image/gif"})
    assert wrong_type.value.status == 415
