"""Injected latency, 500s, 429s and lost answers, so the bot's retry and backoff paths can be exercised on
purpose.

A seeded random generator makes a run's sequence of faults repeatable; the lock keeps that sequence well
defined when several worker threads call at once.
"""

from __future__ import annotations

import random
import threading
import time

from emulator.settings import Faults

# The request is carried out (messages delivered, retry key and reply token spent) and then answered 500, as
# when LINE's answer is lost on the way back: the case that only a retry key or a careful bot survives.
LOST = "lost"


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def delay(self) -> None:
        if self.faults.latency_ms > 0:
            time.sleep(self.faults.latency_ms / 1000.0)

    def draw(self) -> int | str | None:
        """500 or 429 (refused before anything is done), ``LOST`` (done, then answered 500) or None for this
        request; one random draw per request keeps the shares exact."""
        with self._lock:
            roll = self._random.random()
        if roll < self.faults.fail_500:
            return 500
        if roll < self.faults.fail_500 + self.faults.fail_429:
            return 429
        if roll < self.faults.fail_500 + self.faults.fail_429 + self.faults.lose_answer:
            return LOST
        return None
