"""Admin pages for logins and API keys: who may use DakGhor, and with which key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from logistics.errors import Message, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import ApiKey, AuditAction, Merchant, Office, Role, User
from logistics.services import accounts, audit, passwords
from logistics.text import row_id
from logistics.web import get_db, require_role
from logistics.web.once import pressed_once

bp = Blueprint("staff", __name__, url_prefix="/admin")


def _users_page(
    errors: dict[str, Message] | None = None,
    status: int = 200,
    reset: tuple[User, str] | None = None,
) -> tuple[str, int]:
    db = get_db()
    return render_template(
        "admin/users.html",
        reset=reset,
        users=list(
            db.scalars(
                select(User)
                .options(selectinload(User.office), selectinload(User.merchant))
                .order_by(User.role, User.username)
            )
        ),
        offices=list(db.scalars(select(Office).order_by(Office.code))),
        merchants=list(db.scalars(select(Merchant).order_by(Merchant.name))),
        roles=list(Role),
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
    ), status


@bp.get("/users")
@require_role(Role.ADMIN)
def users() -> tuple[str, int]:
    return _users_page()


def _pick(model: Any, field: str, errors: dict[str, Message], message: Message) -> Any:
    raw = request.form.get(field, "")
    if not raw:
        return None
    key = row_id(raw)
    found = get_db().get(model, key) if key else None
    if found is None:
        errors[field] = message
    return found


@bp.post("/users")
@require_role(Role.ADMIN)
@pressed_once
def create_user() -> ResponseReturnValue:
    errors: dict[str, Message] = {}
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        errors["role"] = _l("Choose a role.")
        role = Role.CLERK
    office = _pick(Office, "office", errors, _l("Choose an office from the list."))
    merchant = _pick(Merchant, "merchant", errors, _l("Choose a merchant from the list."))
    if errors:
        return _users_page(errors, 422)
    db = get_db()
    try:
        accounts.create_user(
            db,
            username=request.form.get("username", "").strip(),
            password=request.form.get("password", ""),
            role=role,
            full_name=request.form.get("full_name", "").strip()[:120],
            office=office if role is Role.CLERK else None,
            merchant=merchant if role is Role.MERCHANT else None,
            must_change_password=True,  # its owner chooses their own at the first login
        )
    except ValidationError as e:
        db.rollback()
        return _users_page(e.errors, 422)
    audit.record(db, current_user, AuditAction.USER_CREATED, request.form["username"].strip())
    db.commit()
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>/active")
@require_role(Role.ADMIN)
def set_active(user_id: int) -> ResponseReturnValue:
    db = get_db()
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."), field="user")
    on = request.form.get("active") == "1"
    accounts.set_active(db, user, on, current_user)
    action = AuditAction.USER_TURNED_ON if on else AuditAction.USER_TURNED_OFF
    audit.record(db, current_user, action, user.username)
    db.commit()
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>/password")
@require_role(Role.ADMIN)
@pressed_once
def reset_password(user_id: int) -> ResponseReturnValue:
    """A forgotten password reset: the temporary one is shown here once, to be given to its
    owner, who chooses their own at the next login; the login's sessions end."""
    db = get_db()
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."), field="user")
    temporary = passwords.reset(db, user, current_user)
    audit.record(db, current_user, AuditAction.PASSWORD_RESET, user.username)
    db.commit()
    return _users_page(reset=(user, temporary))


def _keys_page(new_key: str | None = None, errors: dict[str, Message] | None = None) -> str:
    db = get_db()
    return render_template(
        "admin/keys.html",
        keys=list(
            db.scalars(select(ApiKey).options(selectinload(ApiKey.user)).order_by(ApiKey.id.desc()))
        ),
        merchant_users=list(
            db.scalars(select(User).where(User.role == Role.MERCHANT).order_by(User.username))
        ),
        new_key=new_key,
        errors=errors or {},
    )


@bp.get("/keys")
@require_role(Role.ADMIN)
def keys() -> str:
    return _keys_page()


@bp.post("/keys")
@require_role(Role.ADMIN)
@pressed_once
def issue_key() -> ResponseReturnValue:
    """A new key is shown once, on this answer; only its digest is kept."""
    errors: dict[str, Message] = {}
    user = _pick(User, "user", errors, _l("Choose a merchant login from the list."))
    if user is None or user.role is not Role.MERCHANT:
        errors.setdefault("user", _l("Choose a merchant login from the list."))
        return _keys_page(errors=errors), 422
    db = get_db()
    key = accounts.issue_api_key(
        db, user, by=current_user, label=request.form.get("label", "").strip()[:80]
    )
    db.commit()
    return _keys_page(new_key=key)


@bp.post("/keys/<int:key_id>/revoke")
@require_role(Role.ADMIN)
def revoke_key(key_id: int) -> ResponseReturnValue:
    db = get_db()
    accounts.revoke_key_by_id(db, key_id, current_user)
    db.commit()
    return redirect(url_for("staff.keys"))
