"""The three planning modes on a small Dhaka-like day, and the matrix providers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from routing import modes
from routing.errors import RoutingError
from routing.matrix import CrowFlyProvider, CsvMatrixProvider, OsrmTableProvider, dhaka_profile
from routing.model import Location, Problem
from routing.solver import SolveOptions, solve

HUB = modes.Site("MPC", 23.76395, 90.39172, "06:00", "22:00")
INTAKE = [modes.Site("GPO", 23.727644, 90.410567), modes.Site("MIR", 23.8042, 90.3667)]
DELIVERY = [
    modes.Site("MOH", 23.76639, 90.35863),
    modes.Site("KHG", 23.7508, 90.4264),
    modes.Site("DIL", 23.7333, 90.4181),
]
VANS = [modes.Van("V1", 1_000_000, 220), modes.Van("V2", 1_000_000, 220)]
DAY = [
    modes.Consignment("GPO", "MOH", 40_000, 30),
    modes.Consignment("MIR", "KHG", 25_000, 20),
    modes.Consignment("GPO", "DIL", 300_000, 240),
]  # more than one van: split in two
OPTS = SolveOptions(time_limit_s=2, max_solutions=100)


def test_van_day_routes_every_pair_with_pickups_first() -> None:
    p = modes.van_day(HUB, INTAKE, DELIVERY, VANS, DAY)
    assert len(p.shipments) == 4 and p.profile is not None
    plan = solve(p, OPTS)
    assert plan.check(p) == [] and not plan.unassigned


def plan_is_valid(p: Problem) -> bool:
    return solve(p, OPTS).check(p) == []


def test_an_office_that_takes_in_and_delivers_is_one_location() -> None:
    both = [*DELIVERY, INTAKE[1]]  # Mirpur also delivers
    day = [*DAY, modes.Consignment("GPO", "MIR", 10_000, 5)]
    p = modes.van_day(HUB, INTAKE, both, VANS, day)
    assert len(p.locations) == 1 + len(INTAKE) + len(DELIVERY)
    assert plan_is_valid(p)
    collect, deliver = modes.hub_and_spoke(HUB, INTAKE, both, VANS, day)
    assert len(collect.locations) == len(deliver.locations) == len(p.locations)


def test_packed_consignments_keep_their_ref_and_are_never_merged_or_split() -> None:
    packed = [
        modes.Consignment("GPO", "MOH", 40_000, 30, "a"),
        modes.Consignment("GPO", "MOH", 20_000, 10, "b"),
    ]
    p = modes.van_day(HUB, INTAKE, DELIVERY, VANS, packed)
    assert sorted(s.id for s in p.shipments) == ["a", "b"]
    with pytest.raises(ValueError, match="larger than any van"):
        modes.van_day(HUB, INTAKE, DELIVERY, VANS, [modes.Consignment("GPO", "MOH", 1, 221, "c")])
    with pytest.raises(ValueError, match="used twice"):
        modes.van_day(HUB, INTAKE, DELIVERY, VANS, [packed[0], packed[0]])


def test_hub_and_spoke_has_a_collection_and_a_delivery_problem() -> None:
    collect, deliver = modes.hub_and_spoke(HUB, INTAKE, DELIVERY, VANS, DAY)
    assert {s.id.split("#")[0] for s in collect.shipments} == {"GPO>HUB", "MIR>HUB"}
    assert all(v.max_reloads == 3 for v in deliver.vehicles)
    for p in (collect, deliver):
        plan = solve(p, OPTS)
        assert plan.check(p) == [] and not plan.unassigned


def test_last_mile_respects_customer_windows() -> None:
    homes = [
        modes.Home(f"H{k}", 23.766 + k * 0.001, 90.358 + k * 0.0007, ("10:00", "12:00"), 1000)
        for k in range(8)
    ]
    p = modes.last_mile(DELIVERY[0], homes, [modes.Van("R1", 50_000, 30)])
    plan = solve(p, OPTS)
    assert plan.check(p) == [] and not plan.unassigned
    for v in plan.routes[0].visits:
        if v.kind == "service":
            assert 10 * 3600 <= v.start_s <= 12 * 3600


def test_dhaka_profile_matches_the_documented_speeds() -> None:
    ref, prof = dhaka_profile()
    assert ref == 25.0
    assert prof.percent_at(9 * 3600) == round(100 * 25 / 6)  # morning peak 6 km/h
    assert prof.percent_at(3 * 3600) == 100


def test_crow_fly_applies_the_detour_factor() -> None:
    a, b = Location("a", 23.7, 90.4), Location("b", 23.8, 90.4)  # ~11.1 km apart
    dist, dur = CrowFlyProvider(detour=1.3, speed_kmh=25).matrices([a, b])
    assert 14_300 < dist[0][1] < 14_500 and dur[0][1] == round(dist[0][1] / (25 / 3.6))


def test_csv_matrix_provider(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text(",a,b\na,0,1500\nb,1600,0\n")
    dist, dur = CsvMatrixProvider(f, speed_kmh=36).matrices([Location("a"), Location("b")])
    assert dist == ((0, 1500), (1600, 0)) and dur[0][1] == 150
    with pytest.raises(RoutingError):
        CsvMatrixProvider(f).matrices([Location("a"), Location("zz")])


def test_osrm_table_provider_speaks_the_table_api() -> None:
    seen: list[str] = []

    class Osrm(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps(
                {
                    "code": "Ok",
                    "distances": [[0, 1234.4], [1300, 0]],
                    "durations": [[0, 200.6], [210, 0]],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Osrm)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        locs = [Location("a", 23.7, 90.4), Location("b", 23.8, 90.41)]
        dist, dur = OsrmTableProvider(f"http://127.0.0.1:{server.server_port}").matrices(locs)
    finally:
        server.shutdown()
        server.server_close()
    assert dist == ((0, 1234), (1300, 0)) and dur == ((0, 201), (210, 0))
    assert seen[0].startswith("/table/v1/driving/90.400000,23.700000;90.410000,23.800000")


def test_a_rider_works_only_within_its_own_shift() -> None:
    """A postman on a morning shift serves only morning windows; the afternoon goes to the
    postman whose shift covers it (each vehicle's own hours, else the day's)."""
    homes = [
        modes.Home(f"H{k}", 23.766 + k * 0.001, 90.358 + k * 0.0007, window, 1000)
        for k, window in enumerate([("09:00", "11:00")] * 3 + [("15:00", "17:00")] * 3)
    ]
    riders = [
        modes.Van("morning", 50_000, 30, shift=("08:30", "12:00")),
        modes.Van("afternoon", 50_000, 30, shift=("14:00", "17:30")),
    ]
    p = modes.last_mile(DELIVERY[0], homes, riders)
    assert p.vehicles[0].shift.end_s == 12 * 3600 and p.vehicles[1].shift.start_s == 14 * 3600
    plan = solve(p, OPTS)
    assert plan.check(p) == [] and not plan.unassigned
    served = {
        r.vehicle_id: sorted(v.job_id for v in r.visits if v.kind == "service" and v.job_id)
        for r in plan.routes
    }
    assert served == {"morning": ["H0", "H1", "H2"], "afternoon": ["H3", "H4", "H5"]}
