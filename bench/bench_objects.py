"""What building a booking's parcel object costs: through the ORM's constructor (each of its
thirty attributes set with the ORM's attribute events) and through ``db.new_object`` (the
values put in its ``__dict__``, for ``write_new``, which reads nothing else), in one process,
alternated, medians of the rounds.

    .venv/bin/python bench/bench_objects.py [--rounds 7] [--number 5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logistics.db import new_object  # noqa: E402
from logistics.models import Office, Parcel, ParcelStatus, PaymentMethod, PaymentStatus  # noqa: E402


def values() -> dict[str, object]:
    """A merchant's booking as intake.create_parcel builds it."""
    return {
        "tracking_id": "CP123456785BD",
        "service": "CP",
        "status": ParcelStatus.BOOKED,
        "sender_name": "Demo Bazar",
        "sender_phone": "01711000001",
        "sender_address": "House 7, Dhanmondi",
        "recipient_name": "করিম শেখ",
        "recipient_phone": "01812345678",
        "recipient_address": "বাড়ি ২৩, রোড ১১, মোহাম্মদপুর, ঢাকা",
        "recipient_post_code": "1207",
        "recipient_area": "mohammadpur",
        "weight_g": 1200,
        "length_mm": None,
        "width_mm": None,
        "height_mm": None,
        "declared_value_poisha": 0,
        "cod_amount_poisha": 45000,
        "cod_fee_poisha": 900,
        "fee_poisha": 6000,
        "tariff_version": "2026-1",
        "payment_method": PaymentMethod.MERCHANT_ACCOUNT,
        "payment_status": PaymentStatus.INVOICED,
        "origin_office": Office(code="GPO"),
        "destination_office": Office(code="MOH"),
        "merchant": None,
        "merchant_reference": "ORDER-1",
        "created_by_user_id": 1,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--number", type=int, default=5000)
    args = ap.parse_args()
    kw = values()
    orm, plain = [], []
    for _ in range(args.rounds):
        orm.append(timeit.timeit(lambda: Parcel(**kw), number=args.number) / args.number)
        plain.append(
            timeit.timeit(lambda: new_object(Parcel, **kw), number=args.number) / args.number
        )
    a, b = statistics.median(orm) * 1e6, statistics.median(plain) * 1e6
    print(f"a booking's parcel object, median of {args.rounds} rounds of {args.number}:")
    print(f"  Parcel(**values) (the ORM's constructor)  {a:6.1f} µs")
    print(f"  db.new_object(Parcel, **values)          {b:6.1f} µs   ({a / b:.1f}x less)")


if __name__ == "__main__":
    main()
