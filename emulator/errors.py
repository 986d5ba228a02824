"""LINE's error responses as an exception, so every rule can stop a request the same way.

LINE answers errors with `{"message": ..., "details": [{"message", "property"}]}` and leaves `details` out when
it is empty (line-platform.md §9). `reason` names the rejection for the counters tests read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LineApiError(Exception):
    status: int
    message: str
    reason: str
    details: list[dict[str, str]] = field(default_factory=list)
    extra_body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.details:
            body["details"] = self.details
        body.update(self.extra_body)
        return body


def detail(message: str, prop: str) -> dict[str, str]:
    return {"message": message, "property": prop}


def bad_request(details: list[dict[str, str]], reason: str = "invalid_request") -> LineApiError:
    """LINE's summary line for body errors: "The request body has N error(s)"."""
    return LineApiError(400, f"The request body has {len(details)} error(s)", reason, details)


RATE_LIMIT_MESSAGE = "The API rate limit has been exceeded. Try again later."
QUOTA_MESSAGE = "You have reached your monthly limit."
SERVER_ERROR_MESSAGE = "An error occurred in the server. Try again later."
