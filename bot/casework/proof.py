"""Proof of work: what a resolution must carry, and the after-photo that shows the citizen the work was done.

Every resolution needs a note the citizen reads (what was done); a category marked ``requires_after_photo``
also needs a photo of the place after the work, uploaded in the console or sent in the agency's LINE group
by the officer who pressed "resolved". The rule is checked in ``change_status`` itself, so the console, the
group buttons and the API cannot differ. The citizen's push carries the photo as an image message whose URL
is a signed, expiring link to Siang (the photos are not public, LINE fetches them from the link).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.config import Settings
from bot.services import services_of
from storage.models import Case, CaseAttachment, Category, StatusChange, StoredContent

MEDIA_LINK_SECONDS = 30 * 24 * 3600  # LINE fetches when the citizen opens the chat, maybe days later
PHOTO_TYPES = ("image/jpeg", "image/png")


class ProofMissing(ValueError):
    """A resolution without the note (or the after-photo) it needs; the text says which, in Thai."""


def needs_after_photo(session: Session, case: Case) -> bool:
    category = session.get(Category, case.category)
    return bool(category is not None and category.requires_after_photo)


def check_resolution(session: Session, case: Case, note: str | None) -> None:
    """Raise :class:`ProofMissing` unless resolving ``case`` with ``note`` carries the proof it needs."""
    if not (note or "").strip():
        raise ProofMissing(catalogue.text("resolve_needs_note", "th"))
    if needs_after_photo(session, case) and not after_photos(session, case):
        raise ProofMissing(catalogue.text("resolve_needs_photo", "th"))


def after_photos(session: Session, case: Case) -> list[int]:
    """Content ids of the after-photos of the case's current round of work (since it was last reopened):
    a photo of an earlier, disputed fix does not prove the new one."""
    since = session.scalar(select(StatusChange.created_at).where(
        StatusChange.case_id == case.id, StatusChange.to_status == "reopened", StatusChange.part.is_(False))
        .order_by(StatusChange.id.desc()).limit(1))
    query = (select(CaseAttachment.content_id).join(StoredContent, StoredContent.id == CaseAttachment.content_id)
             .where(CaseAttachment.case_id == case.id, CaseAttachment.kind == "after",
                    StoredContent.status.in_(("stored", "pending"))).order_by(CaseAttachment.id))
    if since is not None:
        query = query.where(CaseAttachment.created_at >= since)
    return list(session.scalars(query))


def attach_after_photo(session: Session, case: Case, content_id: int, actor: str) -> CaseAttachment:
    row = CaseAttachment(case_id=case.id, content_id=content_id, kind="after", added_by=actor)
    session.add(row)
    session.flush()
    return row


def store_upload(session: Session, case: Case, data: bytes, content_type: str, actor: str,
                 file_name: str | None = None) -> CaseAttachment:
    """An after-photo uploaded in the console: kept like a LINE photo (``stored_content``), marked ``after``."""
    if content_type not in PHOTO_TYPES:
        raise ProofMissing("รูปต้องเป็นไฟล์ JPEG หรือ PNG")
    if not data or len(data) > 10 * 1024 * 1024:
        raise ProofMissing("รูปต้องมีขนาดไม่เกิน 10 MB")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
    content = StoredContent(line_message_id=f"console:{case.id}:{stamp}", chat_id=f"case:{case.id}",
                            user_id=None, message_type="image", content_type=content_type,
                            file_name=(file_name or "")[:255] or None, size=len(data), data=data, status="stored",
                            fetched_at=datetime.now(timezone.utc))
    session.add(content)
    session.flush()
    return attach_after_photo(session, case, content.id, actor)


# --- signed links LINE can fetch --------------------------------------------------------------------------

def _signature(secret: str, content_id: int, expires: int) -> str:
    return hmac.new(secret.encode(), f"media:{content_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:40]


def media_url(settings: Settings, content_id: int, now: float | None = None) -> str | None:
    """A signed link to an after-photo, or None when Siang has no public base URL configured."""
    base = settings.media_base_url or settings.console_base_url
    if not base:
        return None
    expires = int((now or time.time()) + MEDIA_LINK_SECONDS)
    return f"{base.rstrip('/')}/media/{content_id}?e={expires}&s={_signature(settings.secret_key, content_id, expires)}"


def link_is_valid(secret: str, content_id: int, expires: str | None, signature: str | None) -> bool:
    try:
        when = int(expires or "")
    except ValueError:
        return False
    if when < time.time() or not signature:
        return False
    return hmac.compare_digest(_signature(secret, content_id, when), signature)


def photo_messages(session: Session, case: Case) -> list[dict]:
    """The image message of the latest after-photo, for the citizen's resolution push (empty without one)."""
    photos = after_photos(session, case)
    url = media_url(services_of(session).settings, photos[-1]) if photos else None
    if not url:
        return []
    return [{"type": "image", "originalContentUrl": url, "previewImageUrl": url}]
