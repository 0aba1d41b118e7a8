"""What a merchant's portal reads: the dashboard's counts and money, the parcel list with its
filters (the same for the page and for its CSV export), and cancelling a booking.

Money on the dashboard, from the obligations (integer poisha):
- COD to collect: the cash-on-delivery amounts still open on its parcels (what recipients owe);
- COD collected: the amounts collected, in cash or airtime (the COD fee is the post office's);
- charges: postage billed to its account and return fees;
- balance due: collected COD less charges, what the post office owes the merchant before
  payouts (none are recorded yet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from logistics import s10
from logistics.db import utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import _l
from logistics.models import (
    Obligation,
    ObligationStatus,
    Office,
    Parcel,
    ParcelStatus,
    Purpose,
    User,
)
from logistics.services import tracking
from logistics.text import DHAKA, normalize_mobile, parse_day
from logistics.vocabulary import LABELS

PER_PAGE = 50
CSV_LIMIT = 100_000


@dataclass(frozen=True)
class Filter:
    status: ParcelStatus | None = None
    since: date | None = None  # booked on or after (Dhaka days)
    until: date | None = None  # booked on or before
    office: str | None = None  # delivery office code
    cod: bool | None = None
    q: str = ""  # an S10 id, a recipient phone or an order id

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for the export link and the pages)."""
        out = {
            "status": self.status.value if self.status else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "office": self.office or "",
            "cod": "" if self.cod is None else ("yes" if self.cod else "no"),
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}


def _day(raw: str, field: str, errors: dict[str, Any]) -> date | None:
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError:
        errors[field] = _l("Give the date as YYYY-MM-DD.")
        return None


def parse_filter(args: Any) -> Filter:
    """The list's filters from query arguments; every wrong one named."""
    errors: dict[str, Any] = {}
    raw_status = (args.get("status") or "").strip()
    status = None
    if raw_status:
        try:
            status = ParcelStatus(raw_status)
        except ValueError:
            errors["status"] = _l("Choose one of the statuses shown.")
    since = _day((args.get("since") or "").strip(), "since", errors)
    until = _day((args.get("until") or "").strip(), "until", errors)
    if since and until and until < since:
        errors["until"] = _l("The end date is before the start date.")
    raw_cod = (args.get("cod") or "").strip()
    if raw_cod not in ("", "yes", "no"):
        errors["cod"] = _l("Choose with or without cash on delivery.")
    q = (args.get("q") or "").strip()[:64]
    if errors:
        raise ValidationError(errors)
    return Filter(
        status=status,
        since=since,
        until=until,
        office=(args.get("office") or "").strip().upper()[:12] or None,
        cod=None if not raw_cod else raw_cod == "yes",
        q=q,
    )


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=DHAKA)


def query(merchant_id: int, f: Filter) -> Select[Any]:
    stmt = select(Parcel).where(Parcel.merchant_id == merchant_id)
    if f.status is not None:
        stmt = stmt.where(Parcel.status == f.status)
    if f.since is not None:
        stmt = stmt.where(Parcel.created_at >= _start(f.since))
    if f.until is not None:
        stmt = stmt.where(Parcel.created_at < _start(f.until + timedelta(days=1)))
    if f.office:
        stmt = stmt.join(Office, Parcel.destination_office_id == Office.id).where(
            Office.code == f.office
        )
    if f.cod is not None:
        stmt = stmt.where(Parcel.cod_amount_poisha > 0 if f.cod else Parcel.cod_amount_poisha == 0)
    if f.q:
        found = [Parcel.merchant_reference == f.q]
        if s10.is_valid(f.q.upper().replace(" ", "")):
            found.append(Parcel.tracking_id == s10.normalize(f.q.upper().replace(" ", "")))
        phone = normalize_mobile(f.q)
        if phone:
            found.append(Parcel.recipient_phone == phone)
        stmt = stmt.where(or_(*found))
    return stmt


def page(
    session: Session, merchant_id: int, f: Filter, number: int = 1
) -> tuple[list[Parcel], int]:
    """One page of the filtered list (newest first) and how many parcels match in all."""
    stmt = query(merchant_id, f)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        session.scalars(
            stmt.options(selectinload(Parcel.destination_office))
            .order_by(Parcel.id.desc())
            .offset(max(0, number - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    return rows, total


CSV_HEADER = (
    "tracking_id",
    "merchant_reference",
    "status",
    "booked_at",
    "recipient_name",
    "recipient_phone",
    "recipient_post_code",
    "destination_office",
    "weight_g",
    "fee_poisha",
    "cod_amount_poisha",
    "cod_fee_poisha",
    # Last, so that a program reading the columns by position reads them as before: the
    # status as the person who exported it reads it (the code above is for programs).
    "status_text",
)


def csv_lines(session: Session, merchant_id: int, f: Filter) -> Iterator[str]:
    """The filtered list as CSV (UTF-8 with a byte-order mark, for spreadsheets), streamed."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    yield "\ufeff" + buf.getvalue()
    # A thousand at a time by id (no server-side cursor held open while the answer streams).
    last: int | None = None
    sent = 0
    while sent < CSV_LIMIT:
        stmt = query(merchant_id, f).options(selectinload(Parcel.destination_office))
        if last is not None:
            stmt = stmt.where(Parcel.id < last)
        chunk = list(session.scalars(stmt.order_by(Parcel.id.desc()).limit(1000)))
        if not chunk:
            break
        last = chunk[-1].id
        sent += len(chunk)
        yield "".join(_csv_row(w, buf, p) for p in chunk)


def _csv_row(w: Any, buf: io.StringIO, p: Parcel) -> str:
    buf.seek(0)
    buf.truncate()
    w.writerow(
        (
            p.tracking_id,
            _cell(p.merchant_reference or ""),
            p.status.value,
            p.created_at.astimezone(DHAKA).strftime("%Y-%m-%d %H:%M"),
            _cell(p.recipient_name),
            p.recipient_phone,
            p.recipient_post_code,
            p.destination_office.code,
            p.weight_g,
            p.fee_poisha,
            p.cod_amount_poisha,
            p.cod_fee_poisha,
            str(LABELS[p.status]),
        )
    )
    return buf.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet must not run what a customer typed as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def dashboard(session: Session, merchant_id: int, now: datetime | None = None) -> dict[str, Any]:
    now = (now or utcnow()).astimezone(DHAKA)
    today = _start(now.date())
    week = today - timedelta(days=6)  # the last seven days, today among them

    def by_status(since: datetime) -> dict[ParcelStatus, int]:
        rows = session.execute(
            select(Parcel.status, func.count())
            .where(Parcel.merchant_id == merchant_id, Parcel.created_at >= since)
            .group_by(Parcel.status)
        )
        return {s: int(n) for s, n in rows}

    def total(amount: Any, purpose: Purpose, *states: ObligationStatus) -> Any:
        which = and_(Obligation.purpose == purpose, Obligation.status.in_(states))
        return func.coalesce(func.sum(case((which, amount))), 0)

    # One pass over the shop's obligations for the four sums (a query each cost the dashboard
    # 50-170 ms at a year of 150,000 parcels). A COD counts the merchant's part: the amount
    # without the post office's fee.
    cod = Parcel.cod_amount_poisha
    to_collect, collected, fees, returns = session.execute(
        select(
            total(cod, Purpose.COD, ObligationStatus.OPEN, ObligationStatus.HELD),
            total(cod, Purpose.COD, ObligationStatus.COLLECTED),
            total(Obligation.amount_poisha, Purpose.FEE, ObligationStatus.ON_ACCOUNT),
            total(Obligation.amount_poisha, Purpose.RETURN, ObligationStatus.ON_ACCOUNT),
        )
        .select_from(Obligation)
        .join(Parcel, Obligation.parcel_id == Parcel.id)
        .where(Parcel.merchant_id == merchant_id)
    ).one()

    from logistics.services import statements

    return {
        "today": by_status(today),
        "week": by_status(week),
        "cod_to_collect": int(to_collect),
        "cod_collected": int(collected),
        "fees_on_account": int(fees),
        "return_fees": int(returns),
        "balance_due": statements.balance(session, merchant_id),
    }


def cancel(session: Session, parcel: Parcel, user: User, now: datetime | None = None) -> None:
    """Cancel a booking not yet accepted at a counter: nothing is owed on it any more."""
    now = now or utcnow()
    if parcel.merchant_id != user.merchant_id:
        raise Conflict(_l("This parcel is not yours."), field="parcel")
    paid = session.scalar(
        select(Obligation.id).where(
            Obligation.parcel_id == parcel.id,
            Obligation.status.in_([ObligationStatus.COLLECTED, ObligationStatus.HELD]),
        )
    )
    if paid is not None:
        raise Conflict(
            _l(
                "Something was paid on %(id)s already; ask the post office to cancel it.",
                id=parcel.tracking_id,
            ),
            field="parcel",
        )
    # The obligations first, then the parcel (the one lock order); a parcel accepted meanwhile
    # refuses, and the caller's rollback puts the obligations back.
    session.connection().execute(
        update(Obligation)
        .where(
            Obligation.parcel_id == parcel.id,
            Obligation.status.in_([ObligationStatus.OPEN, ObligationStatus.ON_ACCOUNT]),
        )
        .values(status=ObligationStatus.CANCELLED, updated_at=now)
    )
    locked = session.get(Parcel, parcel.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if locked.status is ParcelStatus.CANCELLED:
        raise Conflict(_l("%(id)s is cancelled already.", id=parcel.tracking_id), field="parcel")
    if locked.status is not ParcelStatus.BOOKED:
        raise Conflict(
            _l(
                "%(id)s was accepted at a counter already; it cannot be cancelled.",
                id=parcel.tracking_id,
            ),
            field="parcel",
        )
    tracking.record_event(session, parcel, "CAN", office=parcel.origin_office, actor=user, at=now)
