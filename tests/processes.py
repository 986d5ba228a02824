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
