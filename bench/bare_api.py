"""The bare endpoints the API's benchmark compares against (bench/bench_api.py): Flask with
nothing of DakGhor's, served by the same gunicorn settings. ``POST /bare/parcels`` parses the
same JSON body as a booking and answers 201 with a small JSON; ``GET /bare/track/<id>``
answers a small JSON. What the API costs beyond these is DakGhor's own work."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/bare/parcels")
    def book() -> Any:
        body = request.get_json()
        return jsonify({"ok": True, "weight_g": body["weight_g"]}), 201

    @app.get("/bare/track/<tracking_id>")
    def track(tracking_id: str) -> Any:
        return jsonify({"tracking_id": tracking_id, "status": "booked", "events": []})

    return app
