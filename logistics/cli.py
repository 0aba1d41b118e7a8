"""The ``dakghor`` command line's commands (``dakghor --help``): the schema, the network and demo
seed, users and API keys, payments' recovery and the day's van plans."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


def register(app: Flask) -> None:
    """Add the commands to ``app.cli``."""
    from logistics import migrate
    from logistics.services import demo, network

    @app.cli.group("db")
    def db() -> None:
        """Database schema (Alembic migrations)."""

    @db.command("upgrade")
    @click.argument("revision", default="head")
    @with_appcontext
    def db_upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: head)."""
        from alembic.util import CommandError

        try:
            migrate.upgrade(app.config["DATABASE_URL"], revision)
        except CommandError as e:  # an unknown revision, say: the message, not a traceback
            raise click.BadParameter(str(e), param_hint="REVISION") from None
        click.echo(f"database at {migrate.current(app.config['DATABASE_URL'])}")

    @db.command("current")
    @with_appcontext
    def db_current() -> None:
        """Show the applied migration revision."""
        click.echo(migrate.current(app.config["DATABASE_URL"]) or "empty (run: dakghor db upgrade)")

    @app.cli.command("seed")
    @click.option(
        "--demo",
        "with_demo",
        is_flag=True,
        help="Also create the documented demo logins and API key.",
    )
    @click.option(
        "--demo-day",
        "day_parcels",
        type=click.IntRange(0, 10_000),
        default=0,
        help="With --demo: N parcels handed in today at the intake offices, so every screen has "
        "work (only into a database that holds no parcel yet).",
    )
    @with_appcontext
    def seed(with_demo: bool, day_parcels: int) -> None:
        """Load the Dhaka network (offices, vans); with --demo, demo accounts too."""
        from logistics.web import get_db

        if day_parcels and not with_demo:
            raise click.BadParameter(
                "a demo day needs the demo logins: add --demo", param_hint="--demo-day"
            )
        s = get_db()
        counts = network.seed_network(s)
        msg = f"offices added: {counts['offices']}, vans added: {counts['vans']}"
        if with_demo:
            made = demo.seed_demo(s)
            msg += f", demo users added: {made}"
        s.commit()
        if day_parcels:
            msg += f", demo parcels added: {demo.seed_day(s, day_parcels)}"
        click.echo(msg)

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option(
        "--role",
        required=True,
        type=click.Choice(["clerk", "courier", "planner", "merchant", "admin"]),
    )
    @click.option("--office", help="Office code (clerks; a postman's delivery office).")
    @click.option("--merchant", "merchant_id", help="e-CAB member id (merchant users).")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @with_appcontext
    def create_user(
        username: str, role: str, office: str | None, merchant_id: str | None, password: str
    ) -> None:
        """Create a login (the password is prompted, never passed on a shared shell history)."""
        from sqlalchemy import select

        from logistics.errors import DakGhorError
        from logistics.models import AuditAction, Merchant, Office, Role
        from logistics.services import accounts, audit
        from logistics.web import get_db

        s = get_db()
        off = s.scalar(select(Office).where(Office.code == office.upper())) if office else None
        if office and off is None:
            raise click.BadParameter(f"no office with code {office!r}", param_hint="--office")
        mer = (
            s.scalar(select(Merchant).where(Merchant.ecab_member_id == merchant_id))
            if merchant_id
            else None
        )
        if merchant_id and mer is None:
            raise click.BadParameter(f"no merchant {merchant_id!r}", param_hint="--merchant")
        try:
            accounts.create_user(
                s, username=username, password=password, role=Role(role), office=off, merchant=mer
            )
        except DakGhorError as e:  # every problem at once, each with its option
            raise click.ClickException(
                "\n".join(
                    f"--{field}: {message}" for field, message in e.by_field("username").items()
                )
            ) from None
        audit.record(s, None, AuditAction.USER_CREATED, username)
        s.commit()
        click.echo(f"user {username} created")

    @app.cli.command("set-password")
    @click.option("--username", required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option(
        "--must-change/--keep",
        default=True,
        help="Whether its owner must choose their own at the next login (default: must).",
    )
    @with_appcontext
    def set_password(username: str, password: str, must_change: bool) -> None:
        """Set a login's password (prompted): for a forgotten one where no admin can reset it
        on the users page. The login's open sessions end."""
        from sqlalchemy import select

        from logistics.models import AuditAction, User
        from logistics.services import audit, passwords
        from logistics.web import get_db

        s = get_db()
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.BadParameter(f"no login {username!r}", param_hint="--username")
        why = passwords.problem(password)
        if why is not None:
            raise click.BadParameter(str(why), param_hint="--password")
        passwords.set_password(user, password, must_change=must_change)
        audit.record(s, None, AuditAction.PASSWORD_SET, username)
        s.commit()
        click.echo(
            f"password of {username} set"
            + ("; they choose their own at the next login" if must_change else "")
        )

    @app.cli.group("payments")
    def payments_cli() -> None:
        """Airtime payments (carrier billing)."""

    @payments_cli.command("recover")
    @click.option(
        "--older-than", default=30, show_default=True, help="Seconds an attempt must have waited."
    )
    @with_appcontext
    def payments_recover(older_than: int) -> None:
        """Settle every charge left 'charging' or 'pending' by asking its operator."""
        from logistics.services import payments
        from logistics.web import get_db

        counts = payments.recover(get_db(), app.extensions["dakghor.payments"](), older_than)
        click.echo(
            ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to recover"
        )

    @app.cli.group("dispatch")
    def dispatch_cli() -> None:
        """The day's van plans."""

    @dispatch_cli.command("plan")
    @click.option(
        "--date", "day", default="", help="Service date YYYY-MM-DD (default: today in Dhaka)."
    )
    @click.option("--seconds", default=10.0, show_default=True, help="Solver time limit.")
    @click.option(
        "--here",
        is_flag=True,
        help="Plan in this process instead of queueing a job for the worker.",
    )
    @with_appcontext
    def dispatch_plan(day: str, seconds: float, here: bool) -> None:
        """Plan the van day from the parcels waiting at intake offices (a new version)."""
        from datetime import datetime

        from logistics import tasks
        from logistics.errors import DakGhorError
        from logistics.services import dispatch
        from logistics.text import DHAKA, FIRST_DAY, LAST_DAY, parse_day
        from logistics.web import get_db

        try:
            service_date = parse_day(day) if day else datetime.now(DHAKA).date()
        except ValueError:
            raise click.BadParameter(
                f"use YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}", param_hint="--date"
            ) from None
        s = get_db()
        try:
            plan = dispatch.start_plan(s, service_date, None, time_limit_s=seconds)
        except DakGhorError as e:
            raise click.ClickException(
                f"{e.field}: {e.message}" if e.field else str(e.message)
            ) from None
        s.commit()
        if not here:
            tasks.enqueue_plan(plan.id)
            click.echo(f"version {plan.version} of {service_date} queued (plan {plan.id})")
            return
        outcome = dispatch.run_plan(app.extensions["dakghor.sessionmaker"], plan.id)
        s.expire_all()
        click.echo(
            f"version {plan.version} of {service_date}: {outcome}; {plan.parcels_planned} of "
            f"{plan.parcels_waiting} parcels planned, {plan.vans_used} vans, "
            f"{plan.distance_m / 1000:.1f} km, {len(plan.unassigned)} parcels left over"
        )

    @app.cli.command("issue-key")
    @click.argument("username")
    @click.option("--label", default="", help="What the key is for.")
    @with_appcontext
    def issue_key(username: str, label: str) -> None:
        """Issue an API key for USERNAME; it is printed once and stored only as a digest."""
        from sqlalchemy import select

        from logistics.errors import ValidationError
        from logistics.models import User
        from logistics.services import accounts
        from logistics.web import get_db

        s = get_db()
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        try:
            key = accounts.issue_api_key(s, user, by=None, label=label)
        except ValidationError as e:
            raise click.BadParameter(str(e.errors["label"]), param_hint="--label") from None
        s.commit()
        click.echo(key)
