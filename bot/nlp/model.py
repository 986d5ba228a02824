"""The shipped category model: a linear classifier over TF-IDF features, stored as plain arrays.

Stored as ``model/vocab.json`` + ``model/weights.npz`` + ``model/model.json`` (metadata, temperature,
threshold, metrics) rather than a pickle: loading runs no code, does not depend on the scikit-learn
version, and the file stays small (int8 weights with one scale per feature, float16 idf). Serving goes
through the compiled ``Scorer`` (bot/nlp/_speedups.pyx), which computes the scores from the text without
building feature strings; ``reference_scores`` computes the same the readable way (feature strings,
scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` transform) and tests hold the two equal.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.nlp._speedups import Scorer, calibrated
from bot.nlp.features import features
from bot.nlp.normalize import normalize
from bot.nlp.tokenize import tokenize

MODEL_DIR = Path(__file__).parent / "model"


@dataclass
class LinearTextModel:
    """Vocabulary, idf, weights and the calibration learnt by ``siang nlp train``."""

    classes: list[str]
    vocab: dict[str, int]
    idf: np.ndarray  # (n_features,) float32
    coef: np.ndarray  # (n_features, n_classes) float32, values as served (see quantize)
    intercept: np.ndarray  # (n_classes,)
    temperature: float
    threshold: float
    meta: dict
    # Isotonic map of the top-1 probability to P(hit): knots (xs, ys) as float64 arrays; none = identity.
    calibration: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.empty(0), np.empty(0)))

    def vector(self, feats: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF vector (indices, l2-normalised values) of a feature list."""
        vocab = self.vocab
        pairs = [(vocab[f], c) for f, c in Counter(feats).items() if f in vocab]  # Counter runs in C
        if not pairs:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        arr = np.array(pairs, dtype=np.int64)
        idx = arr[:, 0]
        val = (1.0 + np.log(arr[:, 1].astype(np.float32))) * self.idf[idx]
        return idx, val / np.linalg.norm(val)

    def reference_scores(self, normalized: str, tokens: list[str]) -> np.ndarray:
        """Raw decision scores per class, the readable way (feature strings, dict lookups)."""
        idx, val = self.vector(features(normalized, tokens))
        return val @ self.coef[idx] + self.intercept

    @cached_property
    def _scorer(self) -> Scorer:
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        q, scale = quantize(self.coef)
        return Scorer(words, np.ascontiguousarray(self.idf, np.float32), q, scale,
                      np.ascontiguousarray(self.intercept, np.float32))

    def scores(self, normalized: str, tokens: list[str]) -> np.ndarray:
        """Raw decision scores per class (compiled path; equal to ``reference_scores``)."""
        out = np.empty(len(self.classes), np.float32)
        self._scorer.scores(normalized, tokens, out)
        return out

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: softmax of temperature-scaled scores, then the top one mapped through an
        isotonic fit of "top answer acceptable" on held-out tickets (the rest rescaled to sum to one).
        Compiled (``_speedups.calibrated``): training calibrates through this same function."""
        out = np.empty(len(self.classes))
        calibrated(np.asarray(scores, np.float32), self.temperature, *self.calibration, out)
        return out

    def predict_text(self, text: str) -> np.ndarray:
        """Calibrated probabilities for a raw text."""
        norm = normalize(text)
        return self.probabilities(self.scores(norm, tokenize(norm)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        (directory / "vocab.json").write_text(json.dumps(words, ensure_ascii=False), "utf-8")
        q, scale = quantize(self.coef)
        np.savez_compressed(directory / "weights.npz", idf=self.idf.astype(np.float16), coef_int8=q,
                            coef_scale=scale, intercept=self.intercept.astype(np.float32))
        meta = dict(self.meta, classes=self.classes, temperature=self.temperature, threshold=self.threshold,
                    calibration=[list(map(float, self.calibration[0])), list(map(float, self.calibration[1]))])
        (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> "LinearTextModel":
        meta = json.loads((directory / "model.json").read_text("utf-8"))
        words = json.loads((directory / "vocab.json").read_text("utf-8"))
        with np.load(directory / "weights.npz") as w:
            idf, coef, intercept = (w["idf"].astype(np.float32), dequantize(w["coef_int8"], w["coef_scale"]),
                                    w["intercept"].astype(np.float32))
        xs, ys = meta.get("calibration") or [[], []]
        return cls(meta["classes"], {f: i for i, f in enumerate(words)}, idf, coef, intercept,
                   float(meta["temperature"]), float(meta["threshold"]), meta,
                   (np.asarray(xs, np.float64), np.asarray(ys, np.float64)))


def quantize(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights as int8 with one float32 scale per feature row (max |weight| -> 127).

    A quarter of float32's memory, so the ~300 rows a message reads stay in cache beside the tokeniser's
    dictionary; the argmax changed on 1 of 5,281 test tickets when measured. Idempotent on its own output,
    so quantising a loaded model gives back the stored arrays.
    """
    scale = np.abs(coef).max(axis=1).astype(np.float32) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(coef / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q), scale


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The float32 weights the int8 rows stand for (what training calibrates and the reference path uses)."""
    return q.astype(np.float32) * scale.astype(np.float32)[:, None]


_lock = threading.Lock()
_shipped: LinearTextModel | None = None


def shipped_model() -> LinearTextModel:
    """The model under bot/nlp/model/, loaded once per process on first use (thread-safe)."""
    global _shipped
    if _shipped is None:
        with _lock:
            if _shipped is None:
                model = LinearTextModel.load(MODEL_DIR)
                model.scores("", [])  # builds the compiled scorer now: part of loading, not of a first message
                _shipped = model
    return _shipped
