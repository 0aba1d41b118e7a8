"""Travel for Dhaka: distances from coordinates with a detour factor, time-of-day speeds, and
providers that plug in a real road matrix (a CSV file, or an OSRM ``table`` endpoint).

What is estimated, and from which figures (shared/reference/dhaka_travel.md):
* road distance = great-circle distance x detour factor; default 1.3 (the reference's
  assumption; urban literature ~1.2, Dhaka's rivers and one-ways make it higher);
* speeds by time of day (``DHAKA_SPEEDS_KMH``): peaks at 6 km/h (World Bank 2017: 7 km/h,
  BUET ARI 2022: 4.8 km/h), 10 km/h around midday and 15-25 km/h at night (NBER/TIME midnight
  trip ~18-29 km/h). No hour-by-hour curve was found; these bands are our assumption.
"""

from __future__ import annotations

import csv
import json
import math
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from routing.errors import FormatError, RoutingError
from routing.model import Location, TravelProfile

DETOUR_FACTOR = 1.3
# (from hh:mm, km/h): the speed a van makes from that time on.
DHAKA_SPEEDS_KMH: tuple[tuple[str, float], ...] = (
    ("00:00", 25.0),
    ("07:00", 12.0),
    ("08:00", 6.0),
    ("11:00", 10.0),
    ("14:00", 7.0),
    ("16:00", 6.0),
    ("20:00", 15.0),
    ("22:00", 25.0),
)


def hhmm(s: str) -> int:
    h, m = s.split(":")
    return int(h) * 3600 + int(m) * 60


def dhaka_profile(
    speeds: Sequence[tuple[str, float]] = DHAKA_SPEEDS_KMH,
) -> tuple[float, TravelProfile]:
    """The reference speed (100 %) and the profile of percentages that reproduces ``speeds``."""
    ref = max(v for _, v in speeds)
    return ref, TravelProfile(tuple((hhmm(t), round(100 * ref / v)) for t, v in speeds))


def haversine_m(a: Location, b: Location) -> float:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        raise RoutingError(f"location {a.id if a.lat is None else b.id} has no coordinates")
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


Matrix = tuple[tuple[int, ...], ...]


class MatrixProvider(Protocol):
    """Anything that turns locations into (distance_m, duration_s) at the profile's 100 %."""

    def matrices(self, locations: Sequence[Location]) -> tuple[Matrix, Matrix]: ...


@dataclass(frozen=True)
class CrowFlyProvider:
    """Great-circle distance x detour factor, driven at ``speed_kmh`` (the profile's 100 %)."""

    detour: float = DETOUR_FACTOR
    speed_kmh: float = 25.0

    def matrices(self, locations: Sequence[Location]) -> tuple[Matrix, Matrix]:
        dist = tuple(
            tuple(round(haversine_m(a, b) * self.detour) for b in locations) for a in locations
        )
        mps = self.speed_kmh / 3.6
        dur = tuple(tuple(round(d / mps) for d in row) for row in dist)
        return dist, dur


@dataclass(frozen=True)
class CsvMatrixProvider:
    """A road matrix from CSV files: header row of location ids, then one row per origin
    starting with its id. ``durations`` may be left out (then ``speed_kmh`` is used)."""

    distances: Path
    durations: Path | None = None
    speed_kmh: float = 25.0

    @staticmethod
    def _read(path: Path, ids: Sequence[str]) -> Matrix:
        try:
            rows = list(csv.reader(path.read_text().splitlines()))
            header = rows[0][1:]
            table = {
                r[0]: dict(zip(header, (int(float(x)) for x in r[1:]), strict=True))
                for r in rows[1:]
            }
            return tuple(tuple(table[a][b] for b in ids) for a in ids)
        except (IndexError, KeyError, ValueError) as e:
            raise FormatError(f"{path}: not a matrix over the problem's locations ({e})") from None

    def matrices(self, locations: Sequence[Location]) -> tuple[Matrix, Matrix]:
        ids = [loc.id for loc in locations]
        dist = self._read(self.distances, ids)
        if self.durations is not None:
            return dist, self._read(self.durations, ids)
        mps = self.speed_kmh / 3.6
        return dist, tuple(tuple(round(d / mps) for d in row) for row in dist)


@dataclass(frozen=True)
class OsrmTableProvider:
    """An OSRM server's ``/table/v1/driving`` with distance and duration annotations."""

    base_url: str
    timeout_s: float = 30.0

    def matrices(self, locations: Sequence[Location]) -> tuple[Matrix, Matrix]:
        coords = ";".join(f"{loc.lon:.6f},{loc.lat:.6f}" for loc in locations)
        url = f"{self.base_url.rstrip('/')}/table/v1/driving/{coords}?annotations=distance,duration"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310
                body = json.loads(resp.read())
        except (OSError, ValueError) as e:
            raise RoutingError(f"OSRM table request failed: {e}") from None
        if body.get("code") != "Ok":
            raise RoutingError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        dist = tuple(
            tuple(round(x if x is not None else 10**9) for x in row) for row in body["distances"]
        )
        dur = tuple(
            tuple(round(x if x is not None else 10**9) for x in row) for row in body["durations"]
        )
        return dist, dur
