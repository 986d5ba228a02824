"""A photo whose download from LINE is still running when the citizen erases their data (or unsends it)
stays erased: the download's result is written only over a row that still waits for it."""

from __future__ import annotations

import threading
import time

from sqlalchemy import update

from storage import content
from storage.db import make_engine, make_sessionmaker, session_scope
from storage.models import StoredContent, utcnow


def test_a_download_finishing_after_the_erasure_does_not_bring_the_photo_back(database_url):
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        with session_scope(sessions) as session:
            row = content.expect(session, "msg-1", "U" + "1" * 32, "U" + "1" * 32, "image")
            session.flush()
            content_id = row.id
        erasing = sessions()
        erasing.execute(update(StoredContent).where(StoredContent.id == content_id)
                        .values(data=None, status="deleted", deleted_at=utcnow()))  # not committed yet
        erasing.flush()

        def download_done() -> None:
            with session_scope(sessions) as session:
                content.record_fetch(session, content_id, b"\xff\xd8 the photo", "image/jpeg", gone=False,
                                     given_up=False)

        download = threading.Thread(target=download_done)
        download.start()
        time.sleep(0.5)  # the download's write now waits for the erasure's lock (PostgreSQL) or its BEGIN (SQLite)
        erasing.commit()
        erasing.close()
        download.join(10)
        assert not download.is_alive()
        with session_scope(sessions) as session:
            kept = session.get(StoredContent, content_id)
            assert (kept.status, kept.data) == ("deleted", None)
    finally:
        engine.dispose()
