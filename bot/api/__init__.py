"""Machine interfaces: the Open311 GeoReport v2 open data endpoint and the agency systems' JSON API.

Both authenticate by API key (``storage.models.ApiKey``), never by the console's session, and expose no
personal data: no name, phone, LINE id or exact address ever leaves through them.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from bot.api import agency, open311

    app.register_blueprint(open311.blueprint, url_prefix="/open311/v2")
    app.register_blueprint(agency.blueprint, url_prefix="/api/v1")
