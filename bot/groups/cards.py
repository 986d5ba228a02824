"""The case card posted to an agency's group, and posting it: when a case is filed and after every press.

LINE cannot edit a sent message, so "updating the card for everyone" means posting the card again with the
new status and the buttons that status allows. Personal data is shown as the citizen chose: an anonymous
citizen's name and phone never reach the group, and the story and the place always go through
``mask_public`` (no phone, ID, personal name or house number: a LINE group is not the console, its members
are whoever was invited; the case page behind the console's login has the details).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.casework.states import can_move
from bot.messages import text
from bot.messages.ticket_cards import category_label, status_label, thai_date
from bot.api.public import public_text
from bot.nlp.pii import HOUSE_MASK
from bot.places import resolve_province
from bot.services import services_of
from storage import groups as store
from storage.models import Case, CaseAttachment, GroupCaseCard, GroupLink

LANG = "th"  # staff groups are Thai-speaking offices
BRAND, URGENT = "#1E6B52", "#B3261E"
# Buttons by the status a press moves the case to; shown only when the lifecycle allows that move.
BUTTONS = (("accept", "accepted", "grp_btn_accept", "primary"),
           ("progress", "in_progress", "grp_btn_progress", "secondary"),
           ("resolve", "resolved", "grp_btn_resolve", "primary"),
           ("fwd", "forwarded", "grp_btn_forward", "secondary"))
ACTION_TARGET = {do: to for do, to, _, _ in BUTTONS}
CARDED = "siang_carded"  # session.info: (case id, group) pairs that got the case's card in this transaction
BACKLOG_PAGE = 10  # cards in one carousel of the backlog command (LINE allows 12 bubbles)


def press_data(do: str, case: Case, **extra: str) -> str:
    """Postback data of a card button: ``grp=<do>&c=<case id>&s=<status shown>`` (+ ``to`` for forwards).

    ``s`` makes a second press of the same card recognisable: the case has moved on since."""
    data = urlencode({"grp": do, "c": case.id, "s": case.status, **extra})
    assert len(data) <= 300, "LINE postback data is at most 300 characters"
    return data


def case_card(session: Session, case: Case, last_actor: str | None = None, news: str | None = None) -> dict:
    """The card of ``case`` as a group sees it; ``last_actor`` is a name (never a LINE id), ``news`` a line on
    top (the case was reopened, rated)."""
    photos = session.scalar(select(func.count()).select_from(CaseAttachment)
                            .where(CaseAttachment.case_id == case.id)) or 0
    place = public_text(case, " ".join(p for p in (case.address, case.district, case.province) if p)) or "-"
    # A group is whoever was invited: the citizen's name and phone stay behind the console's login (the
    # "details" link), shown there to staff whose role may see them.
    citizen = text("grp_card_anonymous" if case.anonymous else "grp_card_citizen_hidden", LANG)
    rows = [("grp_card_news", news)] if news else []
    rows += [
        ("grp_card_status", status_label(case.status, LANG)),
        ("grp_card_category", category_label(case.category, LANG)),
        ("grp_card_urgency", text("grp_card_urgent" if case.urgent else "grp_card_normal", LANG)),
        ("grp_card_place", place),
        ("grp_card_story", public_text(case, case.description)),
        ("grp_card_photos", str(photos)),
        ("grp_card_citizen", citizen),
        ("grp_card_due", thai_date(case.target_due_at, LANG)),
    ]
    if case.citizen_id is not None:  # staff answer the citizen from here: bot.groups.replies
        rows.append(("grp_card_reply", text("grp_card_reply_how", LANG, ticket=case.ticket)))
    if last_actor:
        rows.append(("grp_card_by", last_actor))
    title = text("grp_card_title_urgent" if case.urgent else "grp_card_title", LANG, ticket=case.ticket)
    buttons = []
    map_url = _map_url(case)
    if map_url:
        buttons.append(_button({"type": "uri", "label": text("grp_btn_map", LANG), "uri": map_url}, "link"))
    details_url = console_url(session, case)
    if details_url:
        buttons.append(_button({"type": "uri", "label": text("grp_btn_details", LANG), "uri": details_url}, "link"))
    for do, to_status, label_key, style in BUTTONS:
        if can_move(case.status, to_status):
            label = text(label_key, LANG)
            buttons.append(_button({"type": "postback", "label": label, "data": press_data(do, case),
                                    "displayText": f"{label} {case.ticket}"}, style))
    bubble = {
        "type": "bubble", "size": "mega",
        "header": {"type": "box", "layout": "vertical", "backgroundColor": URGENT if case.urgent else BRAND,
                   "contents": [{"type": "text", "text": title, "color": "#FFFFFF", "weight": "bold",
                                 "wrap": True}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                 "contents": [_row(text(key, LANG), value) for key, value in rows]},
    }
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    alt = f"{title} · {status_label(case.status, LANG)} · {category_label(case.category, LANG)}"
    return {"type": "flex", "altText": alt[:400], "contents": bubble}


def post_case_card(session: Session, case: Case) -> list[GroupCaseCard]:
    """Post a new case to every linked group that serves its agency or covers its province.

    The one call made where a case is filed; it writes outbox rows in the caller's transaction."""
    from bot.groups.sending import push

    posted = []
    carded = session.info.setdefault(CARDED, set())
    for link in store.links_for_case(session, case.agency_id, resolve_province(case.province)):
        row = push(session, link.group_line_id, [case_card(session, case)])
        posted.append(store.add_card(session, case.id, link, case.status, row.id))
        carded.add((case.id, link.group_line_id))
    session.flush()
    return posted


def repost_card(session: Session, case: Case, news: str | None = None, actor: str | None = None,
                skip_group: str | None = None) -> list[GroupCaseCard]:
    """The case changed (console, API, another group, the citizen): post its card again to every group that
    had it and may still act on it, and to the owner's groups (a case filed before their group was linked,
    a reopening, a rating reach them too). ``skip_group`` was answered by reply already; a group that got
    the card in this transaction (a forward's new owner) is not sent it twice."""
    from bot.casework.actors import actor_name
    from bot.groups.sending import push

    carded = session.info.setdefault(CARDED, set())
    targets: dict[str, GroupLink] = {}
    for previous in store.cards_of(session, case.id):
        link = store.active_link(session, previous.group_line_id)
        if link is not None and in_scope(link, case):
            targets.setdefault(link.group_line_id, link)
    for link in store.links_for_case(session, case.agency_id, resolve_province(case.province)):
        targets.setdefault(link.group_line_id, link)
    targets = {gid: link for gid, link in targets.items() if gid != skip_group and (case.id, gid) not in carded}
    if not targets:
        return []
    card = case_card(session, case, last_actor=actor_name(session, actor) if actor else None, news=news)
    posted = []
    for group_line_id, link in targets.items():
        row = push(session, group_line_id, [card])
        posted.append(store.add_card(session, case.id, link, case.status, row.id))
        carded.add((case.id, group_line_id))
    session.flush()
    return posted


def backlog(session: Session, link: GroupLink, limit: int = BACKLOG_PAGE) -> tuple[list[Case], int]:
    """Open cases this group serves that it has never had a card of (filed before it was linked), oldest
    first: ``limit`` of them and how many there are."""
    from bot.casework.states import STATES

    open_states = [s.id for s in STATES.values() if s.open]
    seen = select(GroupCaseCard.case_id).where(GroupCaseCard.group_line_id == link.group_line_id)
    from bot.places.gazetteer import provinces as province_table

    codes = store.provinces_of(link)
    names = [p.name_th for code, p in province_table().items() if code in codes]
    serves = or_(Case.agency_id == link.agency_id, Case.province.in_(names)) if names else \
        Case.agency_id == link.agency_id
    query = select(Case).where(Case.status.in_(open_states), Case.id.not_in(seen), serves)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Case.created_at, Case.id).limit(limit))), total


def in_scope(link: GroupLink, case: Case) -> bool:
    """Whether this group's staff may act on the case: it is their agency's, or in their provinces."""
    province = resolve_province(case.province)
    return case.agency_id == link.agency_id or (province is not None and province in store.provinces_of(link))


def console_url(session: Session, case: Case) -> str | None:
    """The case page of the staff console: photos and details for staff who sign in (LINE cannot show our
    stored photos to a group without a public URL, and they must not be public)."""
    base = services_of(session).settings.console_base_url
    return f"{base.rstrip('/')}/console/cases/{quote(case.ticket)}" if base else None


def _map_url(case: Case) -> str | None:
    if case.latitude is not None and case.longitude is not None:
        return f"https://www.google.com/maps/search/?api=1&query={case.latitude:.6f},{case.longitude:.6f}"
    place = public_text(case, " ".join(p for p in (case.address, case.district, case.province) if p))
    place = " ".join(place.replace(HOUSE_MASK, " ").split())
    return f"https://www.google.com/maps/search/?api=1&query={quote(place)}"[:1000] if place else None


def _button(action: dict, style: str) -> dict:
    action["label"] = action["label"][:40]
    return {"type": "button", "style": style, "height": "sm", "action": action}


def _row(label: str, value: str | None) -> dict:
    value = (value or "").strip() or "-"
    value = value if len(value) <= 400 else value[:399] + "…"
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": label, "size": "sm", "color": "#888888", "flex": 2},
        {"type": "text", "text": value, "size": "sm", "wrap": True, "flex": 5},
    ]}
