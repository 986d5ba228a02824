"""The staff console: server-rendered pages where agency staff work their cases, administrators manage the
catalogue and accounts, and executives read the dashboard. ``register(app)`` is the one call ``create_app``
makes; it also mounts the open data and agency APIs (``bot.api``).

CSRF is checked on every state-changing request under ``/console`` (other areas may mount pages there and get
the same protection); the webhook and the APIs, which authenticate by signature or key, are left alone.
Console pages may not be framed (clickjacking) and no response is content-sniffed; the session cookie is
HttpOnly, SameSite=Lax, Secure in production (``Settings.secure_cookies``) and lives as long as a session may.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, request, send_from_directory
from flask_wtf.csrf import CSRFProtect

CONSOLE_PREFIX = "/console"


def register(app: Flask) -> None:
    from bot.api import register as register_api
    from bot.console import admin, auth, cases, community, dashboard, groups, integrations, responses, work_views
    from bot.console.templating import install_template_helpers
    from bot.services import app_services

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.setdefault("CONSOLE_IDLE_SECONDS", 30 * 60)
    app.config.setdefault("CONSOLE_SESSION_MAX_SECONDS", 12 * 3600)
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=app_services(app).settings.secure_cookies,
                      PERMANENT_SESSION_LIFETIME=timedelta(seconds=app.config["CONSOLE_SESSION_MAX_SECONDS"]))
    csrf = CSRFProtect(app)

    @app.before_request
    def _console_csrf():
        if request.path.startswith(CONSOLE_PREFIX) and request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()

    from bot.console.params import refuse_odd_parameters

    app.before_request(refuse_odd_parameters)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith(CONSOLE_PREFIX):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    for module in (auth, cases, dashboard, admin, community, groups, integrations, responses, work_views):
        app.register_blueprint(module.blueprint, url_prefix=CONSOLE_PREFIX)
    install_template_helpers(app)

    @app.get(f"{CONSOLE_PREFIX}/fonts/NotoSansThai.ttf")
    def console_font():
        # Headless browsers and many phones have no Thai system font: ship the one installed with Siang.
        import fontpkg_noto_sans_thai

        response = send_from_directory(fontpkg_noto_sans_thai.ROOT / "files", "NotoSansThai[wdth,wght].ttf",
                                       mimetype="font/ttf", max_age=7 * 86400)
        return response

    register_api(app)
