"""The C modules do what the Python path does, or decline: the SDK hot path (``instrument/_speedups.c``)
queues the same records; the fold's helpers (``ledger/_columns.c``) give the same sums.

Every case sends the same canned body through the real openai SDK twice, once with the C ``settle``
and once with the Python stand-in, and compares the flat records each queued, then the events.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections import deque
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from support import payloads as p
from support.mock_http import Body, Canned, openai_client, sse

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.instrument import _fast
from tokentrail.ledger import _fast as _columns
from tokentrail.ledger.ledger import _sums
from tokentrail.runs.calls import start_call

LEDGER = tt.tracker().ledger
MSGS = [{"role": "user", "content": "Hi"}]
PLAIN = {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}
C_BUILT = _fast.SPEEDUPS is not None


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    ti.instrument()
    yield
    ti.uninstrument()


def test_the_c_hot_path_is_built_where_a_compiler_is() -> None:
    """`make install` compiles it (hatch_build.py); a missing build must not pass unnoticed."""
    compiler = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])
    if os.environ.get("TOKENTRAIL_NO_SPEEDUPS") or compiler is None:
        assert _fast.settle is _fast._python and _columns.one_group is _columns.no_group
    else:
        assert C_BUILT and _fast.settle is _fast.SPEEDUPS.settle
        assert _columns.COLUMNS is not None and _columns.one_group is _columns.COLUMNS.one_group


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_path_reads_calls_and_sdk_models_in_place() -> None:
    """Once openai is patched, the C path reads the Call's slots and pydantic models' dicts and slots
    directly (no attribute lookups): the parity tests below then run on that path."""
    tt.instrument()
    assert _fast.SPEEDUPS.direct() == (True, True)


class Spy:
    """Counts what ``settle`` handled, around the C function or the Python stand-in."""

    def __init__(self, settle: Any) -> None:
        self.settle, self.handled, self.declined = settle, 0, 0

    def __call__(self, call: Any, result: Any, *finish_reason: Any) -> bool:
        done: bool = self.settle(call, result, *finish_reason)
        if done:
            self.handled += 1
        else:
            self.declined += 1
        return done


def _send(monkeypatch: pytest.MonkeyPatch, settle: Any, body: dict[str, Any], kind: str) -> tuple[Spy, Any]:
    """One call through the SDK; (what settle did, the queued records and the events)."""
    spy = Spy(settle)
    monkeypatch.setattr(_fast, "settle", spy)
    client = openai_client(Canned(body, body))  # the first call only teaches _KINDS the result's type
    make = {
        "chat": lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MSGS),
        "completion": lambda: client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi"),
        "embedding": lambda: client.embeddings.create(model="text-embedding-3-small", input="Hi"),
    }[kind]
    make()
    spy.handled = spy.declined = 0
    tt.tracker().reset()
    with tt.track_usage("parity") as run:
        make()
        queued = [record for record, _ in LEDGER.pending]
        events = run.events
    return spy, (queued, events)


_SKIP = {0, 6, 7, 20, 21}  # the call's number, started, ended, its run's id and path: all two calls differ in
_SKIP_EVENT = {"id", "started_at", "ended_at", "run_id", "run_path"}


def _same(a: Any, b: Any) -> None:
    (queued_a, events_a), (queued_b, events_b) = a, b
    assert len(queued_a) == len(queued_b) and len(events_a) == len(events_b) == 1
    for ra, rb in zip(queued_a, queued_b):
        if type(ra) is tuple and type(rb) is tuple:
            assert [v for i, v in enumerate(ra) if i not in _SKIP] == [
                v for i, v in enumerate(rb) if i not in _SKIP
            ]
    ea, eb = events_a[0]._asdict(), events_b[0]._asdict()
    assert {k: v for k, v in ea.items() if k not in _SKIP_EVENT} == {
        k: v for k, v in eb.items() if k not in _SKIP_EVENT
    }


# fmt: off
CASES: dict[str, tuple[str, dict[str, Any], bool]] = {  # name: (operation, body, the C path takes it)
    "plain chat": ("chat", p.openai_chat(PLAIN, model="gpt-4o-mini-2024-07-18"), True),
    "cached and reasoning tokens": ("chat", p.openai_chat(p.REASONING_USAGE), True),
    "a cache write": ("chat", p.openai_chat({**PLAIN, "prompt_tokens_details": {
        "cached_tokens": 4, "cache_write_tokens": 3}}, model="gpt-4o"), True),
    "no choices": ("chat", {**p.openai_chat(PLAIN), "choices": []}, True),
    "no service tier": ("chat", {k: v for k, v in p.openai_chat(PLAIN).items() if k != "service_tier"}, True),
    "a legacy completion": ("completion", {
        "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct",
        "choices": [{"index": 0, "text": "Hi", "logprobs": None, "finish_reason": "length"}],
        "usage": PLAIN}, True),
    "an embedding": ("embedding", {
        "object": "list", "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "usage": {"prompt_tokens": 5, "total_tokens": 5}}, True),
    # declined: the Python path reads them (extras, odd counts, tools, several choices, no usage)
    "provider-reported cost": ("chat", p.openai_chat(p.OPENROUTER_USAGE), False),
    "a tool call": ("chat", p.openai_chat(PLAIN, tool="lookup"), False),
    "two choices": ("chat", p.openai_chat(PLAIN, n=2), False),
    "a numeric string (validated to an int)": ("chat", p.openai_chat({**PLAIN, "prompt_tokens": "12"}), True),
    "counts as strings": ("chat", p.openai_chat({**PLAIN, "prompt_tokens": "many"}), False),
    "a float count": ("chat", p.openai_chat({**PLAIN, "completion_tokens": 2.5}), False),
    "a negative count": ("chat", p.openai_chat({**PLAIN, "completion_tokens": -2}), False),
    "more cached than input": ("chat", p.openai_chat({**PLAIN, "prompt_tokens_details": {
        "cached_tokens": 13}}), False),
    "more reasoning than output": ("chat", p.openai_chat({**PLAIN, "completion_tokens_details": {
        "reasoning_tokens": 3}}), False),
    "a huge count": ("chat", p.openai_chat({**PLAIN, "prompt_tokens": 1 << 70}), False),
    "no usage": ("chat", {**p.openai_chat(PLAIN), "usage": None}, False),
}
# fmt: on


_ASKS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {  # name: (body fields, options fields)
    "nothing asked": ({}, {}),
    "the user's own stream options": ({"stream_options": {"include_obfuscation": False}}, {}),
    "the user asked for usage": ({"stream_options": {"include_usage": True}}, {}),
    "the user said no usage": ({"stream_options": {"include_usage": False}}, {}),
    "stream options set to None": ({"stream_options": None}, {}),
    "stream options in extra_body": ({}, {"extra_json": {"stream_options": {"include_usage": False}}}),
    "raw bytes asked": ({}, {"headers": {"X-Stainless-Raw-Response": "stream"}}),
    "not a dict body": (None, {}),  # type: ignore[dict-item]
}


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.parametrize("never", [False, True], ids=["auto", "never"])
@pytest.mark.parametrize("name", list(_ASKS))
def test_the_c_begin_asks_a_stream_for_usage_as_prepare_does(monkeypatch: pytest.MonkeyPatch, name: str,
                                                              never: bool) -> None:  # fmt: skip
    """The C begin does ``prepare``'s usual case; for the rest it changes nothing and ``prepare`` decides:
    either way the body sent and what the call remembers are the Python path's."""
    from openai._models import FinalRequestOptions

    from tokentrail.instrument import _call
    from tokentrail.instrument._config import configure
    from tokentrail.instrument.openai import ADAPTER

    client = openai_client(Canned(p.openai_chat(PLAIN)))
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # learns the base URL
    body, fields = _ASKS[name]
    configure(stream_usage="never" if never else "auto")
    try:
        sent = []
        for begin in (_call.begin, _call.begin_python):
            data = None if body is None else {"model": "gpt-4o-mini", "messages": MSGS, **body}
            options = FinalRequestOptions.construct(method="post", url="/chat/completions", json_data=data,
                                                    **fields)  # fmt: skip
            own = options.json_data
            call = begin(ADAPTER, client, options, True, False)
            out = ADAPTER.prepare(call, options) if not call.injected else options  # as the wrapper
            asked = call.asked  # (the options' fields, the user's own body), to put it back if refused
            assert asked is None or (asked[0] is options.__dict__ and asked[1] is own)
            sent.append((out.json_data, call.injected, asked is None))
        assert sent[0] == sent[1]
        injected = sent[0][1]
        assert injected is (not never and name in ("nothing asked", "the user's own stream options",
                                                   "stream options set to None"))  # fmt: skip
    finally:
        configure(stream_usage="auto")


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.parametrize("name", list(CASES))
def test_the_c_path_queues_what_the_python_path_queues(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    kind, body, taken = CASES[name]
    spy_c, by_c = _send(monkeypatch, _fast.SPEEDUPS.settle, body, kind)
    spy_py, by_py = _send(monkeypatch, _fast._python, body, kind)
    assert (spy_c.handled, spy_c.declined) == ((1, 0) if taken else (0, 1))
    assert spy_py.declined == 1
    _same(by_c, by_py)


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_path_leaves_calls_counted_at_once_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """A usage subscriber or a budget needs the event now: C declines, the event is built at once."""
    spy = Spy(_fast.SPEEDUPS.settle)
    monkeypatch.setattr(_fast, "settle", spy)
    client = openai_client(Canned(p.openai_chat(PLAIN, model="gpt-4o-mini")))
    seen: list[tt.UsageEvent] = []
    tt.configure(handlers=[seen.append])
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    with tt.track_usage(budget_tokens=10_000) as run:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert spy.handled == 0 and len(seen) == 3 and run.usage.input_tokens == 12


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.filterwarnings("ignore::tokentrail.BudgetWarning")
def test_the_switches_follow_every_subscriber_and_budget_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """C reads one switch where it read the tracker, the ledger and the hub: each change reaches it, and
    taking it back lets calls end in C again."""
    spy = Spy(_fast.SPEEDUPS.settle)
    monkeypatch.setattr(_fast, "settle", spy)
    client = openai_client(Canned(*[p.openai_chat(PLAIN, model="gpt-4o-mini")] * 9))
    switches, started, seen = LEDGER.switches, [], []

    def call() -> tuple[int, int]:
        before = spy.handled
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        return spy.handled - before, len(started)

    call()  # learns the result's type
    assert (switches.quiet_start, switches.quiet_end) == (True, True) and call() == (1, 0)
    sub = tt.on("call_start", started.append)
    assert (switches.quiet_start, switches.quiet_end) == (False, True)
    assert call() == (1, 1)  # started in Python (told), ended in C
    sub.remove()
    assert switches.quiet_start and call() == (1, 1)
    sub = tt.on("usage", seen.append)  # each event as it happens: Python builds it
    assert (switches.quiet_start, switches.quiet_end) == (True, False)
    assert call() == (0, 1) and len(seen) == 1
    sub.remove()
    batched = tt.on("usage", seen.append, batched=True)  # content with batches: C still queues
    assert switches.quiet_end and call() == (1, 1)
    batched.remove()
    tt.set_budget(tokens=10**6)  # the global budget counts every call as it ends
    assert (switches.quiet_start, switches.quiet_end) == (False, False)
    assert call() == (0, 1) and tt.tracker().global_budget is not None
    tt.set_budget()
    assert (switches.quiet_start, switches.quiet_end) == (True, True) and call() == (1, 1)
    LEDGER.fold_at = 2  # the ledger's limit is the switches' (C folds at it)
    assert switches.fold_at == 2
    call()
    assert len(LEDGER.pending) in (0, 1)
    LEDGER.fold_at = 256
    assert tt.tracker().usage.input_tokens == 12 * 9


def test_the_base_url_key_follows_plain_properties_only() -> None:
    """Where ``client._base_url`` ends in the instance dict, for each layout the SDKs have had; None where
    anything but ``return self.<name>`` stands in the way."""
    from tokentrail.instrument._client_url import base_url_key

    class Attribute:  # openai < 3.63: an instance attribute
        pass

    class Chained:  # openai >= 3.63: two properties in front of the attribute
        @property
        def _base_url(self) -> Any:
            return self.base_url

        @property
        def base_url(self) -> Any:
            return self._configured_base_url

        @base_url.setter
        def base_url(self, url: Any) -> None:
            self._configured_base_url = url

    class Delegated:  # openai >= 3.63: OpenAI.base_url imports a function that reads the attribute
        @property
        def _base_url(self) -> Any:
            return self.base_url

        @property
        def base_url(self) -> Any:
            from support.client_auth import reads_configured

            return reads_configured(self)

    class DelegatedComputed:
        @property
        def _base_url(self) -> Any:
            from support.client_auth import computes

            return computes(self)

    class Computed:
        @property
        def _base_url(self) -> Any:
            return str(self)

    class Slotted:
        __slots__ = ("_base_url",)

    assert base_url_key(Attribute) == "_base_url" and base_url_key(Chained) == "_configured_base_url"
    assert base_url_key(Delegated) == "_configured_base_url" and base_url_key(DelegatedComputed) is None
    assert base_url_key(Computed) is None and base_url_key(Slotted) is None
    for cls in (openai.OpenAI, openai.AsyncOpenAI):  # the installed SDK's layout (3.60 and 3.63 both found)
        client = cls(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
        key = base_url_key(cls)
        assert key is not None and client.__dict__[key] is client._base_url


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_begin_reads_the_base_url_where_getattr_finds_it() -> None:
    """C reads ``client._base_url`` from the instance dict at the key ``base_url_key`` gives, asked once
    per client type; a class attribute added later changes the type's version and is seen at once."""
    from openai._models import FinalRequestOptions

    from tokentrail.instrument import _call
    from tokentrail.instrument._client_url import base_url_key
    from tokentrail.instrument.openai import ADAPTER

    class Client(openai.OpenAI):  # a layout of its own, whatever the installed SDK's is
        @property
        def _base_url(self) -> Any:
            return self.plain_url

        @_base_url.setter
        def _base_url(self, url: Any) -> None:  # where openai < 3.63 sets it
            self.plain_url = url

    plain = Client.__dict__["_base_url"]
    client = Client(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    client.plain_url = httpx2.URL("http://127.0.0.1:9/v1/")
    other = httpx2.URL("http://127.0.0.2:9/v1/")

    def begun(begin: Any = _call.begin) -> Any:
        options = FinalRequestOptions.construct(method="post", url="/chat/completions",
                                                json_data={"model": "m", "messages": MSGS})  # fmt: skip
        return begin(ADAPTER, client, options, False, False)

    assert base_url_key(Client) == "plain_url"
    first = begun(_call.begin_python).base_url  # learns the endpoint: the C begin reads it from now on
    assert first == "http://127.0.0.1:9/v1" and begun().base_url == first
    Client._base_url = property(lambda self: other)  # computes: C must stop reading the dict
    try:
        assert base_url_key(Client) is None and client._base_url == other
        assert begun().base_url == "http://127.0.0.2:9/v1"
    finally:
        Client._base_url = plain
    assert begun().base_url == first


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_a_runs_usage_read_in_c_is_the_python_read() -> None:
    """``usage_of`` folds the queue first, then sums every model's token columns, exactly as
    ``Aggregates.usage``; an accumulator it cannot read in place goes to the Python method."""
    from tokentrail.ledger.aggregates import Aggregates, read_usage

    assert read_usage is _columns.COLUMNS.usage_of
    client = openai_client(Canned(*[p.openai_chat(PLAIN, model=m) for m in ("gpt-4o-mini", "gpt-4o") * 3]))
    with tt.track_usage() as run:
        assert read_usage(run.agg) == Aggregates.usage(run.agg) == tt.Usage()
        for k in range(6):
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
            queued = len(LEDGER.pending)
            c = read_usage(run.agg)  # folds what was queued
            assert queued > 0 and len(LEDGER.pending) == 0
            assert type(c) is tt.Usage and c == Aggregates.usage(run.agg) == tt.Usage(12 * k + 12, 2 * k + 2)
        tt.record("claude-3-5-haiku", 10**30, 1, provider="anthropic")  # a third model; a count past 64 bits
        assert read_usage(run.agg) == Aggregates.usage(run.agg) and run.usage.input_tokens == 72 + 10**30
        acc = next(iter(run.agg.models.values()))
        watched = [tt.Usage, run.agg, run.agg.models, acc, acc.input, acc.output, acc.reasoning]
        counts = [sys.getrefcount(o) for o in watched]
        for _ in range(100):
            read_usage(run.agg)
        assert [sys.getrefcount(o) for o in watched] == counts
        acc.cached = 2.0  # not an int: the Python method reads it (and says what it says)
        assert read_usage(run.agg) == Aggregates.usage(run.agg)
    assert read_usage(tt.tracker().ledger.session) == Aggregates.usage(tt.tracker().ledger.session)


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_what_c_queues_is_left_out_of_the_collectors_walks() -> None:
    """A queued record and its pair can be in no reference cycle: C hands them to the queue untracked, so
    no collection walks them while they wait or are kept; the run still counts the call."""
    import gc

    client = openai_client(Canned(*[p.openai_chat(PLAIN, model="gpt-4o-mini")] * 2))
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # learns the result's type
    LEDGER.fold()
    with tt.track_usage() as run:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        (pair,) = list(LEDGER.pending)
        assert type(pair[0]) is tuple and pair[1] == run.scopes
        assert not gc.is_tracked(pair) and not gc.is_tracked(pair[0])
        gc.collect()
        assert run.usage == tt.Usage(12, 2) and run.events[0].usage == tt.Usage(12, 2)


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_path_folds_at_the_ledgers_limit_and_counts_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LEDGER, "fold_at", 3)
    client = openai_client(Canned(p.openai_chat(PLAIN, model="gpt-4o-mini")))
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # learns the type
    LEDGER.fold()
    with tt.track_usage() as run:
        for i in range(7):
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
            assert len(LEDGER.pending) == (i + 1) % 3
        assert run.calls == 7 and run.usage == tt.Usage(84, 14)
    assert [e.finish_reason for e in run.events] == ["stop"] * 7


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_a_finished_call_is_not_settled_twice() -> None:
    result = openai.types.chat.ChatCompletion.model_validate(p.openai_chat(PLAIN, model="gpt-4o-mini"))
    handle = start_call("openai", "gpt-4o-mini")
    handle.finish(tt.Usage(1, 1))
    before = list(LEDGER.pending)
    assert _fast.SPEEDUPS.settle(handle, result) is True  # done already: nothing more to do
    assert list(LEDGER.pending) == before and [e.usage for e in tt.tracker().events] == [tt.Usage(1, 1)]


def _record(n: int, *, model: str = "gpt-4o-mini", cost: float | None = None, tokens: tuple[Any, ...] = (
        10, 5, 15, 2, 0, 1), started: float = 100.0) -> tuple[Any, ...]:  # fmt: skip
    """A call's flat record (ledger/records.py layout), plain raw usage."""
    ended = started + 0.25 * n
    return (n, "llm", "openai", model, "chat", "generate", started, ended, *tokens, cost, model + "-2024",
            False, "stop", (), None, "run-1", ("run-1",), None, 1, f"id-{n}", None, None)  # fmt: skip


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_the_folds_c_sums_are_the_python_sums_or_none() -> None:
    scopes = (object(),)
    one = [(_record(n), scopes) for n in range(1, 40)]
    assert _columns.COLUMNS.one_group(one) == _sums([r for r, _ in one])
    assert _columns.COLUMNS.one_group(one[:1]) == _sums([one[0][0]])
    for odd in (
        [*one, (_record(40, model="gpt-4o"), scopes)],  # another group
        [*one, (_record(40), (object(),))],  # other scopes
        [*one, (_record(40, cost=0.5), scopes)],  # a provider-reported cost
        [*one, (_record(40, tokens=(10, "5", 15, 2, 0, 1)), scopes)],  # not an int (Python sums it)
        [*one, (_record(40, tokens=(1 << 70, 5, 15, 2, 0, 1)), scopes)],  # too large for one pass
        [*one, (_record(40, started=1), scopes)],  # not a float
        [],
    ):
        assert _columns.COLUMNS.one_group(odd) is None


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_the_queue_sums_what_the_fold_would_sum_as_calls_are_queued() -> None:
    scopes = (object(),)
    one = [(_record(n), scopes) for n in range(1, 40)]
    same_name = "".join(["gpt-4o", "-mini"])  # equal, not the same object
    cases = [one, one[:1], [*one, (_record(40, model=same_name), scopes)]]
    cases += [
        [*one, (_record(40, model="gpt-4o"), scopes)],  # another group
        [*one, (_record(40), (object(),))],  # other scopes
        [*one, (_record(40, cost=0.5), scopes)],  # a provider-reported cost
        [*one, (_record(40, tokens=(10, "5", 15, 2, 0, 1)), scopes)],  # not an int
        [(_record(40, model="gpt-4o"), scopes), *one],  # another group first
        [*one, ("not a pair",)],
    ]  # fmt: skip
    for k, pairs in enumerate(cases):
        queue = _columns.COLUMNS.Queue()
        for pair in pairs:
            queue.append(pair)
        assert len(queue) == len(pairs) and list(queue) == pairs
        batch = _columns.COLUMNS.drain(queue)
        assert batch == pairs and isinstance(batch, list) and len(queue) == 0 and not queue
        walked = _columns.COLUMNS.one_group(list(pairs))  # the walk over the records
        assert _columns.COLUMNS.one_group(batch) == walked  # what the queue summed as they came
        assert walked == _sums([r for r, _ in pairs]) if k < 3 else walked is None
    queue = _columns.COLUMNS.Queue()
    queue.append(one[0])
    queue.clear()
    assert len(queue) == 0 and _columns.COLUMNS.drain(queue) == []


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_drain_takes_everything_queued_in_order_and_empties_the_queue() -> None:
    queue = deque(range(1000))
    assert _columns.COLUMNS.drain(queue) == list(range(1000)) and not queue
    assert _columns.COLUMNS.drain(queue) == [] == _columns.drain_queue(queue)


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_the_folds_c_add_flat_adds_what_the_accumulators_own_adds() -> None:
    from tokentrail.model import Accumulator, Usage
    from tokentrail.pricing import PRICES

    usage = Usage(1200, 340, cached_input_tokens=200, cache_write_tokens=100, reasoning_tokens=40)
    cost = PRICES.flat_cost("openai", "gpt-4o-mini", None, None, usage)
    assert cost is not None
    by_c, by_py = Accumulator(), Accumulator()
    for _ in range(3):
        _columns.COLUMNS.add_flat(by_c, 7, 1234.5, usage, cost)
        Accumulator.add_flat(by_py, 7, 1234.5, usage, cost)
    assert by_c.snapshot() == by_py.snapshot() and by_c.priced == by_py.priced == 21
    assert by_c.cost_cached == by_py.cost_cached and by_c.cost_cache_write == by_py.cost_cache_write
    watched = [usage, cost, *usage, *cost[:5], 7, 1234.5]
    before = [sys.getrefcount(o) for o in watched]
    for _ in range(100):
        _columns.COLUMNS.add_flat(by_c, 7, 1234.5, usage, cost)
    assert [sys.getrefcount(o) for o in watched] == before  # nothing leaked, nothing freed twice

    class Other(Accumulator):  # not the bound type: its own method runs
        __slots__ = ()

    other, one = Other(), Accumulator()
    _columns.COLUMNS.add_flat(other, 7, 1234.5, usage, cost)
    Accumulator.add_flat(one, 7, 1234.5, usage, cost)
    assert other.snapshot() == one.snapshot() and other.calls == 7


_ERROR = {"error": {"message": "bad model", "type": "invalid_request_error", "code": "nope"}}


def _failing(request: httpx2.Request) -> httpx2.Response:
    """A 400, a new response each time (one canned response object reused keeps a stream per request)."""
    return httpx2.Response(400, json=_ERROR)


def _error_and_frames(client: Any) -> tuple[Any, list[str]]:
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    except openai.APIStatusError as exc:
        tb, files = exc.__traceback__, []
        while tb is not None:
            files.append(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
        return exc, files
    raise AssertionError("no error raised")


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_request_wrapper_stands_where_the_sdks_request_was() -> None:
    from openai._base_client import SyncAPIClient

    from tokentrail.instrument import _wrap
    from tokentrail.instrument.openai import ADAPTER

    wrapper = SyncAPIClient.__dict__["request"]
    assert type(wrapper) is _fast.REQUEST and _fast.current_call() is None
    original = wrapper.__wrapped__
    assert wrapper.__name__ == original.__name__ == "request" and wrapper.__doc__ == original.__doc__
    client = openai_client(Canned(p.openai_chat(PLAIN)))
    assert client.request.__self__ is client and client.request.__func__ is wrapper  # bound like a function
    assert SyncAPIClient.request is wrapper
    with tt.track_usage() as run:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        assert len(LEDGER.pending) == 1 and run.usage.input_tokens == 12  # settled in C: queued, then folded
        seen: list[Any] = []
        real = _wrap.begin
        try:  # the wrapper calls begin as the module has it now (tests and benchmarks replace it)
            _wrap.begin = lambda *args: seen.append(args) or None  # type: ignore[assignment]
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        finally:
            _wrap.begin = real
        assert [(args[0], args[1], args[3], args[4]) for args in seen] == [(ADAPTER, client, False, False)]
    assert run.calls == 1  # the call begin declined was sent untouched and not recorded


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
async def test_the_async_wrapper_finishes_a_call_in_one_c_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_fast.finish`` is ``Call.succeeded`` for the async wrapper, without its Python frame: a parsed
    result read and queued in C (once its type is known), a raw response and a stream handed to the
    Python path, each counted once, the user's objects unchanged."""
    from tokentrail.instrument._call import Call

    chunks = p.openai_chunks(["Hel", "lo"], PLAIN)
    bodies = [p.openai_chat(PLAIN)] * 3 + [Body(sse(chunks))]
    client = openai_client(Canned(*bodies), is_async=True)
    spy, succeeded = Spy(_fast.SPEEDUPS.settle), Spy(Call.succeeded)
    monkeypatch.setattr(_fast, "settle", spy)  # C's finish calls what the module has, as Request does
    monkeypatch.setattr(Call, "succeeded", lambda call, result: succeeded(call, result) and result)
    async with client:
        with tt.track_usage() as run:
            first = await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # type learned
            spy.handled = spy.declined = 0
            got = await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
            assert (spy.handled, spy.declined) == (1, 0)  # the second, read and queued in C
            raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MSGS)
            parsed = raw.parse()  # (the legacy raw response parses synchronously)
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
            seen = [c async for c in stream]
    assert succeeded.handled + succeeded.declined == 0  # no Python ``succeeded`` on any path
    assert got.usage is not None and got.usage.total_tokens == 14 and parsed.usage == got.usage == first.usage
    assert len(seen) == len(chunks) - 1  # the usage chunk tokentrail asked for is hidden
    assert [(e.status, e.is_async, e.usage.total_tokens) for e in run.events] == [("ok", True, 14)] * 4


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_a_failure_through_the_c_wrapper_is_the_sdks_own_exception_with_its_own_traceback() -> None:
    from openai._base_client import SyncAPIClient

    def failing() -> Any:
        return openai_client(_failing)  # type: ignore[arg-type]

    ti.uninstrument()
    bare, bare_files = _error_and_frames(failing())
    ti.instrument()
    assert type(SyncAPIClient.__dict__["request"]) is _fast.REQUEST
    with tt.track_usage() as run:
        ours, files = _error_and_frames(failing())
    assert (type(ours), str(ours), ours.status_code, ours.body) == (type(bare), str(bare), 400, bare.body)
    assert files == bare_files  # the C wrapper adds no frame to what the user sees
    (event,) = run.events
    assert (event.status, event.error_type, event.usage_source) == ("error", "BadRequestError", "none")


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_c_reads_only_plain_instance_attributes_from_the_dict() -> None:
    from tokentrail.instrument import _call

    class Plain:
        def __init__(self) -> None:
            self.call_view = ("a", ("a",), (), False)

    class Shadowed(Plain):
        @property
        def call_view(self) -> tuple[Any, ...]:  # a descriptor of one of the names: never read past it
            return ("computed",)

    try:
        assert _fast.SPEEDUPS.bind_own((Plain, Shadowed), _call.OWN_NAMES) == 1
    finally:
        assert _call.bind_own() == len(_call.OWN_TYPES)  # tokentrail's own: all plain

    from tokentrail.ledger import Hub, Ledger
    from tokentrail.ledger.aggregates import NO_MODEL, Aggregates
    from tokentrail.pricing import PRICES

    class Computed(Ledger):
        @property
        def appended(self) -> int:  # the C fold reads the ledger's dict: a class that defines it is refused
            return 0

    with pytest.raises(TypeError, match="appended"):
        _columns.COLUMNS.bind_fold(Aggregates, Computed, Hub, PRICES, NO_MODEL, tt.Usage)
    _columns.COLUMNS.bind_fold(Aggregates, Ledger, Hub, PRICES, NO_MODEL, tt.Usage)  # as bound at import


def _fold_state(ledger: Any, scopes: tuple[Any, ...]) -> list[Any]:
    """Everything a fold changes: each scope's accumulators (every field, costs exactly), what it keeps
    (by identity, in order), its ``lazy`` count and set membership, and the ledger's count."""

    def accs(d: dict[Any, Any]) -> dict[Any, Any]:
        return {k: tuple(getattr(a, f) for f in type(a).__slots__) for k, a in d.items()}

    return [
        ledger.appended,
        *[(accs(s.models), accs(s.tools), list(map(id, s._events)), s.lazy, s in ledger._lazy)
          for s in (ledger.session, *scopes)],
    ]  # fmt: skip


def _batch(scopes: tuple[Any, ...], start: int, **kw: Any) -> list[Any]:
    return [(_record(n, **kw), scopes) for n in range(start, start + 25)]


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_the_c_fold_of_the_usual_batch_changes_what_the_python_fold_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tokentrail.ledger.aggregates import Aggregates
    from tokentrail.ledger.ledger import Ledger

    big = (123_457, 9_871, 133_328, 100_003, 7, 4_321)  # costs that round: the same arithmetic or not
    batches: list[dict[str, Any]] = [
        {}, {"tokens": big}, {"model": "gpt-4o"}, {"tokens": (3, 1, 4, 0, 0, 0)},
    ]  # fmt: skip
    states, in_c = [], []

    def counted(ledger: Any, items: list[Any]) -> bool:
        folded: bool = _columns.COLUMNS.fold_flat(ledger, items)
        in_c.append(folded)
        return folded

    for fold in (counted, _columns.no_fold):
        monkeypatch.setattr(_columns, "fold_flat", fold)
        ledger = Ledger()
        run, parent = Aggregates(None, ledger), Aggregates(None, ledger)
        scopes = (run, parent)
        for k, kw in enumerate(batches):
            for pair in _batch(scopes, 100 * k, **kw):
                ledger.pending.append(pair)
            ledger.fold()
        for pair in _batch(scopes, 900, model="gpt-4o-mini"):  # called inside a tool span
            ledger.pending.append(((*pair[0][:19], "search", *pair[0][20:]), scopes))
        ledger.fold()
        states.append((_fold_state(ledger, scopes), run.events, run.snapshot(), parent.by_tool()))
    (c_state, *c_read), (py_state, *py_read) = states
    assert c_state[0] == py_state[0] == 125 and c_read == py_read and len(c_read[0]) == 125
    assert c_read[2]["search"].calls == 25 and c_read[1].cost is not None
    assert in_c.count(True) >= 3  # the batches after the first of each model (its rates then cached)
    for by_c, by_py in zip(c_state[1:], py_state[1:]):
        assert by_c[0] == by_py[0] and by_c[1] == by_py[1] and by_c[3:] == by_py[3:]
        assert len(by_c[2]) == len(by_py[2]) == 125


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_fold_now_folds_as_ledger_fold_and_always_lets_go_of_the_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tokentrail.ledger.aggregates import Aggregates
    from tokentrail.ledger.ledger import Ledger

    class Owner:
        folds = 0

        def fold(self) -> None:
            self.folds += 1

    owner = Owner()
    _columns.fold_now(owner)  # not a ledger: its own fold
    assert owner.folds == 1
    ledger = Ledger()
    run = Aggregates(None, ledger)
    _columns.fold_now(ledger)  # nothing queued: nothing done
    for pair in _batch((run,), 1):
        ledger.pending.append(pair)
    assert run.usage() == tt.Usage(250, 125, cached_input_tokens=50, reasoning_tokens=25)
    assert not ledger.pending
    for pair in _batch((run,), 100, model="no-such-model-anywhere"):  # no rates: _fold_items, in Python
        ledger.pending.append(pair)

    def broken(items: Any) -> Any:
        raise RuntimeError("a bug in the fold")

    monkeypatch.setattr(ledger, "_fold_items", broken)
    with pytest.raises(RuntimeError, match="a bug in the fold"):
        _columns.fold_now(ledger)
    assert ledger._lock.acquire(blocking=False)  # released on the way out (an RLock: ours again here)
    ledger._lock.release()
    import threading

    taken: list[bool] = []

    def take() -> None:
        taken.append(ledger._lock.acquire(blocking=False))
        if taken[-1]:
            ledger._lock.release()

    other = threading.Thread(target=take)
    other.start()
    other.join()
    assert taken == [True]  # free for another thread too


@pytest.mark.skipif(_columns.COLUMNS is None, reason="the fold's C helpers were not built (no compiler)")
def test_the_c_fold_declines_what_it_does_not_fold_and_changes_nothing() -> None:
    from tokentrail.ledger.aggregates import Aggregates
    from tokentrail.ledger.ledger import Ledger
    from tokentrail.model import Accumulator
    from tokentrail.pricing import PRICES

    ledger = Ledger()
    run = Aggregates(None, ledger)
    scopes = (run,)
    usual = _batch(scopes, 1)
    PRICES.flat_cost("openai", "gpt-4o-mini", "gpt-4o-mini-2024", None, tt.Usage(1, 1))  # rates cached
    before = _fold_state(ledger, scopes)
    for odd in (
        [*usual, (_record(40, model="gpt-4o"), scopes)],  # two groups
        [*usual, (_record(40), (Aggregates(None, ledger),))],  # other scopes
        _batch(scopes, 1, model="no-such-model-anywhere"),  # no rates
        _batch((object(),), 1),  # not a scope
        [],
    ):
        assert _columns.COLUMNS.fold_flat(ledger, odd) is False
    ledger.extra = Accumulator()  # a global budget's counter: Python adds to it
    assert _columns.COLUMNS.fold_flat(ledger, usual) is False
    ledger.extra = None
    assert _fold_state(ledger, scopes) == before
    first = usual[0][0]
    watched = [run, ledger, ledger.session, scopes, first[3], first[15], first[24], *[r for r, _ in usual]]
    assert _columns.COLUMNS.fold_flat(ledger, usual) is True  # accumulators made, lazy counted
    counts = [sys.getrefcount(o) for o in watched]
    for _ in range(50):
        assert _columns.COLUMNS.fold_flat(ledger, usual) is True
    for _ in range(50 * len(usual)):  # what 50 folds kept, let go again
        ledger.session._events.pop()
        run._events.pop()
    assert [sys.getrefcount(o) for o in watched] == counts
    assert run.usage() == tt.Usage(10 * 25 * 51, 5 * 25 * 51, cached_input_tokens=2 * 25 * 51,
                                   reasoning_tokens=25 * 51)  # fmt: skip


def _slots(call: Any) -> dict[str, Any]:
    names = ("adapter", "base_url", "op", "stream", "injected", "run", "is_async", "done", "_tail")
    asked = call.asked if call.asked is None else call.asked[0]["json_data"]  # the body now sent
    return {**{n: getattr(call, n) for n in names}, "_head": call._head[:5], "asked": asked}  # not its start


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.parametrize("stream", [False, True])
def test_the_c_begin_starts_the_call_the_python_begin_starts(stream: bool) -> None:
    from openai._models import FinalRequestOptions

    from tokentrail.instrument import _call
    from tokentrail.instrument.openai import ADAPTER

    client = openai_client(Canned(p.openai_chat(PLAIN)))
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # learns the base URL

    def options() -> Any:
        body = {"model": "gpt-4o-mini", "messages": MSGS}
        return FinalRequestOptions.construct(method="post", url="/chat/completions", json_data=body)

    def python_begin(*args: Any) -> Any:  # the Python begin, then the wrapper's prepare (done by the C begin)
        call = _call.begin_python(*args)
        if args[3]:
            ADAPTER.prepare(call, args[2])
        return call

    with tt.track_usage("begin"), tt.context(agent="a"), tt.tool("search"):
        c, py = (
            _call.begin(ADAPTER, client, options(), stream, False),
            python_begin(ADAPTER, client, options(), stream, False),
        )
        assert type(c) is type(py) is _call.Call and c._n != py._n
        assert _slots(c) == _slots(py) and c._tail[3] is not None and c._tail[0] == "search"
        assert c.injected is stream  # a chat stream is asked for its usage
    c, py = (b(ADAPTER, client, options(), stream, True) for b in (_call.begin, python_begin))
    assert _slots(c) == _slots(py) and c.run is None  # outside any run
    options = options()
    for url in ("/models", "/chat/completions?api-version=1"):  # not an LLM call; a query: Python decides
        odd = FinalRequestOptions.construct(method="post", url=url, json_data={"model": "m"})
        c, py = (b(ADAPTER, client, odd, stream, False) for b in (_call.begin, _call.begin_python))
        assert (c is None) == (py is None) and (c is None or _slots(c) == _slots(py))


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.filterwarnings("ignore::tokentrail.BudgetWarning")
def test_the_c_begin_leaves_budgets_and_call_start_to_python() -> None:
    client = openai_client(Canned(p.openai_chat(PLAIN), p.openai_chat(PLAIN), p.openai_chat(PLAIN)))
    started: list[Any] = []
    tt.on("call_start", started.append)
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert len(started) == 1
    with tt.track_usage(budget_calls=1):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        with pytest.raises(tt.BudgetExceeded):
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
def test_the_c_functions_leave_reference_counts_as_they_found_them() -> None:
    """A missed or extra reference in C is a leak or a crash later: 200 rounds of each path, taken and
    declined, must leave the counts of what they touched where they were."""
    import gc

    from openai._models import FinalRequestOptions
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    from tokentrail.instrument import _call
    from tokentrail.instrument.openai import ADAPTER, _completion_fields

    speedups = _fast.SPEEDUPS
    handler = Canned(p.openai_chat(PLAIN))
    client = openai_client(handler)
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # learns the base URL
    results = [ChatCompletion.model_validate(p.openai_chat(usage)) for usage in (
        PLAIN, p.REASONING_USAGE, p.OPENROUTER_USAGE)] + [
        ChatCompletion.model_validate({**p.openai_chat(PLAIN), "usage": None}),
        ChatCompletion.model_validate(p.openai_chat(PLAIN, tool="t"))]  # fmt: skip
    options = FinalRequestOptions.construct(method="post", url="/chat/completions",
                                            json_data={"model": "gpt-4o-mini", "messages": MSGS})  # fmt: skip
    chunks = [ChatCompletionChunk.model_validate(c) for c in p.openai_chunks(["a", "b"], PLAIN)]
    odd = object()  # not an SDK chunk: the generic path
    stream = object()  # what the proxy forwards to (not touched here)
    failing = openai_client(_failing)  # type: ignore[arg-type]
    streamed = Canned(Body(sse(p.openai_chunks(["a", "b"], PLAIN))))
    streaming = openai_client(streamed)
    from openai._base_client import SyncAPIClient

    request = SyncAPIClient.__dict__["request"]
    watched = [None, True, False, odd, stream, options, client, *results, *chunks, results[0].usage,
               results[0].model, failing, request, ADAPTER, streaming]  # fmt: skip

    def rounds() -> None:
        for _ in range(200):
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)  # the C Request, then settle
            with pytest.raises(openai.BadRequestError):  # the C Request's failure path
                failing.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
            chunks_seen = streaming.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
            assert type(chunks_seen) is speedups.Proxy and len(list(chunks_seen)) == 4  # watched in C
            for result in results:
                call = _call.begin(ADAPTER, client, options, False, False)
                speedups.settle(call, result)
                call = _call.begin(ADAPTER, client, options, False, True)
                assert speedups.finish(call, result) is result and call.done  # the async wrapper's end
            call = _call.begin(ADAPTER, client, options, False, True)
            assert speedups.finish(call, odd) is odd  # not an SDK result: Python's read_result
            call = _call.begin(ADAPTER, client, options, True, False)
            assert speedups.settle(call, chunks[-1], "stop")  # a stream's end: its usage chunk
            call = _call.begin(ADAPTER, client, options, True, False)
            proxy = speedups.Proxy(stream, iter(chunks), call, True, speedups.settle)
            assert len(list(proxy)) == len(chunks) - 1 and call.done  # ended in C
            call = _call.begin(ADAPTER, client, options, True, False)
            proxy = speedups.Proxy(stream, iter(chunks), call, False, speedups.settle)
            next(proxy)
            del proxy  # collected mid-way: ended partial by Python
            assert call.done
            call = _call.begin(ADAPTER, client, options, True, False)
            proxy = speedups.Proxy(stream, iter([odd]), call, False, speedups.settle)
            assert list(proxy) == [odd] and call.done  # the generic relay, unwatched
            LEDGER.pending.clear()  # never folded: nothing kept between the two counts
            handler.requests.clear()
            streamed.requests.clear()
            tt.tracker().reset()  # the failed calls' events (kept: they were counted at once)

    _completion_fields(_call.begin(ADAPTER, client, options, True, False), chunks[-1])  # learns its layout
    rounds()  # caches filled (shapes, kinds, endpoints)
    gc.collect()
    before = [sys.getrefcount(o) for o in watched]
    rounds()
    gc.collect()
    assert [sys.getrefcount(o) for o in watched] == before
    with tt.track_usage() as run:  # a run's id, path, scopes and budgets read from its dict
        rounds()
        gc.collect()
        inside = [sys.getrefcount(o) for o in (*watched, run, run.id, run.path, run.scopes)]
        rounds()
        gc.collect()
        assert [sys.getrefcount(o) for o in (*watched, run, run.id, run.path, run.scopes)] == inside


_TEXT = p.openai_chunks(["a"], None)
STREAMS: dict[str, tuple[list[Any], bool, bool]] = {  # name: (chunks, the user asked for usage, C ends it)
    "usage chunk last, asked by tokentrail": (p.openai_chunks(["a", "b"], PLAIN), False, True),
    "usage chunk last, asked by the user": (p.openai_chunks(["a", "b"], PLAIN), True, True),
    "cached and reasoning tokens": (p.openai_chunks(["a"], p.REASONING_USAGE), False, True),
    "usage on the last content chunk": ([*_TEXT[:-1], {**_TEXT[-1], "usage": PLAIN}], False, True),
    "no usage came back": (p.openai_chunks(["a", "b"], None), False, False),
    "provider-reported cost": (p.openai_chunks(["a"], p.OPENROUTER_USAGE), False, False),
}


def _stream(monkeypatch: pytest.MonkeyPatch, settle: Any, chunks: list[Any], asked: bool) -> tuple[Spy, Any]:
    """One stream through the SDK: with the C settle, the C proxy; with the Python one, the Python proxy."""
    from tokentrail.instrument.openai import ADAPTER

    spy = Spy(settle)
    monkeypatch.setattr(_fast, "settle", spy)
    if settle is not _fast.SPEEDUPS.settle:  # the Python proxy and relay
        monkeypatch.setattr(ADAPTER, "c_stream_ops", frozenset())
    client = openai_client(Canned(Body(sse(chunks))))
    options: dict[str, Any] = {"stream_options": {"include_usage": True}} if asked else {}
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True, **options):
        pass  # the first teaches _flat the usage's layout
    spy.handled = spy.declined = 0
    tt.tracker().reset()
    with tt.track_usage("parity") as run:
        seen = [c.to_json() for c in client.chat.completions.create(
            model="gpt-4o-mini", messages=MSGS, stream=True, **options)]  # fmt: skip
        queued = [record for record, _ in LEDGER.pending]
        events = run.events
    return spy, (queued, events, seen)


@pytest.mark.skipif(not C_BUILT, reason="the C hot path was not built (no compiler)")
@pytest.mark.parametrize("name", list(STREAMS))
def test_a_streams_end_in_c_queues_what_the_python_end_queues(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    chunks, asked, taken = STREAMS[name]
    spy_c, (queued_c, events_c, seen_c) = _stream(monkeypatch, _fast.SPEEDUPS.settle, chunks, asked)
    spy_py, (queued_py, events_py, seen_py) = _stream(monkeypatch, _fast._python, chunks, asked)
    assert spy_c.handled == (1 if taken else 0) and spy_py.handled == 0
    assert seen_c == seen_py  # the user's chunks, as they dump
    _same((queued_c, events_c), (queued_py, events_py))
