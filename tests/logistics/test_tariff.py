"""The tariff: the gazette's Tk 10 per started kg, the suburban surcharge, the VP fee rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics.errors import ValidationError
from logistics.services.tariff import default_tariff

T = default_tariff()


@pytest.mark.parametrize(
    ("weight_g", "zone", "postage"),
    [
        (1, "city", 1000),
        (1000, "city", 1000),
        (1001, "city", 2000),
        (1200, "city", 2000),
        (20000, "city", 20000),
        (500, "suburb", 2000),
        (2500, "suburb", 4000),
    ],
)
def test_postage_by_started_kg_and_zone(weight_g: int, zone: str, postage: int) -> None:
    assert T.quote(weight_g=weight_g, zone=zone).postage_poisha == postage


def test_cod_fee_is_25_poisha_per_started_ten_taka() -> None:
    # The reference's worked example: Tk 455 -> 46 steps -> Tk 11.50; addressee pays Tk 466.50.
    q = T.quote(weight_g=1200, zone="city", cod_amount_poisha=45500)
    assert (q.cod_fee_poisha, q.cod_to_collect_poisha) == (1150, 46650)
    assert T.cod_fee(0) == 0
    assert T.cod_fee(1) == 25
    assert T.cod_fee(1000) == 25
    assert T.cod_fee(1001) == 50


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"weight_g": 0}, "weight_g"),
        ({"weight_g": 20001}, "weight_g"),
        ({"weight_g": 10, "cod_amount_poisha": 100001}, "cod_amount_poisha"),
        ({"weight_g": 10, "cod_amount_poisha": -1}, "cod_amount_poisha"),
        ({"weight_g": 10, "zone": "mars"}, "zone"),
    ],
)
def test_impossible_parcels_are_refused_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"zone": "city", **kwargs}
    with pytest.raises(ValidationError) as e:
        T.quote(**args)  # type: ignore[arg-type]
    assert field in e.value.errors


def test_dimensions_limits() -> None:
    T.check_dimensions((400, 300, 200))
    with pytest.raises(ValidationError):
        T.check_dimensions((1600, 10, 10))
    with pytest.raises(ValidationError):
        T.check_dimensions((1400, 500, 500))


@given(st.integers(1, 19_999), st.sampled_from(["city", "suburb"]), st.integers(0, 100_000))
def test_quote_is_integer_and_monotone_in_weight_and_cod(w: int, zone: str, cod: int) -> None:
    a = T.quote(weight_g=w, zone=zone, cod_amount_poisha=cod)
    b = T.quote(weight_g=w + 1, zone=zone, cod_amount_poisha=cod)
    assert isinstance(a.postage_poisha, int) and isinstance(a.cod_fee_poisha, int)
    assert b.postage_poisha >= a.postage_poisha
    assert a.postage_poisha % 25 == 0 and a.cod_fee_poisha % 25 == 0
    assert a.postage_poisha == sum(ln.amount_poisha for ln in a.lines)
