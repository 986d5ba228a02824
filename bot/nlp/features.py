"""Features the classifier reads: word unigrams and bigrams plus character n-grams.

Word n-grams carry meaning when the tokeniser gets the words right; character n-grams catch what it gets
wrong (misspellings, words missing from the dictionary, run-together text, newer vocabulary), which is
what newer complaints look like. Feature strings are prefixed so the kinds never collide.
"""

from __future__ import annotations

CHAR_NGRAMS = (2, 3, 4)
MAX_CHARS = 2000  # the problem is stated early; longer texts add cost, not signal


def features(normalized: str, tokens: list[str]) -> list[str]:
    """Feature strings of one normalised text and its tokens (duplicates kept: they are counts)."""
    out = ["w:" + t for t in tokens]
    out += ["b:" + a + "_" + b for a, b in zip(tokens, tokens[1:])]
    text = " " + normalized[:MAX_CHARS] + " "
    for n in CHAR_NGRAMS:
        out += ["c:" + text[i : i + n] for i in range(len(text) - n + 1)]
    return out
