"""The shipped category model: a linear classifier over TF-IDF features, stored as plain arrays.

Stored as ``model/vocab.json`` + ``model/weights.npz`` + ``model/model.json`` (metadata, temperature,
threshold, metrics) rather than a pickle: loading runs no code, does not depend on the scikit-learn
version, and the file stays small (float16 weights). ``vector`` re-implements scikit-learn's
``TfidfVectorizer(sublinear_tf=True)`` transform over ``features()`` (training and calibration use it);
serving goes through the compiled ``Scorer`` (bot/nlp/_speedups.pyx), which computes the same scores from
the text without building the feature strings, ~15x faster. Tests hold the two paths equal.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.nlp._speedups import Scorer
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
    coef: np.ndarray  # (n_features, n_classes) float32
    intercept: np.ndarray  # (n_classes,)
    temperature: float
    threshold: float
    meta: dict
    calibration: tuple[list[float], list[float]] = ((), ())  # isotonic map of top-1 probability -> P(hit)

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
        return Scorer(words, np.ascontiguousarray(self.idf, np.float32),
                      np.ascontiguousarray(self.coef, np.float32),
                      np.ascontiguousarray(self.intercept, np.float32))

    def scores(self, normalized: str, tokens: list[str]) -> np.ndarray:
        """Raw decision scores per class (compiled path; equal to ``reference_scores``)."""
        out = np.empty(len(self.classes), np.float32)
        self._scorer.scores(normalized, tokens, out)
        return out

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: softmax of temperature-scaled scores, then the top one mapped through an
        isotonic fit of "top answer acceptable" on held-out tickets (the rest rescaled to sum to one)."""
        z = scores * self.temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        xs, ys = self.calibration
        if len(xs) < 2:
            return p
        top = int(p.argmax())
        p_top = float(p[top])
        rest = 1.0 - p_top
        if rest <= 1e-9:
            return p
        c = _interp(p_top, xs, ys)
        p[top] = 0.0
        second = float(p.max())
        c = min(max(c, second / (rest + second)), 1.0)  # stay the most likely after rescaling the rest
        p *= (1.0 - c) / rest
        p[top] = c
        return p

    def predict_text(self, text: str) -> np.ndarray:
        """Calibrated probabilities for a raw text."""
        norm = normalize(text)
        return self.probabilities(self.scores(norm, tokenize(norm)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        (directory / "vocab.json").write_text(json.dumps(words, ensure_ascii=False), "utf-8")
        np.savez_compressed(directory / "weights.npz", idf=self.idf.astype(np.float16),
                            coef=self.coef.astype(np.float16), intercept=self.intercept.astype(np.float32))
        meta = dict(self.meta, classes=self.classes, temperature=self.temperature, threshold=self.threshold,
                    calibration=[list(map(float, self.calibration[0])), list(map(float, self.calibration[1]))])
        (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> "LinearTextModel":
        meta = json.loads((directory / "model.json").read_text("utf-8"))
        words = json.loads((directory / "vocab.json").read_text("utf-8"))
        with np.load(directory / "weights.npz") as w:
            idf, coef, intercept = (w["idf"].astype(np.float32), w["coef"].astype(np.float32),
                                    w["intercept"].astype(np.float32))
        cal = meta.get("calibration") or [[], []]
        return cls(meta["classes"], {f: i for i, f in enumerate(words)}, idf, coef, intercept,
                   float(meta["temperature"]), float(meta["threshold"]), meta, (cal[0], cal[1]))


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    """``np.interp`` for one point over short Python lists (np.interp converts the lists on every call)."""
    i = bisect.bisect_right(xs, x)
    if i == 0:
        return ys[0]
    if i == len(xs):
        return ys[-1]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


_lock = threading.Lock()
_shipped: LinearTextModel | None = None


def shipped_model() -> LinearTextModel:
    """The model under bot/nlp/model/, loaded once per process on first use (thread-safe)."""
    global _shipped
    if _shipped is None:
        with _lock:
            if _shipped is None:
                _shipped = LinearTextModel.load(MODEL_DIR)
    return _shipped
