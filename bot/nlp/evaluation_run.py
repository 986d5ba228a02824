"""``siang nlp evaluate``: the shipped model, the baseline and (optionally) a model retrained with staff
corrections, all scored on the same rows of a file, the baseline trained in the same run.

Rows of FILE whose ticket is in the training data's train/calibration split are skipped, so evaluating
on the shared data itself only scores the test split, and a new export is scored in full.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.nlp.dataset import read_corrections, read_examples, split_of
from bot.nlp.evaluate import evaluate_probs
from bot.nlp.model import shipped_model
from bot.nlp.train import Baseline, _conf_hit, choose_threshold, split_examples, train_model


def run_evaluation(file: Path, data: Path, corrections: Path | None = None) -> dict:
    parts = split_examples(data)
    trained_on = {e.ticket_id for e in parts["train"] + parts["calib"]}
    rows = read_examples(file)
    test = [e for e in rows if e.ticket_id not in trained_on]
    texts = [e.text for e in test]
    models: dict[str, dict] = {}

    base = Baseline().fit(parts["train"])
    thr = choose_threshold(*_conf_hit(base.proba([e.text for e in parts["calib"]]), base.classes, parts["calib"]))
    models["baseline (word unigrams + LR)"] = evaluate_probs(base.proba(texts), base.classes, test, thr)

    shipped = shipped_model()
    models["siang (shipped)"] = evaluate_probs(np.vstack([shipped.predict_text(t) for t in texts]),
                                               shipped.classes, test, shipped.threshold)
    if corrections:
        extra = read_corrections(corrections)
        for name, ex in (("siang retrained, no corrections", []), (f"siang + {len(extra)} corrections", extra)):
            m = train_model(parts["train"], parts["calib"], ex)
            models[name] = evaluate_probs(np.vstack([m.predict_text(t) for t in texts]), m.classes, test,
                                          m.threshold)
    return {"file": str(file), "rows_evaluated": len(test), "rows_skipped_trained_on": len(rows) - len(test),
            "models": models}


__all__ = ["run_evaluation", "split_of"]
