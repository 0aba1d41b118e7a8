"""The command line: --help, migrations, seeding, users and keys, with clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.models import ApiKey

ROOT = Path(__file__).resolve().parents[1]


def test_dakghor_help_lists_the_commands() -> None:
    exe = Path(sys.executable).parent / "dakghor"
    out = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    for cmd in ("db", "seed", "create-user", "set-password", "issue-key"):
        assert cmd in out


def test_db_upgrade_and_current(runner: FlaskCliRunner) -> None:
    up = runner.invoke(args=["db", "upgrade"])
    assert up.exit_code == 0 and "database at" in up.output
    assert runner.invoke(args=["db", "current"]).output.strip()


def test_seed_is_idempotent(runner: FlaskCliRunner) -> None:
    res = runner.invoke(args=["seed", "--demo"])
    assert res.exit_code == 0
    assert "offices added: 0, vans added: 0, demo users added: 0" in res.output


def test_create_user_refuses_bad_input_clearly(runner: FlaskCliRunner) -> None:
    res = runner.invoke(
        args=[
            "create-user",
            "--username",
            "c2",
            "--role",
            "clerk",
            "--office",
            "NOPE",
            "--password",
            "password-123",
        ]
    )
    assert res.exit_code != 0 and "no office with code" in res.output
    res = runner.invoke(
        args=["create-user", "--username", "c2", "--role", "clerk", "--password", "short"]
    )
    assert res.exit_code != 0 and "--password: A password needs at least 8 characters" in res.output
    assert "--office: A clerk must be bound to an office" in res.output  # every problem at once
    assert "Traceback" not in res.output
    ok = runner.invoke(
        args=[
            "create-user",
            "--username",
            "c2",
            "--role",
            "clerk",
            "--office",
            "gul",
            "--password",
            "password-123",
        ]
    )
    assert ok.exit_code == 0, ok.output


def test_issue_key_for_unknown_user(runner: FlaskCliRunner) -> None:
    res = runner.invoke(args=["issue-key", "ghost"])
    assert res.exit_code != 0 and "no user" in res.output


def test_a_postman_is_created_for_a_delivery_office(runner: FlaskCliRunner) -> None:
    args = ["create-user", "--username", "pm", "--role", "courier", "--password", "password-123"]
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0 and "--office: A postman must be bound" in refused.output
    ok = runner.invoke(args=[*args, "--office", "MOH"])
    assert ok.exit_code == 0 and "user pm created" in ok.output, ok.output


def test_a_plan_for_a_day_past_the_calendar_is_refused(runner: FlaskCliRunner) -> None:
    res = runner.invoke(args=["dispatch", "plan", "--date", "0001-01-01"])
    assert res.exit_code != 0 and "from 2000-01-01 to 2099-12-31" in res.output, res.output


def test_a_key_name_too_long_and_an_unknown_revision_are_refused_with_a_message(
    runner: FlaskCliRunner, db: Session
) -> None:
    """Found by trying the commands as a hurried admin would: a long --label was written as it
    came (a database error on PostgreSQL, whose column holds 80 characters), and an unknown
    revision was a traceback."""
    before = db.scalar(select(func.count()).select_from(ApiKey))
    res = runner.invoke(args=["issue-key", "merchant", "--label", "y" * 81])
    assert res.exit_code == 2, res.output
    assert "--label" in res.output and "80" in res.output
    assert db.scalar(select(func.count()).select_from(ApiKey)) == before
    res = runner.invoke(args=["issue-key", "merchant", "--label", "y" * 80])
    assert res.exit_code == 0 and res.output.startswith("dk_")
    res = runner.invoke(args=["db", "upgrade", "nosuchrev"])
    assert res.exit_code == 2 and "nosuchrev" in res.output, res.output
    assert isinstance(res.exception, SystemExit)  # a usage error, not a crash


def test_set_password_for_a_locked_out_admin(runner: FlaskCliRunner, db: Session) -> None:
    """Where no admin can reset a password on the users page (the only admin forgot theirs)."""
    from logistics.models import User

    unknown = runner.invoke(args=["set-password", "--username", "ghost", "--password", "x" * 9])
    assert unknown.exit_code != 0 and "no login 'ghost'" in unknown.output
    short = runner.invoke(args=["set-password", "--username", "admin", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    assert "Traceback" not in short.output
    ok = runner.invoke(args=["set-password", "--username", "admin", "--password", "x" * 9])
    assert ok.exit_code == 0 and "choose their own" in ok.output, ok.output
    db.expire_all()
    admin = db.scalar(select(User).where(User.username == "admin"))
    assert admin is not None and admin.must_change_password
