"""Benchmark formats in and out: every family reads, the CLI writes a .sol that the independent
checker in bench/ accepts, and bad files get a clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routing.__main__ import main
from routing.errors import FormatError
from routing.io.bench import read_instance, true_cost

ROOT = Path(__file__).resolve().parents[2]
VRP = ROOT.parent / "shared" / "bench" / "vrp"
needs_data = pytest.mark.skipif(
    not VRP.exists(), reason="shared/bench/vrp is not beside the project"
)


@needs_data
@pytest.mark.parametrize(
    ("rel", "customers", "vehicles", "kind"),
    [
        ("solomon/C101.txt", 100, 25, "services"),
        ("homberger/c1_2_1.txt", 200, 50, "services"),
        ("lilim/lc101.txt", 53, 25, "shipments"),
        ("cvrp/X-n101-k25.vrp", 100, 31, "services"),
    ],
)
def test_each_family_reads(rel: str, customers: int, vehicles: int, kind: str) -> None:
    p = read_instance(VRP / rel)
    assert len(getattr(p, kind)) == customers and len(p.vehicles) == vehicles


@needs_data
def test_bks_routes_reproduce_the_bks_cost_through_our_reader() -> None:
    p = read_instance(VRP / "solomon/C101.txt")
    routes = [
        [int(x) for x in ln.split(":")[1].split()]
        for ln in (VRP / "solomon/bks_sol/C101.sol").read_text().splitlines()
        if ln.startswith("Route")
    ]
    assert round(true_cost(p, routes), 1) == 827.3


@needs_data
@pytest.mark.parametrize("rel", ["solomon/C101.txt", "lilim/lc101.txt", "cvrp/X-n101-k25.vrp"])
def test_cli_writes_a_sol_the_independent_checker_accepts(rel: str, tmp_path: Path) -> None:
    out = tmp_path / "x.sol"
    code = main(["solve", str(VRP / rel), "--time-limit", "1", "--out", str(out), "--quiet"])
    assert code == 0
    assert out.read_text().splitlines()[-1].startswith("Cost ")
    chk = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "check_sol.py"), str(VRP / rel), str(out)],
        capture_output=True,
        text=True,
    )
    assert chk.returncode == 0, chk.stdout


def test_missing_or_garbled_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FormatError):
        read_instance(tmp_path / "nope.txt")
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME: x\n")
    with pytest.raises(FormatError):
        read_instance(bad)
    assert main(["solve", str(bad)]) == 2
    assert "error:" in capsys.readouterr().err


def test_plan_command_reads_native_json_and_reports_field_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    problem = {
        "locations": [{"id": "hub"}, {"id": "a"}, {"id": "b"}],
        "distance_m": [[0, 100, 200], [100, 0, 100], [200, 100, 0]],
        "vehicles": [{"id": "van1", "start": "hub", "capacity": [10], "shift": [0, 10000]}],
        "services": [
            {"id": "s1", "stop": {"location": "a"}, "amount": [1]},
            {"id": "s2", "stop": {"location": "b", "window": [0, 5000]}, "amount": [2]},
        ],
    }
    f = tmp_path / "p.json"
    f.write_text(json.dumps(problem))
    assert main(["plan", str(f), "--time-limit", "1", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["violations"] == [] and out["summary"]["distance_m"] == 400
    problem["vehicles"][0]["capacity"] = [-1]  # type: ignore[index]
    f.write_text(json.dumps(problem))
    assert main(["plan", str(f)]) == 2
    assert "vehicles[0].capacity" in capsys.readouterr().err
