"""The topics citizens can follow, and the words that name them in chat (Thai and English)."""

from __future__ import annotations

ALL = "all"

# code -> words a citizen may type for it; the label comes from the catalogue (``topic_<code>``).
TOPICS: dict[str, tuple[str, ...]] = {
    "agriculture": ("เกษตร", "การเกษตร", "เกษตรกร", "agriculture", "farming"),
    "health": ("สุขภาพ", "สาธารณสุข", "health"),
    "welfare": ("สวัสดิการ", "welfare"),
    "education": ("การศึกษา", "ศึกษา", "education"),
    "digital": ("บริการดิจิทัล", "ดิจิทัล", "digital", "digital services"),
    "disaster": ("ภัยพิบัติ", "เตือนภัย", "ภัยพิบัติและการเตือนภัย", "disaster", "disasters", "warnings"),
    "local": ("ข่าวท้องถิ่น", "ท้องถิ่น", "local", "local news"),
}
ALL_WORDS = frozenset({"ทั้งหมด", "ทุกหัวข้อ", "ทุกเรื่อง", "ทุกจังหวัด", "all", "everything"})


def topic_of(word: str) -> str | None:
    word = " ".join(word.split()).lower()
    for code, words in TOPICS.items():
        if word == code or word in words:
            return code
    return None
