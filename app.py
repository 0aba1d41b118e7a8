"""DakGhor's Flask app factory and the entry point of its command line (``dakghor --help``;
the commands are in logistics/cli.py)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import FlaskGroup

ROOT = Path(__file__).resolve().parent


def _secret_key(instance: Path) -> str:
    """DAKGHOR_SECRET_KEY from the environment; else a random key kept in the instance folder."""
    key = os.environ.get("DAKGHOR_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, database, login, CSRF, blueprints, errors, CLI."""
    from flask_login import LoginManager
    from flask_wtf import CSRFProtect

    from logistics import cli, i18n, web, wiring
    from logistics.db import make_engine, make_reader, make_sessionmaker
    from logistics.models import User
    from logistics.web import (
        admin,
        api,
        api_docs,  # noqa: F401 - its routes join api.bp
        api_merchant,  # noqa: F401 - its routes join api.bp
        auth,
        cashup,
        chat,
        counter,
        counter_pickups,
        errors,
        fastlane,
        guard,
        health,
        homes,
        loading,
        merchant,
        merchant_bulk,
        merchant_hooks,
        messages,
        pay,
        payouts,
        planner,
        planner_live,  # noqa: F401 - its routes join planner.bp
        public,
        ratelimit,
        recipient,
        register,
        rounds,
        scanning,
        sms,
        staff,
    )
    from logistics.web.payments_config import settings_from_env

    instance = Path(os.environ.get("DAKGHOR_INSTANCE", ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    db_url = os.environ.get("DAKGHOR_DATABASE_URL") or os.environ.get("DATABASE_URL")
    app.config.update(
        DATABASE_URL=db_url or f"sqlite:///{instance / 'dakghor.sqlite3'}",
        DEMO=os.environ.get("DAKGHOR_DEMO", "0") == "1",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        # Behind HTTPS (production): HSTS, and cookies never sent over plain HTTP.
        HTTPS=os.environ.get("DAKGHOR_HTTPS", "0") == "1",
        # The planner's map tiles; with none reachable the offices and routes still draw.
        MAP_TILES=os.environ.get(
            "DAKGHOR_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        ),
    )
    # Where customers' links point (SMS carry /t/<id> and /p/<token> under it).
    from logistics.services import outbox, sms_text

    app.config["PUBLIC_URL"] = outbox.public_url()
    app.config.update(
        # The API's rate limits per key (per address without one); memory:// counts per
        # process, so production points it at Redis (redis://127.0.0.1:6379/1).
        RATELIMIT_STORAGE_URI=os.environ.get("DAKGHOR_RATELIMIT_STORAGE", "memory://"),
        API_RATE_LIMIT=os.environ.get("DAKGHOR_API_RATE", "600/minute"),
        API_BULK_RATE_LIMIT=os.environ.get("DAKGHOR_API_BULK_RATE", "20/minute"),
    )
    app.config.update(overrides or {})
    # Each API answer checked against its schema on the way out: under tests (and on demand);
    # in production the suite and the contract tests have checked them already.
    app.config.setdefault(
        "API_CHECK_ANSWERS",
        app.config["TESTING"] or os.environ.get("DAKGHOR_API_CHECK_ANSWERS", "0") == "1",
    )

    if len(app.config["PUBLIC_URL"].rstrip("/")) > sms_text.LINK_BASE_MAX:
        raise RuntimeError(
            f"DAKGHOR_PUBLIC_URL is longer than {sms_text.LINK_BASE_MAX} characters: the SMS "
            "budgets are measured with links no longer (use a short host)"
        )
    if app.config["HTTPS"]:
        app.config.update(
            SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https"
        )
    guard.register(app)  # hostile text and deep JSON answered 422 before any view runs
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if "SECRET_KEY" not in (overrides or {}):
        app.config["SECRET_KEY"] = _secret_key(instance)

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["dakghor.engine"] = engine
    app.extensions["dakghor.sessionmaker"] = make_sessionmaker(engine)
    app.extensions["dakghor.reader"] = make_reader(engine)
    app.teardown_appcontext(web.close_db)

    app.session_interface = web.PagesSession()
    login = LoginManager(app)
    login.login_view = "auth.login"
    login.login_message = i18n._l("Please log in to see this page.")

    @login.user_loader
    def _load_user(session_id: str) -> User | None:
        from logistics.services import passwords

        return passwords.user_of_session(web.get_db(), session_id)

    # A phone's photo as proof of delivery and a bulk-booking file may be larger than any
    # other request; set before anything reads the form (the input guard, the CSRF check).
    LARGE_UPLOADS = {
        "rounds.deliver_with_proof": 10 * 1024 * 1024,
        "merchant_bulk.upload": 8 * 1024 * 1024 + 64 * 1024,
    }

    def _large_uploads() -> None:
        from flask import request

        if request.endpoint in LARGE_UPLOADS:
            request.max_content_length = LARGE_UPLOADS[request.endpoint]

    app.before_request_funcs.setdefault(None, []).insert(0, _large_uploads)

    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    csrf.exempt(pay.callback)  # operators sign their callbacks instead

    # Carrier billing drivers, built on first use (tests may inject PAYMENTS).
    cache: dict[str, Any] = {}

    def payment_settings() -> Any:
        if "settings" not in cache:
            settings = app.config.get("PAYMENTS")
            if settings is None:
                from logistics import tasks

                settings = settings_from_env(app.config["DEMO"])
                settings.follow_up = tasks.enqueue_settle  # unknown outcomes: a background job
            cache["settings"] = settings
        return cache["settings"]

    app.extensions["dakghor.payments"] = payment_settings

    wiring.wire_jobs(app)
    wiring.wire_outbox(app)
    app.config["CSP"] = web.content_security_policy(app.config["MAP_TILES"])

    app.url_map.converters["int"] = web.RowId  # before the routes that use <int:…>
    app.register_blueprint(auth.bp)
    app.register_blueprint(counter.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pay.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(homes.bp)
    app.register_blueprint(planner.bp)
    app.register_blueprint(scanning.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(recipient.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(rounds.bp)
    app.register_blueprint(loading.bp)
    app.register_blueprint(merchant_hooks.bp)
    app.register_blueprint(merchant.bp)
    app.register_blueprint(merchant_bulk.bp)
    app.register_blueprint(payouts.bp)
    app.register_blueprint(counter_pickups.bp)
    ratelimit.limit_api(app, api.bp)
    app.register_blueprint(cashup.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(health.bp)
    csrf.exempt(chat.bp)  # the provider signs its webhooks instead
    csrf.exempt(sms.bp)  # the gateway signs its pushes instead
    errors.register(app)
    app.after_request(web.security_headers)
    i18n.init_app(app)
    web.register_template_helpers(app)
    cli.register(app)
    fastlane.install(app)  # last: public tracking's plain case, answered before Flask's hooks
    return app


def _jobs() -> Any:
    """The Celery app of the background jobs, with this factory for its workers."""
    from logistics import tasks

    tasks.app_factory = create_app
    return tasks.celery


celery = _jobs()  # `celery -A app worker -B`; make run starts one per queue (jobs.py)


def main() -> None:
    """Entry point of the ``dakghor`` console script."""
    cli = FlaskGroup(create_app=create_app, help="DakGhor: Bangladesh Post e-commerce parcels.")
    cli.main(args=sys.argv[1:], prog_name="dakghor")


if __name__ == "__main__":
    main()
