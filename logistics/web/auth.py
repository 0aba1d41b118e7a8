"""Logging in and out of the staff and merchant pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from logistics.errors import Unauthorized, ValidationError
from logistics.i18n import _
from logistics.models import Role
from logistics.services import accounts, passwords
from logistics.web import get_db, local_path, require_role
from logistics.web.homes import home_for

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
        return render_template("auth/login.html", error=None, username="")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    ip = request.remote_addr or "-"
    db = get_db()
    try:
        accounts.check_login_throttle(db, username, ip)
    except accounts.TooManyLogins as e:
        page = render_template("auth/login.html", error=e.message, username=username)
        return page, 429, {"Retry-After": str(e.retry_after_s)}  # type: ignore[return-value]
    try:
        user = accounts.authenticate(db, username, password)
    except Unauthorized as e:
        accounts.record_login(db, username, ip, ok=False)
        db.commit()
        return render_template("auth/login.html", error=e.message, username=username), 401
    accounts.record_login(db, username, ip, ok=True)
    db.commit()
    login_user(user)
    # Only this site's paths: another would make the login page an open redirect.
    return redirect(local_path(request.args.get("next", ""), home_for(user)))


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


# What a login that must choose its password may still open.
WHILE_CHANGING = frozenset({"auth.password", "auth.logout", "public.switch_language", "static"})


@bp.before_app_request
def _password_first() -> Response | None:
    """A login whose password an admin set goes to the password page before any other page."""
    if (
        not request.path.startswith("/api/")  # first: the API has no login to look up
        and request.endpoint not in WHILE_CHANGING
        and current_user.is_authenticated
        and current_user.must_change_password
    ):
        return redirect(url_for("auth.password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(*Role)
def password() -> Response | str | tuple[str, int]:
    """A person changes their own password; their other sessions end."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    db = get_db()
    try:
        passwords.change(
            db,
            current_user,
            current=request.form.get("current_password", ""),
            new=request.form.get("new_password", ""),
            confirm=request.form.get("confirm_password", ""),
            ip=request.remote_addr or "-",
        )
    except accounts.TooManyLogins as e:
        page = render_template("auth/password.html", errors={"current_password": e.message})
        return page, 429, {"Retry-After": str(e.retry_after_s)}  # type: ignore[return-value]
    except ValidationError as e:
        db.commit()  # a wrong current password is counted
        return render_template("auth/password.html", errors=e.errors), 422
    db.commit()
    login_user(current_user._get_current_object())  # this session, with the new password's mark
    flash(_("Your password is changed."))
    return redirect(home_for(current_user))
