"""Figures reported by ``siang nlp evaluate`` and ``siang nlp train``: one function, any model.

Hit rate = the top category is in the ticket's set of acceptable categories (README: labels are a set
of acceptable answers). For macro-F1 each ticket gets one gold label: the prediction if it is acceptable,
otherwise the acceptable label the model ranked highest (so a ticket is one error, not several).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from bot.nlp.dataset import Example


def evaluate_probs(probs: np.ndarray, classes: list[str], examples: list[Example], threshold: float) -> dict:
    """Hit rate (all / non-2022-export), top-3, macro-F1, precision+coverage at threshold, confusions."""
    if not examples:
        return {"n": 0}
    order = np.argsort(-probs, 1)
    pred = [classes[o[0]] for o in order]
    hit = np.array([p in e.accepted for p, e in zip(pred, examples)])
    top3 = np.array([any(classes[j] in e.accepted for j in o[:3]) for o, e in zip(order, examples)])
    non = np.array([not e.from_2022_export for e in examples])
    conf = probs.max(1)
    covered = conf >= threshold
    gold = []
    for o, p, e in zip(order, pred, examples):
        gold.append(p if p in e.accepted else next((classes[j] for j in o if classes[j] in e.accepted),
                                                   sorted(e.accepted)[0]))
    f1s = []
    for c in sorted(set(gold) | set(pred)):
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    confusions = Counter((g, p) for g, p in zip(gold, pred) if g != p).most_common(8)
    return {
        "n": len(examples), "hit_rate": round(float(hit.mean()), 4),
        "n_non_2022_export": int(non.sum()),
        "hit_rate_non_2022_export": round(float(hit[non].mean()), 4) if non.any() else None,
        "top3": round(float(top3.mean()), 4), "macro_f1": round(float(np.mean(f1s)), 4),
        "threshold": round(float(threshold), 4), "coverage": round(float(covered.mean()), 4),
        "precision_at_threshold": round(float(hit[covered].mean()), 4) if covered.any() else None,
        "confusions": [{"gold": g, "predicted": p, "n": n} for (g, p), n in confusions],
    }
