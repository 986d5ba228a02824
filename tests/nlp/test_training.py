"""Full rebuild and evaluation (slow: trains the baseline and two models on the shared data)."""

import csv
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from bot.nlp.cli import nlp_group
from bot.nlp.dataset import DEFAULT_DATA, split_of
from bot.nlp.model import MODEL_DIR, LinearTextModel

# Each test trains on the full data (minutes per model): run with SIANG_NLP_SLOW=1 (and -m slow).
slow = [pytest.mark.slow, pytest.mark.timeout(3600),
        pytest.mark.skipif(os.environ.get("SIANG_NLP_SLOW") != "1", reason="set SIANG_NLP_SLOW=1 to train")]


@slow[0]
@slow[1]
@slow[2]
def test_train_is_reproducible_and_meets_the_bars(tmp_path):
    out = tmp_path / "model"
    result = CliRunner().invoke(nlp_group, ["train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    built, shipped = LinearTextModel.load(out), LinearTextModel.load(MODEL_DIR)
    # Reproducible: the same data and code give the shipped model, weight for weight.
    assert (out / "vocab.json").read_bytes() == (MODEL_DIR / "vocab.json").read_bytes()
    assert built.classes == shipped.classes
    np.testing.assert_array_equal(built.coef, shipped.coef)
    np.testing.assert_array_equal(built.intercept, shipped.intercept)
    assert (built.temperature, built.threshold) == (shipped.temperature, shipped.threshold)
    for built_knots, shipped_knots in zip(built.calibration, shipped.calibration):
        np.testing.assert_array_equal(built_knots, shipped_knots)
    ours, base = built.meta["test_metrics"], built.meta["baseline_test_metrics"]
    margin = 1e-9  # the reported rates are rounded to 4 places (479/624 - 454/624 = 0.04006)
    assert ours["hit_rate"] >= base["hit_rate"] + 0.02 - margin
    assert ours["hit_rate_non_2022_export"] >= base["hit_rate_non_2022_export"] + 0.04 - margin
    assert ours["top3"] >= 0.98
    assert ours["precision_at_threshold"] >= 0.96 and ours["coverage"] >= 0.80


@slow[0]
@slow[1]
@slow[2]
def test_evaluate_shows_the_effect_of_staff_corrections(tmp_path):
    with open(DEFAULT_DATA, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if split_of(r["ticket_id"]) == "test"][:300]
    file = tmp_path / "eval.csv"
    with open(file, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    corrections = tmp_path / "corrections.csv"
    corrections.write_text("text,category\nน้ำประปาไม่ไหลทั้งซอย,ประปา\n", encoding="utf-8")
    result = CliRunner().invoke(nlp_group, ["evaluate", str(file), "--corrections", str(corrections), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows_evaluated"] > 250
    assert set(report["models"]) == {"baseline (word unigrams + LR)", "siang (shipped)",
                                     "siang retrained, no corrections", "siang + 1 corrections"}
