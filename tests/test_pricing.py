"""Price tables and quotes: per second, per video, by resolution tier, by a request field;
unknown stays unknown; the specs' own tables; what a gateway's answer says was charged."""

from __future__ import annotations

from typing import Any

import pytest

from vidpipe.errors import SpecError
from vidpipe.pricing import (
    QUOTA_PER_USD,
    Facts,
    PriceProblem,
    SpendRule,
    parse_spend,
    parse_table,
    problems,
    quote,
    request_facts,
)
from vidpipe.specs import default_registry, load_spec

TABLE: dict[str, Any] = {
    "per-second": {"per": "second", "usd": 0.1, "source": "list", "date": "2026-12-02"},
    "per-video": {"per": "video", "usd": 1.25, "source": "list"},
    "tiered": {
        "per": "second",
        "tiers": [
            {"when": {"resolution": "720p"}, "usd": 0.16},
            {"when": {"resolution": "1080p"}, "usd": 0.29},
        ],
        "source": "a reseller",
    },
    "audio": {
        "per": "second",
        "usd": 0.15,
        "tiers": [{"when": {"generate_audio": False}, "usd": 0.10}],
        "source": "list",
    },
}


def facts(seconds: float | None, size: str | None = None, **fields: Any) -> Facts:
    if size is not None:
        fields["size"] = size
    if seconds is not None:
        fields["seconds"] = seconds
    return request_facts(fields, duration_field="seconds", size_fields=("size",))


def test_per_second_multiplies_the_length() -> None:
    prices = parse_table(TABLE, "test")
    q = quote(prices["per-second"], facts(8))
    assert q.usd == 0.8
    assert q.units == 8
    assert q.quota == 0.8 * QUOTA_PER_USD
    assert q.price is not None and q.price.source == "list" and q.price.date == "2026-12-02"


def test_per_video_ignores_the_length() -> None:
    prices = parse_table(TABLE, "test")
    assert quote(prices["per-video"], facts(4)).usd == 1.25
    assert quote(prices["per-video"], facts(12)).usd == 1.25
    assert quote(prices["per-video"], facts(None)).usd == 1.25


@pytest.mark.parametrize(
    ("size", "usd"),
    [("1280x720", 0.64), ("720x1280", 0.64), ("1920x1080", 1.16), ("1080p", 1.16)],
)
def test_a_resolution_tier_picks_the_rate(size: str, usd: float) -> None:
    prices = parse_table(TABLE, "test")
    assert quote(prices["tiered"], facts(4, size)).usd == usd


def test_a_request_field_tier_picks_the_rate_else_the_base() -> None:
    prices = parse_table(TABLE, "test")
    assert quote(prices["audio"], facts(10, generate_audio=False)).usd == 1.0
    assert quote(prices["audio"], facts(10, generate_audio=True)).usd == 1.5
    assert quote(prices["audio"], facts(10)).usd == 1.5
    nested = request_facts(
        {"seconds": "10", "metadata": {"generate_audio": "false"}},
        duration_field="seconds",
        size_fields=(),
    )
    assert quote(prices["audio"], nested).usd == 1.0


def test_unknown_is_never_zero() -> None:
    prices = parse_table(TABLE, "test")
    none = quote(None, facts(4), model="seedance-fast")
    assert none.usd is None and none.quota is None and "seedance-fast" in none.why
    no_tier = quote(prices["tiered"], facts(4, "640x480"))
    assert no_tier.usd is None and "tier" in no_tier.why
    no_length = quote(prices["per-second"], facts(None))
    assert no_length.usd is None and "length" in no_length.why


def test_the_shots_of_an_unpriced_model_share_one_quote() -> None:
    # A run of thousands of unpriced shots holds one quote per model, not one per shot.
    first = quote(None, facts(4), model="seedance-fast")
    assert quote(None, facts(12, "1280x720"), model="seedance-fast") is first
    other = quote(None, facts(4), model="seedance-pro")
    assert other is not first and "seedance-pro" in other.why


def test_sums_of_float_prices_stay_exact() -> None:
    prices = parse_table(TABLE, "test")
    assert quote(prices["per-second"], facts(3)).usd == 0.3  # not 0.30000000000000004


def test_the_defaults_fill_in_what_a_request_leaves_out() -> None:
    got = request_facts(
        {"prompt": "x"}, duration_field="duration", size_fields=(), defaults={"duration": 5}
    )
    assert got.seconds == 5


@pytest.mark.parametrize(
    ("table", "where", "words"),
    [
        ({"m": {"per": "minute", "usd": 1, "source": "s"}}, ("m", "per"), "second, video"),
        ({"m": {"per": "second", "usd": -1, "source": "s"}}, ("m", "usd"), "0 or more"),
        ({"m": {"per": "second", "usd": "cheap", "source": "s"}}, ("m", "usd"), "number"),
        ({"m": {"per": "second", "source": "s"}}, ("m",), "usd, or tiers"),
        ({"m": {"per": "second", "usd": 1}}, ("m", "source"), "source"),
        ({"m": {"per": "second", "usd": 1, "source": "s", "cost": 2}}, ("m", "cost"), "unknown"),
        ({"m": {"per": "second", "usd": 1, "source": "s", "date": "May"}}, ("m", "date"), "date"),
        (
            {"m": {"per": "second", "tiers": [{"usd": 1}], "source": "s"}},
            ("m", "tiers", 0, "when"),
            "when",
        ),
        ({"m": 0.1}, ("m",), "mapping"),
    ],
)
def test_a_bad_price_names_where_it_is(
    table: dict[str, Any], where: tuple[str | int, ...], words: str
) -> None:
    found = list(problems(table))
    assert [p.path for p in found] == [where]
    assert words in found[0].message
    with pytest.raises(PriceProblem):
        parse_table(table, "test")


def test_the_shipped_specs_price_what_the_issue_lists() -> None:
    registry = default_registry()
    sora = registry["anyfast_sora"].prices["sora-2"]
    assert (sora.per, sora.usd) == ("second", 0.10)
    newapi = registry["newapi"].prices
    assert newapi["sora-2-pro"].usd == 0.30
    assert newapi["veo3.1"].usd == 0.40
    assert quote(newapi["veo3.1-fast"], facts(4, generate_audio=False)).usd == 0.4
    hh = registry["anyfast_happyhorse"].prices["happyhorse-1.0-i2v"]
    assert quote(hh, facts(5, "1080p")).usd == 1.45
    for spec in registry:
        for price in spec.prices.values():
            assert price.source and price.date, (spec.name, price.model)
    assert "seedance-fast" not in registry["anyfast_seedance"].prices


def test_a_spec_with_a_bad_price_does_not_load(tmp_path: Any) -> None:
    spec = default_registry()["anyfast_sora"]
    text = spec.path.read_text().replace("      per: second\n      usd: 0.10", "      per: hour")
    bad = tmp_path / "anyfast_sora.yaml"
    bad.write_text(text)
    with pytest.raises(SpecError, match=r"x-vidpipe\.prices\.sora-2\.per"):
        load_spec(bad)


def test_spend_is_read_where_the_spec_says() -> None:
    rule = parse_spend({"at": "data.quota", "per-usd": 500000})
    assert rule == SpendRule("data.quota", None, 500000.0)
    assert rule.read({"data": {"quota": 320000}}) == 0.64
    assert rule.read({"data": {"quota": "250000"}}) == 0.5
    assert rule.read({"data": {}}) is None
    assert rule.read({"data": {"quota": True}}) is None
    assert rule.read({"data": {"quota": -3}}) is None
    assert parse_spend(None) is None
    with pytest.raises(ValueError, match="per-usd"):
        parse_spend({"at": "x", "per-usd": 0})
    with pytest.raises(ValueError, match="header"):
        parse_spend({"at": "x", "header": "y"})
    with pytest.raises(ValueError, match="header"):
        parse_spend({"path": "x"})


def test_spend_is_read_from_a_header_where_the_spec_says() -> None:
    rule = parse_spend({"header": "x-usage-cost-usd"})
    assert rule is not None
    assert rule.read({"data": {"quota": 1}}, {"x-usage-cost-usd": "0.42"}) == 0.42
    assert rule.read({}, {}) is None
    assert rule.read({}, {"x-usage-cost-usd": "free"}) is None
