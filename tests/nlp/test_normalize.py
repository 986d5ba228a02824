"""Normalisation folds the noise of real messages into one form, and tokenisation never downloads."""

from bot.nlp import normalize, tokenize


def test_repeated_letters_collapse_to_one():
    assert normalize("ถนนพังมากกกกก") == "ถนนพังมาก"
    assert normalize("ช่วยด้วยยยยย ค่ะะะ") == "ช่วยด้วย ค่ะ"


def test_repeated_digits_are_kept_because_they_can_be_numbers():
    assert "1000" in normalize("ซอย 1000")


def test_zero_width_characters_are_removed():
    assert normalize("ไฟ\u200bดับ\u200c\ufeff") == "ไฟดับ"


def test_thai_digits_become_arabic_digits():
    assert normalize("ซอย ๑๒/๓") == "ซอย 12/3"


def test_urls_phones_and_emails_become_marker_words():
    out = normalize("ดูรูปที่ https://traffy.in.th/abc โทร 081-234-5678 หรือ a.b@example.com")
    assert "xurl" in out and "xphone" in out and "xemail" in out
    assert "081" not in out and "example" not in out


def test_emoji_are_removed():
    assert normalize("น้ำท่วม😡😡🌧️ หนักมาก") == "น้ำท่วม หนักมาก"


def test_1555_template_field_names_do_not_read_as_words():
    out = normalize("ปัญหา: ไฟดับ\nถนน: พญาไท\nเขต: ราชเทวี\n#1555")
    assert "ถนน" not in out.split()
    assert "xroadfield" in out and "x1555" in out


def test_misordered_thai_marks_are_normalised():
    assert normalize("เเปลก") == "แปลก"
    assert normalize("นํ้าท่วม") == "น้ำท่วม"


def test_latin_is_lower_cased_and_space_collapsed():
    assert normalize("  Hello   WORLD \n") == "hello world"


def test_tokenize_splits_thai_words_without_network(monkeypatch):
    import socket

    def no_network(*a, **k):
        raise AssertionError("tokenisation tried to use the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert tokenize("ถนนหน้าบ้านเป็นหลุม") == ["ถนน", "หน้าบ้าน", "เป็น", "หลุม"]
    assert tokenize("ถนนหน้าบ้านเป็นหลุม", engine="newmm") == ["ถนน", "หน้าบ้าน", "เป็น", "หลุม"]
    assert tokenize("") == []
