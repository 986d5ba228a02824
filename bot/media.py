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


@blueprint.get("/media/<int:content_id>")
def after_photo(content_id: int):
    services = current_services()
    if not link_is_valid(services.settings.secret_key, content_id, request.args.get("e"), request.args.get("s")):
        abort(404)
    with services.transaction() as db:
        proof = db.scalar(select(CaseAttachment.id).where(CaseAttachment.content_id == content_id,
                                                          CaseAttachment.kind == "after").limit(1))
        content = db.get(StoredContent, content_id) if proof else None
        if content is None or content.data is None or content.status != "stored":
            abort(404)
        data, mimetype = content.data, content.content_type or "image/jpeg"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
