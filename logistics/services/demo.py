"""Demo accounts and a demo day for the embedded set-up only (`dakghor seed --demo
[--demo-day N]`); never for production.

The logins are documented in the README; every password is public, so a production
database must never be seeded with --demo.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import Merchant, Office, Role, User
from logistics.services import accounts

DEMO_MERCHANT_KEY = "demo-merchant-key"

# (username, password, role, office code)
DEMO_USERS: tuple[tuple[str, str, Role, str | None], ...] = (
    ("clerk.gpo", "clerk-demo-1", Role.CLERK, "GPO"),
    ("clerk.mirpur", "clerk-demo-1", Role.CLERK, "MIR"),
    ("clerk.mohammadpur", "clerk-demo-1", Role.CLERK, "MOH"),
    ("courier.mohammadpur", "courier-demo-1", Role.COURIER, "MOH"),
    ("planner", "planner-demo-1", Role.PLANNER, None),
    ("admin", "admin-demo-1", Role.ADMIN, None),
)


def seed_demo(session: Session) -> int:
    """Create the demo merchant, logins and API key that are missing; returns how many users."""
    merchant = session.scalar(select(Merchant).where(Merchant.ecab_member_id == "ECAB-DEMO-001"))
    if merchant is None:
        merchant = Merchant(
            ecab_member_id="ECAB-DEMO-001",
            name="Demo Bazar Ltd",
            phone="+8801711000001",
            address="House 7, Road 2, Dhanmondi, Dhaka-1209",
        )
        session.add(merchant)
        session.flush()
    made = 0
    offices = {o.code: o for o in session.scalars(select(Office))}
    for username, password, role, office in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            accounts.create_user(
                session,
                username=username,
                password=password,
                role=role,
                office=offices[office] if office else None,
            )
            made += 1
    if session.scalar(select(User.id).where(User.username == "merchant")) is None:
        user = accounts.create_user(
            session,
            username="merchant",
            password="merchant-demo-1",
            role=Role.MERCHANT,
            merchant=merchant,
            full_name=merchant.name,
        )
        accounts.issue_api_key(session, user, by=None, label="demo", key=DEMO_MERCHANT_KEY)
        made += 1
    return made


# A demo day's people: names and roads as a Dhaka counter sees them (made up).
_NAMES = (
    "করিম শেখ", "রহিমা খাতুন", "আবদুল হক", "নাসরিন আক্তার", "তানভীর হোসেন", "সুমাইয়া ইসলাম",
    "মাহমুদুল হাসান", "ফারজানা রহমান", "রাকিব উদ্দিন", "শারমিন সুলতানা", "Imran Chowdhury",
    "Nusrat Jahan", "Arif Rahman", "Tasnim Ahmed",
)  # fmt: skip
_ROADS = ("রোড", "লেন", "সড়ক")
_COD_POISHA = (0, 0, 0, 35_000, 45_000, 85_000)


def seed_day(session: Session, parcels: int = 600, seed: int = 1) -> int:
    """A day's intake for the embedded demo, so that every screen has work on it: ``parcels``
    parcels handed in today at the intake offices (a few busy ones take most), for every
    delivery office. Half are the demo merchant's bookings, accepted at the counter at the
    weight booked, one in ten still booked (not yet dropped off); the other half are walk-ins
    paid in cash. Each goes through intake as a clerk's or the merchant's would (S10 id, price,
    obligations, events, the recipient's message). Each intake office gets a demo clerk
    (``clerk.<code>``, the demo clerks' password) where it has none. Nothing is added to a
    database that holds parcels already; returns how many were added. Needs ``seed_demo``."""
    from logistics.models import Parcel
    from logistics.services import intake
    from logistics.text import bangla_digits

    if session.scalar(select(Parcel.id).limit(1)) is not None:
        return 0
    merchant = session.scalar(select(User).where(User.username == "merchant"))
    if merchant is None:
        raise ValueError("the demo logins are missing: seed them first (dakghor seed --demo)")
    offices = list(session.scalars(select(Office).where(Office.active).order_by(Office.code)))
    counters = [o for o in offices if o.is_intake]
    homes = [o for o in offices if o.is_delivery and o.post_code]
    clerks = {o.id: _clerk_of(session, o) for o in counters}
    shop = merchant.merchant
    assert shop is not None
    rng = random.Random(seed)
    busy = [rng.paretovariate(1.2) for _ in counters]
    for k in range(parcels):
        origin = rng.choices(counters, weights=busy)[0]
        dest = rng.choice(homes)
        body: dict[str, object] = {
            "origin_office": origin.code,
            "weight_g": rng.randint(200, 5000),
            "cod_amount_poisha": rng.choice(_COD_POISHA),
            "recipient": {
                "name": rng.choice(_NAMES),
                "phone": _mobile(rng),
                "address": bangla_digits(
                    f"বাড়ি {rng.randint(1, 120)}, {rng.choice(_ROADS)} {rng.randint(1, 30)}, "
                )
                + dest.thana_bn,
                "post_code": dest.post_code,
            },
        }
        clerk = clerks[origin.id]
        if k % 2 == 0:  # the merchant's booking, dropped off at the counter (most of them)
            body["sender"] = {"name": shop.name, "phone": shop.phone, "address": shop.address}
            body["merchant_reference"] = f"DEMO-{k + 1:05d}"
            parcel = intake.create_parcel(session, intake.parse_booking(body), merchant)
            if rng.random() >= 0.1:  # weighed as booked, so at the price booked
                intake.accept_booking(
                    session,
                    parcel,
                    clerk,
                    weight_g=parcel.weight_g,
                    quoted_fee_poisha=parcel.fee_poisha,
                )
        else:  # a walk-in, paid in cash at the counter
            body["sender"] = {
                "name": rng.choice(_NAMES),
                "phone": _mobile(rng),
                "address": bangla_digits(f"বাড়ি {rng.randint(1, 80)}, ") + origin.thana_bn,
            }
            intake.create_parcel(session, intake.parse_booking(body), clerk)
        if k % 100 == 99:
            session.commit()
    session.commit()
    return parcels


def _mobile(rng: random.Random) -> str:
    """A made-up Bangladesh mobile number (01, an operator's digit 3-9, eight digits)."""
    return f"01{rng.choice('3456789')}{rng.randrange(10**8):08d}"


def _clerk_of(session: Session, office: Office) -> User:
    """The office's first clerk, or a demo clerk made for it."""
    clerk = session.scalar(
        select(User).where(User.office_id == office.id, User.role == Role.CLERK).order_by(User.id)
    )
    if clerk is None:
        clerk = accounts.create_user(
            session,
            username=f"clerk.{office.code.lower()}",
            password=DEMO_USERS[0][1],
            role=Role.CLERK,
            office=office,
        )
    return clerk
