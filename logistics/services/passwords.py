"""Passwords: a person changes their own (saying the current one first), and an admin resets a
forgotten one to a temporary password, shown once, that its owner must replace at the next
login. Either way every other session of that login ends: a session keeps a mark of the
password it was opened with (``User.get_id``), and one whose mark no longer matches is logged
out (``user_of_session``). A wrong current password counts as a wrong login (the same limits).
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from logistics.errors import Conflict, Message, ValidationError
from logistics.i18n import Num, _l
from logistics.models import AuditAction, User
from logistics.models.user import session_mark
from logistics.services import accounts, audit

MIN_LENGTH = 8
MAX_LENGTH = 128  # hashing a longer one is work an attacker could ask for


def problem(password: str) -> Message | None:
    """Why ``password`` cannot be a password, or None."""
    if len(password) < MIN_LENGTH:
        return _l("A password needs at least 8 characters.")
    if len(password) > MAX_LENGTH:
        return _l("A password may have at most %(n)s characters.", n=Num(MAX_LENGTH))
    return None


def set_password(user: User, password: str, *, must_change: bool = False) -> None:
    """Give ``user`` this password (already checked by ``problem``)."""
    user.password_hash = generate_password_hash(password)
    user.must_change_password = must_change


def change(session: Session, user: User, *, current: str, new: str, confirm: str, ip: str) -> None:
    """``user`` changes their own password. The caller commits, also when this refuses: a
    wrong current password is recorded as a wrong login."""
    accounts.check_login_throttle(session, user.username, ip)
    if not check_password_hash(user.password_hash, current):
        accounts.record_login(session, user.username, ip, ok=False)
        raise ValidationError({"current_password": _l("This is not your current password.")})
    errors: dict[str, Message] = {}
    why = problem(new)
    if why is not None:
        errors["new_password"] = why
    elif new == current:
        errors["new_password"] = _l("Choose a password other than the current one.")
    elif confirm != new:
        errors["confirm_password"] = _l("The two new passwords differ; type the same twice.")
    if errors:
        raise ValidationError(errors)
    set_password(user, new)
    audit.record(session, user, AuditAction.PASSWORD_CHANGED, user.username)
    session.flush()


def reset(session: Session, user: User, by: User) -> str:
    """An admin resets ``user``'s password: the temporary password (to be given to its owner,
    who must change it at the next login). Every session of ``user`` ends."""
    if user.id == by.id:
        raise Conflict(_l("Change your own password on its page."), field="user")
    temporary = secrets.token_urlsafe(9)  # 12 characters
    set_password(user, temporary, must_change=True)
    session.flush()
    return temporary


def user_of_session(session: Session, session_id: str) -> User | None:
    """The login a session belongs to (flask-login's user loader), or None when the session
    was opened with a password that has changed since (or is of the older form, an id alone)."""
    raw_id, _, mark = session_id.partition(":")
    if not raw_id.isdigit() or not mark:
        return None
    user = session.get(User, int(raw_id))
    if user is None or session_mark(user.password_hash) != mark:
        return None
    return user
