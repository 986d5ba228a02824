"""bench/webhook.py: how many signed webhook events per second /callback sustains under gunicorn.

Runs, in one go and with the same gunicorn settings: a bare Flask endpoint that only answers 200 (the
baseline), Siang in Redis mode (PostgreSQL, events queued on Redis, no worker running so that only the
request path is measured), and Siang in embedded mode (SQLite, in-process worker threads busy in the
same processes). The load comes from wrk in another process. Prints events/s, p50/p99 latency and the ratio
to the baseline. Needs the machine's PostgreSQL and Redis (``scripts/test-services``) and Debian's wrk.
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


def write_bodies(path: Path, count: int) -> None:
    users = [events.user_id() for _ in range(200)]
    with path.open("w") as out:
        for n in range(count):
            payload = events.body(events.text(users[n % len(users)], f"ถนนหน้าบ้านเป็นหลุมเป็นบ่อ จุดที่ {n}"))
            out.write(f"{events.sign(SECRET, payload)}\t{payload.decode()}\n")


def run_wrk(url: str, bodies: Path, seconds: int, connections: int) -> dict:
    script = Path(__file__).with_name("webhook_load.lua")
    output = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
                             "-s", str(script), url, "--", str(bodies)], capture_output=True, text=True,
                            check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50_ms": to_ms(latency["50"]), "p99_ms": to_ms(latency["99"]),
            "non_2xx": int(errors.group(1)) if errors else 0}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    from sqlalchemy import create_engine, text

    from storage.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="siang-bench-"))
    bodies = workdir / "bodies.tsv"
    write_bodies(bodies, 60_000)
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
        "bare Flask endpoint": ("bench.bare_app:create_app()", {}),
        "Siang, Redis mode (PostgreSQL)": ("bot:create_app()", {"DATABASE_URL": postgres_url, "REDIS_URL": REDIS,
                                                                 "JOB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}"}),
        "Siang, embedded mode (SQLite)": ("bot:create_app()", {"DATABASE_URL": sqlite_url}),
    }
    results = {}
    try:
        for name, (spec, extra) in cases.items():
            process, url = serve(spec, {**base_env, **extra}, workdir, args.workers, args.threads)
            try:
                run_wrk(url, bodies, 2, args.connections)  # warm-up
                results[name] = run_wrk(url, bodies, args.seconds, args.connections)
            finally:
                process.stop()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        from redis import Redis

        Redis.from_url(REDIS).flushdb()
    baseline = results["bare Flask endpoint"]["rps"]
    print(f"\nwebhook throughput, gunicorn {args.workers} workers x {args.threads} threads, wrk {args.connections} "
          f"connections, {args.seconds}s each, one signed text event per request")
    print(f"{'':34} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'x bare':>7}")
    for name, r in results.items():
        print(f"{name:34} {r['rps']:9.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['non_2xx']:8d} "
              f"{r['rps'] / baseline:7.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
