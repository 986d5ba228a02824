"""The running emulator's parts in one object, reachable from any request via `current()`.

The Messaging API, the control API, the webhook sender and the chat page all need the same settings, state,
limiter and validator; Flask's `app.extensions` holds this one object instead of module globals, so several
emulators can run in one test process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from emulator.faults import FaultInjector
from emulator.limits import RateLimiter
from emulator.settings import EmulatorSettings
from emulator.state import Platform
from emulator.validation import SpecValidator, load_spec_validator
from emulator.webhooks import WebhookSender


@dataclass
class Emulator:
    settings: EmulatorSettings
    platform: Platform = field(default_factory=Platform)
    validator: SpecValidator | None = None

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings)
        self.faults = FaultInjector(self.settings.faults)
        self.webhooks = WebhookSender(self)
        if self.settings.spec_path and self.validator is None:
            self.validator = load_spec_validator(self.settings.spec_path)

    def reset(self) -> None:
        """Forget every user, message, token and counter; keep the configuration."""
        self.webhooks.cancel_pending()
        self.platform = Platform()
        self.limiter.reset()
        self.faults.configure(self.settings.faults)


def current() -> Emulator:
    return current_app.extensions["emulator"]
