"""The rich menu: drawn with a Thai font, deployed through the Messaging API, and its buttons start flows."""

from __future__ import annotations

import io

from click.testing import CliRunner
from PIL import Image

from bot.cli import main
from bot.richmenu import TILES, draw_image
from tests.conftest import SECRET, TOKEN
from tests.flows.conftest import Chat


def test_the_menu_image_is_a_png_line_accepts():
    png = draw_image()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (2500, 1686) and len(png) < 1024 * 1024
    # every tile has the Thai label drawn in white over its colour
    assert len({image.getpixel((x, y)) for x, y in ((400, 100), (1250, 100), (2100, 100))}) == 3


def test_siang_richmenu_deploy_sets_a_default_menu_whose_buttons_start_the_flows(bot, line, emulator_server):
    env = {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE_URL": emulator_server.base_url, "LINE_DATA_API_BASE_URL": emulator_server.base_url}
    runner = CliRunner()
    for _ in range(2):  # a second deploy replaces the first (LINE images cannot be replaced in place)
        result = runner.invoke(main, ["richmenu", "deploy"], env=env, catch_exceptions=False)
        assert result.exit_code == 0 and "is the default" in result.output
    chat = Chat(line, line.create_user()["user_id"])
    menu = line.rich_menu(chat.user_id)
    assert menu["chatBarText"] == "เมนูบริการ" and len(menu["areas"]) == len(TILES)
    assert result.output.split()[2] == menu["richMenuId"]
    by_label = {area["action"]["label"]: area["action"] for area in menu["areas"]}
    assert set(by_label) == {"ร้องเรียน", "เสนอความคิดเห็น", "ติดตามเรื่อง", "รับข่าวสาร", "สมัครอาสาสมัคร",
                             "คุยกับเจ้าหน้าที่"}
    chat.tap_data(by_label["ร้องเรียน"]["data"])
    assert "ข้อมูลส่วนบุคคล" in chat.said
    chat.tap_data(by_label["ติดตามเรื่อง"]["data"])
    assert "ยังไม่มีเรื่อง" in chat.said
