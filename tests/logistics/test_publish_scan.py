"""After the plan: a planner's locks and moves carried into a re-plan, publishing (once, the
other versions superseded, manifests issued with checked codes), the manifest PDFs, and the
load-out and arrival scans with their tracking events and mismatch report."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from logistics.documents import manifests as docs
from logistics.errors import Conflict, ValidationError
from logistics.models import (
    DayPlan,
    Manifest,
    ManifestKind,
    Parcel,
    ParcelStatus,
    PlanStatus,
    ScanKind,
    ScanResult,
    StopAction,
    User,
    Van,
)
from logistics.services import adjust, dispatch, live, manifests, publishing, scans
from tests.logistics.conftest import clerk_at
from tests.logistics.test_dispatch import DAY, plan_version

pytestmark = pytest.mark.usefixtures("waiting")


def run(db: Session, parent: DayPlan | None = None) -> DayPlan:
    return plan_version(db, parent=parent)


def van_of(plan: DayPlan, parcel_id: int) -> str:
    for r in plan.routes:
        for s in r.stops:
            if any(sp.parcel_id == parcel_id for sp in s.parcels):
                return r.van.registration
    raise AssertionError("not routed")


def user(db: Session, name: str) -> User:
    found = db.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def test_manifest_codes_carry_a_check_digit_that_catches_typos() -> None:
    code = manifests.code_for(123)
    assert code.startswith("MF0000123") and len(code) == 10
    assert manifests.number_of(code) == 123
    assert manifests.number_of(code.lower().replace("mf", "MF ")) == 123
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(ValidationError, match="check digit"):
        manifests.number_of(wrong)
    swapped = code[:7] + code[8] + code[7] + code[9:]  # two digits swapped
    if swapped != code:
        with pytest.raises(ValidationError):
            manifests.number_of(swapped)
    with pytest.raises(ValidationError, match="not a manifest code"):
        manifests.number_of("CP123456785BD")


def test_a_locked_route_is_kept_and_a_moved_pair_rides_its_new_van(db: Session) -> None:
    # Vans of ten parcels: the day's 18 need two. (On the real clock one van has the time for
    # all six office pairs: the solver's squeeze empties the others, routing/squeeze.py.)
    db.execute(update(Van).values(capacity_parcels=10))
    db.commit()
    first = run(db)
    assert first.violations == ""
    kept = first.routes[0]
    kept_stops = [
        (s.office.code, sorted((sp.parcel_id, sp.action.value) for sp in s.parcels))
        for s in kept.stops
    ]
    adjust.set_lock(db, first, kept.id, True)
    # Move a pair that is not on the locked route to a van that is not locked.
    assert len(first.routes) >= 2
    locked_van = kept.van.registration
    pairs = {
        (s.office.code, sp.parcel.destination_office.code): sp.parcel_id
        for r in first.routes[1:]
        for s in r.stops
        for sp in s.parcels
        if sp.action is StopAction.LOAD
    }
    (origin, destination), parcel_id = sorted(pairs.items())[0]
    target = next(
        v.registration
        for v in sorted(
            {r.van for r in first.routes} | set(dispatch.active_vans(db)),
            key=lambda v: v.registration,
        )
        if v.registration not in (locked_van, van_of(first, parcel_id))
    )
    with pytest.raises(Conflict, match="locked"):
        adjust.add_move(db, first, origin, destination, locked_van)
    adjust.add_move(db, first, origin, destination, target)
    db.commit()

    second = run(db, parent=first)
    assert second.parent_id == first.id and second.version == 2
    assert second.violations == ""
    again = next(r for r in second.routes if r.van.registration == locked_van)
    assert again.locked
    assert [
        (s.office.code, sorted((sp.parcel_id, sp.action.value) for sp in s.parcels))
        for s in again.stops
    ] == kept_stops
    assert van_of(second, parcel_id) == target
    assert [(m.origin.code, m.destination.code, m.van.registration) for m in second.moves] == [
        (origin, destination, target)
    ]


def test_adjusting_a_published_version_or_a_bad_move_is_refused(db: Session) -> None:
    plan = run(db)
    with pytest.raises(ValidationError) as e:
        adjust.add_move(db, plan, "GPO", "NOPE", "DHAKA-METRO-MA-11-0001")
    assert "destination" in e.value.errors
    publishing.publish(db, plan, None)
    db.commit()
    with pytest.raises(Conflict, match="draft"):
        adjust.set_lock(db, plan, plan.routes[0].id, True)
    newer = run(db)
    publishing.publish(db, newer, None)
    db.commit()
    db.refresh(plan)
    with pytest.raises(Conflict, match="draft or the published"):
        dispatch.start_plan(db, DAY, None, parent=plan)  # superseded: nothing to re-plan from


def test_publishing_issues_manifests_once_and_supersedes_the_others(db: Session) -> None:
    v1 = run(db)
    v2 = run(db)
    issued = publishing.publish(db, v1, None)
    db.commit()
    kinds = [m.kind for m in issued]
    assert kinds.count(ManifestKind.ROUTE) == len(v1.routes)

    def offices(action: StopAction) -> set[int]:
        return {
            s.office_id
            for r in v1.routes
            for s in r.stops
            for sp in s.parcels
            if sp.action is action
        }

    loading, dropping = offices(StopAction.LOAD), offices(StopAction.DROP)
    assert kinds.count(ManifestKind.DISPATCH) == len(loading)
    assert kinds.count(ManifestKind.RECEIPT) == len(dropping)
    assert all(m.code == manifests.code_for(m.id) for m in issued)
    db.refresh(v2)
    assert v2.status is PlanStatus.SUPERSEDED
    with pytest.raises(Conflict):
        publishing.publish(db, v1, None)  # already published
    # Publishing a newer draft supersedes v1 and its manifests (no van loaded yet).
    v3 = run(db)
    publishing.publish(db, v3, None)
    db.commit()
    db.refresh(v1)
    assert v1.status is PlanStatus.SUPERSEDED
    assert all(
        m.superseded_at is not None
        for m in db.scalars(select(Manifest).where(Manifest.plan_id == v1.id))
    )


def _pdf_barcodes(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(io.BytesIO(data))
    try:
        page = pdf[0]
        image: Image.Image = page.render(scale=3).to_pil()
        page.close()
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert text
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_every_manifest_renders_with_a_barcode_that_decodes_to_its_code(db: Session) -> None:
    plan = run(db)
    issued = publishing.publish(db, plan, None)
    db.commit()
    for m in issued:
        data = docs.render([manifests.document(db, m)])
        assert data.startswith(b"%PDF")
        assert m.code in _pdf_barcodes(data)
    sheet = manifests.document(db, next(m for m in issued if m.kind is ManifestKind.ROUTE))
    assert isinstance(sheet, docs.RouteSheet)
    loads = [x.tracking_id for s in sheet.stops for x in s.loads]
    drops = [x.tracking_id for s in sheet.stops for x in s.drops]
    assert sorted(loads) == sorted(drops) and loads


def test_a_route_sheet_of_many_parcels_breaks_across_pages(db: Session) -> None:
    lines = tuple(
        docs.ParcelLine(f"CP{n:08d}5BD", "MOH", 1200, 50000 if n % 3 else 0) for n in range(140)
    )
    sheet = docs.RouteSheet(
        manifests.code_for(9),
        "DHAKA-METRO-MA-11-0001",
        "",
        date(2026, 11, 24),
        1,
        (docs.StopSheet(0, "GPO", "ঢাকা জিপিও", "Dhaka GPO", "09:10", "09:40", lines, ()),),
    )
    pdf = pdfium.PdfDocument(io.BytesIO(docs.render([sheet])))
    try:
        assert len(pdf) >= 3
        texts = [pdf[k].get_textpage().get_text_range() for k in range(len(pdf))]
    finally:
        pdf.close()
    assert all(sheet.code in t for t in texts)  # every page says where it belongs
    assert "CP000001395BD" in texts[-1] or any("CP000001395BD" in t for t in texts)
    assert "ঢাকা জিপিও" in texts[0]  # shaped Bangla copies back as words


def test_load_out_and_arrival_scans_write_tracking_and_report_mismatches(db: Session) -> None:
    plan = run(db)
    issued = publishing.publish(db, plan, None)
    db.commit()
    sheet = next(m for m in issued if m.kind is ManifestKind.ROUTE)
    route = sheet.route
    assert route is not None
    first_load = next(
        s for s in route.stops if any(sp.action is StopAction.LOAD for sp in s.parcels)
    )
    to_load = [sp.parcel for sp in first_load.parcels if sp.action is StopAction.LOAD]
    clerk = db.scalar(
        select(User).where(User.office_id == first_load.office_id, User.role == "clerk")
    )
    assert clerk is not None

    with pytest.raises(ValidationError):
        scans.open_session(db, "MF12345678", first_load.office_id, ScanKind.LOAD, clerk)
    office_form = next(m for m in issued if m.kind is not ManifestKind.ROUTE)
    with pytest.raises(ValidationError, match="route sheet"):
        scans.open_session(db, office_form.code or "", first_load.office_id, ScanKind.LOAD, clerk)

    ss = scans.open_session(db, sheet.code or "", first_load.office_id, ScanKind.LOAD, clerk)
    assert (
        scans.open_session(
            db, f" {sheet.code.lower()} ", first_load.office_id, ScanKind.LOAD, clerk
        ).id
        == ss.id
    )  # type: ignore[union-attr]
    results = [scans.scan(db, ss, p.tracking_id, clerk).result for p in to_load[1:]]
    assert set(results) == {ScanResult.OK}
    assert scans.scan(db, ss, to_load[1].tracking_id, clerk).result is ScanResult.DUPLICATE
    assert scans.scan(db, ss, "CP123456789BD", clerk).result is ScanResult.BAD_ID
    assert scans.scan(db, ss, "CP000000005BD", clerk).result is ScanResult.UNKNOWN
    stranger = db.scalar(
        select(Parcel).where(
            Parcel.id.not_in([p.id for p in to_load]),
            Parcel.origin_office_id != first_load.office_id,
        )
    )
    assert stranger is not None
    assert scans.scan(db, ss, stranger.tracking_id, clerk).result is ScanResult.WRONG_OFFICE
    report = scans.close(db, ss, clerk)
    db.commit()
    assert [p.id for p in report.missing] == [to_load[0].id]
    assert {s.result for s in report.extra} == {
        ScanResult.BAD_ID,
        ScanResult.UNKNOWN,
        ScanResult.WRONG_OFFICE,
    }
    with pytest.raises(Conflict, match="closed"):
        scans.scan(db, ss, to_load[0].tracking_id, clerk)
    db.refresh(to_load[0])
    db.refresh(to_load[1])
    assert to_load[0].status is ParcelStatus.ACCEPTED  # stayed: waiting again for the next plan
    assert to_load[0] in dispatch.waiting_parcels(db)
    assert to_load[1].status is ParcelStatus.IN_TRANSIT
    assert [e.code for e in to_load[1].events][-1] == "EMC"
    # A published version some van was loaded from cannot be superseded.
    newer = run(db)
    with pytest.raises(Conflict, match="loaded"):
        publishing.publish(db, newer, None)

    # Arrival at the office the loaded parcel goes to.
    carried = to_load[1]
    drop = next(
        s
        for s in route.stops
        if any(sp.parcel_id == carried.id and sp.action is StopAction.DROP for sp in s.parcels)
    )
    receiver = clerk_at(db, drop.office_id)
    arrival = scans.open_session(db, sheet.code or "", drop.office_id, ScanKind.ARRIVAL, receiver)
    assert scans.scan(db, arrival, carried.tracking_id, receiver).result is ScanResult.OK
    db.commit()
    db.refresh(carried)
    assert carried.status is ParcelStatus.AT_DELIVERY_OFFICE
    assert [(e.code, e.office.code if e.office else None) for e in carried.events][-2:] == [
        ("EMC", first_load.office.code),
        ("EMG", drop.office.code),
    ]


def test_the_live_board_reads_done_due_late_and_skipped_from_the_scans(db: Session) -> None:
    plan = run(db)
    issued = publishing.publish(db, plan, None)
    db.commit()
    sheet = next(
        m
        for m in issued
        if m.kind is ManifestKind.ROUTE and m.route is not None and len(m.route.stops) >= 3
    )
    route = sheet.route
    assert route is not None
    before = route.stops[0].arrives_at - timedelta(hours=1)
    states = dict(
        (st.stop.seq, st.state)
        for r, sts in live.board(db, plan, before)
        if r.id == route.id
        for st in sts
    )
    assert set(states.values()) == {"due"}
    after = route.stops[-1].departs_at + timedelta(hours=1)
    assert {
        st.state for r, sts in live.board(db, plan, after) if r.id == route.id for st in sts
    } == {"late"}
    # Close every hand-over of the second stop only: it is done, the first skipped.
    second = route.stops[1]
    for action in {sp.action for sp in second.parcels}:
        kind = ScanKind.LOAD if action is StopAction.LOAD else ScanKind.ARRIVAL
        clerk = User(
            username=f"live.{kind.value}",
            full_name="x",
            role="clerk",
            office_id=second.office_id,
            password_hash="x",
        )
        db.add(clerk)
        db.flush()
        ss = scans.open_session(db, sheet.code or "", second.office_id, kind, clerk)
        scans.close(db, ss, clerk)
    db.commit()
    got = [st.state for r, sts in live.board(db, plan, before) if r.id == route.id for st in sts]
    assert got[:2] == ["skipped", "done"] and set(got[2:]) == {"due"}
