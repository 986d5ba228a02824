"""The one tokeniser choice for Thai (which has no spaces between words).

Both PyThaiNLP engines use the same dictionary-based maximal matching; ``nlpo3`` is its Rust
implementation. bench/nlp.py and docs/nlp.md hold the measurements behind the choice of ENGINE.
Both engines ship their dictionary in the wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

from pythainlp.tokenize import word_tokenize

ENGINE = "nlpo3"


def tokenize(text: str, engine: str = ENGINE) -> list[str]:
    """Words of ``text`` (best run on normalised text), whitespace dropped."""
    if not text:
        return []
    return [t for t in word_tokenize(text, engine=engine, keep_whitespace=False) if t.strip()]
