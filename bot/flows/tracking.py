"""Tracking (ติดตามเรื่อง): "my cases" as a carousel, and a typed ticket number as its timeline.

No steps to remember, so no flow table: one answer per request. Only the citizen who filed a case (or joined
it with "me too") sees it; any other ticket number gets the same "not found" as a number that does not exist.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import messages
from bot.context import Context
from bot.messages import ticket_cards
from storage import cases
from storage.models import CaseSupporter

TICKET = re.compile(r"\b([A-Za-z]{2})\s*-?\s*(\d{4})\s*-?\s*(\d{1,6})\b")
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def find_ticket(text: str) -> str | None:
    match = TICKET.search(text.translate(THAI_DIGITS))
    if not match or match.group(1).upper() != "DR":
        return None
    return f"DR-{match.group(2)}-{int(match.group(3)):06d}"


def show_my_cases(ctx: Context) -> None:
    mine = cases.for_citizen(ctx.session, ctx.citizen.id, limit=ticket_cards.MAX_BUBBLES) if ctx.citizen else []
    if not mine:
        ctx.reply(messages.text_message(ctx.text("tracking_none"), quick_reply=messages.main_menu(ctx.lang)))
        return
    ctx.reply(ticket_cards.cases_carousel(mine, ctx.lang),
              messages.text_message(ctx.text("tracking_hint"), quick_reply=messages.main_menu(ctx.lang)))


def show_timeline(ctx: Context, ticket: str) -> None:
    case = cases.get_by_ticket(ctx.session, ticket)
    if case is None or not _may_see(ctx, case):
        ctx.reply(messages.text_message(ctx.text("tracking_not_found", ticket=ticket),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return
    ctx.reply(ticket_cards.timeline_card(case, ctx.lang))


def _may_see(ctx: Context, case) -> bool:
    if ctx.citizen is None:
        return False
    if case.citizen_id == ctx.citizen.id:
        return True
    return ctx.session.scalar(select(CaseSupporter.id).where(CaseSupporter.case_id == case.id,
                                                             CaseSupporter.citizen_id == ctx.citizen.id)) is not None
