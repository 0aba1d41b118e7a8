"""Payment links: what a customer opens to pay a parcel's fee or COD, made only for a sum
still owed (never one already collected or billed to the merchant's account)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.errors import Conflict, NotFound, ValidationError
from logistics.i18n import _l
from logistics.models import ObligationStatus, Parcel, ParcelStatus, PaymentLink, Purpose, User
from logistics.services import obligations
from logistics.services.payments.common import LinkExpired, PaymentSettings


def create_link(
    session: Session,
    parcel: Parcel,
    purpose: Purpose,
    settings: PaymentSettings,
    actor: User | None = None,
) -> PaymentLink:
    """A link for what the parcel still owes; never for a sum already collected or billed to the
    merchant's account."""
    ob = obligations.get(session, parcel.id, purpose)
    if ob.status is ObligationStatus.ON_ACCOUNT:
        raise ValidationError(
            {
                "purpose": _l(
                    "The fee of %(id)s is billed to the merchant's account; it is never asked "
                    "of the customer.",
                    id=parcel.tracking_id,
                )
            }
        )
    if ob.status is ObligationStatus.CANCELLED:
        raise Conflict(
            _l(
                "Nothing is owed on %(id)s any more: it went back to its sender.",
                id=parcel.tracking_id,
            ),
            field="purpose",
        )
    if ob.status is ObligationStatus.COLLECTED:
        raise Conflict(
            _l("The fee of %(id)s is already paid.", id=parcel.tracking_id)
            if purpose is Purpose.FEE
            else _l("The cash on delivery of %(id)s is already paid.", id=parcel.tracking_id),
            field="purpose",
        )
    if purpose is Purpose.FEE and parcel.status is ParcelStatus.BOOKED:
        raise ValidationError(
            {
                "purpose": _l(
                    "The fee is set when the parcel is weighed at the counter; pay it then."
                )
            }
        )
    link = PaymentLink(
        token=secrets.token_urlsafe(24),
        parcel=parcel,
        purpose=purpose,
        amount_poisha=ob.amount_poisha,
        expires_at=utcnow() + timedelta(seconds=settings.link_ttl_s),
        created_by_user_id=actor.id if actor else None,
    )
    session.add(link)
    session.flush()
    return link


def open_link(session: Session, token: str) -> PaymentLink:
    link = session.scalar(select(PaymentLink).where(PaymentLink.token == token))
    if link is None:
        raise NotFound(_l("No such payment link."), field="token")
    if link.paid_at is not None:
        raise Conflict(_l("This payment link has already been paid."), field="token")
    ob = obligations.get(session, link.parcel_id, link.purpose)
    if ob.status is ObligationStatus.COLLECTED:
        raise Conflict(
            _l("This sum has already been paid (by another link or at the counter)."),
            field="token",
        )
    if link.expires_at <= utcnow():
        raise LinkExpired(
            _l(
                "This payment link has expired (links are valid for 30 minutes); ask for a new one."
            ),
            field="token",
        )
    return link
