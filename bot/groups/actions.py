"""Presses of case-card buttons in a group, and the resolution note that follows "resolved".

Every press is checked (registered staff of the group's agency, the case still theirs, the card not stale),
goes through ``bot.casework.lifecycle.change_status`` (the console's own service), is audited in
``group_actions`` and answered with the updated card. Events of one group are handled in order, and the
card's data carries the status it showed, so a double press acts once and the second is told so.
"""

from __future__ import annotations

from datetime import timedelta

from bot import messages
from bot.casework import forwarding, proof
from bot.casework.lifecycle import TransitionError, change_status
from bot.context import Context
from bot.groups import parts
from bot.groups.cards import ACTION_TARGET, case_card, in_scope, post_case_card, press_data
from bot.groups.sending import push
from bot.messages.ticket_cards import status_label
from storage import groups as store
from storage import staff as staff_store
from storage.models import Case, GroupLink, StaffMember, utcnow
from storage.staff import agency_name

NOTE_WINDOW = timedelta(minutes=30)
MAX_CHOICES = 13  # quick-reply items


def on_press(ctx: Context, data: dict[str, str]) -> None:
    group_line_id = ctx.chat_id
    do = data.get("grp", "")
    try:
        case = ctx.session.get(Case, int(data.get("c", "")))
    except ValueError:
        case = None
    link = store.active_link(ctx.session, group_line_id)
    if case is None or link is None or do not in (*ACTION_TARGET, "fwdto"):
        store.audit(ctx.session, group_line_id=group_line_id, line_user_id=ctx.user_id, action=do[:24] or "?",
                    outcome="invalid", case_id=case.id if case else None, inbox_event_id=ctx.row.id)
        if link is None:
            ctx.reply(messages.text_message(ctx.text("grp_not_linked")))
        return
    staff = store.staff_member(ctx.session, ctx.user_id, link.agency_id)

    def audit(outcome: str, to_status: str | None = None, detail: str | None = None) -> None:
        store.audit(ctx.session, group_line_id=group_line_id, line_user_id=ctx.user_id, staff=staff,
                    action=do, outcome=outcome, case_id=case.id, from_status=case.status, to_status=to_status,
                    detail=detail, inbox_event_id=ctx.row.id)

    if staff is None:
        audit("refused")
        agency = agency_name(ctx.session, link.agency_id) or "-"
        ctx.reply(messages.text_message(ctx.text("grp_refused", agency=agency)))
        return
    if do in parts.PART_TARGET and parts.co_handler_link(ctx, link, case):
        parts.on_part_press(ctx, link, staff, case, do, audit)  # a co-handler's press moves its own part
        return
    if not in_scope(link, case):
        audit("not_here")
        ctx.reply(messages.text_message(ctx.text("grp_not_here", ticket=case.ticket)))
        return
    if data.get("s") != case.status:
        audit("stale")
        ctx.reply(messages.text_message(ctx.text("grp_stale", ticket=case.ticket,
                                                 status=status_label(case.status, "th"))))
        return
    if do == "resolve":
        store.open_note_request(ctx.session, case.id, group_line_id, ctx.user_id, case.status)
        audit("pending", "resolved")
        parts.ask_for_proof(ctx, case)
    elif do == "fwd":
        audit("pending", "forwarded")
        _ask_agency(ctx, link, case)
    elif do == "fwdto":
        _forward(ctx, link, staff, case, data.get("to", ""), audit)
    else:
        _move(ctx, link, staff, case, ACTION_TARGET[do], audit)


def on_note(ctx: Context, text: str) -> bool:
    """The staff member's next message after "resolved" is the note; True if this message was one. When the
    category needs an after-photo and none came yet, the note is kept and the photo asked for."""
    request = store.waiting_note(ctx.session, ctx.chat_id, ctx.user_id, utcnow() - NOTE_WINDOW)
    if request is None:
        return False
    case = ctx.session.get(Case, request.case_id)
    if text.strip().lower() in {ctx.text("grp_cancel_word"), messages.text("grp_cancel_word", "en")}:
        request.done_at = utcnow()
        _note_audit(ctx, case, "cancelled")
        if case is not None:
            ctx.reply(messages.text_message(ctx.text("grp_note_cancelled", ticket=case.ticket)))
        return True
    request.note = text.strip()[:2000]
    if case is not None and proof.needs_after_photo(ctx.session, case) and request.content_id is None:
        ctx.reply(messages.text_message(ctx.text("grp_ask_photo", ticket=case.ticket)))
        return True
    finish_resolution(ctx, request, case)
    return True


def finish_resolution(ctx: Context, request, case: Case | None) -> None:
    """Resolve with the gathered note (and photo), unless the case moved on since "resolved" was pressed."""
    request.done_at = utcnow()
    link = store.active_link(ctx.session, ctx.chat_id)
    staff = store.staff_member(ctx.session, ctx.user_id, link.agency_id) if link else None
    if case is None or link is None or staff is None:
        return

    def audit(outcome: str, to_status: str | None = None, detail: str | None = None) -> None:
        _note_audit(ctx, case, outcome, staff, to_status, detail)

    if case.status != request.from_status:
        audit("stale")
        ctx.reply(messages.text_message(ctx.text("grp_stale", ticket=case.ticket,
                                                 status=status_label(case.status, "th"))))
    else:
        _move(ctx, link, staff, case, "resolved", audit, note=request.note)


def _note_audit(ctx: Context, case: Case | None, outcome: str, staff: StaffMember | None = None,
                to_status: str | None = None, detail: str | None = None) -> None:
    store.audit(ctx.session, group_line_id=ctx.chat_id, line_user_id=ctx.user_id, staff=staff, action="note",
                outcome=outcome, case_id=case.id if case else None, from_status=case.status if case else None,
                to_status=to_status, detail=detail, inbox_event_id=ctx.row.id)


def _move(ctx: Context, link: GroupLink, staff: StaffMember, case: Case, to_status: str, audit,
          note: str | None = None) -> None:
    from_status = case.status
    try:
        change_status(ctx.session, case, to_status, actor=f"group:{staff.id}", note=note)
    except TransitionError:
        audit("stale", to_status)
        ctx.reply(messages.text_message(ctx.text("grp_stale", ticket=case.ticket,
                                                 status=status_label(case.status, "th"))))
        return
    store.audit(ctx.session, group_line_id=ctx.chat_id, line_user_id=ctx.user_id, staff=staff,
                action="note" if note else to_status, outcome="done", case_id=case.id, from_status=from_status,
                to_status=to_status, detail=note, inbox_event_id=ctx.row.id)
    _show_everywhere(ctx, case, staff)


def _show_everywhere(ctx: Context, case: Case, staff: StaffMember) -> None:
    """The updated card: as the reply here (free); the other groups that had the case's card, and the owner's,
    get it pushed by ``bot.integrations.hooks`` before the commit (as for a change made anywhere else).
    The officer is named, never shown by LINE id."""
    from bot.casework.actors import actor_name
    from bot.integrations.hooks import ORIGIN_GROUP

    ctx.session.info[ORIGIN_GROUP] = ctx.chat_id
    card = case_card(ctx.session, case, last_actor=actor_name(ctx.session, f"group:{staff.id}"))
    ctx.reply(card)


def _ask_agency(ctx: Context, link: GroupLink, case: Case) -> None:
    """Forward targets: agencies that have a linked group (a forward must land where someone will see it)."""
    targets = [a for a in dict.fromkeys(other.agency_id for other, _ in store.linked_groups(ctx.session))
               if a != case.agency_id][:MAX_CHOICES]
    if not targets:
        ctx.reply(messages.text_message(ctx.text("grp_no_agencies")))
        return
    names = {a: agency_name(ctx.session, a) or a for a in targets}
    items = [messages.postback_action(names[a], press_data("fwdto", case, to=a), names[a][:300]) for a in targets]
    ctx.reply(messages.text_message(ctx.text("grp_choose_agency", ticket=case.ticket), quick_reply=items))


def _forward(ctx: Context, link: GroupLink, staff: StaffMember, case: Case, to_agency: str, audit) -> None:
    # Postback data comes from the client and can be forged: only a real, active agency is a target.
    if to_agency == case.agency_id or not staff_store.is_agency(ctx.session, to_agency):
        audit("invalid", "forwarded", to_agency[:200])
        return
    from_status, from_agency = case.status, case.agency_id
    try:
        forwarding.forward_case(ctx.session, case, to_agency, actor=f"group:{staff.id}")
    except forwarding.ForwardLoop as loop:
        audit("refused", "forwarded", f"loop: {to_agency}")
        ctx.reply(messages.text_message(str(loop)))
        return
    except TransitionError:
        audit("stale", "forwarded", to_agency)
        ctx.reply(messages.text_message(ctx.text("grp_stale", ticket=case.ticket,
                                                 status=status_label(case.status, "th"))))
        return
    store.audit(ctx.session, group_line_id=ctx.chat_id, line_user_id=ctx.user_id, staff=staff, action="fwdto",
                outcome="done", case_id=case.id, from_status=from_status, to_status="forwarded",
                detail=f"{from_agency} -> {to_agency}", inbox_event_id=ctx.row.id)
    agency = agency_name(ctx.session, to_agency) or "-"
    ctx.reply(messages.text_message(ctx.text("grp_forwarded", ticket=case.ticket, agency=agency)))
    post_case_card(ctx.session, case)  # the new agency's groups (and the province's centre) see it as new
