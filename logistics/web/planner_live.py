"""The planner's live views of a published day: each van's stops as done, due, late or skipped
from the scans (refreshed without reloading), and every load-out and arrival with what was
missing or extra. They join the planner's blueprint (``planner.bp``)."""

from __future__ import annotations

from flask import Response, jsonify, render_template

from logistics.db import utcnow
from logistics.models import Role
from logistics.services import live, scans
from logistics.vocabulary import label
from logistics.web import get_db, require_role
from logistics.web.planner import COLOURS, _plan, bp


@bp.get("/plans/<int:plan_id>/live")
@require_role(Role.PLANNER)
def live_board(plan_id: int) -> str:
    """Each van's stops as done / due / late / skipped from the scans; the page refreshes
    its cells from ``live.json`` without reloading."""
    p = _plan(plan_id)
    return render_template(
        "dispatch/live.html",
        plan=p,
        rows=live.board(get_db(), p, utcnow()),
        colours=COLOURS,
    )


@bp.get("/plans/<int:plan_id>/live.json")
@require_role(Role.PLANNER)
def live_state(plan_id: int) -> Response:
    p = _plan(plan_id)
    return jsonify(
        {
            "stops": {
                str(st.stop.id): {"state": st.state, "text": label(st.state)}
                for _route, states in live.board(get_db(), p, utcnow())
                for st in states
            }
        }
    )


@bp.get("/plans/<int:plan_id>/scans")
@require_role(Role.PLANNER)
def mismatches(plan_id: int) -> str:
    """Every load-out and arrival of this version with what was missing or extra."""
    db = get_db()
    p = _plan(plan_id)
    sessions = scans.sessions_of_plan(db, p)
    return render_template(
        "dispatch/scans.html",
        plan=p,
        reports=[(ss, scans.report(db, ss)) for ss in sessions],
    )
