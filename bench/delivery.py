"""Bench: pushes per second delivered by 1, 2 and 4 ``siang worker`` processes, beside LINE's push limit.

The emulator adds 50 ms of latency to every LINE call (a realistic round trip to LINE from Thailand) and
limits push to ``--limit`` per second; the workers are told the same limit (``LINE_RATE_LIMITS``). Prints,
from the same run, the baseline (the limit, and what one request at a time could do at this latency) and
the achieved rate and share of the limit for each worker count.

    .venv/bin/python bench/delivery.py [--pushes 3000] [--limit 200] [--latency-ms 50] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.server import start_emulator  # noqa: E402
from emulator.settings import EmulatorSettings  # noqa: E402
from storage.db import Base  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.support import SECRET, TOKEN, Workers, add_pushes, enqueue_all  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = os.environ.get("SIANG_BENCH_REDIS", "redis://127.0.0.1:6379/9")  # flushed by the bench


def run(workers: int, args, emulator, database_url: str, recipients: list[str]) -> tuple[float, float]:
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} CASCADE"))
    ids = add_pushes(database_url, recipients, per_recipient=args.pushes // len(recipients))
    group = Workers(database_url, REDIS_URL, emulator.base_url, LINE_RATE_LIMITS=f"push={args.limit}/s",
                    DELIVERY_THREADS=str(args.threads), JOB_LEASE_SECONDS="30", SWEEP_INTERVAL_SECONDS="5")
    group.start(workers)
    time.sleep(3)  # let the processes import and connect: start-up is not delivery
    enqueue_all(REDIS_URL, ids)
    try:
        while True:
            with engine.connect() as connection:
                sent = connection.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            if sent >= len(ids):
                break
            group.assert_alive()
            time.sleep(0.2)
        with engine.connect() as connection:
            first, last = connection.execute(select(func.min(OutboxMessage.sent_at),
                                                    func.max(OutboxMessage.sent_at))).one()
    finally:
        group.stop()
        engine.dispose()
    seconds = (last - first).total_seconds()
    return len(ids) / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=200, help="push limit per second (emulator and bot)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8, help="DELIVERY_THREADS per worker")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()

    name = f"siang_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    emulator = start_emulator(EmulatorSettings(channel_secret=SECRET, access_token=TOKEN))
    try:
        upgrade(database_url)
        client = emulator.client
        client.set_rate_limit("push", f"{args.limit}/s")
        client.set_faults(latency_ms=args.latency_ms)
        recipients = [client.create_user(display_name=f"bench {n}")["user_id"] for n in range(100)]
        print(f"baseline: LINE push limit {args.limit}/s; one request at a time at {args.latency_ms} ms "
              f"= {1000 / args.latency_ms:.0f}/s; {args.pushes} pushes, {args.threads} delivery threads/worker")
        for count in (int(n) for n in args.workers.split(",")):
            rate, seconds = run(count, args, emulator, database_url, recipients)
            rejected = client.rejections().get("rate_limit", 0)
            print(f"{count} worker(s): {rate:7.1f} pushes/s in {seconds:5.1f} s = {100 * rate / args.limit:5.1f}% "
                  f"of the limit; 429 for rate: {rejected}", flush=True)
    finally:
        emulator.shutdown()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
