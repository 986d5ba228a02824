"""Messages longer than LINE allows are split; at most five messages go in one request."""

from bot.messages import utf16_length
from bot.messages.batching import requests_for, split_text


def test_a_long_thai_text_is_split_at_spaces_into_parts_line_accepts():
    body = "ถนนหน้าบ้านมีหลุมขนาดใหญ่ " * 500
    parts = split_text(body)
    assert len(parts) > 1 and "".join(parts) == body
    assert all(utf16_length(part) <= 5000 for part in parts)
    assert all(part.endswith(" ") for part in parts[:-1])


def test_a_split_never_cuts_a_surrogate_pair_or_separates_a_tone_mark():
    body = ("😀" * 2499) + "น้ำ" * 10  # the emoji count 2 units each
    parts = split_text(body)
    assert "".join(parts) == body
    assert all(utf16_length(part) <= 5000 for part in parts)
    assert not parts[1][0] in "\u0e49\u0e48"


def test_requests_hold_at_most_five_messages_and_keep_the_quick_reply_last():
    quick = {"items": [{"type": "action", "action": {"type": "message", "label": "ok", "text": "ok"}}]}
    messages = [{"type": "text", "text": "x" * 12000, "quickReply": quick}] + [{"type": "text", "text": "y"}] * 4
    batches = requests_for(messages)
    assert [len(batch) for batch in batches] == [5, 2]
    flat = [m for batch in batches for m in batch]
    assert "".join(m["text"] for m in flat[:3]) == "x" * 12000
    assert flat[2]["quickReply"] == quick and "quickReply" not in flat[0]
