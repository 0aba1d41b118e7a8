"""Logging in and out of the staff and merchant pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from logistics.errors import Unauthorized
from logistics.services import accounts
from logistics.web import get_db, local_path
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
