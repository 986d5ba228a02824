"""Thai text cleanup applied before every classification and at training time (one function for both).

Citizens type on phones: repeated letters for emphasis (``มากกกก``), zero-width characters pasted from
other apps, Thai digits, emoji, links and phone numbers. None of those say what the problem is, and
they split the vocabulary, so they are folded into a canonical form. Links, phone numbers, IDs and e-mails
become marker words (``xurl``, ``xphone``...) because *that* something was given can still be a signal.
The 1555-hotline template's field labels (``ถนน :``, ``เขต :``) become markers too: otherwise the field
name ``ถนน`` ("road") in every templated ticket would look like a road complaint.
"""

from __future__ import annotations

import re
import unicodedata

from pythainlp.util import normalize as thai_normalize

from bot.nlp._speedups import clean_characters, maybe_url, needs_thai_normalize, squeeze
from bot.nlp.pii import find_pii

_URL_RE = re.compile(r"(?:https?://|www\.)\S+|(?<![@\w.\-])[\w\-]+\.(?:com|net|org|co\.th|go\.th|in\.th|ly|me)(?:/\S*)?",
                     re.IGNORECASE)
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe00-\ufe0f\u200d\u20e3\U000e0000-\U000e007f\u3030\u303d\u3297\u3299]"
)
_TEMPLATE_FIELD_RE = re.compile(
    r"(?:^|(?<=\s)|(?<=\*))(ปัญหาที่แจ้ง|ปัญหา|จุดเกิดเหตุ|จุดสังเกตุ?|พิกัดจุดสังเกต|ซอย|ถนน|เเขวง|แขวง|เขต|"
    r"บ้านเลขที่)\s*:"
)
_TEMPLATE_MARKERS = {
    "ปัญหาที่แจ้ง": "xproblemfield", "ปัญหา": "xproblemfield", "จุดเกิดเหตุ": "xplacefield",
    "จุดสังเกต": "xplacefield", "จุดสังเกตุ": "xplacefield", "พิกัดจุดสังเกต": "xplacefield",
    "ซอย": "xsoifield", "ถนน": "xroadfield", "แขวง": "xsubdistrictfield", "เเขวง": "xsubdistrictfield",
    "เขต": "xdistrictfield", "บ้านเลขที่": "xhousefield",
}
_PII_MARKERS = {"citizen_id": " xidnum ", "phone": " xphone ", "email": " xemail "}


def _mask(text: str) -> str:
    out, last = [], 0
    for p in find_pii(text):
        out.append(text[last : p.start])
        out.append(_PII_MARKERS[p.kind])
        last = p.end
    out.append(text[last:])
    return "".join(out)


def normalize(text: str) -> str:
    """Canonical form of a citizen's message, for the classifier, intent and urgency rules.

    Never raises on any ``str``; returns ``""`` when nothing meaningful is left.
    """
    text = unicodedata.normalize("NFC", clean_characters(text))
    if maybe_url(text):  # a cheap first look: the link pattern costs ~6 us a message
        text = _URL_RE.sub(" xurl ", text)
    text = _mask(text)
    text = _EMOJI_RE.sub(" ", text)
    if ":" in text:
        text = _TEMPLATE_FIELD_RE.sub(lambda m: f" {_TEMPLATE_MARKERS[m.group(1)]} ", text)
    text = text.replace("#1555", " x1555 ")
    if needs_thai_normalize(text):  # PyThaiNLP's normalise costs ~70 us and changes only such texts
        text = thai_normalize(text)
    return squeeze(text).lower()
