"""Rounds at a delivery office: the clerk sends parcels out with a courier; the courier, on a
phone, records each parcel's outcome at the door."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.documents import round_sheets
from logistics.errors import DakGhorError, Forbidden, NotFound, ValidationError
from logistics.i18n import _, _l
from logistics.models import (
    DeliveryProof,
    DeliveryRound,
    Parcel,
    Purpose,
    Role,
    RoundParcel,
    RoundPlan,
    RoundPlanStatus,
)
from logistics.services import cod, holds, liveness, payments, proofs, returns, round_plans, rounds
from logistics.vocabulary import DELIVERY_FAILURES
from logistics.web import get_db, require_role
from logistics.web.homes import is_delivery_clerk, office_page
from logistics.web.once import pressed_once

bp = Blueprint("rounds", __name__)


@bp.post("/office/rounds")
@require_role(Role.CLERK)
@pressed_once
def send_out() -> ResponseReturnValue:
    _delivery_clerk()
    db = get_db()
    rnd = rounds.send_out(
        db,
        current_user.office,
        request.form.get("courier", ""),
        request.form.getlist("parcel"),
        request.form.get("window", ""),
        current_user,
    )
    db.commit()
    return _made(rnd)


def _made(rnd: DeliveryRound) -> ResponseReturnValue:
    flash(
        _(
            "A round of %(n)s parcels for %(name)s: print its sheet and scan each parcel into "
            "the bag.",
            n=len(rnd.stops),
            name=rnd.courier.full_name,
        )
    )
    return redirect(url_for("loading.page", round_id=rnd.id))


def _delivery_clerk() -> None:
    if not is_delivery_clerk(current_user):
        raise Forbidden(_l("This page is for the clerks of a delivery office."))


def _parcel_here(db: Session, parcel_id: int) -> Parcel:
    parcel = db.get(Parcel, parcel_id)
    if parcel is None or parcel.destination_office_id != current_user.office_id:
        raise NotFound(_l("No parcel is waiting here under that number."), field="parcel")
    return parcel


@bp.post("/office/parcels/<int:parcel_id>/hold")
@require_role(Role.CLERK)
def hold(parcel_id: int) -> ResponseReturnValue:
    """Keep a parcel at the office for collection (the recipient is told the code)."""
    _delivery_clerk()
    db = get_db()
    parcel = _parcel_here(db, parcel_id)
    holds.hold(db, parcel, current_user)
    db.commit()
    flash(_("%(id)s is held for collection; the recipient has the code.", id=parcel.tracking_id))
    return redirect(url_for("homes.office"))


@bp.post("/office/parcels/<int:parcel_id>/return")
@require_role(Role.CLERK)
def send_back(parcel_id: int) -> ResponseReturnValue:
    """Send a parcel back to its sender (it waits here for the next van plan)."""
    _delivery_clerk()
    db = get_db()
    parcel = _parcel_here(db, parcel_id)
    try:
        refund = returns.start(db, parcel, request.form.get("reason", ""), current_user)
    except DakGhorError as e:
        db.rollback()
        return office_page({parcel_id: dict(e.by_field("reason"))}, e.status)
    db.commit()
    if refund is not None:  # the operator is called by a job, never in this request
        current_app.extensions["dakghor.enqueue_refund"](refund.id)
    flash(_("%(id)s goes back to its sender with the next van.", id=parcel.tracking_id))
    return redirect(url_for("homes.office"))


@bp.post("/office/holds/<int:hold_id>/collect")
@require_role(Role.CLERK)
@pressed_once
def collect(hold_id: int) -> ResponseReturnValue:
    """The recipient collects a held parcel at the counter with the code (and the COD)."""
    _delivery_clerk()
    db = get_db()
    held = holds.for_counter(db, hold_id, current_user)
    pid = held.parcel_id
    try:
        outcome = holds.collect(
            db, held, request.form.get("code", ""), request.form.get("cod", ""), current_user
        )
    except ValidationError as e:
        db.rollback()
        return office_page({pid: e.errors}, 422)
    except DakGhorError as e:
        db.rollback()
        return office_page({pid: {"cod": e.message}}, e.status)
    db.commit()  # a wrong try is counted too
    if outcome is holds.Collection.WRONG:
        return office_page({pid: {"code": _l("That code is not right; check the SMS again.")}}, 422)
    if outcome is holds.Collection.LOCKED:
        db.refresh(held)
        return office_page({pid: {"code": rounds.locked_message(held)}}, 429)
    flash(_("%(id)s collected.", id=held.parcel.tracking_id))
    return redirect(url_for("homes.office"))


@bp.post("/office/holds/<int:hold_id>/resend")
@require_role(Role.CLERK)
def resend(hold_id: int) -> ResponseReturnValue:
    """A new one-time collection code to the recipient's phone (they lost the first)."""
    _delivery_clerk()
    db = get_db()
    held = holds.for_counter(db, hold_id, current_user)
    pid = held.parcel_id
    try:
        holds.resend_code(db, held, current_user)
    except DakGhorError as e:
        db.rollback()
        return office_page({pid: {"code": e.message}}, e.status)
    db.commit()
    flash(_("A new collection code went to the recipient's phone."))
    return redirect(url_for("homes.office"))


@bp.get("/rounds/<int:round_id>/sheet.pdf")
@require_role(Role.CLERK, Role.COURIER)
def sheet(round_id: int) -> Response:
    """The round sheet: for the clerks of its office and its postman."""
    db = get_db()
    rnd = db.get(DeliveryRound, round_id)
    mine = rnd is not None and (
        rnd.courier_id == current_user.id
        or (current_user.role is Role.CLERK and rnd.office_id == current_user.office_id)
    )
    if rnd is None or not mine:
        raise NotFound(_l("No such round at your office."), field="round")
    pdf = round_sheets.render([rounds.sheet(db, rnd)])
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{rounds.code(rnd)}.pdf"'
    return resp


@bp.post("/office/postmen/<int:user_id>")
@require_role(Role.CLERK)
def postman(user_id: int) -> ResponseReturnValue:
    """A postman's vehicle and hours (what the round planning gives them)."""
    _delivery_clerk()
    db = get_db()
    form = {k: request.form.get(k, "") for k in ("vehicle", "shift_start", "shift_end")}
    try:
        who = rounds.set_postman(db, current_user.office, user_id, form)
    except ValidationError as e:
        db.rollback()
        return office_page({-user_id: e.errors}, 422)
    db.commit()
    flash(_("Saved: %(name)s's vehicle and hours.", name=who.full_name))
    return redirect(url_for("homes.office"))


@bp.post("/office/round-plans")
@require_role(Role.CLERK)
def plan() -> ResponseReturnValue:
    """Plan today's rounds (a job on the queue; the office page follows it)."""
    _delivery_clerk()
    db = get_db()
    made = round_plans.start(db, current_user.office, current_user)
    db.commit()
    try:
        current_app.extensions["dakghor.enqueue_rounds"](made.id)
    except Exception:  # noqa: BLE001 - the clerk is told; the plan is marked failed
        round_plans.fail(db, made.id, liveness.QUEUE_DOWN)
        db.commit()
        flash(_("The job queue could not be reached; the rounds were not planned."), "error")
    return redirect(url_for("homes.office"))


@bp.get("/office/round-plans/<int:plan_id>/state.json")
@require_role(Role.CLERK)
def plan_state(plan_id: int) -> Response:
    """What the office page asks while the rounds are planned (every two seconds): it then
    says the plan is ready, with a link, instead of reloading itself under a clerk who is
    typing. A plan whose job died is given up here too."""
    _delivery_clerk()
    db = get_db()
    made = db.get(RoundPlan, plan_id)
    if made is None or made.office_id != current_user.office_id:
        raise NotFound(_l("No such plan at your office."), field="plan")
    if liveness.give_up_if_dead(db, made):
        db.commit()
    text = {
        RoundPlanStatus.PLANNING: _("Planning… this page will say when the rounds are ready."),
        RoundPlanStatus.DONE: _("The rounds are planned."),
        RoundPlanStatus.FAILED: _("The planning failed; plan again."),
    }[made.status]
    return jsonify(
        {
            "status": made.status.value,
            "text": text,
            "link": _("Show them") if made.status is RoundPlanStatus.DONE else _("Reload"),
        }
    )


@bp.post("/office/round-plans/<int:plan_id>/send/<int:courier_id>")
@require_role(Role.CLERK)
@pressed_once
def send_planned(plan_id: int, courier_id: int) -> ResponseReturnValue:
    _delivery_clerk()
    db = get_db()
    made = db.get(RoundPlan, plan_id)
    if made is None or made.office_id != current_user.office_id:
        raise NotFound(_l("No such plan at your office."), field="plan")
    rnd = round_plans.send_planned(db, made, courier_id, current_user)
    db.commit()
    return _made(rnd)


def _page(errors: dict[int, Any] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    rnd = rounds.open_round(db, current_user)
    due = {s.id: cod.due(db, s.parcel_id) for s in rnd.stops} if rnd else {}
    return (
        render_template(
            "rounds/mine.html",
            rnd=rnd,
            due=due,
            reasons=DELIVERY_FAILURES,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/round")
@require_role(Role.COURIER)
def mine() -> ResponseReturnValue:
    """The courier's round: each parcel in order, its recipient, the COD to take."""
    return _page()


@bp.post("/round/stops/<int:stop_id>/deliver")
@require_role(Role.COURIER)
@pressed_once
def deliver(stop_id: int) -> ResponseReturnValue:
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        outcome = rounds.deliver(
            db,
            stop,
            request.form.get("code", ""),
            request.form.get("cod", ""),
            utcnow(),
            place=proofs.place(request.form.get("lat"), request.form.get("lon")),
        )
    except ValidationError as e:
        db.rollback()
        return _page({stop_id: e.errors}, 422)
    except DakGhorError as e:
        db.rollback()
        return _page({stop_id: {"cod": e.message}}, e.status)
    db.commit()  # a wrong try is counted too
    if outcome is rounds.Handover.WRONG:
        return _page(
            {stop_id: {"code": _l("That code is not right; ask the recipient again.")}}, 422
        )
    if outcome is rounds.Handover.LOCKED:
        db.refresh(stop)
        return _page({stop_id: {"code": rounds.locked_message(stop)}}, 429)
    flash(_("%(id)s delivered.", id=stop.parcel.tracking_id))
    return redirect(url_for("rounds.mine"))


@bp.post("/round/stops/<int:stop_id>/proof")
@require_role(Role.COURIER)
@pressed_once
def deliver_with_proof(stop_id: int) -> ResponseReturnValue:
    """Delivered where no handover code could be had: a photo of the parcel handed over, or
    the recipient's signature on the pad, stands for the code (the COD rules are the same)."""
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        upload = request.files.get("photo")
        raw = b""
        if upload is not None:
            with upload.stream:  # a phone's photo may be spooled to a temporary file
                raw = upload.read(proofs.MAX_BYTES + 1) if upload.filename else b""
        signed = request.form.get("signature", "")
        proof = proofs.photo(raw) if raw or not signed else proofs.signature(signed)
        rounds.deliver(
            db,
            stop,
            "",
            request.form.get("cod", ""),
            utcnow(),
            place=proofs.place(request.form.get("lat"), request.form.get("lon")),
            proof=proof,
        )
    except ValidationError as e:
        db.rollback()
        return _page({stop_id: e.errors}, 422)
    except DakGhorError as e:
        db.rollback()
        return _page({stop_id: {"cod": e.message}}, e.status)
    db.commit()
    flash(_("%(id)s delivered.", id=stop.parcel.tracking_id))
    return redirect(url_for("rounds.mine"))


@bp.get("/rounds/stops/<int:stop_id>/proof")
@require_role(Role.CLERK, Role.COURIER, Role.ADMIN)
def proof(stop_id: int) -> Response:
    """The photo or signature of a delivery: for its office's clerks, its postman and admins."""
    db = get_db()
    found = db.get(DeliveryProof, stop_id)
    stop = db.get(RoundParcel, stop_id)
    mine = stop is not None and (
        current_user.role is Role.ADMIN
        or stop.round.courier_id == current_user.id
        or (current_user.role is Role.CLERK and stop.round.office_id == current_user.office_id)
    )
    if found is None or not mine:
        raise NotFound(_l("No such proof of delivery at your office."), field="stop")
    resp = Response(found.data, mimetype=found.content_type)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/round/stops/<int:stop_id>/airtime")
@require_role(Role.COURIER)
def airtime(stop_id: int) -> ResponseReturnValue:
    """The COD paid from the recipient's airtime at the door: the payment link's page on the
    postman's phone (the recipient's number, the code the operator sends them); once paid,
    the parcel is delivered with its handover code and no cash."""
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        lk = payments.create_link(
            db, stop.parcel, Purpose.COD, current_app.extensions["dakghor.payments"]()
        )
    except DakGhorError as e:
        db.rollback()
        return _page({stop_id: {"cod": e.message}}, e.status)
    db.commit()
    return redirect(url_for("pay.link", token=lk.token))


@bp.post("/round/stops/<int:stop_id>/fail")
@require_role(Role.COURIER)
def fail(stop_id: int) -> ResponseReturnValue:
    db = get_db()
    stop = rounds.stop_of(db, stop_id, current_user)
    try:
        rounds.fail(
            db,
            stop,
            request.form.get("reason", ""),
            place=proofs.place(request.form.get("lat"), request.form.get("lon")),
        )
    except ValidationError as e:
        db.rollback()
        return _page({stop_id: e.errors}, 422)
    db.commit()
    flash(
        _("%(id)s could not be delivered; it goes back to the office.", id=stop.parcel.tracking_id)
    )
    return redirect(url_for("rounds.mine"))
