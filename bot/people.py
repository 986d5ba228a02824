"""Who is talking: the citizen row for an event's user, with their LINE profile fetched once."""

from __future__ import annotations

import logging

from linebot.v3.messaging import ApiException

from bot.context import Context
from storage import people
from storage.models import Citizen

log = logging.getLogger(__name__)


def citizen_for(ctx: Context, active: bool | None = None) -> Citizen | None:
    """Create or refresh the event user's row; fetch the display name and language on first contact."""
    if not ctx.user_id or getattr(ctx.event.source, "type", "user") != "user":
        return None
    citizen = people.touch_citizen(ctx.session, ctx.user_id, active=active)
    if citizen.profile_fetched_at is None:
        refresh_profile(ctx, citizen)
    ctx.citizen = citizen
    return citizen


def refresh_profile(ctx: Context, citizen: Citizen) -> None:
    line = ctx.services.line
    try:
        profile = line.api.get_profile(citizen.line_user_id, _request_timeout=line.timeout)
    except ApiException as exc:
        log.info("profile not available", extra={"status": exc.status})
        return
    except Exception:  # noqa: BLE001 - a profile is a nicety; never fail the event for it
        log.warning("profile fetch failed", exc_info=True)
        return
    people.set_profile(citizen, profile.display_name, getattr(profile, "language", None))
