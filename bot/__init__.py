"""Siang (เสียง): the LINE chatbot through which Thai citizens reach their government.

``create_app()`` is the only place where parts are wired together (Flask's application factory): no module
builds an app, opens a connection or starts a thread at import time.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from bot.config import Settings
from bot.services import EXTENSION, Services, app_services


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app (and, in embedded mode, its in-process worker, started by ``start_background``)."""
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    if settings is None:
        settings = Settings.from_env(instance_path=app.instance_path)
    from bot import logs

    logs.configure(settings.log_level)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)

    from bot.delivery.runtime import make_runtime
    from bot.floodwindow import make_flood_window
    from bot.flows.state import DatabaseFlowStore
    from bot.jobs import InProcessQueue, RedisQueue
    from bot.line import make_line_clients
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    jobs = InProcessQueue(settings.embedded_worker_threads) if settings.embedded else RedisQueue(
        settings.redis_url, settings.job_queue_name)
    redis = getattr(jobs, "connection", None)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),  # Services hooks its after-commit queue onto it
        line=make_line_clients(settings.line_channel_access_token, settings.line_api_base_url,
                               settings.line_data_api_base_url, settings.line_timeout_seconds),
        jobs=jobs,
        flows=DatabaseFlowStore(),
        flood=make_flood_window(redis),
        delivery=make_runtime(settings, redis),
        redis=redis,
    )
    app.extensions[EXTENSION] = services

    from bot import console, media, webhook
    from bot.announcements import views as announcement_views

    app.register_blueprint(webhook.blueprint)
    app.session_interface = webhook.SessionInterface()
    app.register_blueprint(media.blueprint)
    console.register(app)
    app.register_blueprint(announcement_views.blueprint)

    from storage.cli import db  # `flask --app bot db upgrade`; bot.cli (every command group) stays unloaded

    app.cli.add_command(db)
    # POST /callback without Flask's request machinery (bot.webhook.CallbackApp); outermost, after ProxyFix,
    # which the webhook does not need (it reads no client address).
    app.wsgi_app = webhook.CallbackApp(app, app.wsgi_app)
    return app


def start_background(app: Flask) -> None:
    """Embedded mode: run the worker threads and the sweeper inside this process."""
    from bot import sweeper

    services = app_services(app)
    if services.settings.embedded:
        services.jobs.start(app)
    sweeper.start(app)


def stop_background(app: Flask) -> None:
    from bot import sweeper

    services = app_services(app)
    sweeper.stop(app)
    services.jobs.stop()
    services.line.close()
    services.engine.dispose()
    logging.getLogger(__name__).info("background stopped")
