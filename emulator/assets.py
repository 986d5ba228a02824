"""The Thai font and generated sample pictures, found at run time from the installed font package.

The chat page must render Thai with no network, so it serves Noto Sans Thai from `fontpkg_noto_sans_thai`; the
same font draws Thai captions on sample images (a citizen's "photo" of a pothole needs no real file).
"""

from __future__ import annotations

import functools
import io
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


@functools.cache
def thai_font_path() -> Path:
    files = resources.files("fontpkg_noto_sans_thai") / "files"
    font = next(entry for entry in files.iterdir() if entry.name.endswith(".ttf"))
    return Path(str(font))


def sample_png(caption: str = "ภาพตัวอย่าง", size: tuple[int, int] = (480, 320),
               color: tuple[int, int, int] = (46, 125, 50)) -> bytes:
    """A PNG with a coloured background and a Thai caption."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(thai_font_path()), size=max(16, size[1] // 8))
    draw.text((size[0] // 2, size[1] // 2), caption, fill=(255, 255, 255), font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
