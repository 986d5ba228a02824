"""Everything that makes one emulator run differ from another, in one dataclass.

Tests, benches and `siang dev` build an `EmulatorSettings`; the CLI builds the same object from flags, and the
control API changes a live copy of it. Rate limits default to LINE's published numbers
(line-platform.md §8) so that the bot meets the platform's real ceilings unless a test lowers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Endpoint names used for rate limits, rejection counters and fault injection.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "reply": "2000/s",
    "push": "2000/s",
    "multicast": "200/s",
    "broadcast": "60/hour",
    "narrowcast": "60/hour",
    "narrowcast_progress": "2000/s",
    "validate": "2000/s",
    "profile": "2000/s",
    "group": "2000/s",
    "room": "2000/s",
    "loading": "100/s",
    "mark_as_read": "2000/s",
    "quota": "2000/s",
    "info": "2000/s",
    "content": "2000/s",
    "richmenu_create": "100/hour",
    "richmenu_delete": "100/hour",
    "richmenu_list": "10/s",
    "richmenu": "2000/s",
}

_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
            "h": 3600.0, "hour": 3600.0}


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds; the token bucket holds `count` tokens at most."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str | int | float) -> "Rate":
        """Read `"100/s"`, `"60/hour"`, `"1000/min"` or a bare number (per second)."""
        if isinstance(text, (int, float)):
            return cls(int(text), 1.0)
        match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*([a-z]+))?\s*", text)
        if not match or (match.group(2) or "s") not in _PERIODS:
            raise ValueError(f"bad rate {text!r}: expected e.g. 100/s, 60/hour, 1000/min")
        return cls(int(match.group(1)), _PERIODS[match.group(2) or "s"])

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "min", 3600.0: "hour"}.get(self.period, f"{self.period}s")
        return f"{self.count}/{unit}"


@dataclass
class Faults:
    """Injected trouble on the Messaging API endpoints (never on the control API)."""

    latency_ms: int = 0
    fail_500: float = 0.0
    fail_429: float = 0.0
    seed: int | None = None
    lose_answer: float = 0.0  # share of requests carried out in full, then answered 500: the answer is lost


@dataclass
class EmulatorSettings:
    """Channel credentials, webhook target, platform limits and faults for one emulator."""

    channel_secret: str = "emulator-channel-secret"
    access_token: str = "emulator-access-token"
    webhook_url: str | None = None
    spec_path: str | None = None
    bot_user_id: str = "U5e1a9000000000000000000000000b07"
    bot_display_name: str = "Siang"
    reply_token_ttl: float = 60.0
    monthly_quota: int | None = None
    rate_limits: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    content_preparing_calls: int = 0
    webhook_timeout: float = 2.0
    redelivery: bool = False
    redelivery_delay: float = 1.0
    redelivery_attempts: int = 3
    retry_key_ttl: float = 24 * 3600.0

    def rate_for(self, endpoint: str) -> Rate:
        """The configured rate for an endpoint, falling back to LINE's 2,000/s "everything else"."""
        text = self.rate_limits.get(endpoint) or DEFAULT_RATE_LIMITS.get(endpoint, "2000/s")
        return Rate.parse(text)
