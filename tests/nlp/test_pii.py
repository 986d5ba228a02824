"""Personal data is found (and only valid citizen IDs), so it can be masked before showing a text."""

from bot.nlp import find_pii, mask_pii
from bot.nlp.pii import citizen_id_valid

VALID_ID = "1101700230708"  # checksum-valid test number (not a real person's)


def test_citizen_id_checksum():
    assert citizen_id_valid(VALID_ID)
    assert not citizen_id_valid("1101700230705")
    assert not citizen_id_valid("110170023070")


def test_valid_citizen_id_is_found_in_dashed_and_plain_forms():
    for text in (f"เลขบัตร {VALID_ID} ครับ", "เลขบัตร 1-1017-00230-70-8 ครับ"):
        (m,) = find_pii(text)
        assert m.kind == "citizen_id"
        assert text[m.start : m.end].replace("-", "") == VALID_ID


def test_thirteen_digits_with_a_wrong_check_digit_is_not_a_citizen_id():
    assert all(m.kind != "citizen_id" for m in find_pii("เลข 1101700230705"))


def test_phone_numbers_mobile_landline_and_international():
    text = "โทร 081-234-5678 หรือ 02 123 4567 หรือ +66812345678"
    found = [(m.kind, text[m.start : m.end]) for m in find_pii(text)]
    assert found == [("phone", "081-234-5678"), ("phone", "02 123 4567"), ("phone", "+66812345678")]


def test_hotlines_house_numbers_and_dates_are_not_phones():
    assert find_pii("โทร 1555 บ้านเลขที่ 99/123 วันที่ 12/08/2565") == []


def test_email_is_found_and_masked():
    text = "ติดต่อ somchai.k@example.co.th ได้เลย"
    (m,) = find_pii(text)
    assert m.kind == "email"
    assert mask_pii(text) == "ติดต่อ [อีเมล] ได้เลย"


def test_mask_replaces_every_kind():
    masked = mask_pii(f"บัตร {VALID_ID} โทร 0812345678")
    assert VALID_ID not in masked and "0812345678" not in masked
    assert "[เลขบัตรประชาชน]" in masked and "[เบอร์โทร]" in masked


def test_an_answer_is_a_phone_exactly_when_masking_would_hide_it():
    """One pattern: what a flow takes as "your phone" is what ``mask_pii`` hides, in its plain form."""
    from bot.nlp.pii import normalise_phone

    taken = {"081-234-5678": "0812345678", "+66 81 234 5678": "0812345678", "66812345678": "0812345678",
             "(02) 123-4567": "021234567", "๐๘๑๒๓๔๕๖๗๘": "0812345678", "053.123.456": "053123456"}
    for answer, plain in taken.items():
        assert normalise_phone(answer) == plain, answer
        assert "[เบอร์โทร]" in mask_pii(f"โทร {plain}"), plain
    for answer in ("1555", "08123456789", "0123456789", "+660812345678", "081234567", "โทรมาได้"):
        assert normalise_phone(answer) is None, answer
