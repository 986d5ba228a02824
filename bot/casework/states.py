"""The case lifecycle as data: stable state ids, their catalogue labels, and the allowed transitions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    id: str
    label_key: str  # key of the citizen-facing label in the message catalogue
    open: bool  # counts as open work for the agency (queues, overdue figures)


STATES: dict[str, State] = {
    s.id: s
    for s in (
        State("received", "status_received", True),
        State("forwarded", "status_forwarded", True),
        State("accepted", "status_accepted", True),
        State("in_progress", "status_in_progress", True),
        State("waiting_citizen", "status_waiting_citizen", True),
        State("resolved", "status_resolved", False),
        State("closed", "status_closed", False),
        State("rejected", "status_rejected", False),
        State("reopened", "status_reopened", True),
    )
}

# The states in which a case is still being worked (queues, overdue counts, digests, "me too" matches).
OPEN_STATES: tuple[str, ...] = tuple(state.id for state in STATES.values() if state.open)

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"forwarded", "accepted", "rejected", "waiting_citizen"}),
    "forwarded": frozenset({"accepted", "forwarded", "rejected", "waiting_citizen"}),
    "accepted": frozenset({"in_progress", "forwarded", "waiting_citizen", "resolved", "rejected"}),
    "in_progress": frozenset({"waiting_citizen", "resolved", "forwarded", "rejected"}),
    "waiting_citizen": frozenset({"in_progress", "accepted", "resolved", "rejected", "closed"}),
    "resolved": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "rejected": frozenset({"reopened"}),
    "reopened": frozenset({"accepted", "in_progress", "forwarded", "resolved", "rejected", "waiting_citizen"}),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())
