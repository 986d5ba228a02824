"""A local stand-in for the LINE platform (Messaging API, data API, webhooks, chat page) for tests and `siang dev`.

Never imported by `bot` or `storage`; see `emulator.server` to run it and `emulator.client` to drive it.
"""

from emulator.client import EmulatorClient
from emulator.server import RunningEmulator, create_emulator_app, main, start_emulator
from emulator.settings import EmulatorSettings, Faults

__all__ = ["EmulatorClient", "EmulatorSettings", "Faults", "RunningEmulator", "create_emulator_app", "main",
           "start_emulator"]
