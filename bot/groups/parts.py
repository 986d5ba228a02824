"""Co-handlers and proof of work in agencies' LINE groups.

A co-handling agency's groups get the case card when it is invited; their staff's presses move their own
part (accept, in progress, finished), never the lead's status. A "resolved" press gathers the proof the
resolution needs: the note, and the after-photo the officer who pressed sends in the same group when the
category requires one (either first); the case is resolved once both are there.
"""

from __future__ import annotations

from bot import messages
from bot.casework import cohandling, proof
from bot.context import Context
from bot.groups.cards import case_card
from bot.groups.sending import push
from storage import content as content_store
from storage import groups as store
from storage.models import Case, GroupLink, StaffMember, utcnow
from storage.staff import agency_name

PART_TARGET = {"accept": "accepted", "progress": "in_progress", "resolve": "done"}


def post_card_to_agency(session, case: Case, agency_id: str) -> None:
    """The case card, posted to every linked group of ``agency_id`` (a co-handler just invited)."""
    for link in store.links_for_case(session, agency_id, None):
        row = push(session, link.group_line_id, [case_card(session, case)])
        store.add_card(session, case.id, link, case.status, row.id)
    session.flush()


def co_handler_link(ctx: Context, link: GroupLink, case: Case) -> bool:
    return link.agency_id != case.agency_id and cohandling.part_of(ctx.session, case, link.agency_id) is not None


def on_part_press(ctx: Context, link: GroupLink, staff: StaffMember, case: Case, do: str, audit) -> None:
    """A co-handler group's press: its part moves; the lead's status stays."""
    part = cohandling.part_of(ctx.session, case, link.agency_id)
    to_status = PART_TARGET.get(do)
    if part is None or to_status is None or to_status not in cohandling.next_part_states(part):
        audit("invalid", to_status)
        agency = agency_name(ctx.session, link.agency_id) or "-"
        ctx.reply(messages.text_message(ctx.text("grp_part_moved", agency=agency,
                                                 ticket=case.ticket, step=cohandling.part_label(part.status)
                                                 if part else "-")))
        return
    cohandling.move_part(ctx.session, case, link.agency_id, to_status, actor=f"group:{staff.id}")
    audit("done", f"part:{to_status}")
    ctx.reply(messages.text_message(ctx.text("grp_part_moved", agency=agency_name(ctx.session, link.agency_id) or "-",
                                             ticket=case.ticket, step=cohandling.part_label(to_status))))


def ask_for_proof(ctx: Context, case: Case) -> None:
    key = "grp_ask_note_and_photo" if proof.needs_after_photo(ctx.session, case) else "grp_ask_note"
    ctx.reply(messages.text_message(ctx.text(key, ticket=case.ticket)))


def on_group_image(ctx: Context, message_id: str) -> bool:
    """An image in a group: the after-photo of the officer's pending "resolved", else ignored (group photos
    are not kept). True when it was taken as proof."""
    from bot.groups.actions import NOTE_WINDOW, finish_resolution

    request = store.waiting_note(ctx.session, ctx.chat_id, ctx.user_id, utcnow() - NOTE_WINDOW)
    if request is None:
        return False
    case = ctx.session.get(Case, request.case_id)
    if case is None:
        return False
    row = content_store.expect(ctx.session, message_id, ctx.chat_id, ctx.user_id, "image")
    ctx.enqueue_after_commit("fetch_content", row.id)
    link = store.active_link(ctx.session, ctx.chat_id)
    staff = store.staff_member(ctx.session, ctx.user_id, link.agency_id) if link else None
    if staff is None:
        return True
    proof.attach_after_photo(ctx.session, case, row.id, f"group:{staff.id}")
    request.content_id = row.id
    if request.note:
        finish_resolution(ctx, request, case)
    else:
        ctx.reply(messages.text_message(ctx.text("grp_ask_note_after_photo", ticket=case.ticket)))
    return True
