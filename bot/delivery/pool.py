"""The delivery threads of a ``siang worker``: woken by queue jobs and the sweeper, they deliver every due
row (``bot.delivery.chain``)."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from bot.delivery.chain import HINTS_PER_CLAIM, ORDERED_BATCH, Claimed, deliver_chain, deliver_claimed_chain, wake
from bot.services import app_services

log = logging.getLogger(__name__)
MAX_HINTS = 512  # rows named by jobs a pool keeps for its threads (a bound, not a queue: see DeliveryPool)
PEER_WAKE_SECONDS = 1.0  # how often a saturated pool may queue a job for other worker processes


class DeliveryPool:
    """Daemon threads delivering rows; queue jobs only wake them up and name rows to put first.

    A thread runs ``deliver_chain``: it claims due rows of several chats at once and, while other threads
    of the pool are idle, hands them all but one of the rows (``share``), so that with few chats waiting
    every chat still has a thread and with many a thread sends a few rows per round trip to the database.
    A thread whose claim came back full wakes an idle one; with none idle it asks, at most every
    ``PEER_WAKE_SECONDS``, for a queue job that another worker process may take. ``submit`` never blocks: a
    hint lost to the bound (``MAX_HINTS``) is a row the threads or the sweeper reach anyway."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.threads = threads
        self._hints: dict[int, None] = {}  # an ordered set, oldest first
        self._shared: list[list[Claimed]] = []  # rows claimed by one thread for idle ones
        self._wakeups = 0  # threads asked to look for due rows without a hint
        self._idle = 0
        self._peers_woken = 0.0
        self._cond = threading.Condition()
        for n in range(threads):
            threading.Thread(target=self._run, name=f"siang-delivery-{n}", daemon=True).start()

    def submit(self, ids: list[int]) -> None:
        """Hand over rows named by a job or by the sweeper; wake as many idle threads as they need."""
        with self._cond:
            for row_id in ids:
                if row_id:
                    self._hints.pop(row_id, None)
                    self._hints[row_id] = None
            while len(self._hints) > MAX_HINTS:
                del self._hints[next(iter(self._hints))]
            wanted = max(1, -(-len(ids) // HINTS_PER_CLAIM))
            self._wake_locked(wanted)

    def take_hints(self) -> list[int]:
        with self._cond:
            taken = []
            while self._hints and len(taken) < HINTS_PER_CLAIM:
                row_id = next(iter(self._hints))
                del self._hints[row_id]
                taken.append(row_id)
            return taken

    def share(self, claimed: list[Claimed]) -> list[Claimed]:
        """Keep the first row; give the others, one each, to idle threads (as many as there are). A full
        claim means more rows are due: wake an idle thread, or ask another process for help."""
        full = len(claimed) >= ORDERED_BATCH
        with self._cond:
            given = 0
            while len(claimed) - given > 1 and self._idle - self._wakeups - len(self._shared) > 0:
                self._shared.append([claimed[len(claimed) - 1 - given]])
                given += 1
            if given:
                self._cond.notify(given)
            kept = claimed[:len(claimed) - given]
            idle = self._idle - self._wakeups - len(self._shared) > 0
            if full and idle:
                self._wake_locked(1)
            wake_peers = full and not idle and time.monotonic() - self._peers_woken > PEER_WAKE_SECONDS
            if wake_peers:
                self._peers_woken = time.monotonic()
        if wake_peers:
            wake(app_services(self.app))
        return kept

    def _wake_locked(self, count: int) -> None:
        count = min(count, self._idle - self._wakeups - len(self._shared))
        if count > 0:
            self._wakeups += count
            self._cond.notify(count)

    def _next(self) -> tuple[list[Claimed] | None, list[int]]:
        with self._cond:
            self._idle += 1
            while not (self._shared or self._hints or self._wakeups):
                self._cond.wait()
            self._idle -= 1
            if self._shared:
                return self._shared.pop(), []
            self._wakeups = max(0, self._wakeups - 1)
        return None, self.take_hints()

    def _run(self) -> None:
        services = app_services(self.app)
        while True:
            shared, hints = self._next()
            try:
                with self.app.app_context():
                    if shared is not None:
                        deliver_claimed_chain(services, shared, self)
                    else:
                        deliver_chain(services, hints, self)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; the sweeper retries the rows
                log.exception("delivery failed", extra={"outbox_ids": hints})
