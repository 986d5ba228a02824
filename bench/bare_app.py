"""The baseline of bench/webhook.py: a Flask endpoint that reads the body and answers 200, nothing else."""

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/callback")
    def callback():
        request.get_data()
        return {}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
