"""Passwords (services/passwords.py): a person changes their own, an admin resets a forgotten
one to a temporary password shown once, a login made or reset by an admin chooses its own
before any page, and a changed password ends the login's other sessions."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import LoginAttempt, User
from tests.conftest import login

CLERK, OLD, NEW = "clerk.gpo", "clerk-demo-1", "a-new-pass-42"


def _change(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> object:
    return client.post(
        "/account/password?lang=en",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_a_person_changes_their_password_and_their_other_sessions_end(
    app: Flask, db: Session
) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here, CLERK, OLD)
    login(elsewhere, CLERK, OLD)  # the same clerk on another browser
    assert elsewhere.get("/counter").status_code == 200
    assert 'id="password-link"' in here.get("/counter").text
    page = here.get("/account/password?lang=en")
    assert page.status_code == 200 and 'name="current_password"' in page.text

    for current, new, confirm, field in (
        ("wrong-one", NEW, None, "current_password"),
        (OLD, "short", None, "new_password"),
        (OLD, "x" * 129, None, "new_password"),
        (OLD, OLD, None, "new_password"),
        (OLD, NEW, "a-new-pass-43", "confirm_password"),
    ):
        refused = _change(here, current, new, confirm)
        assert refused.status_code == 422, field  # type: ignore[attr-defined]
        assert f'id="{field}-error"' in refused.text, field  # type: ignore[attr-defined]
    done = _change(here, OLD, NEW)
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert here.get("/counter").status_code == 200  # this session goes on
    gone = elsewhere.get("/counter")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]  # the other ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": CLERK, "password": OLD}).status_code == 401
    login(fresh, CLERK, NEW)
    assert fresh.get("/counter").status_code == 200


def test_wrong_current_passwords_count_as_wrong_logins(client: FlaskClient, db: Session) -> None:
    """Someone at an unlocked screen cannot guess the password on this page either."""
    login(client, CLERK, OLD)
    codes = [_change(client, f"guess-{k}", NEW).status_code for k in range(6)]  # type: ignore[attr-defined]
    assert codes[:5] == [422] * 5 and codes[5] == 429, codes
    assert _change(client, OLD, NEW).status_code == 429  # type: ignore[attr-defined]
    wrong = db.scalars(select(LoginAttempt).where(LoginAttempt.username == CLERK)).all()
    assert len([a for a in wrong if not a.ok]) == 5


def test_an_admin_resets_a_forgotten_password_which_its_owner_then_replaces(
    app: Flask, db: Session
) -> None:
    clerk, admin = app.test_client(), app.test_client()
    login(clerk, CLERK, OLD)
    login(admin, "admin", "admin-demo-1")
    target = db.scalar(select(User).where(User.username == CLERK))
    me = db.scalar(select(User).where(User.username == "admin"))
    assert target is not None and me is not None
    users = admin.get("/admin/users?lang=en").text
    token = re.search(
        rf'action="/admin/users/{target.id}/password".*?name="once" value="([^"]+)"', users, re.S
    )
    assert token is not None
    assert f"/admin/users/{me.id}/password" not in users  # an admin changes their own on its page
    reset = admin.post(f"/admin/users/{target.id}/password?lang=en", data={"once": token.group(1)})
    assert reset.status_code == 200
    temporary = re.search(r'<code id="temporary"><bdi>([^<]+)</bdi></code>', reset.text)
    assert temporary is not None and len(temporary.group(1)) >= 12
    # Pressed twice: one reset, the temporary password not shown again.
    again = admin.post(f"/admin/users/{target.id}/password", data={"once": token.group(1)})
    assert again.status_code in (302, 303) and temporary.group(1) not in again.text
    assert admin.post(f"/admin/users/{me.id}/password").status_code == 409

    gone = clerk.get("/counter")  # the clerk's open session ended with the reset
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": CLERK, "password": OLD}).status_code == 401
    login(fresh, CLERK, temporary.group(1))
    for path in ("/counter", "/", "/office/cashup"):  # every page waits for a password
        r = fresh.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    assert "must-change" in fresh.get("/account/password").text
    assert _change(fresh, temporary.group(1), NEW).status_code == 302  # type: ignore[attr-defined]
    assert fresh.get("/counter").status_code == 200


def test_a_login_an_admin_makes_chooses_its_own_password_first(
    client: FlaskClient, db: Session
) -> None:
    login(client, "admin", "admin-demo-1")
    made = client.post(
        "/admin/users",
        data={"username": "planner2", "full_name": "P", "password": "given-by-admin",
              "role": "planner"},
    )  # fmt: skip
    assert made.status_code == 302
    client.post("/logout")
    login(client, "planner2", "given-by-admin")
    r = client.get("/dispatch")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    assert _change(client, "given-by-admin", NEW).status_code == 302  # type: ignore[attr-defined]
    assert client.get("/dispatch").status_code == 200


def test_only_an_admin_resets_and_only_a_logged_in_person_changes(
    client: FlaskClient, db: Session
) -> None:
    target = db.scalar(select(User).where(User.username == "planner"))
    assert target is not None
    anonymous = client.get("/account/password")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.post(f"/admin/users/{target.id}/password").status_code in (302, 401)
    login(client, CLERK, OLD)
    assert client.post(f"/admin/users/{target.id}/password").status_code == 403
    db.refresh(target)
    assert not target.must_change_password
