"""``siang dev``: the whole system on one machine in one process, for a newcomer's first minute.

SQLite in ``instance/``, no Redis, the in-process worker, and the LINE emulator with its chat page, each
pointed at the other. The channel secret and token are made up here: they only have to match between the
bot and the emulator, which never talks to the real LINE.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from werkzeug.serving import make_server

from bot import create_app, start_background, stop_background
from bot.config import Settings

SPEC_CANDIDATES = (Path.cwd().parent / "shared" / "line-openapi" / "messaging-api.yml",)


def run_dev(host: str, port: int, emulator_port: int) -> None:
    from emulator.server import start_emulator
    from emulator.settings import EmulatorSettings
    from storage.migrate import upgrade

    secret, token = secrets.token_hex(16), secrets.token_urlsafe(24)
    spec = next((str(p) for p in SPEC_CANDIDATES if p.exists()), None)
    line = start_emulator(
        EmulatorSettings(channel_secret=secret, access_token=token, spec_path=spec,
                         webhook_url=f"http://{host}:{port}/callback"),
        host=host, port=emulator_port,
    )
    settings = Settings.from_env(
        {"LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": token, "LINE_API_BASE_URL": line.base_url,
         "LINE_DATA_API_BASE_URL": line.base_url, **_env_overrides()},
        instance_path=Path.cwd() / "instance", development_secret=True,
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    start_background(app)
    from bot.richmenu import deploy
    from bot.services import app_services

    deploy(app_services(app).line)  # the chat page shows the main services' menu at once
    server = make_server(host, port, app, threaded=True)
    print(f"\n  Siang is running (embedded mode, database {settings.database_url}).\n"
          f"  Chat with it as a citizen: {line.base_url}/\n"
          f"  Webhook: http://{host}:{port}/callback   Health: http://{host}:{port}/healthz\n", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        threading.Thread(target=server.shutdown, daemon=True).start()
        stop_background(app)
        line.shutdown()


def _env_overrides() -> dict[str, str]:
    """Let a developer keep their own DATABASE_URL or log level in the environment or .env."""
    import os

    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(".env").items() if v}
    values.update({k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "LOG_LEVEL", "PORT")})
    return {k: v for k, v in values.items() if k in ("DATABASE_URL", "LOG_LEVEL")}
