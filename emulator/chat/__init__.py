"""The browser chat page: a citizen's view of the LINE chat with the bot, served at `/`.

Plain HTML, CSS and JavaScript with no build step; it talks only to the control API. The Thai font is served
from the installed font package so Thai renders without any network.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, send_file

from emulator.assets import thai_font_path
from emulator.runtime import current

bp = Blueprint("chat", __name__, template_folder="templates", static_folder="static",
               static_url_path="/_emulator/chat/static")


@bp.get("/")
def page() -> str:
    return render_template("chat.html", bot_name=current().settings.bot_display_name)


@bp.get("/_emulator/font/noto-sans-thai.ttf")
def thai_font() -> Response:
    return send_file(thai_font_path(), mimetype="font/ttf", max_age=86400)
