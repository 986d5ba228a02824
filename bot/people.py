"""Who is talking: the citizen row for an event's user, with their LINE profile fetched once."""

from __future__ import annotations

import logging

from linebot.v3.messaging import ApiException

from bot.context import Context
from bot.services import Services
from storage import people
from storage.models import Citizen

log = logging.getLogger(__name__)


def citizen_for(ctx: Context, active: bool | None = None) -> Citizen | None:
    """Create or refresh the event user's row, with the display name and language LINE gave on first contact.

    The profile is asked of LINE before the event's transaction begins (``bot.handlers``, with
    ``storage.people.profile_wanted``): on SQLite every transaction holds the database's one write lock, and a
    slow LINE inside it would hold every other chat's event and the console behind it."""
    if not ctx.user_id or getattr(ctx.event.source, "type", "user") != "user":
        return None
    citizen = people.touch_citizen(ctx.session, ctx.user_id, active=active)
    if ctx.profile is not None and citizen.profile_fetched_at is None:
        people.set_profile(citizen, *ctx.profile)
    ctx.citizen = citizen
    return citizen


def fetch_profile(services: Services, user_id: str) -> tuple[str | None, str | None] | None:
    """(display name, language) from LINE, or None when LINE has none for us (a nicety: never an error)."""
    line = services.line
    try:
        profile = line.api.get_profile(user_id, _request_timeout=line.timeout)
    except ApiException as exc:
        log.info("profile not available", extra={"status": exc.status})
        return None
    except Exception:  # noqa: BLE001 - a profile is a nicety; never fail the event for it
        log.warning("profile fetch failed", exc_info=True)
        return None
    return profile.display_name, getattr(profile, "language", None)
