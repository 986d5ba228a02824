"""The citizen's feedback on a resolved case, given with the rating question's postback buttons.

Postback data (built by ``bot.messages.status_cards``, at most 300 characters as LINE allows):

* ``action=rate&case=<case id>&stars=<1..5>``: the rating; answered with "is it really solved?"
* ``action=solved&case=<case id>&answer=yes|no``: "no" reopens the case (the citizen gets its card).

The conversation flows route postbacks whose ``action`` is ``rate`` or ``solved`` here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.casework import lifecycle
from bot.messages import text_message
from bot.messages.status_cards import RATE_ACTION, SOLVED_ACTION, solved_question
from storage import people
from storage.models import Case

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)
ACTIONS = (RATE_ACTION, SOLVED_ACTION)


def handle_feedback_postback(ctx: "Context", data: dict[str, str]) -> bool:
    """Handle a ``rate`` or ``solved`` postback; False when ``data`` is not feedback (not ours)."""
    action = data.get("action")
    if action not in ACTIONS:
        return False
    case = _own_case(ctx, data.get("case"))
    if case is None:
        ctx.reply(text_message(ctx.text("feedback_not_yours")))
        return True
    if case.status not in lifecycle.REOPENABLE or (action == SOLVED_ACTION and case.citizen_says_solved is not None):
        ctx.reply(text_message(ctx.text("feedback_already")))  # an old or repeated tap
        return True
    actor = f"citizen:{case.citizen_id}"
    if action == RATE_ACTION:
        stars = _int(data.get("stars"))
        if stars is None or not 1 <= stars <= 5:
            log.warning("bad rating postback", extra={"case": case.ticket, "data": data})
            return True
        lifecycle.rate(ctx.session, case, stars, None, actor)
        if case.citizen_says_solved is None:
            ctx.reply(solved_question(case.id, ctx.lang))
        else:
            ctx.reply(text_message(ctx.text("solved_thanks")))
        return True
    answer = data.get("answer")
    if answer not in ("yes", "no"):
        log.warning("bad solved postback", extra={"case": case.ticket, "data": data})
        return True
    reopened = lifecycle.rate(ctx.session, case, None, answer == "yes", actor)
    ctx.reply(text_message(ctx.text("solved_reopened", ticket=case.ticket) if reopened
                           else ctx.text("solved_thanks")))
    return True


def _own_case(ctx: "Context", case_id: str | None) -> Case | None:
    """The case named in the postback, only if it belongs to the citizen who tapped."""
    number = _int(case_id)
    citizen = ctx.citizen or (people.get_citizen(ctx.session, ctx.user_id) if ctx.user_id else None)
    if number is None or citizen is None:
        return None
    case = ctx.session.get(Case, number)
    return case if case is not None and case.citizen_id == citizen.id else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
