"""Where each role lands after logging in, and the home pages of the roles that have no
workbench elsewhere: a delivery office's incoming parcels, a merchant's parcels and API keys.
(The planner's workbench is logistics/web/planner.py.)"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from logistics.errors import Forbidden, ValidationError
from logistics.i18n import _, _l
from logistics.models import (
    ApiKey,
    Office,
    Parcel,
    ParcelStatus,
    Role,
    User,
)
from logistics.services import accounts
from logistics.vocabulary import RETURN_REASONS, VEHICLE_NAMES
from logistics.web import area_label, get_db, requested_day, require_role
from logistics.web.once import pressed_once

bp = Blueprint("homes", __name__)

# A delivery office's work: what is coming, what is here, what is out with a postman.
INCOMING = (ParcelStatus.ACCEPTED, ParcelStatus.IN_TRANSIT)
AT_OFFICE = (ParcelStatus.AT_DELIVERY_OFFICE, ParcelStatus.DELIVERY_FAILED)


def is_intake_clerk(user: User) -> bool:
    return user.role is Role.CLERK and user.office is not None and user.office.takes_parcels


def is_delivery_clerk(user: User) -> bool:
    return user.role is Role.CLERK and user.office is not None and user.office.delivers


def home_for(user: User) -> str:
    """Each role's workbench: intake clerks the counter, delivery clerks their office, planners
    dispatch, merchants their portal, admins the admin home."""
    if user.role is Role.ADMIN:
        return url_for("admin.home")
    if user.role is Role.PLANNER:
        return url_for("planner.board")
    if user.role is Role.MERCHANT:
        return url_for("homes.merchant")
    if user.role is Role.COURIER:
        return url_for("rounds.mine")
    if is_intake_clerk(user):
        return url_for("counter.new_parcel")
    return url_for("homes.office")


def nav_links(user: User) -> list[tuple[str, str]]:
    """The header's links for a logged-in user: their workbench and what belongs with it."""
    if user.role is Role.ADMIN:
        return [("admin.home", _("Administration")), ("admin.reconcile_form", _("Reconciliation"))]
    if user.role is Role.PLANNER:
        return [("planner.board", _("Dispatch"))]
    if user.role is Role.MERCHANT:
        return [
            ("homes.merchant", _("My parcels")),
            ("merchant_bulk.home", _("Bulk booking")),
            ("merchant.statement_page", _("Statement")),
            ("merchant.pickup_page", _("Pickups")),
            ("merchant_hooks.page", _("Webhooks")),
        ]
    if user.role is Role.COURIER:
        return [("rounds.mine", _("My round"))]
    links = []
    if is_intake_clerk(user):
        links.append(("counter.new_parcel", _("Counter")))
    if is_delivery_clerk(user) or not links:
        links.append(("homes.office", _("My office")))
    if user.office_id is not None:
        links.append(("scanning.index", _("Vans")))
    return links


@bp.get("/home")
def home() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.get("/office")
@require_role(Role.CLERK)
def office() -> tuple[str, int]:
    """A delivery office's parcels: on the way here, at the office, out for delivery, held."""
    return office_page()


def office_page(errors: dict[int, Any] | None = None, status: int = 200) -> tuple[str, int]:
    """The office's page; ``errors`` by parcel id (a collection that went wrong)."""
    office = current_user.office
    if current_user.role is not Role.CLERK or office is None:
        raise Forbidden(_l("This page is for the clerks of a delivery office."))
    rows = list(
        get_db().scalars(
            select(Parcel)
            .where(
                Parcel.destination_office_id == office.id,
                Parcel.status.in_(
                    (
                        *INCOMING,
                        *AT_OFFICE,
                        ParcelStatus.OUT_FOR_DELIVERY,
                        ParcelStatus.HELD,
                        ParcelStatus.RETURNING,
                    )
                ),
            )
            .options(selectinload(Parcel.origin_office))
            .order_by(Parcel.id)
            .limit(500)
        )
    )
    from logistics.services import cod, holds, liveness, round_plans, round_scans, rounds
    from logistics.services.recipient import WINDOWS

    db = get_db()
    latest = round_plans.latest(db, office.id, requested_day())
    if latest is not None and liveness.give_up_if_dead(db, latest):
        db.commit()  # its job died: shown failed, not planning for ever
    loading = round_scans.loading(db, office.id)
    on_round = {s.parcel_id for r in loading for s in r.stops}
    groups = {
        "incoming": [p for p in rows if p.status in INCOMING and not p.returning_since],
        # Waiting here, by area (those without one by post code, after them).
        "here": sorted(
            (p for p in rows if p.status in AT_OFFICE and p.id not in on_round),
            key=lambda p: (
                p.recipient_area is None,
                area_label(p.recipient_area),
                p.recipient_post_code,
                p.id,
            ),
        ),
        "out": [p for p in rows if p.status is ParcelStatus.OUT_FOR_DELIVERY],
        "held": [p for p in rows if p.status is ParcelStatus.HELD],
        "returning": [p for p in rows if p.status is ParcelStatus.RETURNING],
    }
    couriers = rounds.couriers_of(db, office.id) if office.delivers else []
    return render_template(
        "homes/office.html",
        office=office,
        groups=groups,
        couriers=couriers,
        courier_names={c.id: c.full_name for c in couriers},
        windows=WINDOWS,
        holds={p.id: holds.of_parcel(db, p.id) for p in groups["held"]},
        out_rounds=rounds.of_office(db, office.id),
        closed_rounds=rounds.closed_today(db, office.id),
        loading=loading,
        return_reasons=RETURN_REASONS,
        plan=latest,
        planned=round_plans.by_courier(latest) if latest else {},
        map_routes=(
            round_plans.map_routes(latest, office, {c.id: c.full_name for c in couriers})
            if latest is not None and latest.status.value == "done"
            else []
        ),
        tiles=current_app.config["MAP_TILES"],
        vehicles=VEHICLE_NAMES,
        capacities=rounds.VEHICLES,
        dues={p.id: cod.due(db, p.id) for p in groups["held"]},
        errors=errors or {},
    ), status


def _merchant_page(new_key: str | None = None) -> tuple[str, int]:
    """A merchant's dashboard, its parcels (filtered, searched, a page at a time) and its API
    keys; a key just issued is shown once."""
    from logistics.services import merchant_portal

    if current_user.merchant_id is None:
        raise Forbidden(_l("This page is for merchant logins."))
    db = get_db()
    mid = int(current_user.merchant_id)
    errors: dict[str, Any] = {}
    try:
        f = merchant_portal.parse_filter(request.args)
    except ValidationError as e:
        errors, f = dict(e.errors), merchant_portal.Filter()
    try:
        number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        number = 1
    parcels, total = merchant_portal.page(db, mid, f, number)
    keys = list(
        db.scalars(select(ApiKey).where(ApiKey.user_id == current_user.id).order_by(ApiKey.id))
    )
    offices = list(
        db.scalars(select(Office).where(Office.is_delivery, Office.active).order_by(Office.code))
    )
    return render_template(
        "homes/merchant.html",
        parcels=parcels,
        total=total,
        page=number,
        pages=max(1, -(-total // merchant_portal.PER_PAGE)),
        filter=f,
        args=f.args(),
        board=merchant_portal.dashboard(db, mid),
        keys=keys,
        statuses=list(ParcelStatus),
        offices=offices,
        new_key=new_key,
        errors=errors,
    ), (422 if errors else 200)


@bp.get("/merchant")
@require_role(Role.MERCHANT)
def merchant() -> tuple[str, int]:
    return _merchant_page()


@bp.post("/merchant/keys")
@require_role(Role.MERCHANT)
@pressed_once
def merchant_new_key() -> tuple[str, int]:
    db = get_db()
    key = accounts.issue_api_key(
        db, current_user, by=current_user, label=request.form.get("label", "").strip()[:80]
    )
    db.commit()
    return _merchant_page(new_key=key)


@bp.post("/merchant/keys/<int:key_id>/revoke")
@require_role(Role.MERCHANT)
def merchant_revoke_key(key_id: int) -> ResponseReturnValue:
    db = get_db()
    accounts.revoke_key_by_id(db, key_id, current_user, owner=current_user)
    db.commit()
    return redirect(url_for("homes.merchant"))
