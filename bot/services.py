"""The process's long-lived parts, built once by ``create_app`` and found through the Flask app.

Handlers, flows and jobs receive these instead of importing globals, so a test can build a fresh app (its
own database, its own emulator) without anything leaking between tests.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.jobs import JobQueue
from bot.line import LineClients
from storage.db import session_scope


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    line: LineClients
    jobs: JobQueue
    redis: object | None = None  # redis.Redis in production
    background: list = field(default_factory=list)  # threads to stop on shutdown

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session


def current_services() -> Services:
    return current_app.extensions["siang"]
