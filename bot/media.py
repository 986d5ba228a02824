"""Signed links to the after-photos of resolved cases: LINE fetches the image of a citizen's push from here.

Only photos attached as proof of work are served, only with a valid, unexpired signature (``bot.casework.
proof.media_url``); the citizen's own photos stay behind the console's login.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from bot.casework.proof import link_is_valid
from bot.services import current_services
from storage.models import CaseAttachment, StoredContent

blueprint = Blueprint("media", __name__)


def stored_content_response(db, content_id: int | None, cache_control: str,
                            default_type: str = "application/octet-stream") -> Response:
    """The bytes of a stored photo or file, or a 404 when ``content_id`` is None (the caller found it does not
    belong where it was asked for) or not stored (yet). Never sniffed as another type by the browser."""
    content = db.get(StoredContent, content_id) if content_id else None
    if content is None or content.data is None or content.status != "stored":
        abort(404)
    response = Response(content.data, mimetype=content.content_type or default_type)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/media/<int:content_id>")
def after_photo(content_id: int):
    services = current_services()
    if not link_is_valid(services.settings.secret_key, content_id, request.args.get("e"), request.args.get("s")):
        abort(404)
    with services.transaction() as db:
        proof = db.scalar(select(CaseAttachment.id).where(CaseAttachment.content_id == content_id,
                                                          CaseAttachment.kind == "after").limit(1))
        return stored_content_response(db, content_id if proof else None, "public, max-age=86400", "image/jpeg")
