"""Costs computed by hand from the providers' published per-million rates equal ours."""

from __future__ import annotations

import warnings

import pytest

import tokentrail as tt
from tokentrail.model import Usage, normalize_usage
from tokentrail.pricing import PRICES, UnpricedModelWarning

M = 1_000_000

# (provider, model, usage, hand-computed USD); rates from the providers' price pages (= the table)
CASES = [
    # gpt-4o: $2.50 in, $1.25 cached, $10 out
    ("openai", "gpt-4o", Usage(1000, 500, cached_input_tokens=200), (800 * 2.5 + 200 * 1.25 + 500 * 10) / M),
    # gpt-4o-mini: $0.15 / $0.075 cached / $0.60; reasoning billed as output
    ("openai", "gpt-4o-mini", Usage(1200, 350, cached_input_tokens=400, reasoning_tokens=64),
     (800 * 0.15 + 400 * 0.075 + 350 * 0.6) / M),
    # o3-mini: $1.10 / $4.40, reasoning tokens are output tokens
    ("openai", "o3-mini", Usage(2000, 3000, reasoning_tokens=2500), (2000 * 1.1 + 3000 * 4.4) / M),
    # claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15 out
    ("anthropic", "claude-sonnet-4-5", Usage(8000, 400, cached_input_tokens=5000, cache_write_tokens=2000),
     (1000 * 3 + 5000 * 0.3 + 2000 * 3.75 + 400 * 15) / M),
    # claude-sonnet-4-5 past 200k input tokens: the long-context tier ($6 / $22.50) for the whole call
    ("anthropic", "claude-sonnet-4-5", Usage(250_000, 1000), (250_000 * 6 + 1000 * 22.5) / M),
    # claude-3-5-haiku: $0.80 in, $1 cache write, $4 out
    ("anthropic", "claude-3-5-haiku-latest", Usage(3000, 100, cache_write_tokens=1000),
     (2000 * 0.8 + 1000 * 1 + 100 * 4) / M),
    # gemini-2.5-pro past 200k: $2.50 in, $0.25 cached, $15 out (thoughts are output)
    ("google", "gemini-2.5-pro", Usage(300_000, 1500, cached_input_tokens=100_000, reasoning_tokens=500),
     (200_000 * 2.5 + 100_000 * 0.25 + 1500 * 15) / M),
    # gemini-2.5-flash: $0.30 in, $0.03 cached, $2.50 out
    ("google", "gemini-2.5-flash", Usage(10_000, 2000, cached_input_tokens=4000),
     (6000 * 0.3 + 4000 * 0.03 + 2000 * 2.5) / M),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "usage", "expected"), CASES)
def test_hand_computed_cost(provider: str, model: str, usage: Usage, expected: float) -> None:
    cost = PRICES.cost(model, provider, usage)
    assert cost is not None
    assert cost.total == pytest.approx(expected, rel=1e-12)
    assert cost.status == "priced"
    assert cost.price is not None and cost.price.source.startswith("genai-prices ")
    assert cost.input + cost.output + cost.cached_input + cost.cache_write == pytest.approx(cost.total)


@pytest.mark.parametrize(("provider", "model", "usage", "expected"), CASES)
def test_agrees_with_genai_prices_own_calculator(
    provider: str, model: str, usage: Usage, expected: float
) -> None:
    from genai_prices import Usage as GUsage
    from genai_prices import calc_price

    theirs = calc_price(
        GUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
               cache_read_tokens=usage.cached_input_tokens, cache_write_tokens=usage.cache_write_tokens),
        model, provider_id=provider,
    )  # fmt: skip
    assert float(theirs.total_price) == pytest.approx(expected, rel=1e-9)


def test_anthropic_raw_usage_end_to_end() -> None:
    raw = {"input_tokens": 1000, "cache_read_input_tokens": 5000, "cache_creation_input_tokens": 2000,
           "output_tokens": 400}  # fmt: skip
    event = tt.record_usage(raw, model="claude-sonnet-4-5", provider="anthropic")
    assert event.usage.input_tokens == 8000
    assert event.cost is not None
    assert event.cost.total == pytest.approx(0.018)
    assert event.cost.cache_write == pytest.approx(2000 * 3.75 / M)


def test_unknown_model_is_none_with_exactly_one_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = tt.record(model="my-private-model", provider="acme", input_tokens=10, output_tokens=5)
        second = tt.record(model="my-private-model", provider="acme", input_tokens=1, output_tokens=1)
    unpriced = [w for w in caught if issubclass(w.category, UnpricedModelWarning)]
    assert len(unpriced) == 1
    assert "tt.set_price('my-private-model'" in str(unpriced[0].message)
    assert first.cost is None and second.cost is None
    assert tt.tracker().cost is None
    assert tt.tracker().by_model()["my-private-model"].cost is None


def test_set_price_overrides_and_wins() -> None:
    price = tt.set_price("gpt-4o", input_per_mtok=1.0, output_per_mtok=2.0, cached_input_per_mtok=0.5)
    assert price.source == "user-override"
    cost = PRICES.cost("gpt-4o", "openai", Usage(1000, 1000, cached_input_tokens=500))
    assert cost is not None
    assert cost.total == pytest.approx((500 * 1 + 500 * 0.5 + 1000 * 2) / M)
    assert tt.price_for("gpt-4o", "openai") == price


def test_set_price_prices_a_local_model_and_reasoning_rate() -> None:
    tt.set_price("gemma3-270m", input_per_mtok=0.1, output_per_mtok=0.4, reasoning_per_mtok=0.8)
    cost = PRICES.cost("gemma3-270m", "openai", Usage(100, 50, reasoning_tokens=10))
    assert cost is not None
    assert cost.total == pytest.approx((100 * 0.1 + 40 * 0.4 + 10 * 0.8) / M)


def test_provider_reported_cost_wins_and_computed_is_kept() -> None:
    n = normalize_usage({"prompt_tokens": 1000, "completion_tokens": 100, "cost": 0.0123})
    cost = PRICES.cost("gpt-4o", "openrouter", n.usage, n.provider_cost)
    assert cost is not None
    assert cost.total == pytest.approx(0.0123)
    assert cost.source == "provider-reported"
    assert cost.computed_total == pytest.approx((1000 * 2.5 + 100 * 10) / M)
    # a model the table does not know still gets the provider's number
    unknown = PRICES.cost("some/new-model", "openrouter", n.usage, 0.5)
    assert unknown is not None and unknown.total == 0.5


@pytest.mark.parametrize("bad", [-1, "1", None, True])
def test_set_price_rejects_bad_rates(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="input_per_mtok"):
        tt.set_price("m", input_per_mtok=bad, output_per_mtok=1.0)  # type: ignore[arg-type]


def test_rates_are_resolved_once_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentrail.pricing import table

    calls: list[str] = []
    real = table.lookup

    def counting(provider: str | None, model: str) -> object:
        calls.append(model)
        return real(provider, model)

    monkeypatch.setattr(table, "lookup", counting)
    for _ in range(100):
        PRICES.cost("gpt-4.1", "openai", Usage(10, 10))
    assert calls == ["gpt-4.1"]


def test_service_tier_is_priced_where_the_table_knows_it() -> None:
    from tokentrail.runs import start_call

    usage = Usage(10_000, 1000, cached_input_tokens=2000)
    standard = start_call("openai", "gpt-5").finish(usage)
    flex = start_call("openai", "gpt-5").finish(usage, service_tier="flex")
    assert standard is not None and flex is not None and flex.service_tier == "flex"
    assert standard.cost is not None and flex.cost is not None
    assert standard.cost.total == pytest.approx((8000 * 1.25 + 2000 * 0.125 + 1000 * 10) / M)
    assert flex.cost.total == pytest.approx((8000 * 0.625 + 2000 * 0.0625 + 1000 * 5) / M)
    assert flex.cost.source.endswith("(flex)")


def test_unknown_service_tier_uses_standard_rates_and_says_so() -> None:
    with pytest.warns(UnpricedModelWarning, match="no 'flex' service-tier price for 'gpt-4o-mini'"):
        cost = PRICES.cost("gpt-4o-mini", "openai", Usage(1000, 0), service_tier="flex")
    assert cost is not None and cost.total == pytest.approx(1000 * 0.15 / M)


def test_a_call_is_priced_by_the_answering_model_and_overrides_apply_at_once() -> None:
    from tokentrail.runs import start_call

    usage = Usage(1_000_000, 0)
    dated = start_call("openai", "gpt-4o").finish(usage, response_model="gpt-4o-2024-05-13")
    plain = start_call("openai", "gpt-4o").finish(usage, response_model="gpt-4o")
    assert dated is not None and plain is not None and dated.cost is not None and plain.cost is not None
    assert dated.cost.price is not None and dated.cost.price.model != plain.cost.price.model  # type: ignore[union-attr]
    tt.set_price("gpt-4o-2024-05-13", input_per_mtok=1.0, output_per_mtok=2.0)
    again = start_call("openai", "gpt-4o").finish(usage, response_model="gpt-4o-2024-05-13")
    assert again is not None and again.cost is not None and again.cost.total == pytest.approx(1.0)
