"""Bench: one announcement to N generated subscribers (default 1,000,000) by 2 ``siang worker`` processes.

The emulator adds 50 ms of latency to every LINE call and limits multicast to ``--limit``/s; the workers are
told the same limit. Prints, from the same run, the baseline (the limit in requests and recipients per second)
and: recipients/s, multicast requests/s as a share of the limit, 429s for rate, the audience computation time,
each worker's peak memory (VmHWM) and database rows written per recipient.

    .venv/bin/python bench/fanout.py [--subscribers 1000000] [--limit 200] [--latency-ms 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import create_app, stop_background  # noqa: E402
from bot.announcements import service  # noqa: E402
from bot.announcements.compose import Draft  # noqa: E402
from emulator.server import start_emulator  # noqa: E402
from emulator.settings import EmulatorSettings  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import AnnouncementBatch, OutboxMessage  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.delivery.conftest import SECRET, TOKEN, Workers  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/9"


def generate(database_url: str, count: int) -> float:
    """``count`` agriculture subscribers plus 10% health-only ones (who must not be reached)."""
    started = time.perf_counter()
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO citizens (line_user_id, active, first_seen_at, last_seen_at) "
            "SELECT 'U' || md5(i::text), true, now(), now() FROM generate_series(1, :n) AS i"), {"n": count * 11 // 10})
        connection.execute(text(
            "INSERT INTO subscriptions (citizen_id, topic, province, active, created_at, updated_at) "
            "SELECT id, CASE WHEN id % 11 = 0 THEN 'health' ELSE 'agriculture' END, 'all', true, now(), now() "
            "FROM citizens"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE citizens; ANALYZE subscriptions"))
    engine.dispose()
    return time.perf_counter() - started


def written_rows(engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables")))


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=200, help="multicast requests per second (emulator and bot)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="DELIVERY_THREADS per worker")
    args = parser.parse_args()

    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    name = f"siang_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    emulator = start_emulator(EmulatorSettings(channel_secret=SECRET, access_token=TOKEN))
    group = None
    try:
        upgrade(database_url)
        client = emulator.client
        client.set_rate_limit("multicast", f"{args.limit}/s")
        client.set_faults(latency_ms=args.latency_ms)
        print(f"baseline: LINE multicast limit {args.limit} requests/s = {args.limit * 500:,} recipients/s at 500 "
              f"per request; {args.subscribers:,} subscribers -> {-(-args.subscribers // 500):,} requests, "
              f"ideal {args.subscribers / 500 / args.limit:.1f} s", flush=True)
        print(f"generated {args.subscribers * 11 // 10:,} citizens in {generate(database_url, args.subscribers):.1f} s",
              flush=True)
        engine = create_engine(database_url)
        group = Workers(database_url, REDIS_URL, emulator.base_url, LINE_RATE_LIMITS=f"multicast={args.limit}/s",
                        DELIVERY_THREADS=str(args.threads), JOB_LEASE_SECONDS="30", SWEEP_INTERVAL_SECONDS="5",
                        JOB_QUEUE_NAME="siang")
        group.start(args.workers)
        time.sleep(3)  # let the processes import and connect: start-up is not delivery
        app = create_app(make_settings(database_url, emulator.base_url, redis_url=REDIS_URL, job_queue_name="siang"))
        services = app.extensions["siang"]
        rows_before = written_rows(engine)
        news = service.create(services, Draft(title="ข่าวเกษตร", text="ราคาข้าวและมาตรการช่วยเหลือเกษตรกร",
                                              topics=["agriculture"]), actor="bench")
        service.publish(services, news, actor="bench")
        while (figures := service.progress(services, news)).status not in ("sent", "cancelled"):
            group.assert_alive()
            time.sleep(0.5)
        peaks = [peak_kib(p.pid) for p in group.processes]
        time.sleep(1)  # statistics are flushed by the server at most once a second
        rows = written_rows(engine) - rows_before
        with engine.connect() as connection:
            first, last, requests = connection.execute(
                select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at), func.count())
                .join(AnnouncementBatch, AnnouncementBatch.outbox_id == OutboxMessage.id)).one()
        sending = (last - first).total_seconds() or 1e-9
        rejected = client.rejections()
        print(f"audience {figures.audience:,} computed in {figures.audience_seconds:.2f} s; "
              f"delivered {figures.delivered:,}, failed {figures.failed}", flush=True)
        print(f"end to end {figures.duration_seconds:.1f} s = {figures.delivered / figures.duration_seconds:,.0f} "
              f"recipients/s", flush=True)
        print(f"sending (first to last multicast) {sending:.1f} s: {figures.delivered / sending:,.0f} recipients/s, "
              f"{requests / sending:.1f} multicast/s = {100 * requests / sending / args.limit:.1f}% of the limit; "
              f"429 for rate: {rejected.get('rate_limit', 0)}", flush=True)
        print(f"peak worker memory (VmHWM): {', '.join(f'{p / 1024:.0f} MiB' for p in peaks)}", flush=True)
        print(f"database rows written (inserts + updates, all tables): {rows:,} = {rows / figures.delivered:.4f} "
              f"per recipient", flush=True)
        stop_background(app)
        engine.dispose()
    finally:
        if group is not None:
            group.stop()
        emulator.shutdown()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
