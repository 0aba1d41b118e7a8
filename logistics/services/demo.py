"""Demo accounts for the embedded set-up only (`dakghor seed --demo`); never for production.

The logins are documented in the README; every password is public, so a production
database must never be seeded with --demo.
"""

from __future__ import annotations

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
        accounts.issue_api_key(session, user, label="demo", key=DEMO_MERCHANT_KEY)
        made += 1
    return made
