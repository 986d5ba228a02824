"""The one place a change of a case is announced beyond the citizen: to integrators' webhooks, and to the
agencies' LINE groups (the case card posted again, so a group never acts on a stale card).

Callers: filing (``created``), ``change_status`` (``status_changed``), ``rate`` (``rated``) and the comment
paths (staff notes and replies, the citizen's added messages, API comments: ``commented``). Everything is
written in the caller's transaction. Cards are posted once per case per transaction, just before it commits,
showing the case as it is then (a forward and its status change make one card, not two).

``session.info`` carries where a change came from: ``webhooks.ORIGIN_KEY`` (an agency API key: its own
registrations are not told) and ``ORIGIN_GROUP`` (a LINE group whose press is answered there by reply).
"""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from bot.integrations import webhooks
from storage.models import Case

ORIGIN_GROUP = "siang_origin_group"
_CHANGED = "siang_changed_cases"


def case_event(session: Session, case: Case, kind: str, *, actor: str | None = None, cards: bool = True,
               news: str | None = None, also_agency: str | None = None, **data) -> None:
    """Announce ``kind`` (``created``, ``status_changed``, ``rated``, ``commented``) on ``case``.

    ``data`` goes into the webhook body (``also_agency``: the previous owner of a forwarded case, whose
    registrations hear of it too); ``cards`` re-posts the case card to its groups before commit, with
    ``news`` (a line on top: a reopening, a rating) and the name of whoever acted."""
    webhooks.emit(session, case, f"case.{kind}", {k: v for k, v in data.items() if v is not None} | (
        {"actor": _public_actor(session, actor)} if actor else {}), also_agency=also_agency)
    if cards and kind != "created":
        refresh_cards(session, case, actor=actor, news=news)


def refresh_cards(session: Session, case: Case, *, actor: str | None = None, news: str | None = None) -> None:
    """Post the case's card again to its groups just before the transaction commits (once per case), for a
    change no integrator is told of as an event (a corrected category) as for those they are."""
    changed = session.info.get(_CHANGED)
    if changed is None:
        changed = session.info[_CHANGED] = {}
        sa_event.listen(session, "before_commit", _post_cards, once=True)
        sa_event.listen(session, "after_rollback", lambda s: s.info.pop(_CHANGED, None), once=True)
    previous = changed.get(case.id)
    lines = [*((previous[1] or "").split("\n") if previous else []), news or ""]
    changed[case.id] = (case, "\n".join(dict.fromkeys(line for line in lines if line)) or None,
                        actor or (previous[2] if previous else None))


def _post_cards(session: Session) -> None:
    from bot.groups.cards import repost_card

    changed = session.info.pop(_CHANGED, {}) or {}
    for case, news, actor in changed.values():
        repost_card(session, case, news=news, actor=actor, skip_group=session.info.get(ORIGIN_GROUP))
    session.info.pop(ORIGIN_GROUP, None)
    session.info.pop("siang_carded", None)


def _public_actor(session: Session, actor: str) -> dict:
    """Who acted, for an integrator: the kind and an agency, never a person's name or LINE id."""
    kind = actor.split(":", 1)[0]
    from bot.casework.actors import actor_agency

    return {"kind": {"staff": "staff", "group": "staff", "api": "api"}.get(kind, kind),
            "agency_id": actor_agency(session, actor)}
