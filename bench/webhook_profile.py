"""bench/webhook_profile.py: the CPU one ``/callback`` request costs in Siang's own code, in-process.

Signed one-event requests (each a new ``webhookEventId``) are sent straight into the WSGI app in Redis mode
on PostgreSQL, with no HTTP server, so gunicorn's share is not in the figure. Prints the CPU per request
(``time.process_time``) unprofiled, then the top of a ``cProfile`` run with a CPU clock (``--profile``).
Needs the machine's PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import events  # noqa: E402

SECRET = "bench-channel-secret"
POSTGRES_ADMIN = os.environ.get("SIANG_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("SIANG_BENCH_REDIS", "redis://127.0.0.1:6379/8")


def environs(count: int) -> list[dict]:
    from werkzeug.test import EnvironBuilder

    users = [events.user_id() for _ in range(50)]
    made = []
    for n in range(count):
        payload = events.body(events.text(users[n % len(users)], f"ถนนหน้าบ้านเป็นหลุมเป็นบ่อ จุดที่ {n}"))
        made.append(EnvironBuilder(path="/callback", method="POST", data=payload,
                                   headers={"Content-Type": "application/json",
                                            "x-line-signature": events.sign(SECRET, payload)}).get_environ())
    return made


def send(app, batch: list[dict]) -> None:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for environ in batch:
        b"".join(app(environ, start_response))
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise RuntimeError(f"{len(bad)} requests not answered 200: {bad[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2700)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    from storage.migrate import upgrade

    database = f"siang_profile_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    try:
        upgrade(url)
        os.environ.update({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "bench",
                           "LINE_API_BASE_URL": "http://127.0.0.1:9", "LINE_DATA_API_BASE_URL": "http://127.0.0.1:9",
                           "SECRET_KEY": "bench", "LOG_LEVEL": "ERROR", "DATABASE_URL": url, "REDIS_URL": REDIS,
                           "JOB_QUEUE_NAME": f"profile-{uuid.uuid4().hex[:6]}"})
        from bot import create_app

        app = create_app()
        send(app, environs(200))  # warm: connections, caches
        batch = environs(args.requests)
        start = time.process_time()
        send(app, batch)
        cpu = time.process_time() - start
        print(f"load {os.getloadavg()[0]:.1f}: {1000 * cpu / len(batch):.3f} ms CPU per request, unprofiled "
              f"({len(batch)} requests)")
        if args.profile:
            batch = environs(args.requests)
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            send(app, batch)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
    finally:
        from bot import stop_background

        try:
            stop_background(app)
            app.extensions["siang"].engine.dispose()
        except NameError:
            pass
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
