"""The API's fast path: requests per second and p99 latency with wrk (8 connections), the API's
``POST /api/v1/parcels`` and ``GET /api/v1/track/<id>`` side by side with bare Flask endpoints
that parse the same body (bench/bare_api.py), all served by gunicorn with ``make run``'s
settings (gunicorn.conf.py), on SQLite and on PostgreSQL in one run.

    .venv/bin/python bench/bench_api.py [--seconds 5] [--rounds 3] [--connections 8]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Ratios (API ÷ bare) are what to compare across machines; the targets of the merchants' issue
are booking ≥ 0.2×, tracking ≥ 0.5× and p99 < 50 ms at 8 connections. Every booking is a real
parcel (S10 id, price, ledger, event); a run with any non-2xx answer is reported as such.
PostgreSQL is measured when --postgres answers (a throwaway database, dropped after).

Each run is taken with wrk's connections shared between gunicorn's workers (``ss`` shows
which worker holds which; a run in which one worker holds three more than another, such as
6/2, is run again, up to five times): which worker accepts a kept-alive connection is chance,
and a bare endpoint with all 8 on one of two workers ran at 1,768 req/s against 5,200 with
4/4. The CPU columns are the server's CPU time (master and workers, user and system) per
request, and their ratio (bare ÷ API) is the share of the bare endpoint's cost in the API's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.bench_merchants import _database, _drop, databases, postgres_option  # noqa: E402
from logistics.services import demo  # noqa: E402

BODY = {
    "origin_office": "GPO",
    "weight_g": 1200,
    "cod_amount_poisha": 45500,
    "sender": {"name": "Bench Shop", "phone": "01711000001", "address": "12 Motijheel, Dhaka"},
    "recipient": {
        "name": "রহিম উদ্দিন",
        "phone": "01812345678",
        "address": "বাড়ি ১২, রোড ৫, ধানমন্ডি, ঢাকা",
        "post_code": "1209",
    },
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", app],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(
                base + "/bare/track/x" if "bare" in app else base + "/api/v1/offices", timeout=1
            )
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start; see {log}")


def _cpu_s(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) gunicorn's master and workers have used so far."""
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wrk(
    url: str, seconds: int, connections: int, script: Path | None, server: subprocess.Popen[bytes]
) -> dict[str, Any]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    cpu = _cpu_s(server)
    proc = subprocess.Popen([*cmd, url], stdout=subprocess.PIPE, text=True)
    time.sleep(min(1.0, seconds / 3))
    split = _split(url, server)
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"wrk failed on {url}")
    cpu = _cpu_s(server) - cpu
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "errors": int(bad.group(1)) if bad else 0,
        "cpu_us": cpu / max(done, 1) * 1e6,
        "split": split,
    }


def _split(url: str, server: subprocess.Popen[bytes]) -> list[int]:
    """How many of wrk's connections each gunicorn worker holds, a worker with none counted as
    0 (``ss``; [] without it)."""
    port = url.split(":")[2].split("/")[0]
    if shutil.which("ss") is None:
        return []
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
    ).stdout
    held = Counter(re.findall(r"pid=(\d+)", out))
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    for pid in children.read_text().split() if children.exists() else []:
        held.setdefault(pid, 0)
    return sorted(held.values(), reverse=True)


def _balanced(
    url: str, seconds: int, connections: int, script: Path | None, server: subprocess.Popen[bytes]
) -> dict[str, Any]:
    """A wrk run in which gunicorn's workers share the connections (none holds more than two
    more than another: 4/4 or 5/3 of 8 on two workers, 2/2/2/2 to 3/2/2/1 on four): which
    worker accepts a kept-alive connection is chance, and with all 8 on one of two workers a
    bare endpoint runs at a third of its speed, so an unlucky run measures the draw, not the
    code. Up to five tries; the last is kept whatever its draw."""
    for _ in range(5):
        run = _wrk(url, seconds, connections, script, server)
        split = run["split"]
        if not split or len(split) > 1 and split[0] - split[-1] <= 2:
            break
    return run


def _lua(tmp: Path, name: str, method: str, body: dict[str, Any] | None) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = [==[{json.dumps(body, ensure_ascii=False)}]==]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines.append(f'wrk.headers["Authorization"] = "Bearer {demo.DEMO_MERCHANT_KEY}"')
    lines.append('wrk.headers["Accept-Language"] = "en"')
    path = tmp / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "cpu_us": statistics.median(r["cpu_us"] for r in runs),
    }


def run(name: str, url: str, seconds: int, connections: int, rounds: int) -> list[dict[str, Any]]:
    _database(url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = {
        **os.environ,
        "DAKGHOR_DATABASE_URL": url,
        "DAKGHOR_SECRET_KEY": "bench",
        "DAKGHOR_INSTANCE": str(tmp / "instance"),
        "DAKGHOR_API_RATE": "10000000/minute",  # the benchmark is one key; limits are tested
    }
    env.pop("DAKGHOR_DEMO", None)
    api, api_base = _serve("app:create_app()", env, tmp / "api.log")
    bare, bare_base = _serve("bench.bare_api:create_app()", env, tmp / "bare.log")
    rows = []
    try:
        req = urllib.request.Request(
            api_base + "/api/v1/parcels",
            data=json.dumps(BODY).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {demo.DEMO_MERCHANT_KEY}",
            },
        )
        tracking_id = json.load(urllib.request.urlopen(req, timeout=10))["tracking_id"]
        book = _lua(tmp, "book", "POST", BODY)
        get = _lua(tmp, "get", "GET", None)
        for what, bare_url, api_url, script in (
            ("booking", "/bare/parcels", "/api/v1/parcels", book),
            ("tracking", f"/bare/track/{tracking_id}", f"/api/v1/track/{tracking_id}", get),
        ):
            runs: dict[str, list[dict[str, Any]]] = {"bare": [], "api": []}
            for _ in range(rounds):  # alternated, so a noisy moment hits both sides
                runs["bare"].append(
                    _balanced(bare_base + bare_url, seconds, connections, script, bare)
                )
                runs["api"].append(_balanced(api_base + api_url, seconds, connections, script, api))
            rows.append(
                {"database": name, "call": what, **{k: _median(v) for k, v in runs.items()}}
            )
    finally:
        for p in (api, bare):
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=int, default=5, help="each wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="bare/API pairs; medians reported")
    ap.add_argument("--connections", type=int, default=8)
    postgres_option(ap)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    targets = databases("api.sqlite3", args.postgres)
    print(
        f"wrk, {args.connections} connections, {args.rounds} alternated rounds of "
        f"{args.seconds} s (medians); gunicorn.conf.py "
        f"(WORKERS={os.environ.get('WORKERS', '2')}, THREADS={os.environ.get('THREADS', '8')})"
    )
    print(
        f"{'database':<11} {'call':<9} {'bare req/s':>10} {'API req/s':>10} {'ratio':>6} "
        f"{'bare p99':>9} {'API p99':>9} {'bare CPU':>9} {'API CPU':>9} {'ratio':>6} {'non-2xx':>8}"
    )
    for name, url, admin in targets:
        try:
            for r in run(name, url, args.seconds, args.connections, args.rounds):
                b, a = r["bare"], r["api"]
                print(
                    f"{r['database']:<11} {r['call']:<9} {b['rps']:>10.0f} {a['rps']:>10.0f} "
                    f"{a['rps'] / b['rps']:>5.2f}x {b['p99_ms']:>7.1f}ms {a['p99_ms']:>7.1f}ms "
                    f"{b['cpu_us']:>7.0f}us {a['cpu_us']:>7.0f}us {b['cpu_us'] / a['cpu_us']:>5.2f}x "
                    f"{a['errors'] + b['errors']:>8}"
                )
        finally:
            if admin:
                _drop(admin, url)


if __name__ == "__main__":
    main()
