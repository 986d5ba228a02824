"""Fetching the photos and files citizens send from LINE's content API, promptly, and keeping them.

LINE answers 202 while a video is still being prepared and 410 once the citizen unsent it; content also
disappears after an undisclosed time, so a failed fetch is retried by the sweeper for a while.
"""

from __future__ import annotations

import logging
import time

from linebot.v3.messaging import ApiException

from bot.services import current_services
from storage import content
from storage.models import StoredContent

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
PREPARING_WAITS = (0.5, 1, 2, 4)  # seconds to wait on 202 before leaving it to the sweeper


def fetch_content(content_id: int) -> None:
    """Job: download one stored-content row's bytes (idempotent: a repeat finds it stored and stops)."""
    services = current_services()
    with services.transaction() as session:
        row = session.get(StoredContent, content_id)
        if row is None or row.status != "pending":
            return
        row.attempts += 1
        message_id, attempt = row.line_message_id, row.attempts
    blob, timeout = services.line.blob, services.line.timeout
    status, data, content_type = None, None, None
    for wait in (*PREPARING_WAITS, None):
        try:
            response = blob.get_message_content_with_http_info(message_id, _request_timeout=timeout)
            status = response.status_code
            if status == 200:
                data, content_type = response.raw_data, response.headers.get("Content-Type")
                break
        except ApiException as exc:
            status = exc.status
            break
        except Exception:  # noqa: BLE001 - network trouble: the sweeper tries again
            log.warning("content fetch failed", extra={"content_id": content_id}, exc_info=True)
            break
        if wait is not None:
            time.sleep(wait)
    with services.transaction() as session:
        content.record_fetch(session, content_id, data, content_type, gone=status in (404, 410),
                             given_up=attempt >= MAX_ATTEMPTS)
    log.info("content fetch", extra={"content_id": content_id, "status": status})
