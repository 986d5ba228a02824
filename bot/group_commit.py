"""Group commit: the requests that arrive while one write is in flight share the next one.

Under load each gunicorn process has several request threads, each with a small insert to make durable.
One at a time, each pays its own round trip, statement and commit (a WAL flush on PostgreSQL, the write
lock on SQLite). Here the first thread to arrive leads: it writes every request waiting at that moment in
one call and wakes the others with their share of the result. Nothing waits on a timer: a thread that finds
no write in flight writes at once, alone, so a quiet server answers exactly as fast as without this.

Failure keeps each request's own outcome: when a shared write raises, every request in it writes again
alone (the webhook's insert is idempotent), so one request's bad event or a database that is down gives
each request the answer it would have had on its own.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_ALONE = object()  # a follower's result when the shared write failed: write again alone


class _Slot:
    """One waiting request: its item, then its result; ``wake`` is held until the request may go on."""

    __slots__ = ("item", "result", "lead", "wake")

    def __init__(self, item) -> None:
        self.item = item
        self.result = None
        self.lead = False
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit(Generic[Item, Result]):
    """``submit(item)`` returns ``write([item, ...])``'s result for ``item``, in one ``write`` with the
    other items submitted meanwhile. ``write`` returns one result per item, in order."""

    def __init__(self, write: Callable[[list[Item]], list[Result]]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._waiting: list[_Slot] = []
        self._busy = False  # a leader is writing or about to

    def submit(self, item: Item) -> Result:
        slot = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            slot.lead = not self._busy
            self._busy = True
        if not slot.lead:
            slot.wake.acquire()  # released with a result, or to make this request the next leader
            if not slot.lead:
                if slot.result is _ALONE:
                    return self._write([item])[0]
                return slot.result
        return self._lead(slot)

    def _lead(self, own: _Slot) -> Result:
        with self._lock:
            batch, self._waiting = self._waiting, []
        shared_write_failed = False
        try:
            results = self._write([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"group write returned {len(results)} results for {len(batch)} items")
        except BaseException as exc:
            for slot in batch:
                slot.result = _ALONE
            if len(batch) == 1 or not isinstance(exc, Exception):
                raise  # its own write's outcome, or the process stopping: no second try
            shared_write_failed = True
        else:
            for slot, result in zip(batch, results):
                slot.result = result
        finally:
            self._hand_on(batch, own)
        return self._write([own.item])[0] if shared_write_failed else own.result

    def _hand_on(self, batch: list[_Slot], own: _Slot) -> None:
        """Wake the batch, and make the first request that came meanwhile the next leader."""
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.wake.release()
            else:
                self._busy = False
        for slot in batch:
            if slot is not own:
                slot.wake.release()
