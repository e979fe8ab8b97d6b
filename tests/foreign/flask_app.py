"""A Flask 3.1 app secured the way flask-talisman and Flask-Limiter document it: Talisman's
defaults behind a TLS-terminating proxy (``force_https=False``), "100 per minute" per client
address and per route, "5 per minute" on the login, X-RateLimit headers on. There is no
database; the item API is an in-memory list."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman

PAGE = "<!doctype html><html><head><title>Notes</title></head><body>Notes</body></html>"

app = Flask(__name__)
app.config["SECRET_KEY"] = "flask-foreign-fixture-key"
Talisman(app, force_https=False)
limiter = Limiter(
    get_remote_address,
    app=app,
    default_limits=[os.environ.get("FOREIGN_LIMIT", "100 per minute")],
    headers_enabled=True,
    storage_uri="memory://",
)
items: list[dict[str, object]] = [{"id": 1, "title": "first"}]


@app.get("/")
def home() -> str:
    return PAGE


@app.get("/health")
def health() -> Response:
    return jsonify(status="ok")


@app.get("/api/items")
def list_items() -> Response:
    return jsonify(items=items)


@app.post("/api/login")
@limiter.limit(os.environ.get("FOREIGN_LOGIN_LIMIT", "5 per minute"))
def login() -> tuple[Response, int]:
    return jsonify(detail="invalid credentials"), 401
