"""Accounts: users with roles, password checks and API keys (stored only as digests)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from logistics.db import engine_of, utcnow
from logistics.errors import Conflict, Message, NotFound, Unauthorized, ValidationError
from logistics.i18n import Num, _l
from logistics.models import ApiKey, AuditAction, LoginAttempt, Merchant, Office, Role, User
from logistics.rows import columns_of, first_row, loaded_from
from logistics.services import audit


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    full_name: str = "",
    office: Office | None = None,
    merchant: Merchant | None = None,
    must_change_password: bool = False,
) -> User:
    """A new login; with ``must_change_password`` (an admin made it) its owner chooses their own
    password at the first login."""
    errors: dict[str, Message] = {}
    if not username or len(username) > 64:
        errors["username"] = _l("A username of 1 to 64 characters is required.")
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = _l("The username %(name)s is taken.", name=username)
    from logistics.services import passwords

    weak = passwords.problem(password)
    if weak is not None:
        errors["password"] = weak
    if role is Role.CLERK and office is None:
        errors["office"] = _l("A clerk must be bound to an office.")
    if role is Role.COURIER and (office is None or not office.delivers):
        errors["office"] = _l("A postman must be bound to a delivery office.")
    if role is Role.MERCHANT and merchant is None:
        errors["merchant"] = _l("A merchant user must belong to a merchant.")
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        full_name=full_name or username,
        password_hash=generate_password_hash(password),
        role=role,
        office=office,
        merchant=merchant,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, username: str, password: str) -> User:
    user: User | None = session.scalar(select(User).where(User.username == username))
    # Check a hash even for unknown users so the answer takes as long either way.
    hashed = user.password_hash if user else _dummy_hash()
    if not check_password_hash(hashed, password) or user is None or not user.active:
        raise Unauthorized(_l("Wrong username or password."), field="password")
    return user


MAX_KEY_LABEL = 80


def issue_api_key(
    session: Session, user: User, *, by: User | None, label: str = "", key: str | None = None
) -> str:
    """Create a key for ``user`` and return it; only its digest is kept; the audit log gets its
    line, issued ``by`` (None: the command line or the seed). A label longer than the column is
    refused, naming the field (the command line passed it on: a database error on
    PostgreSQL)."""
    if len(label) > MAX_KEY_LABEL:
        raise ValidationError(
            {
                "label": _l(
                    "A key's name may be at most %(limit)s characters.", limit=Num(MAX_KEY_LABEL)
                )
            }
        )
    key = key or "dk_" + secrets.token_urlsafe(32)
    session.add(ApiKey(user=user, prefix=key[:8], digest=_digest(key), label=label))
    audit.record(session, by, AuditAction.KEY_ISSUED, audit.key_subject(key[:8], user))
    session.flush()
    return key


# The key, its user and the user's shop in one query of plain rows (the user is the request's
# caller, and a merchant's booking names its shop: a lazy load of it cost 4.5 % of a booking;
# the ORM's loading of the three objects cost most of the rest), built once on first use.
@lru_cache(maxsize=1)
def _key_and_user() -> Any:
    return (
        select(*columns_of(ApiKey, User, Merchant))
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Merchant, Merchant.id == User.merchant_id)
        .where(ApiKey.digest == bindparam("digest"), ApiKey.revoked_at.is_(None))
    )


def user_for_api_key(session: Session, header: str | None) -> User:
    """The active user behind an ``Authorization: Bearer <key>`` header, or Unauthorized."""
    if not header:
        raise Unauthorized(
            _l("Missing API key: send 'Authorization: Bearer <key>'."), field="Authorization"
        )
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized(
            _l("The Authorization header must be 'Bearer <key>'."), field="Authorization"
        )
    row = first_row(session, _key_and_user(), {"digest": _digest(key.strip())})
    if row is None:
        raise Unauthorized(_l("Unknown or revoked API key."), field="Authorization")
    user: User
    api_key, user, shop = loaded_from(session, row, ApiKey, User, Merchant)
    if not user.active:
        raise Unauthorized(_l("Unknown or revoked API key."), field="Authorization")
    if "merchant" not in user.__dict__:  # the shop comes with the user, as a join would load it
        set_committed_value(user, "merchant", shop)
    _mark_used(session, api_key)
    return user


USED_EVERY_S = 60  # "last used" is kept to the minute: one small write a minute per key


def _mark_used(session: Session, api_key: ApiKey) -> None:
    """Note the key's use on a connection of its own (a GET commits nothing), at most once a
    minute, so the check stays a read."""
    now = utcnow()
    if (
        api_key.last_used_at is not None
        and (now - api_key.last_used_at).total_seconds() < USED_EVERY_S
    ):
        return
    try:
        with engine_of(session).connect() as conn:
            conn.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == api_key.id,
                    or_(
                        ApiKey.last_used_at.is_(None),
                        ApiKey.last_used_at < now - timedelta(seconds=USED_EVERY_S),
                    ),
                )
                .values(last_used_at=now)
            )
            conn.commit()
    except DBAPIError:  # busy: the next request notes it
        return
    set_committed_value(api_key, "last_used_at", now)


def revoke_api_key(session: Session, key: str) -> bool:
    api_key = session.scalar(select(ApiKey).where(ApiKey.digest == _digest(key)))
    if api_key is None:
        return False
    api_key.revoked_at = utcnow()
    session.flush()
    return True


def revoke_key_by_id(session: Session, key_id: int, by: User, owner: User | None = None) -> ApiKey:
    """Revoke a key from the admin pages (``owner`` None) or a merchant's own (its user's),
    with its line in the audit log."""
    api_key = session.get(ApiKey, key_id)
    if api_key is None or (owner is not None and api_key.user_id != owner.id):
        raise NotFound(_l("No such API key."), field="key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    audit.record(
        session, by, AuditAction.KEY_REVOKED, audit.key_subject(api_key.prefix, api_key.user)
    )
    return api_key


def set_active(session: Session, user: User, active: bool, by: User) -> None:
    """Turn a login off (its API keys stop working with it) or on again."""
    if user.id == by.id and not active:
        raise Conflict(_l("You cannot turn off your own login."), field="user")
    user.active = active
    session.flush()


LOGIN_WINDOW_S = 900  # wrong passwords are counted over 15 minutes...
LOGIN_TRIES_PER_ADDRESS = 5  # ...per user name from one address
LOGIN_TRIES_PER_NAME = 20  # ...per user name from anywhere


class TooManyLogins(Unauthorized):
    code = "too_many_logins"
    status = 429

    def __init__(self, message: Message, retry_after_s: int) -> None:
        super().__init__(message, field="username")
        self.retry_after_s = max(1, retry_after_s)


def check_login_throttle(session: Session, username: str, ip: str) -> None:
    """Refuse a try (even with the right password) after too many wrong ones for this name."""
    now = utcnow()
    since = now - timedelta(seconds=LOGIN_WINDOW_S)
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.ok.is_(True)
        )
    )
    if last_ok is not None and last_ok > since:
        since = last_ok
    for where, limit in (
        (LoginAttempt.ip == ip, LOGIN_TRIES_PER_ADDRESS),
        (LoginAttempt.username == username, LOGIN_TRIES_PER_NAME),
    ):
        times = list(
            session.scalars(
                select(LoginAttempt.at)
                .where(
                    LoginAttempt.username == username,
                    where,
                    LoginAttempt.ok.is_(False),
                    LoginAttempt.at > since,
                )
                .order_by(LoginAttempt.at.desc())
                .limit(limit)
            )
        )
        if len(times) >= limit:
            wait = int((times[-1] + timedelta(seconds=LOGIN_WINDOW_S) - now).total_seconds()) + 1
            raise TooManyLogins(
                _l(
                    "Too many wrong passwords for this user; try again in %(min)s minutes.",
                    min=Num(wait // 60 + 1),
                ),
                wait,
            )


def record_login(session: Session, username: str, ip: str, ok: bool) -> None:
    """Keep the try (a day of them: older ones are dropped as new ones come)."""
    session.add(LoginAttempt(username=username[:64], ip=ip[:45], ok=ok))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - timedelta(days=1)))
    session.flush()
