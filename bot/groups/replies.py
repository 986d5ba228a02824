"""Staff answer a citizen from the agency's LINE group: ``ตอบ <ticket> <text>`` and ``ปิดสนทนา <ticket>``.

The reply goes through the console's own ``reply_to_citizen`` (the same push, note and audit), so it opens
the same two-way thread: the citizen's answers come back to the case page and to this group
(``bot.casework.threads``). Only the group's registered staff may answer, and only on cases the group may
act on, as with the card buttons.
"""

from __future__ import annotations

from sqlalchemy import select

from bot import messages
from bot.casework import threads
from bot.context import Context
from bot.flows.tracking import find_ticket
from bot.groups.cards import in_scope
from storage import groups as store
from storage.models import Case
from storage.staff import agency_name

COMMANDS = (("grp_cmd_close_thread", "close"), ("grp_cmd_reply", "reply"))  # longest first


def on_text(ctx: Context, said: str) -> bool:
    """True when ``said`` is one of these commands (answered here)."""
    for key, what in COMMANDS:
        for lang in ("th", "en"):
            word = messages.text(key, lang)
            if said.lower() == word or said.lower().startswith(word + " "):
                _run(ctx, what, said[len(word):].strip())
                return True
    return False


def _run(ctx: Context, what: str, argument: str) -> None:
    link = store.active_link(ctx.session, ctx.chat_id)
    if link is None:
        ctx.reply(messages.text_message(ctx.text("grp_not_linked")))
        return
    ticket_word, _, text = argument.partition(" ")
    ticket = find_ticket(ticket_word)
    if ticket is None or (what == "reply" and not text.strip()):
        ctx.reply(messages.text_message(ctx.text("grp_reply_usage")))
        return
    staff = store.staff_member(ctx.session, ctx.user_id, link.agency_id)
    case = ctx.session.scalar(select(Case).where(Case.ticket == ticket))
    action = "reply" if what == "reply" else "close_thread"
    if staff is None:
        store.audit(ctx.session, group_line_id=ctx.chat_id, line_user_id=ctx.user_id, action=action,
                    outcome="refused", case_id=case.id if case else None, inbox_event_id=ctx.row.id)
        agency = agency_name(ctx.session, link.agency_id) or "-"
        ctx.reply(messages.text_message(ctx.text("grp_refused", agency=agency)))
        return
    if case is None or not in_scope(link, case):  # another agency's case is not revealed either
        ctx.reply(messages.text_message(ctx.text("grp_no_case", ticket=ticket)))
        return
    who = f"group:{staff.id}"
    if what == "close":
        done = threads.close_by_staff(ctx.session, who, case=case)
        ctx.reply(messages.text_message(ctx.text("grp_thread_closed" if done else "grp_thread_not_open",
                                                 ticket=ticket)))
    else:
        from bot.casework.work import reply_to_citizen

        try:
            reply_to_citizen(ctx.session, case, text.strip()[:4500], who)
        except ValueError:
            ctx.reply(messages.text_message(ctx.text("grp_reply_unreachable", ticket=ticket)))
            return
        ctx.reply(messages.text_message(ctx.text("grp_reply_sent", ticket=ticket)))
    store.audit(ctx.session, group_line_id=ctx.chat_id, line_user_id=ctx.user_id, staff=staff, action=action,
                outcome="done", case_id=case.id, from_status=case.status, to_status=case.status,
                inbox_event_id=ctx.row.id)
