"""The planner's pages: the board, "Plan the day" handing the version to the job queue, the
plan page with its routes and the map's data, and what a planner sees when something is wrong.
(The job on a real worker is tested in test_dispatch; here the app's queue runs it inline.)"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from logistics.models import DayPlan, Parcel, PlanStatus
from logistics.services import dispatch
from tests.conftest import login
from tests.logistics.test_dispatch import DAY


def csrf(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m
    return m.group(1)


@pytest.fixture
def inline_queue(app: Flask, db: Session) -> list[int]:
    """The app's job queue, running each planning job at once in this process."""
    queued: list[int] = []

    def enqueue(plan_id: int) -> None:
        queued.append(plan_id)
        dispatch.run_plan(sessionmaker(bind=db.get_bind()), plan_id)

    app.extensions["dakghor.enqueue_plan"] = enqueue
    return queued


def start(client: FlaskClient, seconds: str = "2", day: date = DAY) -> str:
    board = client.get(f"/dispatch?date={day}").text
    resp = client.post(
        "/dispatch/plans", data={"csrf_token": csrf(board), "date": str(day), "seconds": seconds}
    )
    assert resp.status_code == 302, resp.text
    return str(resp.headers["Location"])


def test_the_planner_plans_the_day_from_the_board(
    client: FlaskClient, db: Session, waiting: list[Parcel], inline_queue: list[int]
) -> None:
    login(client, "planner", "planner-demo-1")
    board = client.get(f"/dispatch?date={DAY}").text
    assert 'id="plan-button"' in board and "No plan for this day yet." in board
    where = start(client)
    assert len(inline_queue) == 1
    page = client.get(where).text
    assert "Draft" in page and 'id="map"' in page and 'class="card route"' in page
    plan = db.scalar(select(DayPlan).where(DayPlan.id == inline_queue[0]))
    assert plan is not None and plan.status is PlanStatus.DRAFT
    for route in plan.routes:
        assert route.van.registration in page
    state = client.get(f"/dispatch/plans/{plan.id}/state.json").get_json()
    assert state["status"] == "draft" and state["progress"] == 100
    assert len(state["routes"]) == len(plan.routes)
    for r in state["routes"]:
        assert len(r["points"]) == len(r["stops"]) + 2  # from the hub and back
    assert "Version 1" in client.get(f"/dispatch?date={DAY}").text


def test_the_board_goes_to_any_day_and_plans_it(
    client: FlaskClient, db: Session, waiting: list[Parcel], inline_queue: list[int]
) -> None:
    """A planner picks the day (tomorrow's plan the evening before, yesterday's versions): the
    board shows that day's versions, links the day before and after, and plans that day."""
    login(client, "planner", "planner-demo-1")
    start(client)  # a version of DAY
    after = date.fromordinal(DAY.toordinal() + 1)
    board = client.get(f"/dispatch?date={after}").text
    assert f'href="?date={DAY}" rel="prev"' in board
    assert f'href="?date={date.fromordinal(DAY.toordinal() + 2)}" rel="next"' in board
    assert f'value="{after}"' in board and "No plan for this day yet." in board
    start(client, day=after)
    days = db.scalars(select(DayPlan.service_date).order_by(DayPlan.id)).all()
    assert days == [DAY, after]
    assert "Version 1" in client.get(f"/dispatch?date={DAY}").text
    assert client.get("/dispatch?date=2026-13-40").status_code == 422


def test_the_board_and_plan_pages_speak_bangla(
    bn_client: FlaskClient, db: Session, waiting: list[Parcel], inline_queue: list[int]
) -> None:
    login(bn_client, "planner", "planner-demo-1")
    page = bn_client.get(start(bn_client)).text
    assert "খসড়া" in page and "সংস্করণ ১" in page


def test_nothing_waiting_is_said_on_the_board_and_nothing_is_written(
    client: FlaskClient, db: Session, inline_queue: list[int]
) -> None:
    login(client, "planner", "planner-demo-1")
    board = client.get(f"/dispatch?date={DAY}").text
    resp = client.post(
        "/dispatch/plans", data={"csrf_token": csrf(board), "date": str(DAY), "seconds": "2"}
    )
    assert resp.status_code == 422 and "No parcel is waiting to be moved." in resp.text
    assert db.scalar(select(DayPlan)) is None and inline_queue == []


def test_plan_pressed_again_while_planning_lands_on_that_version(
    client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    # The queue is not run here: the first version stays 'planning'.
    login(client, "planner", "planner-demo-1")
    first = start(client)
    board = client.get(f"/dispatch?date={DAY}").text
    again = client.post(
        "/dispatch/plans", data={"csrf_token": csrf(board), "date": str(DAY), "seconds": "2"}
    )
    assert again.status_code == 303 and again.headers["Location"] == first  # was a 409 page
    assert "Version 1 of this day is being planned" in client.get(first).text
    assert len(db.scalars(select(DayPlan)).all()) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "24-11-2026"}, "YYYY-MM-DD"),
        ({"seconds": "ten"}, "between 1 and 600 seconds"),
        ({"seconds": "9000"}, "between 1 and 600 seconds"),
    ],
)
def test_bad_planning_input_is_refused_clearly(
    client: FlaskClient,
    waiting: list[Parcel],
    inline_queue: list[int],
    data: dict[str, str],
    message: str,
) -> None:
    login(client, "planner", "planner-demo-1")
    board = client.get("/dispatch").text
    resp = client.post("/dispatch/plans", data={"csrf_token": csrf(board), **data})
    assert resp.status_code == 422 and message in resp.text
    assert inline_queue == []


def test_an_unreachable_queue_fails_the_version_visibly(
    app: Flask, client: FlaskClient, db: Session, waiting: list[Parcel]
) -> None:
    def broken(plan_id: int) -> None:
        raise ConnectionError("broker down")

    app.extensions["dakghor.enqueue_plan"] = broken
    login(client, "planner", "planner-demo-1")
    page = client.get(start(client)).text
    assert "The job queue could not be reached" in page and "Planning failed" in page
    assert "broker down" not in page  # the exception's own words stay in the record
    plan = db.scalar(select(DayPlan))
    assert plan is not None and plan.status is PlanStatus.FAILED


@pytest.mark.parametrize("who", [("clerk.gpo", "clerk-demo-1"), ("merchant", "merchant-demo-1")])
def test_only_planners_plan(client: FlaskClient, who: tuple[str, str]) -> None:
    login(client, *who)
    assert client.get("/dispatch").status_code == 403
    assert client.get("/dispatch/plans/1").status_code == 403


def test_a_missing_plan_is_a_404(client: FlaskClient) -> None:
    login(client, "planner", "planner-demo-1")
    assert client.get("/dispatch/plans/999999").status_code == 404


def test_leaflet_is_served_by_the_app(client: FlaskClient) -> None:
    resp = client.get("/dispatch/vendor/leaflet/leaflet.js")
    assert resp.status_code == 200 and b"Leaflet" in resp.data[:2000]
    resp.close()
