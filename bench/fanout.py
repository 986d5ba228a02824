"""Bench: one announcement to N generated subscribers (default 1,000,000) by 2 ``siang worker`` processes.

The emulator (in this process) validates every body against LINE's OpenAPI spec, adds 50 ms of latency to
every LINE call and limits multicast to ``--limit``/s; the workers are told the same limit. Prints, from the
same run, the baseline (the limit in requests and recipients per second) and: recipients/s, multicast
requests/s as a share of the limit, 429s for rate, the audience computation time, each worker's peak memory
(VmHWM), database rows written per recipient, and the CPU each part of the system spent per multicast. Then it
checks at the emulator that every subscriber was reached exactly once and nobody else was.

    .venv/bin/python bench/fanout.py [--subscribers 1000000] [--limit 200] [--latency-ms 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import create_app, stop_background  # noqa: E402
from bot.announcements import service  # noqa: E402
from bot.announcements.compose import Draft  # noqa: E402
from emulator.server import start_emulator  # noqa: E402
from emulator.settings import EmulatorSettings  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support import LINE_SPEC, SECRET, TOKEN, Workers, make_settings  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/9"


def generate(database_url: str, count: int) -> float:
    """``count`` agriculture subscribers plus 10% health-only ones (who must not be reached), vacuumed."""
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
        # As autovacuum would have long done on a live database; left to autovacuum here, it would vacuum the
        # freshly inserted millions of rows in the middle of the measurement.
        connection.execute(text("VACUUM ANALYZE citizens"))
        connection.execute(text("VACUUM ANALYZE subscriptions"))
    engine.dispose()
    return time.perf_counter() - started


def written_rows(engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables")))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_command(prefix: str) -> float:
    """CPU of every process whose command name starts with ``prefix`` (PostgreSQL backends, redis-server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith(prefix):
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def cpu_snapshot(workers: list[int]) -> dict[str, float]:
    return {"bench process (emulator)": sum(os.times()[:2]), "workers": sum(cpu_seconds(p) for p in workers),
            "postgres": cpu_by_command("postgres"), "redis": cpu_by_command("redis-server")}


def expected_recipients(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(text(
            "SELECT c.line_user_id FROM citizens c JOIN subscriptions s ON s.citizen_id = c.id "
            "WHERE s.topic = 'agriculture'")))


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
    emulator = start_emulator(EmulatorSettings(channel_secret=SECRET, access_token=TOKEN, spec_path=str(LINE_SPEC)))
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
        cpu_before = cpu_snapshot([p.pid for p in group.processes])
        news = service.create(services, Draft(title="ข่าวเกษตร", text="ราคาข้าวและมาตรการช่วยเหลือเกษตรกร",
                                              topics=["agriculture"]), actor="bench")
        service.publish(services, news, actor="bench")
        while (figures := service.progress(services, news)).status not in ("sent", "cancelled"):
            group.assert_alive()
            time.sleep(0.5)
        peaks = [peak_kib(p.pid) for p in group.processes]
        cpu_after = cpu_snapshot([p.pid for p in group.processes])
        load = os.getloadavg()
        group.stop()  # backends flush their table statistics when they exit (idle ones only every few seconds)
        stop_background(app)
        time.sleep(1)
        rows = written_rows(engine) - rows_before
        times = sorted(client.accepted_times("multicast"))  # as the platform saw them, not our bookkeeping
        requests = len(times)
        sending = (times[-1] - times[0]) / 1000 or 1e-9
        by_second = Counter((t - times[0]) // 1000 for t in times)
        per_second = [by_second[second] for second in range(int(sending) + 1)]
        rejected = client.rejections()
        print(f"audience {figures.audience:,} computed in {figures.audience_seconds:.2f} s; "
              f"delivered {figures.delivered:,}, failed {figures.failed}", flush=True)
        print(f"end to end {figures.duration_seconds:.1f} s = {figures.delivered / figures.duration_seconds:,.0f} "
              f"recipients/s", flush=True)
        print(f"sending (first to last multicast accepted by the emulator) {sending:.1f} s: "
              f"{figures.delivered / sending:,.0f} recipients/s, {requests / sending:.1f} multicast/s = "
              f"{100 * requests / sending / args.limit:.1f}% of the limit; "
              f"429 for rate: {rejected.get('rate_limit', 0)}", flush=True)
        print(f"multicasts accepted in each second of sending: {per_second}", flush=True)
        print(f"peak worker memory (VmHWM): {', '.join(f'{p / 1024:.0f} MiB' for p in peaks)}", flush=True)
        print(f"database rows written (inserts + updates, all tables): {rows:,} = {rows / figures.delivered:.4f} "
              f"per recipient", flush=True)
        spent = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
        print("CPU per multicast (ms): " + ", ".join(f"{part} {1000 * seconds / requests:.2f}"
                                                     for part, seconds in spent.items())
              + f"; total {1000 * sum(spent.values()) / requests:.2f} ms, {sum(spent.values()) / sending:.2f} "
                f"cores over the sending time; load average {load[0]:.1f} (2 cores)", flush=True)
        counts = client.recipient_counts(text="ข่าวเกษตร")
        expected = expected_recipients(engine)
        twice = sum(1 for n in counts.values() if n > 1)
        print(f"at the emulator: {len(counts):,} recipients reached, {twice} more than once, "
              f"{len(expected - counts.keys()):,} subscribers missed, {len(counts.keys() - expected):,} "
              f"non-subscribers reached; spec violations: {len(client.spec_violations())}", flush=True)
        assert counts.keys() == expected and twice == 0, "not exactly once"
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
