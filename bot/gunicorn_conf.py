"""gunicorn settings for ``siang serve`` and the Procfile's web process."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# 8 threads: a webhook request spends most of its time waiting on PostgreSQL and Redis, not holding the
# GIL, and the concurrent requests of one process share one insert (bot.group_commit); docs/performance.md
# measured 4 against 8.
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = 30
keepalive = 5
accesslog = None  # the app logs what matters, without personal data


def post_worker_init(worker):
    """Embedded mode (no REDIS_URL): each web process also runs its worker threads and sweeper."""
    from bot import start_background

    app = worker.wsgi
    app = getattr(app, "__self__", app)
    if hasattr(app, "extensions") and "siang" in app.extensions and app.extensions["siang"].settings.embedded:
        start_background(app)
