"""bench/webhook.py: how many signed webhook events per second /callback sustains under gunicorn.

Runs, in one go and with the same gunicorn settings: a bare Flask endpoint that only answers 200 (the
baseline), Siang in Redis mode (PostgreSQL, events queued on Redis, no worker running so that only the
request path is measured), and Siang in embedded mode (SQLite, in-process worker threads busy in the
same processes). The load comes from wrk in another process (``scripts/bench-tools`` installs Debian's).

Every request carries one event with a ``webhookEventId`` never sent before in the run: the warm-up and the
measured run read files of their own, and each wrk thread a share of its file (``webhook_load.lua``), so no
request is a cheap duplicate. At the end each Siang case counts the distinct events stored against the
requests answered 200, then lets workers handle them all and counts the events handled (and any taken more
than once). Prints events/s, p50/p99 latency, the counts and the ratio to the baseline of the same run, and
the CPU per request of the measured run (gunicorn's processes, the bench database's PostgreSQL backends):
on a shared machine the rates move with the other work, the CPU a request costs much less.
Needs the machine's PostgreSQL and Redis (``scripts/test-services``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import events  # noqa: E402 - the same event builder the tests use
from tests.processes import Process, free_port  # noqa: E402

SECRET = "bench-channel-secret"
POSTGRES_ADMIN = os.environ.get("SIANG_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("SIANG_BENCH_REDIS", "redis://127.0.0.1:6379/8")


WRK_THREADS = 2


def write_bodies(path: Path, count: int, users: list[str]) -> None:
    """``count`` signed one-event bodies, each with a fresh ``webhookEventId`` (ULID-shaped, as LINE's)."""
    with path.open("w") as out:
        for n in range(count):
            payload = events.body(events.text(users[n % len(users)], f"ถนนหน้าบ้านเป็นหลุมเป็นบ่อ จุดที่ {n}"))
            out.write(f"{events.sign(SECRET, payload)}\t{payload.decode()}\n")


def run_wrk(url: str, bodies: Path, seconds: int, connections: int) -> dict:
    script = Path(__file__).with_name("webhook_load.lua")
    output = subprocess.run(["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds}s",
                             "--latency", "-s", str(script), url, "--", str(bodies), str(WRK_THREADS)],
                            capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = int(errors.group(1)) if errors else 0
    with bodies.open() as file:
        available = sum(1 for _ in file)
    if requests >= available:
        raise RuntimeError(f"wrk sent all {available} bodies of {bodies.name}: make more, or every event is not new")
    return {"rps": rps, "p50_ms": to_ms(latency["50"]), "p99_ms": to_ms(latency["99"]), "non_2xx": non_2xx,
            "requests": requests,
            "accepted": requests - non_2xx,
            "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0}


def group_cpu_seconds(group: int) -> float:
    """User + system CPU of the live processes of one process group (gunicorn's master and workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(database: str) -> float:
    """User + system CPU of the PostgreSQL backends connected to ``database`` (the web processes' pool)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_ADMIN)
    with engine.connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                  {"d": database}).scalars().all()
    engine.dispose()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def serve(app_spec: str, env: dict[str, str], workdir: Path, workers: int, threads: int) -> tuple[Process, str]:
    port = free_port()
    process = Process([sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf", "--bind",
                       f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads), app_spec],
                      env, workdir / f"gunicorn-{port}.log")
    import requests

    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.stop()
    raise RuntimeError((workdir / f"gunicorn-{port}.log").read_text()[-2000:])


def count_events(database_url: str) -> dict:
    """Distinct events stored, and how many were handled (once, or more than once) by the workers."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT count(*), count(DISTINCT webhook_event_id), "
            "sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status IN ('pending', 'processing') THEN 1 ELSE 0 END), "
            "sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) FROM inbox_events")).one()
    engine.dispose()
    return {"stored": row[0], "distinct": row[1], "handled": row[2] or 0, "waiting": row[3] or 0,
            "taken_twice": row[4] or 0}


def drain(database_url: str, limit: float) -> dict:
    """Wait until no stored event is waiting (or ``limit`` seconds); return the final counts."""
    deadline = time.monotonic() + limit
    while True:
        counts = count_events(database_url)
        if counts["waiting"] == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def run_case(spec: str, env: dict[str, str], database_url: str | None, workdir: Path, bodies: dict[str, Path],
             args: argparse.Namespace) -> dict:
    """Warm-up, measured run, then (for Siang) the events counted and handled to the last one."""
    process, url = serve(spec, env, workdir, args.workers, args.threads)
    try:
        warm = run_wrk(url, bodies["warm-up"], 2, args.connections)
        database = database_url.rsplit("/", 1)[1] if database_url and database_url.startswith("postgres") else None
        load = os.getloadavg()[0]
        web_cpu = group_cpu_seconds(process.popen.pid)
        db_cpu = postgres_cpu_seconds(database) if database else 0.0
        result = run_wrk(url, bodies["measured"], args.seconds, args.connections)
        # CPU per request of the measured run: on a shared machine the rates move with the other work, the
        # CPU a request costs much less (wrk's own and Redis's CPU are not counted).
        result["load"] = load
        result["web_cpu_ms"] = 1000 * (group_cpu_seconds(process.popen.pid) - web_cpu) / max(result["requests"], 1)
        result["db_cpu_ms"] = (1000 * (postgres_cpu_seconds(database) - db_cpu) / max(result["requests"], 1)
                               if database else 0.0)
        if database_url is None:
            return result
        result["sent_200"] = warm["accepted"] + result["accepted"]
        result.update(count_events(database_url))
        workers = []
        if env.get("REDIS_URL"):  # production shape: the web processes only enqueue, workers handle
            workers = [Process([sys.executable, "-m", "bot.cli", "worker"], env, workdir / f"worker-{n}.log")
                       for n in range(args.workers)]
        try:
            final = drain(database_url, args.drain_limit)
        finally:
            for worker in workers:
                worker.stop()
        # Counted again at the end: requests still queued in gunicorn when wrk stopped are stored after it.
        result.update(stored=final["stored"], distinct=final["distinct"], handled=final["handled"],
                      waiting=final["waiting"], taken_twice=final["taken_twice"])
        return result
    finally:
        process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--drain-limit", type=float, default=600, help="seconds to wait for the events' handling")
    parser.add_argument("--only", choices=["redis", "embedded"], help="the baseline and one Siang case only")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: scripts/bench-tools installs it (apt-get install -y wrk)")

    from sqlalchemy import create_engine, text

    from storage.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="siang-bench-"))
    users = [events.user_id() for _ in range(200)]
    bodies = {"warm-up": workdir / "warm-up.tsv", "measured": workdir / "measured.tsv"}
    write_bodies(bodies["warm-up"], 20_000, users)
    write_bodies(bodies["measured"], max(60_000, 5_000 * args.seconds), users)
    database = f"siang_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    postgres_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    sqlite_url = f"sqlite:///{workdir / 'siang.sqlite3'}"
    upgrade(postgres_url)
    upgrade(sqlite_url)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_", "REDIS_"))}
    base_env.update({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "bench",
                     "LINE_API_BASE_URL": "http://127.0.0.1:9", "LINE_DATA_API_BASE_URL": "http://127.0.0.1:9",
                     "SECRET_KEY": "bench", "LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT)})
    cases = {
        "bare Flask endpoint": ("bench.bare_app:create_app()", {}, None),
        "Siang, Redis mode (PostgreSQL)": ("bot:create_app()", {"DATABASE_URL": postgres_url, "REDIS_URL": REDIS,
                                                                 "JOB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}"},
                                           postgres_url),
        "Siang, embedded mode (SQLite)": ("bot:create_app()", {"DATABASE_URL": sqlite_url}, sqlite_url),
    }
    if args.only:
        cases = {name: case for name, case in cases.items() if case[2] is None or args.only in name.lower()}
    results = {}
    try:
        for name, (spec, extra, database_url) in cases.items():
            results[name] = run_case(spec, {**base_env, **extra}, database_url, workdir, bodies, args)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        from redis import Redis

        Redis.from_url(REDIS).flushdb()
    report(results, args)


def report(results: dict[str, dict], args: argparse.Namespace) -> None:
    baseline = results["bare Flask endpoint"]["rps"]
    print(f"\nwebhook throughput, gunicorn {args.workers} workers x {args.threads} threads, wrk {WRK_THREADS} threads "
          f"{args.connections} connections, {args.seconds}s each after a 2s warm-up, one new signed text event "
          f"per request; load {os.getloadavg()[0]:.1f}")
    bare_cpu = results["bare Flask endpoint"]["web_cpu_ms"]
    print(f"{'':32} {'events/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} {'x bare':>6} "
          f"{'load':>5} {'web CPU ms':>10} {'PG CPU ms':>9} {'CPU x bare':>10} "
          f"{'sent 200':>8} {'stored':>7} {'handled':>7} {'twice':>5}")
    for name, r in results.items():
        counts = (f"{r['sent_200']:8d} {r['distinct']:7d} {r['handled']:7d} {r['taken_twice']:5d}"
                  if "distinct" in r else "")
        cpu = r["web_cpu_ms"] + r["db_cpu_ms"]
        print(f"{name:32} {r['rps']:8.0f} {r['p50_ms']:7.1f} {r['p99_ms']:7.1f} {r['non_2xx']:7d} "
              f"{r['rps'] / baseline:6.2f} {r['load']:5.1f} {r['web_cpu_ms']:10.2f} {r['db_cpu_ms']:9.2f} "
              f"{bare_cpu / cpu if cpu else 0:10.2f} {counts}")
    print("web CPU ms / PG CPU ms: CPU per request of the measured run (gunicorn's processes / the PostgreSQL "
          "backends of the bench's database); CPU x bare: the bare endpoint's CPU per request over this one's")
    lost = [name for name, r in results.items() if "distinct" in r
            and (r["distinct"] < r["sent_200"] or r["handled"] != r["distinct"])]
    if lost:
        print(f"EVENTS LOST OR UNHANDLED in: {', '.join(lost)}")
    print(json.dumps(results))
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
