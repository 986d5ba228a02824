"""``siang place`` through a real process: JSON lines in, one JSON line out each, bad lines answered, no crash."""

from __future__ import annotations

import json
import subprocess
import sys

KEYS = {"province", "district", "subdistrict", "source", "sure"}


def run_place(lines: list[str]) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "place"], input="\n".join(lines).encode() + b"\n",
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_points_and_texts_each_get_one_line_in_order():
    out = run_place([
        json.dumps({"lat": 13.74776, "lon": 100.52846}),
        json.dumps({"text": "ซอยลาดพร้าว 101 เขตบางกะปิ"}, ensure_ascii=False),
        json.dumps({"lat": 18.7883, "lon": 98.9853}),
        json.dumps({"lat": 18.7883, "lon": 98.9853, "text": "อ.หางดง"}, ensure_ascii=False),
        json.dumps({"lat": 35.6762, "lon": 139.6503}),
        json.dumps({"text": "ถนนลาดพร้าวเป็นหลุม"}, ensure_ascii=False),
    ])
    assert all(KEYS <= set(o) for o in out) and len(out) == 6
    assert out[0] == {"province": "กรุงเทพมหานคร", "district": "ปทุมวัน", "subdistrict": out[0]["subdistrict"],
                      "source": "polygon", "sure": True} and out[0]["subdistrict"]
    assert (out[1]["district"], out[1]["source"], out[1]["sure"]) == ("บางกะปิ", "text", True)
    assert (out[2]["district"], out[2]["source"], out[2]["sure"]) == ("เมืองเชียงใหม่", "nearest", False)
    assert (out[3]["province"], out[3]["district"], out[3]["source"]) == ("เชียงใหม่", "หางดง", "text")
    assert out[4]["outside_thailand"] is True and out[4]["province"] is None and out[4]["sure"] is False
    assert out[5]["district"] is None and out[5]["source"] == "text"


def test_bad_lines_get_an_error_line_and_the_batch_goes_on():
    bad = ["not json", "[1, 2]", '{"lat": "13.7"}', '{"lat": 13.7}', '{"lat": 1e999, "lon": 100}',
           '{"lat": 91, "lon": 100}', '{"text": 5}', "{}", '{"lat": true, "lon": false}']
    out = run_place([*bad, json.dumps({"text": "เขตบางรัก"}, ensure_ascii=False)])
    assert len(out) == len(bad) + 1
    assert all(set(o) == {"error"} for o in out[:-1]), out
    assert out[-1]["district"] == "บางรัก"


def test_the_siang_entry_point_has_the_command():
    from bot.cli import main

    assert "place" in main.commands
