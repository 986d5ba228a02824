"""The rich menu: six main services, its image drawn from code with a Thai font, deployed by the Messaging API.

``siang richmenu deploy`` draws the image (Pillow + Noto Sans Thai from the ``fontpkg-noto-sans-thai``
package), creates the menu, uploads the image and makes it every user's default. A LINE image cannot be
replaced, so each deploy creates a new menu; older Siang menus are deleted afterwards. Each area sends the
same ``menu=<service>`` postback as the quick-reply main menu, so both start the same flows.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import click

from bot import messages

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
NAME_PREFIX = "siang-main"


@dataclass(frozen=True)
class Tile:
    service: str  # the ``menu=`` postback value
    label_key: str
    color: str
    icon: str


TILES = (
    Tile("complaint", "menu_complaint", "#1E6B52", "alert"),
    Tile("opinion", "menu_opinion", "#2F5D8A", "bubble"),
    Tile("track", "menu_track", "#6A4C93", "search"),
    Tile("news", "menu_news", "#B5651D", "news"),
    Tile("volunteer", "menu_volunteer", "#A23E48", "heart"),
    Tile("person", "menu_person", "#3D5A5B", "person"),
)


def _font(size: int, weight: str = "Bold"):
    import fontpkg_noto_sans_thai as noto
    from PIL import ImageFont

    path = next((noto.ROOT / "files").glob("NotoSansThai*.ttf"))
    font = ImageFont.truetype(str(path), size)
    try:
        font.set_variation_by_name(weight)
    except (OSError, ValueError):  # a static build of the font: its only weight is fine
        pass
    return font


def cell(index: int) -> tuple[int, int, int, int]:
    """x, y, width, height of tile ``index`` (row by row); the last column/row takes the rounding rest."""
    col, row = index % COLUMNS, index // COLUMNS
    w, h = WIDTH // COLUMNS, HEIGHT // ROWS
    return col * w, row * h, (WIDTH - col * w if col == COLUMNS - 1 else w), (HEIGHT - row * h if row == ROWS - 1 else h)


def draw_image(lang: str = "th") -> bytes:
    """The menu image as PNG bytes (well under LINE's 1 MB)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    title, small = _font(96), _font(56, "Regular")
    for index, tile in enumerate(TILES):
        x, y, w, h = cell(index)
        draw.rectangle((x + 8, y + 8, x + w - 8, y + h - 8), fill=tile.color)
        cx, cy = x + w // 2, y + h // 2 - 90
        _icon(draw, tile.icon, cx, cy, 150)
        label = messages.text(tile.label_key, lang)
        draw.text((cx, y + h - 250), label, font=title, fill="#FFFFFF", anchor="mm")
        if lang == "th":
            draw.text((cx, y + h - 140), messages.text(tile.label_key, "en"), font=small, fill="#E8F0EC",
                      anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _icon(draw, kind: str, cx: int, cy: int, r: int) -> None:
    """Simple white pictograms: recognisable at a glance, no icon font needed."""
    white, line = "#FFFFFF", 22
    if kind == "alert":
        draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], outline=white, width=line)
        draw.rectangle((cx - 12, cy - r * 0.35, cx + 12, cy + r * 0.3), fill=white)
        draw.ellipse((cx - 15, cy + r * 0.45, cx + 15, cy + r * 0.65), fill=white)
    elif kind == "bubble":
        draw.rounded_rectangle((cx - r, cy - r * 0.7, cx + r, cy + r * 0.5), radius=40, outline=white, width=line)
        draw.polygon([(cx - r * 0.4, cy + r * 0.45), (cx - r * 0.7, cy + r), (cx - r * 0.05, cy + r * 0.45)],
                     fill=white)
    elif kind == "search":
        draw.ellipse((cx - r * 0.8, cy - r * 0.8, cx + r * 0.4, cy + r * 0.4), outline=white, width=line)
        draw.line((cx + r * 0.25, cy + r * 0.25, cx + r, cy + r), fill=white, width=line + 8)
    elif kind == "news":
        draw.rectangle((cx - r, cy - r * 0.75, cx + r, cy + r * 0.75), outline=white, width=line)
        for n in range(3):
            yy = cy - r * 0.35 + n * r * 0.35
            draw.line((cx - r * 0.65, yy, cx + r * 0.65, yy), fill=white, width=16)
    elif kind == "heart":
        draw.ellipse((cx - r, cy - r * 0.8, cx, cy + r * 0.2), fill=white)
        draw.ellipse((cx, cy - r * 0.8, cx + r, cy + r * 0.2), fill=white)
        draw.polygon([(cx - r * 0.97, cy - r * 0.15), (cx + r * 0.97, cy - r * 0.15), (cx, cy + r)], fill=white)
    else:  # person
        draw.ellipse((cx - r * 0.4, cy - r, cx + r * 0.4, cy - r * 0.2), fill=white)
        draw.pieslice((cx - r * 0.85, cy - r * 0.1, cx + r * 0.85, cy + r * 1.5), 180, 360, fill=white)


def menu_request(lang: str = "th"):
    from linebot.v3.messaging import (
        PostbackAction,
        RichMenuArea,
        RichMenuBounds,
        RichMenuRequest,
        RichMenuSize,
    )

    areas = []
    for index, tile in enumerate(TILES):
        x, y, w, h = cell(index)
        label = messages.text(tile.label_key, lang)
        areas.append(RichMenuArea(bounds=RichMenuBounds(x=x, y=y, width=w, height=h),
                                  action=PostbackAction(label=label[:20], data=f"menu={tile.service}",
                                                        displayText=label)))
    return RichMenuRequest(size=RichMenuSize(width=WIDTH, height=HEIGHT), selected=True,
                           name=f"{NAME_PREFIX}-{lang}", chatBarText=messages.text("richmenu_bar", lang)[:14],
                           areas=areas)


def deploy(line, lang: str = "th", keep_old: bool = False) -> str:
    """Create the menu, upload its image, make it the default; returns the new rich menu id."""
    timeout = line.timeout
    menu_id = line.api.create_rich_menu(menu_request(lang), _request_timeout=timeout).rich_menu_id
    line.blob.set_rich_menu_image(menu_id, body=draw_image(lang), _headers={"Content-Type": "image/png"},
                                  _request_timeout=timeout)
    line.api.set_default_rich_menu(menu_id, _request_timeout=timeout)
    if not keep_old:
        for menu in line.api.get_rich_menu_list(_request_timeout=timeout).richmenus:
            if menu.rich_menu_id != menu_id and menu.name.startswith(NAME_PREFIX):
                line.api.delete_rich_menu(menu.rich_menu_id, _request_timeout=timeout)
    log.info("rich menu deployed", extra={"rich_menu_id": menu_id})
    return menu_id


@click.group("richmenu", help="The LINE rich menu of the main services.")
def richmenu_group() -> None:
    pass


@richmenu_group.command("deploy", help="Draw the menu image, create the menu and set it as every user's default.")
@click.option("--lang", type=click.Choice(["th", "en"]), default="th")
@click.option("--keep-old", is_flag=True, help="do not delete earlier Siang menus")
@click.option("--save-image", type=click.Path(dir_okay=False), help="also write the PNG here")
def deploy_command(lang: str, keep_old: bool, save_image: str | None) -> None:
    from bot.config import Settings
    from bot.line import make_line_clients

    settings = Settings.from_env(development_secret=True)  # signs no session: SECRET_KEY is not needed here
    line = make_line_clients(settings.line_channel_access_token, settings.line_api_base_url,
                             settings.line_data_api_base_url, settings.line_timeout_seconds)
    try:
        if save_image:
            with open(save_image, "wb") as handle:
                handle.write(draw_image(lang))
        click.echo(f"rich menu {deploy(line, lang, keep_old)} is the default")
    finally:
        line.close()
