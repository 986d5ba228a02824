"""Injected latency, 500s and 429s, so the bot's retry and backoff paths can be exercised on purpose.

A seeded random generator makes a run's sequence of faults repeatable; the lock keeps that sequence well
defined when several worker threads call at once.
"""

from __future__ import annotations

import random
import threading
import time

from emulator.settings import Faults


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

    def draw(self) -> int | None:
        """500, 429 or None for this request; one random draw per request keeps the shares exact."""
        with self._lock:
            roll = self._random.random()
        if roll < self.faults.fail_500:
            return 500
        if roll < self.faults.fail_500 + self.faults.fail_429:
            return 429
        return None
