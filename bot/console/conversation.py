"""The chat between staff and a citizen on a case or a hand-over, as the console shows it and refreshes it.

The page renders the conversation once and ``static/conversation.js`` asks the ``…/conversation`` JSON view
again every few seconds (plain polling: no CDN, no long-lived connection per open tab), so a citizen's answer
appears while the officer keeps the page open.
"""

from __future__ import annotations

from flask import url_for

from bot.console.templating import local_time
from storage import threads as store


def case_items(db, case, personal: bool) -> list[dict]:
    """Both sides of a case's chat; for roles without personal data the texts are masked like the case's."""
    from bot.api.public import public_text

    items = []
    for who, row in store.case_conversation(db, case.id):
        text = row.text or ""
        items.append({
            "id": f"{who[0]}{row.id}", "who": who, "at": local_time(row.created_at),
            "text": text if personal else public_text(case, text),
            "photo": url_for("console_cases.case_photo", ticket=case.ticket, content_id=row.content_id)
            if who == "citizen" and row.content_id else None,
            "map": _map(row) if personal else None,
        })
    return items


def handover_items(db, handover) -> list[dict]:
    items = []
    if handover.message:
        items.append({"id": "r", "who": "citizen", "at": local_time(handover.created_at), "text": handover.message,
                      "photo": None, "map": None})
    for row in store.handover_messages(db, handover.id):
        items.append({"id": f"h{row.id}", "who": row.sender, "at": local_time(row.created_at), "text": row.text or "",
                      "photo": url_for("console_community.handover_photo", request_id=handover.id,
                                       content_id=row.content_id) if row.content_id else None,
                      "map": _map(row)})
    return items


def _map(row) -> str | None:
    latitude, longitude = getattr(row, "latitude", None), getattr(row, "longitude", None)
    if latitude is None or longitude is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}"
