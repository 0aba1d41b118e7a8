"""The planner's adjust, re-plan, publish and manifest pages, and the clerks' scan pages, through
the Flask test client (the browser test drives the same pages in Chromium)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics import findings
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Parcel,
    ParcelStatus,
    PlanStatus,
    StopAction,
    User,
)
from logistics.text import DHAKA
from routing.model import Location, Problem, Shipment, Stop, TimeWindow, Vehicle
from routing.plan import schedule
from tests.conftest import login
from tests.logistics.test_planner import csrf, inline_queue, start

__all__ = ["inline_queue"]


def draft(client: FlaskClient, db: Session) -> tuple[str, DayPlan]:
    login(client, "planner", "planner-demo-1")
    where = start(client)
    plan = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert plan is not None and plan.status is PlanStatus.DRAFT
    return where, plan


@pytest.mark.usefixtures("waiting", "inline_queue")
def test_lock_move_replan_publish_and_print(client: FlaskClient, db: Session) -> None:
    where, plan = draft(client, db)
    page = client.get(where).text
    token = csrf(page)
    assert 'id="adjust"' in page and 'id="move-pair"' in page
    route = plan.routes[0]
    resp = client.post(
        f"/dispatch/plans/{plan.id}/routes/{route.id}/lock",
        data={"csrf_token": token, "locked": "1"},
    )
    assert resp.status_code == 302
    assert "Locked" in client.get(where).text
    # A move onto the locked van is refused, naming the van; a bad pair names the field.
    pair = next(
        f"{s.office.code}>{sp.parcel.destination_office.code}"
        for s in route.stops
        for sp in s.parcels
        if sp.action is StopAction.LOAD
    )
    refused = client.post(
        f"/dispatch/plans/{plan.id}/moves",
        data={"csrf_token": token, "pair": pair, "van": route.van.registration},
    )
    assert refused.status_code == 409 and "locked" in refused.text
    bad = client.post(
        f"/dispatch/plans/{plan.id}/moves",
        data={"csrf_token": token, "pair": "GPO>NOPE", "van": route.van.registration},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 422 and bad.json["error"]["field"] == "destination"  # type: ignore[index]
    resp = client.post(
        f"/dispatch/plans/{plan.id}/replan", data={"csrf_token": token, "seconds": "2"}
    )
    assert resp.status_code == 302
    v2 = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert v2 is not None and v2.parent_id == plan.id and v2.status is PlanStatus.DRAFT
    page2 = client.get(resp.headers["Location"]).text
    assert "Locked" in page2 and 'id="violations"' not in page2
    resp = client.post(f"/dispatch/plans/{v2.id}/publish", data={"csrf_token": token})
    assert resp.status_code == 302
    page2 = client.get(f"/dispatch/plans/{v2.id}").text
    assert 'id="manifests"' in page2 and 'id="adjust"' not in page2
    sheet = db.scalar(
        select(Manifest).where(Manifest.plan_id == v2.id, Manifest.kind == ManifestKind.ROUTE)
    )
    assert sheet is not None and sheet.code
    pdf = client.get(f"/dispatch/manifests/{sheet.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    everything = client.get(f"/dispatch/plans/{v2.id}/manifests.pdf")
    assert everything.status_code == 200
    typo = client.get(
        f"/dispatch/manifests/{sheet.code[:-1]}X.pdf", headers={"Accept": "application/json"}
    )
    assert typo.status_code == 422 and typo.json["error"]["field"] == "code"  # type: ignore[index]
    board = client.get(f"/dispatch/plans/{v2.id}/live").text
    assert board.count('class="stop-state') == sum(len(r.stops) for r in v2.routes)
    states = client.get(f"/dispatch/plans/{v2.id}/live.json").json["stops"]  # type: ignore[index]
    assert len(states) == sum(len(r.stops) for r in v2.routes)
    assert {x["state"] for x in states.values()} <= {"due", "late"}  # nothing scanned yet
    db.refresh(plan)
    assert plan.status is PlanStatus.SUPERSEDED
    again = client.post(f"/dispatch/plans/{v2.id}/publish", data={"csrf_token": token})
    assert again.status_code == 409


@pytest.mark.usefixtures("waiting", "inline_queue")
def test_a_clerk_scans_a_van_out_and_in_on_the_pages(client: FlaskClient, db: Session) -> None:
    _, plan = draft(client, db)
    page = client.get(f"/dispatch/plans/{plan.id}").text
    client.post(f"/dispatch/plans/{plan.id}/publish", data={"csrf_token": csrf(page)})
    sheet = db.scalar(
        select(Manifest).where(Manifest.plan_id == plan.id, Manifest.kind == ManifestKind.ROUTE)
    )
    assert sheet is not None and sheet.route is not None
    stop = next(
        s for s in sheet.route.stops if any(sp.action is StopAction.LOAD for sp in s.parcels)
    )
    parcels = [sp.parcel for sp in stop.parcels if sp.action is StopAction.LOAD]
    clerk = db.scalar(select(User).where(User.office_id == stop.office_id, User.role == "clerk"))
    assert clerk is not None
    client.post("/logout", data={"csrf_token": csrf(page)})
    login(client, clerk.username, "clerk-demo-1")
    home = client.get(f"/scan?date={plan.service_date}").text
    assert sheet.code in home
    token = csrf(home)
    resp = client.post(
        "/scan/sessions", data={"csrf_token": token, "manifest": sheet.code, "kind": "load"}
    )
    assert resp.status_code == 302, resp.text
    where = resp.headers["Location"]
    for p in parcels[1:]:
        answer = client.post(
            f"{where}/scans",
            data={"csrf_token": token, "code": p.tracking_id},
            headers={"Accept": "application/json"},
        )
        assert answer.json["result"] == "ok", answer.text  # type: ignore[index]
    dup = client.post(
        f"{where}/scans",
        data={"csrf_token": token, "code": parcels[-1].tracking_id},
        headers={"Accept": "application/json"},
    )
    assert dup.json["result"] == "duplicate" and "already scanned" in dup.json["text"]  # type: ignore[index]
    client.post(f"{where}/close", data={"csrf_token": token})
    done = client.get(where).text
    assert parcels[0].tracking_id in done and 'id="closed-note"' in done
    # The parcel left behind is listed with the office its label names, to find it on the floor.
    missing = done.split('id="missing"')[1].split("</ul>")[0]
    assert f"→ <bdi>{parcels[0].destination_office.code}</bdi>" in missing
    closed = client.post(
        f"{where}/scans",
        data={"csrf_token": token, "code": parcels[0].tracking_id},
        headers={"Accept": "application/json"},
    )
    assert closed.status_code == 409
    db.expire_all()
    assert db.get(Parcel, parcels[1].id).status is ParcelStatus.IN_TRANSIT  # type: ignore[union-attr]
    # Another office's clerk cannot see this session.
    client.post("/logout", data={"csrf_token": token})
    other = db.scalar(select(User).where(User.office_id != stop.office_id, User.role == "clerk"))
    assert other is not None
    login(client, other.username, "clerk-demo-1")
    assert client.get(where).status_code == 403


@pytest.mark.usefixtures("waiting", "inline_queue")
def test_the_published_plan_of_today_is_re_planned_mid_day_from_its_page(
    client: FlaskClient, db: Session
) -> None:
    login(client, "planner", "planner-demo-1")
    today = datetime.now(DHAKA).date()
    where = start(client, day=today)
    plan = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert plan is not None and plan.status is PlanStatus.DRAFT
    token = csrf(client.get(where).text)
    client.post(f"/dispatch/plans/{plan.id}/publish", data={"csrf_token": token})
    page = client.get(where).text
    assert 'id="midday-button"' in page and 'id="adjust"' not in page
    resp = client.post(
        f"/dispatch/plans/{plan.id}/replan", data={"csrf_token": token, "seconds": "2"}
    )
    assert resp.status_code == 302
    mid = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert mid is not None and mid.parent_id == plan.id and mid.as_of is not None
    assert mid.status is PlanStatus.DRAFT and mid.violations == ""
    page = client.get(resp.headers["Location"]).text
    assert 'id="midday-note"' in page and 'id="publish-button"' in page
    assert 'class="lock-button"' not in page  # a mid-day re-plan is published or re-planned
    # Re-planning the mid-day draft again goes back to the published version, as of now.
    again = client.post(
        f"/dispatch/plans/{mid.id}/replan", data={"csrf_token": token, "seconds": "2"}
    )
    assert again.status_code == 302
    newest = db.scalar(select(DayPlan).order_by(DayPlan.id.desc()))
    assert newest is not None and newest.parent_id == plan.id and newest.id != mid.id


def failing_findings() -> list[str]:
    """What the routing core's check finds on a route that breaks three rules at once: a van
    of 5 parcels loads 9, drops them at 09:00 where the office closed at 08:30, and is back
    at 10:00 from a shift that ended at 09:00; and a finding kept before findings had codes."""
    hour = 3600
    problem = Problem(
        locations=(Location("hub"), Location("office")),
        dimensions=("parcels",),
        distance_m=((0, 600), (600, 0)),
        duration_s=((0, hour), (hour, 0)),
        vehicles=(Vehicle("DHA-11", 0, 0, (5,), TimeWindow(8 * hour, 9 * hour)),),
        shipments=(
            Shipment("GPO>MOH#0", Stop(0), Stop(1, 0, TimeWindow(0, 8 * hour + 1800)), (9,)),
        ),
    )
    _, found = schedule(problem, problem.vehicles[0], [("pickup", 0), ("delivery", 0)])
    assert {f.code for f in found} == {"over_capacity", "after_window", "after_shift"}
    return [*found, "DHA-12: a finding kept in English"]


@pytest.mark.usefixtures("waiting", "inline_queue")
def test_a_version_that_fails_its_checks_says_each_finding_in_the_readers_words(
    client: FlaskClient, bn_client: FlaskClient, db: Session
) -> None:
    where, plan = draft(client, db)
    plan.violations = findings.encode(failing_findings())
    db.commit()
    en = client.get(where).text
    assert "Van DHA-11: a drop (GPO → MOH) starts at 09:00, after its window closes at 08:30." in en
    assert "Van DHA-11: back at 10:00, after the shift ends at 09:00." in en
    assert "Van DHA-11: parcels on board 9, over its capacity 5, after a loading (GPO → MOH)." in en
    assert '<li class="ut">DHA-12: a finding kept in English</li>' in en
    assert "after_window" not in en and "over_capacity" not in en
    login(bn_client, "planner", "planner-demo-1")
    bn = bn_client.get(where).text
    assert "ভ্যান DHA-11: মাল নামানো (GPO → MOH) শুরু হয় ০৯:০০-এ" in bn
    assert "ভ্যান DHA-11: ফেরে ১০:০০-এ, শিফট ০৯:০০-এ শেষ হওয়ার পরে।" in bn
    assert "DHA-12: a finding kept in English" in bn
    refused = client.post(f"/dispatch/plans/{plan.id}/publish", data={"csrf_token": csrf(en)})
    assert refused.status_code == 409
