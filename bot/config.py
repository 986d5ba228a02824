"""Every setting Siang reads from the environment, in one place.

The rest of the code never calls ``os.environ``: it receives a frozen :class:`Settings`. A missing or bad
variable fails at start-up with one message that names it, instead of a confusing error at the first
webhook.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Typed configuration. Field names are the environment variables, lower-cased."""

    line_channel_secret: str
    line_channel_access_token: str
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    database_url: str = ""  # empty: a SQLite file in the instance folder
    redis_url: str = ""  # empty: embedded mode (in-process worker, no Redis)
    # The RQ queue's name: deployments (or test runs) sharing one Redis keep their jobs apart.
    job_queue_name: str = "siang"
    # Signs console session cookies. Required everywhere except ``siang dev`` and tests (see ``from_env``).
    secret_key: str = ""
    # Session cookies only over HTTPS. Unset: on in production (REDIS_URL set), off in embedded mode.
    session_cookie_secure: bool | None = None
    # Reverse proxies in front of the web process whose X-Forwarded-For/-Proto are believed: without this,
    # behind a proxy every request has the proxy's address and per-address sign-in limits would be shared.
    trusted_proxies: int = 0
    port: int = 8080
    # How long a worker may hold an event or an outbox row before another worker may take it over.
    job_lease_seconds: int = 60
    # How often the sweeper looks for work whose queue message was lost (worker killed, Redis flushed).
    sweep_interval_seconds: float = 5.0
    # Threads of the in-process worker in embedded mode.
    embedded_worker_threads: int = 4
    # Seconds to wait for LINE (connect, read); the SDK has no default timeout.
    line_timeout_seconds: float = 10.0
    log_level: str = "INFO"
    # LINE's per-endpoint rate limits as the bot must respect them, e.g. "push=2000/s,multicast=200/s";
    # endpoints not named keep LINE's published numbers (bot.ratelimit.LINE_RATE_LIMITS).
    line_rate_limits: str = ""
    # Deliveries one worker process keeps in flight (threads), so LINE's latency does not cap throughput.
    delivery_threads: int = 8
    # How long sending pauses after LINE answers "You have reached your monthly limit".
    monthly_limit_pause_seconds: float = 3600.0
    # The longest wait between two attempts at one row (exponential backoff with jitter up to this). A chat's
    # later messages wait behind its earliest unfinished one, so this also bounds how long one unlucky
    # message can hold a conversation back.
    retry_cap_seconds: float = 300.0
    # Public base URL of the case timeline pages linked from status cards; empty: cards carry no link.
    timeline_base_url: str = ""
    # Public base URL of the staff console; agencies' group case cards link to the case page (photos,
    # details) behind the console's login. Empty: cards carry no such link.
    console_base_url: str = ""
    # Public base URL at which LINE fetches the after-photos of resolved cases (signed, expiring links to
    # /media/...). Empty: the console's base URL; both empty: the citizen's push carries the note only.
    media_base_url: str = ""
    # A conversation left idle this long pauses, its draft kept for the citizen to resume.
    flow_idle_seconds: int = 1800
    # An open conversation with staff (an officer's reply, a hand-over) left this long without a message
    # either way ends: the citizen's next message is a new conversation with the bot.
    thread_idle_seconds: int = 86400
    # Flood control: more than FLOOD_BURST messages within FLOOD_WINDOW_SECONDS from one citizen are slowed.
    flood_burst: int = 20
    flood_window_seconds: float = 10.0
    # Outbound webhooks (bot.integrations.webhooks): seconds to wait for an integrator's server, and whether a
    # registered URL may point at a loopback or private address (off: an API key holder must not make Siang
    # call into its own network; turn on for a receiver on the same machine or LAN).
    webhook_timeout_seconds: float = 10.0
    webhook_allow_private: bool = False

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: one process does everything."""
        return not self.redis_url

    @property
    def secure_cookies(self) -> bool:
        """Whether the console's session cookie carries ``Secure`` (sent over HTTPS only)."""
        return self.session_cookie_secure if self.session_cookie_secure is not None else not self.embedded

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, instance_path: str | Path = "instance", *,
                 development_secret: bool = False) -> "Settings":
        """Build settings from ``environ`` (default: ``os.environ`` after loading ``.env``).

        Without ``SECRET_KEY`` only ``development_secret=True`` (``siang dev``, and tools that sign nothing)
        starts, with a key random to this process: a constant fallback would let anyone who has read the
        source sign a console session for ``siang serve``, which listens on every interface."""
        if environ is None:
            _load_dotenv()
            environ = os.environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        for required in ("line_channel_secret", "line_channel_access_token"):
            if not values.get(required):
                raise ConfigError(
                    f"{required.upper()} is not set: copy it from the LINE Developers console "
                    "(Messaging API tab), or run `siang dev`, which sets it for the local emulator"
                )
        for url_name in ("line_api_base_url", "line_data_api_base_url", "timeline_base_url", "console_base_url",
                         "media_base_url"):
            url = values.get(url_name, "")
            if url and not url.startswith(("http://", "https://")):
                raise ConfigError(f"{url_name.upper()} must start with http:// or https://, got {url!r}")
            if url:
                values[url_name] = url.rstrip("/")
        if "redis_url" in values and not values["redis_url"].startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL must be a redis:// URL, got {values['redis_url']!r}")
        if not values.get("database_url"):
            Path(instance_path).mkdir(parents=True, exist_ok=True)
            values["database_url"] = f"sqlite:///{Path(instance_path).resolve() / 'siang.sqlite3'}"
        if not values.get("secret_key"):
            if not development_secret:
                raise ConfigError(
                    "SECRET_KEY is not set: it signs the staff console's sessions; set it to a long random value "
                    "shared by every web process (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                    "or run `siang dev`, which makes one up for the local machine")
            values["secret_key"] = secrets.token_urlsafe(48)
        return cls(**values)


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    type_name = str(type_name)
    if type_name.startswith("bool"):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name.upper()} must be 1 or 0 (true/false), got {raw!r}")
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{name.upper()} must be a {type_name}, got {raw!r}") from None
    return raw


def _load_dotenv() -> None:
    """Honour a ``.env`` file in the working directory; real environment variables win."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
