"""Roles see only what is theirs, swept: every page each login reaches from its home (crawled
as in the hostile-input sweep) is asked for again by everyone who should not see it: no login,
every other role, and the owner's twin (a second shop, a clerk and a postman of another
delivery office). A page that names a thing of the owner's (a parcel, a round, an upload, a
token) may answer the twin only with a refusal; a page of another role may answer no one but
its role (or the admin, who sees everything). And each of the owner's forms that changes one
thing (cancel a booking, revoke a key, book an upload, deliver a stop, return a parcel,
re-plan a version) is sent by the twin and by no login with the page's own values: no row of
any table may change."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import Base
from logistics.models import Office, Role
from logistics.services import accounts
from tests.conftest import login, second_shop
from tests.crawl import Form, Sweep
from tests.logistics.test_sweep import COUNTED_ANYWAY, PASSWORDS, _busy_day, logged_in

TWIN_PASSWORD = "twin-login-1"
# Open to anyone by design: the public pages, and those a link in a message opens (each holds
# a token that is the key itself).
PUBLIC = re.compile(r"^/($|track|t/|pay/|p/|r/|lang/|api/docs|register|login|static/)")
# Each login's own page at one address (its password): asked by no login only.
EVERY_LOGIN = re.compile(r"^/account/")
# A path that names one thing: a number, a tracking number or a token.
NAMED = re.compile(r"/(\d+|[A-Z]{2}\d{9}[A-Z]{2}|[A-Za-z0-9_-]{20,})(/|$)")


class _Recorder:
    """The crawl's client, remembering each page that answered 200."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.seen: list[str] = []

    def get(self, path: str, **kw: object) -> object:
        r = self.client.get(path, **kw)  # type: ignore[attr-defined]
        if r.status_code == 200 and not r.history:
            self.seen.append(path)
        return r


def _twins(db: Session) -> dict[str, str]:
    """The owner's twin for each login with things of its own: who asks for them again (the
    clerk and the postman of a delivery office that is no counter: any counter may see a
    parcel still booked, which may be handed in at any of them)."""
    second_shop(db, "twin.shop", TWIN_PASSWORD)
    other = db.scalar(
        select(Office)
        .where(Office.is_delivery, Office.active, ~Office.is_intake, Office.code != "MOH")
        .order_by(Office.code)
    )
    assert other is not None
    accounts.create_user(
        db, username="twin.clerk", password=TWIN_PASSWORD, role=Role.CLERK, office=other
    )
    accounts.create_user(
        db, username="twin.courier", password=TWIN_PASSWORD, role=Role.COURIER, office=other
    )
    db.commit()
    return {
        "merchant": "twin.shop",
        "clerk.mohammadpur": "twin.clerk",
        "clerk.gpo": "twin.clerk",
        "courier.mohammadpur": "twin.courier",
    }


@pytest.mark.slow
@pytest.mark.usefixtures("waiting")
def test_no_login_sees_what_is_not_its_own(pay_app: Flask, db: Session) -> None:
    starts = _busy_day(pay_app, db)
    twins = _twins(db)
    tables = [t for t in Base.metadata.sorted_tables if t.name not in COUNTED_ANYWAY]

    def everything() -> list[list[tuple[object, ...]]]:
        """Every row of every table: a refused form changes none."""
        db.rollback()
        return [[tuple(r) for r in db.execute(select(t).order_by(*t.primary_key))] for t in tables]

    owners = [r for r in PASSWORDS if r != "admin"]
    pages: dict[str, list[str]] = {}
    forms: dict[str, list[Form]] = {}
    for role in owners:
        recorder = _Recorder(logged_in(pay_app, role))
        found = Sweep(recorder, rows=lambda: None).crawl(starts.get(role, ["/"]))  # type: ignore[arg-type]
        forms[role] = [
            f
            for f in found
            if f.method == "post" and NAMED.search(f.action) and not PUBLIC.match(f.action)
        ]
        pages[role] = [p for p in recorder.seen if not PUBLIC.match(urlsplit(p).path)]

    askers = [None, *owners, *sorted(set(twins.values()))]
    problems: list[str] = []
    asked = 0
    for asker in askers:
        client = pay_app.test_client()
        if asker:
            login(client, asker, TWIN_PASSWORD if asker.startswith("twin.") else PASSWORDS[asker])
        for owner, paths in pages.items():
            twin = twins.get(owner) == asker
            if asker == owner or (not twin and _kind(asker) == _kind(owner)):
                continue  # itself, or two logins of one kind (the demo's two clerks)
            for path in paths:
                if any({asker, owner} <= team and path.startswith(p) for team, p in SHARED):
                    continue
                if asker is not None and EVERY_LOGIN.match(urlsplit(path).path):
                    continue
                if twin and not NAMED.search(urlsplit(path).path):
                    continue  # the twin's own page at the same address (its dashboard, say)
                asked += 1
                r = client.get(path)
                if r.status_code == 200:
                    problems.append(f"{asker or 'no login'} sees {owner}'s {path}")
            if not (twin or asker is None):
                continue
            for f in forms[owner]:  # its forms that change one thing, sent as its page has them
                before = everything()
                asked += 1
                client.post(f.action, data=f.page_values())
                if everything() != before:
                    problems.append(f"{asker or 'no login'} changed {owner}'s {f.action}")
    assert asked > 150, asked  # the sweep reached the product
    assert not problems, "\n".join(problems)


# Shared by design: a delivery office's clerk and its postman share its rounds; a van's
# manifest is the planner's and the clerks' of the offices it stops at (GPO and Mohammadpur).
SHARED = [
    ({"clerk.mohammadpur", "courier.mohammadpur"}, "/rounds/"),
    ({"planner", "clerk.gpo", "clerk.mohammadpur"}, "/dispatch/manifests/"),
]
KINDS = {"merchant": "shop", "twin.shop": "shop", "planner": "planner"}
KINDS |= {"courier.mohammadpur": "courier", "twin.courier": "courier"}


def _kind(login_name: str | None) -> str:
    return KINDS.get(login_name, "clerk") if login_name else "nobody"
