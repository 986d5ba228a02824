"""bench/webhook.py: how many signed webhook events per second /callback sustains under gunicorn.

Runs, in one go and with the same gunicorn settings: a bare Flask endpoint that only answers 200 (the
baseline), Siang in Redis mode (PostgreSQL, events queued on Redis, no worker running so that only the
request path is measured), and Siang in embedded mode (SQLite, in-process worker threads busy in the
same processes). The baseline and Redis mode take turns, round by round (``--rounds``), and each round's
ratio is printed with their median: the machine's other load moves both sides of a round alike. The load
comes from wrk in another process (``scripts/bench-tools`` installs Debian's).

Every request carries one event with a ``webhookEventId`` never sent before in the run: the warm-up and
each measured round read files of their own, and each wrk thread a share of its file (``webhook_load.lua``),
so no request is a cheap duplicate. At the end each Siang case counts the distinct events stored against the
requests answered 200, then lets workers handle them all and counts the events handled (and any taken more
than once). Prints events/s, p50/p99 latency, the counts and the ratio to the baseline of the same run, and
the CPU per request of the measured rounds (gunicorn's processes, the bench database's PostgreSQL backends):
on a shared machine the rates move with the other work, the CPU a request costs much less.
Needs the machine's PostgreSQL and Redis (``scripts/test-services``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import gunicorn_conf  # noqa: E402 - the production defaults (WEB_CONCURRENCY, GUNICORN_THREADS)
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


class Case:
    """One server under test: its gunicorn, its database (None for the bare endpoint) and its figures."""

    def __init__(self, name: str, spec: str, env: dict[str, str], database_url: str | None, workdir: Path,
                 args: argparse.Namespace) -> None:
        self.name, self.env, self.database_url, self.workdir = name, env, database_url, workdir
        self.database = (database_url.rsplit("/", 1)[1]
                         if database_url and database_url.startswith("postgres") else None)
        self.process, self.url = serve(spec, env, workdir, args.workers, args.threads)
        self.rounds: list[dict] = []
        self.warm_accepted = 0

    def warm_up(self, bodies: Path, connections: int) -> None:
        self.warm_accepted = run_wrk(self.url, bodies, 2, connections)["accepted"]

    def measure(self, bodies: Path, seconds: int, connections: int) -> dict:
        """One measured wrk run with the CPU it cost (gunicorn's processes, the database's backends)."""
        load = os.getloadavg()[0]
        web_cpu = group_cpu_seconds(self.process.popen.pid)
        db_cpu = postgres_cpu_seconds(self.database) if self.database else 0.0
        result = run_wrk(self.url, bodies, seconds, connections)
        result["load"] = load
        result["web_cpu_s"] = group_cpu_seconds(self.process.popen.pid) - web_cpu
        result["db_cpu_s"] = postgres_cpu_seconds(self.database) - db_cpu if self.database else 0.0
        self.rounds.append(result)
        return result

    def summary(self, seconds: int) -> dict:
        """The rounds together: overall rate, median p50, worst p99, CPU per request."""
        requests = sum(r["requests"] for r in self.rounds)
        return {"rps": requests / (seconds * len(self.rounds)),
                "round_rps": [r["rps"] for r in self.rounds],
                "p50_ms": statistics.median(r["p50_ms"] for r in self.rounds),
                "p99_ms": max(r["p99_ms"] for r in self.rounds),
                "non_2xx": sum(r["non_2xx"] for r in self.rounds),
                "requests": requests, "accepted": sum(r["accepted"] for r in self.rounds),
                "load": statistics.median(r["load"] for r in self.rounds),
                "web_cpu_ms": 1000 * sum(r["web_cpu_s"] for r in self.rounds) / max(requests, 1),
                "db_cpu_ms": 1000 * sum(r["db_cpu_s"] for r in self.rounds) / max(requests, 1)}

    def count_and_drain(self, result: dict, drain_limit: float, workers: int) -> None:
        """Distinct events stored against the 200s, then every event handled by workers (Redis mode)."""
        result["sent_200"] = self.warm_accepted + result["accepted"]
        handlers = []
        if self.env.get("REDIS_URL"):  # production shape: the web processes only enqueue, workers handle
            handlers = [Process([sys.executable, "-m", "bot.cli", "worker"], self.env,
                                self.workdir / f"worker-{n}.log") for n in range(workers)]
        try:
            final = drain(self.database_url, drain_limit)
        finally:
            for handler in handlers:
                handler.stop()
        # Counted at the end: requests still queued in gunicorn when wrk stopped are stored after it.
        result.update(stored=final["stored"], distinct=final["distinct"], handled=final["handled"],
                      waiting=final["waiting"], taken_twice=final["taken_twice"])

    def stop(self) -> None:
        self.process.stop()


def run_cases(specs: dict[str, tuple[str, dict, str | None]], workdir: Path, bodies: dict[str, Path],
              args: argparse.Namespace) -> dict[str, dict]:
    """Warm-up, then ``--rounds`` measured runs taking turns, then the events counted and handled.

    The cases without workers of their own (the bare endpoint, Redis mode) run in turns, round by round,
    so a change in the machine's other load falls on both sides of each round's ratio. Embedded mode keeps
    its worker threads busy in its web processes long after its load stops, so it runs alone, afterwards.
    """
    results: dict[str, dict] = {}
    alternating = {name: spec for name, spec in specs.items() if "embedded" not in name}
    alone = {name: spec for name, spec in specs.items() if name not in alternating}
    for group in (alternating, alone):
        cases = [Case(name, spec, env, database_url, workdir, args)
                 for name, (spec, env, database_url) in group.items()]
        try:
            for case in cases:
                case.warm_up(bodies[f"warm-up {case.name}"], args.connections)
            for n in range(args.rounds):
                for case in cases:
                    case.measure(bodies[f"round {n} {case.name}"], args.seconds, args.connections)
            for case in cases:
                results[case.name] = case.summary(args.seconds)
                if case.database_url is not None:
                    case.count_and_drain(results[case.name], args.drain_limit, args.workers)
            if group is alternating:  # each round's ratio to the bare endpoint's rate in the same round
                bare = results["bare Flask endpoint"]["round_rps"]
                for case in cases:
                    results[case.name]["round_ratios"] = [
                        mine / base for mine, base in zip(results[case.name]["round_rps"], bare)]
        finally:
            for case in cases:
                case.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="length of one measured round")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per case, taking turns")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=gunicorn_conf.workers)
    parser.add_argument("--threads", type=int, default=gunicorn_conf.threads)
    parser.add_argument("--drain-limit", type=float, default=1200, help="seconds to wait for the events' handling")
    parser.add_argument("--only", choices=["redis", "embedded"], help="the baseline and one Siang case only")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: scripts/bench-tools installs it (apt-get install -y wrk)")

    from sqlalchemy import create_engine, text

    from storage.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="siang-bench-"))
    users = [events.user_id() for _ in range(200)]
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
    bodies = {}  # a file of its own for every wrk run: no webhookEventId is sent twice in the whole bench
    for name in cases:
        for run in ["warm-up"] + [f"round {n}" for n in range(args.rounds)]:
            bodies[f"{run} {name}"] = workdir / f"{len(bodies)}.tsv"
            write_bodies(bodies[f"{run} {name}"], 20_000 if run == "warm-up" else max(30_000, 8_000 * args.seconds),
                         users)
    try:
        results = run_cases({name: (spec, {**base_env, **extra}, database_url)
                             for name, (spec, extra, database_url) in cases.items()}, workdir, bodies, args)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        from redis import Redis

        Redis.from_url(REDIS).flushdb()
    report(results, args)


def report(results: dict[str, dict], args: argparse.Namespace) -> None:
    baseline = results["bare Flask endpoint"]["rps"]
    print(f"\nwebhook throughput, gunicorn {args.workers} workers x {args.threads} threads, wrk {WRK_THREADS} threads "
          f"{args.connections} connections, {args.rounds} rounds of {args.seconds}s each after a 2s warm-up, "
          f"one new signed text event per request; load {os.getloadavg()[0]:.1f}")
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
    print("events/s: all rounds together; p50: median of the rounds; p99: the worst round; web CPU ms / PG CPU ms: "
          "CPU per request of the measured rounds (gunicorn's processes / the PostgreSQL backends of the bench's "
          "database); CPU x bare: the bare endpoint's CPU per request over this one's")
    for name, r in results.items():
        if r.get("round_ratios") and name != "bare Flask endpoint":
            ratios = r["round_ratios"]
            print(f"{name}: x bare round by round {' '.join(f'{x:.2f}' for x in ratios)}; "
                  f"median {statistics.median(ratios):.2f}")
    lost = [name for name, r in results.items() if "distinct" in r
            and (r["distinct"] < r["sent_200"] or (args.drain_limit > 0 and r["handled"] != r["distinct"]))]
    if lost:
        print(f"EVENTS LOST OR UNHANDLED in: {', '.join(lost)}")
    print(json.dumps(results))
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
