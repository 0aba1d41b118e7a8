"""The parcel tariff: weight slabs by zone, the COD fee and rounding, all in integer poisha."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from flask_babel import LazyString

from logistics.errors import ValidationError
from logistics.i18n import Money, Num, _l, in_language
from logistics.text import MAX_INT, whole_number


def _configured_cod_max_taka() -> int | None:
    """``DAKGHOR_COD_MAX_TAKA`` where it is a whole number of taka, else None."""
    return whole_number(os.environ.get("DAKGHOR_COD_MAX_TAKA", ""), MAX_INT // 100)


@dataclass(frozen=True)
class QuoteLine:
    label: LazyString  # from the catalogs, in the reader's language
    amount_poisha: int

    @property
    def label_en(self) -> str:
        return in_language("en", self.label)

    @property
    def label_bn(self) -> str:
        return in_language("bn", self.label)


@dataclass(frozen=True)
class Quote:
    """What a parcel costs: postage paid by the sender now, COD collected from the addressee."""

    tariff_version: str
    zone: str
    weight_g: int
    postage_poisha: int
    cod_amount_poisha: int
    cod_fee_poisha: int
    lines: tuple[QuoteLine, ...]

    @property
    def cod_to_collect_poisha(self) -> int:
        return self.cod_amount_poisha + self.cod_fee_poisha

    def as_dict(self) -> dict[str, Any]:
        return {
            "tariff_version": self.tariff_version,
            "zone": self.zone,
            "weight_g": self.weight_g,
            "postage_poisha": self.postage_poisha,
            "cod_amount_poisha": self.cod_amount_poisha,
            "cod_fee_poisha": self.cod_fee_poisha,
            "cod_to_collect_poisha": self.cod_to_collect_poisha,
            "lines": [
                {
                    "label_en": ln.label_en,
                    "label_bn": ln.label_bn,
                    "amount_poisha": ln.amount_poisha,
                }
                for ln in self.lines
            ],
        }


@dataclass(frozen=True)
class Tariff:
    data: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def service_indicator(self) -> str:
        return str(self.data["service_indicator"]["value"])

    @property
    def max_weight_g(self) -> int:
        return int(self.data["weight"]["max_g"])

    @property
    def max_cod_poisha(self) -> int:
        """The most a parcel's COD may be: ``DAKGHOR_COD_MAX_TAKA`` where set, else the tariff's
        (the Value Payable rule, Tk 1,000). Airtime's own caps are Bangladesh Bank's and apply
        only when a COD is paid by airtime (billing.caps, at the payment)."""
        taka = _configured_cod_max_taka()
        if taka is not None:
            return taka * 100
        return int(self.data["cod"]["max_amount_poisha"])

    @property
    def cod_limit_is_configured(self) -> bool:
        return _configured_cod_max_taka() is not None

    def return_fee(self, postage_poisha: int) -> int:
        """What the sender's account is charged for a parcel sent back (tariff "return")."""
        return self._round(
            postage_poisha * int(self.data["return"]["fee_percent_of_postage"]) // 100
        )

    def refunds_postage(self, reason: str) -> bool:
        """Whether postage paid from airtime is given back when a parcel returns for ``reason``."""
        return reason in self.data["return"]["refund_postage_reasons"]

    def _round(self, poisha: int) -> int:
        step = int(self.data["rounding"]["to_poisha"])
        return -(-poisha // step) * step

    def check_weight(self, weight_g: int) -> None:
        w = self.data["weight"]
        if weight_g < int(w["min_g"]):
            raise ValidationError({"weight_g": _l("The weight must be at least 1 gram.")})
        if weight_g > int(w["max_g"]):
            raise ValidationError(
                {
                    "weight_g": _l(
                        "%(g)s g is over the parcel limit of %(max)s g.",
                        g=Num(weight_g),
                        max=Num(int(w["max_g"])),
                    )
                }
            )

    def check_dimensions(self, dims_mm: tuple[int, int, int] | None) -> None:
        if dims_mm is None:
            return
        d = self.data["dimensions"]
        longest, a, b = sorted(dims_mm, reverse=True)
        if min(dims_mm) <= 0:
            raise ValidationError({"dimensions_mm": _l("Each side must be at least 1 mm.")})
        if longest > int(d["max_side_mm"]):
            raise ValidationError(
                {
                    "dimensions_mm": _l(
                        "The longest side may be at most %(mm)s mm.", mm=Num(int(d["max_side_mm"]))
                    )
                }
            )
        if longest + 2 * (a + b) > int(d["max_length_plus_girth_mm"]):
            raise ValidationError(
                {
                    "dimensions_mm": _l(
                        "Length plus girth may be at most %(mm)s mm.",
                        mm=Num(int(d["max_length_plus_girth_mm"])),
                    )
                }
            )

    def cod_fee(self, cod_amount_poisha: int) -> int:
        if cod_amount_poisha < 0:
            raise ValidationError(
                {"cod_amount_poisha": _l("The cash-on-delivery amount cannot be negative.")}
            )
        if cod_amount_poisha > self.max_cod_poisha:
            raise ValidationError(
                {
                    "cod_amount_poisha": _l(
                        "Cash on delivery is limited to %(max)s per parcel.",
                        max=Money(self.max_cod_poisha),
                    )
                    if self.cod_limit_is_configured
                    else _l(
                        "Cash on delivery is limited to %(max)s per parcel (Value Payable rule).",
                        max=Money(self.max_cod_poisha),
                    )
                }
            )
        c = self.data["cod"]
        steps = -(-cod_amount_poisha // int(c["step_poisha"]))
        return self._round(steps * int(c["fee_per_step_poisha"]))

    def quote(self, *, weight_g: int, zone: str, cod_amount_poisha: int = 0) -> Quote:
        """Price a parcel. Raises ValidationError naming the field for an impossible parcel."""
        self.check_weight(weight_g)
        try:
            z = self.data["zones"][zone]
        except KeyError:
            raise ValidationError(
                {"zone": _l("Unknown tariff zone %(zone)s.", zone=zone)}
            ) from None
        kg_started = -(-weight_g // 1000)
        lines = [
            QuoteLine(
                _l(
                    "Postage, %(kg)s kg at %(rate)s per kg",
                    kg=Num(kg_started),
                    rate=Money(int(z["per_started_kg_poisha"])),
                ),
                max(kg_started * int(z["per_started_kg_poisha"]), int(z["minimum_poisha"])),
            )
        ]
        if int(z.get("surcharge_poisha", 0)):
            lines.append(QuoteLine(_l("Suburban surcharge"), int(z["surcharge_poisha"])))
        postage = self._round(sum(ln.amount_poisha for ln in lines))
        cod_fee = self.cod_fee(cod_amount_poisha)
        return Quote(
            self.version, zone, weight_g, postage, cod_amount_poisha, cod_fee, tuple(lines)
        )


@lru_cache(maxsize=1)
def default_tariff() -> Tariff:
    text = resources.files("logistics").joinpath("data/tariffs.json").read_text(encoding="utf-8")
    return Tariff(json.loads(text))
