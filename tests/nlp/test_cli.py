"""``siang classify`` (stdin lines -> JSON lines) and ``siang nlp evaluate`` through click and python -m."""

import json
import subprocess
import sys

from click.testing import CliRunner

from bot.nlp.cli import classify_command, nlp_group

REQUIRED = {"category", "confidence", "confident", "alternatives", "agency", "intent", "urgent"}


def test_classify_writes_one_json_object_per_line_and_errors_for_empty_lines():
    stdin = "ไฟฟ้าดับทั้งหมู่บ้าน\n\n   \nถนนพัง 😡\n".encode()
    result = CliRunner().invoke(classify_command, ["--province", "เชียงใหม่"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert len(lines) == 4
    assert REQUIRED <= lines[0].keys() and REQUIRED <= lines[3].keys()
    assert "error" in lines[1] and "error" in lines[2]
    assert set(lines[0]["agency"]) >= {"id", "name_th"}
    assert lines[3]["agency"]["id"] == "local:50"


def test_classify_survives_invalid_utf8_and_writes_thai_unescaped():
    result = CliRunner().invoke(classify_command, [], input=b"\xff\xfe\x80 bad bytes\n" + "น้ำท่วมถนน\n".encode())
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2 and "category" in json.loads(lines[0])
    assert "น้ำท่วม" in lines[1]  # ensure_ascii=False


def test_python_dash_m_runs_the_same_commands():
    out = subprocess.run([sys.executable, "-m", "bot.nlp.cli", "classify", "--district", "บางรัก"],
                         input="ทางเท้าพังเดินไม่ได้\n".encode(), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    obj = json.loads(out.stdout.decode())
    assert obj["agency"]["id"] == "bma-district:1004"


def test_nlp_group_has_train_and_evaluate():
    assert nlp_group.name == "nlp" and set(nlp_group.commands) == {"train", "evaluate"}
