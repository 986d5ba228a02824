"""The compiled serving path (bot/nlp/_speedups.pyx) gives the answers of the readable Python path."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.nlp import normalize, tokenize
from bot.nlp._speedups import Scorer, feature_key, longest_digit_run, maybe_url, needs_thai_normalize
from bot.nlp.model import dequantize, quantize, shipped_model

MESSY = [
    "ถนนพังงงงงง มากกกก 😡😡 ช่วยด้วยค่ะ",
    "😀🙏🏻",
    "x" * 5000,
    "ไฟ" * 3000,
    "ท่อระบายน้ำอุดตัน\u200bน้ำท่วมขัง ซ.๑๒ โทร 081-234-5678",
    "Street light broken near BTS Asok, please fix",
    "\x00\x01\ufffd garbage \udcff",
    "ก",
]


def test_compiled_scores_equal_the_reference_scores_on_real_and_messy_texts(traffy_examples):
    model = shipped_model()
    texts = [e.text for e in random.Random(3).sample(traffy_examples, 400)] + MESSY
    for text in texts:
        norm = normalize(text)
        tokens = tokenize(norm)
        np.testing.assert_allclose(model.scores(norm, tokens), model.reference_scores(norm, tokens),
                                   rtol=0, atol=1e-4, err_msg=text[:80])


def test_quantised_weights_round_trip_and_stay_close():
    rng = np.random.default_rng(1)
    coef = rng.normal(size=(50, 23)).astype(np.float32)
    coef[7] = 0.0
    q, scale = quantize(coef)
    served = dequantize(q, scale)
    assert q.dtype == np.int8 and np.abs(served - coef).max() <= np.abs(coef).max() / 254 + 1e-6
    q2, scale2 = quantize(served)  # quantising a loaded model gives back the stored arrays
    np.testing.assert_array_equal(q2, q)
    np.testing.assert_allclose(scale2, scale, rtol=1e-6)


def test_a_text_with_no_known_feature_scores_the_intercepts():
    model = shipped_model()
    np.testing.assert_allclose(model.scores("", []), model.intercept, atol=1e-6)


def test_feature_keys_are_stable_across_processes_and_tell_kinds_apart():
    # Fixed values: the shipped vocabulary is hashed with them at load (no per-process hash salt).
    assert feature_key("w:a") == 0x06C616DB2AE1076B
    assert feature_key("c:ถนน") == 0x113F5F70D3528DEC
    assert len({feature_key(f) for f in ("w:ถนน", "c:ถนน", "b:ถนน_พัง", "w:ถนน_พัง")}) == 4


def test_scorer_rejects_arrays_that_disagree_with_the_vocabulary():
    with pytest.raises(ValueError):
        Scorer(["w:a", "w:b"], np.ones(2, np.float32), np.ones((3, 2), np.int8), np.ones(3, np.float32),
               np.zeros(2, np.float32))


def test_scorer_rejects_a_vocabulary_with_a_repeated_feature():
    with pytest.raises(ValueError):
        Scorer(["w:a", "w:a"], np.ones(2, np.float32), np.ones((2, 2), np.int8), np.ones(2, np.float32),
               np.zeros(2, np.float32))


def test_skipping_pythainlp_normalize_changes_no_real_text(traffy_examples, monkeypatch):
    """The cheap check may flag more than needed, never less: on every shared complaint, normalising with
    the skip gives what always running PyThaiNLP's normalize gives."""
    import importlib

    module = importlib.import_module("bot.nlp.normalize")
    texts = [e.text for e in traffy_examples]
    fast = [module.normalize(t) for t in texts]
    monkeypatch.setattr(module, "needs_thai_normalize", lambda text: True)
    slow = [module.normalize(t) for t in texts]
    assert [t for t, f, s in zip(texts, fast, slow) if f != s] == []
    assert sum(map(needs_thai_normalize, texts)) < 0.2 * len(texts)  # and it does rule most texts out


@pytest.mark.parametrize("text, expected", [
    ("น้้ำ", True),        # doubled tone mark
    ("กั้ิน", True),       # two upper vowels
    ("เก่า", False),
    ("ที่นี่", False),
    (" ่กา", True),        # tone mark after a space
    ("่กา", True),         # tone mark at the start
    ("กำ่", True),         # tone after sara am (misordered)
    ("แถวๅเขต", True),     # lakkhangyao for sara aa
    ("ธ์ุ", True),         # thanthakhat before a lower vowel
    ("กทมเ เคย", True),    # a lead vowel repeated after a space
    ("", False),
])
def test_needs_thai_normalize_on_crafted_marks(text, expected):
    assert needs_thai_normalize(text) is expected


def test_the_cheap_looks_never_rule_out_a_text_the_full_patterns_match(traffy_examples):
    """Over every shared complaint: no link where ``maybe_url`` says none can be, no phone, ID or case
    reference where the digit runs are too short."""
    import importlib

    normalize_module = importlib.import_module("bot.nlp.normalize")
    pii = importlib.import_module("bot.nlp.pii")
    intent = importlib.import_module("bot.nlp.intent")
    texts = [e.text for e in traffy_examples]
    references = intent._rules()["case_reference"]
    samples = [normalize_module.normalize(t) for t in texts] + ["ติดตาม dr-2569-000123", "เรื่อง 2023-abc123"]
    assert [t for t in samples if longest_digit_run(t) < 4 and references.search(t)] == []
    assert sum(bool(references.search(t)) for t in samples) >= 2
    assert [t for t in texts if not maybe_url(t) and normalize_module._URL_RE.search(t)] == []
    assert [t for t in texts if longest_digit_run(t) < 9
            and (pii.PHONE_RE.search(t) or pii.CITIZEN_ID_RE.search(t))] == []
    assert sum(map(maybe_url, texts)) < 0.05 * len(texts)


@pytest.mark.parametrize("text, run", [
    ("โทร 081-234-5678", 10), ("+66 81 234 5678", 11), ("ซอย 12 บ้านเลขที่ 45/6", 2),
    ("1-1017-00207-15-1", 13), ("08 -1234", 4), ("٠٨١٢٣٤٥٦٧٨", 10), ("", 0),
])
def test_longest_digit_run(text, run):
    assert longest_digit_run(text) == run


@pytest.mark.parametrize("text, expected", [
    ("ดูที่ https://goo.gl/maps/x", True), ("WWW.BANGKOK.GO.TH", True), ("line.me/ti/p", True),
    ("bma.go.th/complaint", True), ("ซ.ลาดพร้าว 101 ถ.ลาดพร้าว", False), ("เวลา 10:30 น.", False),
])
def test_maybe_url(text, expected):
    assert maybe_url(text) is expected
