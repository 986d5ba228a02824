"""Running the bot as real OS processes (gunicorn web, ``siang worker``) for tests that kill or race them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A Redis of the test's own (the machine's ``redis-server``, nothing saved to disk) that can be killed and
    started again on the same port: a real restart, connections dropped and every key gone."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 1.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()


def bot_environment(settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_", "REDIS_"))}
    env.update({
        "LINE_CHANNEL_SECRET": settings.line_channel_secret,
        "LINE_CHANNEL_ACCESS_TOKEN": settings.line_channel_access_token,
        "LINE_API_BASE_URL": settings.line_api_base_url,
        "LINE_DATA_API_BASE_URL": settings.line_data_api_base_url,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "test-secret",
        "LOG_LEVEL": "WARNING",
        "JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
        "SWEEP_INTERVAL_SECONDS": str(settings.sweep_interval_seconds),
        "JOB_QUEUE_NAME": settings.job_queue_name,
    })
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


class Process:
    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log = open(log_path, "wb")
        self.popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, as when a machine dies."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_web(env: dict[str, str], log_dir: Path, workers: int = 1) -> tuple[Process, str]:
    port = free_port()
    process = Process([sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf",
                       "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "bot:create_app()"],
                      env, log_dir / f"web-{port}.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return process, url
        except (requests.ConnectionError, requests.Timeout):
            pass
        if process.popen.poll() is not None:
            break
        time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"web process did not start: {(log_dir / f'web-{port}.log').read_text()[-2000:]}")


def start_worker(env: dict[str, str], log_dir: Path, name: str = "worker") -> Process:
    return Process([sys.executable, "-m", "bot.cli", "worker"], env, log_dir / f"{name}.log")
