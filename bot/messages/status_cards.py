"""The Flex card a citizen gets when their case changes status: ticket, new status, note, agency, link.

All wording comes from the catalogue (``texts/status.toml``); colours say at a glance whether the case is
moving (blue), done (green) or stopped (grey/red).
"""

from __future__ import annotations

import re

from bot.messages import text

ALT_TEXT_LIMIT = 1500  # UTF-16 units (LINE); our alt texts are far shorter
NOTE_LIMIT = 1000  # characters of a staff note shown on the card; the timeline has the full text
COLOURS = {"resolved": "#1E8E3E", "closed": "#5F6368", "rejected": "#C5221F", "waiting_citizen": "#E37400"}
DEFAULT_COLOUR = "#1A73E8"
THAI_LETTER = re.compile(r"[\u0e01-\u0e5b]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


def citizen_text(thai: str | None, english: str | None, lang: str) -> str | None:
    """What a citizen reading ``lang`` is shown of a note or reason written in Thai (and maybe English).

    English readers get the English text when there is one, else the Thai (the default language). Thai
    readers never get English: a note without a Thai letter but with Latin ones (an officer's English remark,
    an internal code) is left off their card; the status and agency still tell them what happened."""
    if lang == "en" and english:
        return english
    if not thai or not thai.strip():
        return None
    if lang != "en" and LATIN_LETTER.search(thai) and not THAI_LETTER.search(thai):
        return None
    return thai


def status_card(*, ticket: str, status: str, lang: str, agency_name: str, note: str | None = None,
                reason: str | None = None, timeline_url: str | None = None) -> dict:
    """A ``flex`` message object for the change of case ``ticket`` to ``status`` (a state id)."""
    label = text(f"status_{status}", lang)
    body: list[dict] = [
        {"type": "text", "text": label, "weight": "bold", "size": "xl", "wrap": True,
         "color": COLOURS.get(status, DEFAULT_COLOUR)},
        _field(text("status_card_agency", lang), agency_name),
    ]
    if reason:
        body.append(_field(text("status_card_reason", lang), reason[:NOTE_LIMIT]))
    if note:
        body.append(_field(text("status_card_note", lang), note[:NOTE_LIMIT]))
    if status == "waiting_citizen":
        body.append({"type": "text", "text": text("status_card_waiting_hint", lang), "wrap": True, "size": "sm",
                     "color": "#555555", "margin": "md"})
    bubble: dict = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": text("status_card_title", lang, ticket=ticket), "size": "sm",
             "color": "#888888"}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
    }
    if timeline_url:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "link", "height": "sm",
             "action": {"type": "uri", "label": text("status_card_timeline", lang)[:20], "uri": timeline_url}}]}
    alt = text("status_card_alt", lang, ticket=ticket, status=label)
    return {"type": "flex", "altText": alt[:ALT_TEXT_LIMIT], "contents": bubble}


def _field(name: str, value: str) -> dict:
    return {"type": "box", "layout": "vertical", "contents": [
        {"type": "text", "text": name, "size": "xs", "color": "#888888"},
        {"type": "text", "text": value, "size": "sm", "wrap": True},
    ]}


def timeline_url(base_url: str, ticket: str) -> str | None:
    """The public timeline page of a case, or None when no base URL is configured."""
    return f"{base_url.rstrip('/')}/cases/{ticket}" if base_url else None


# --- the questions asked when a case is resolved; their postbacks are handled by bot.casework.feedback ---

RATE_ACTION = "rate"
SOLVED_ACTION = "solved"


def rate_postback(case_id: int, stars: int) -> str:
    return f"action={RATE_ACTION}&case={case_id}&stars={stars}"


def solved_postback(case_id: int, solved: bool) -> str:
    return f"action={SOLVED_ACTION}&case={case_id}&answer={'yes' if solved else 'no'}"


def rating_question(case_id: int, ticket: str, lang: str) -> dict:
    """"How satisfied are you?" with five quick-reply buttons, one per star count."""
    items = [_postback_item(text("rating_star_label", lang, stars=n), rate_postback(case_id, n))
             for n in range(1, 6)]
    return {"type": "text", "text": text("rating_question", lang, ticket=ticket), "quickReply": {"items": items}}


def solved_question(case_id: int, lang: str) -> dict:
    """"Is your problem really solved?" yes / no; "no" reopens the case."""
    items = [_postback_item(text("solved_yes", lang), solved_postback(case_id, True)),
             _postback_item(text("solved_no", lang), solved_postback(case_id, False))]
    return {"type": "text", "text": text("solved_question", lang), "quickReply": {"items": items}}


def _postback_item(label: str, data: str) -> dict:
    return {"type": "action", "action": {"type": "postback", "label": label[:20], "data": data,
                                         "displayText": label}}
