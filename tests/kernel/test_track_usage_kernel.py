"""``%%track_usage`` in a real ipykernel, with the real SDKs calling the embedded model over loopback.

Each cell collects the usage the server returned (inside the kernel); the run must add up to exactly
that, and to the server's own token counters.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from kernel_harness import Kernel

from tokentrail.demo import LocalModel

pytestmark = [pytest.mark.kernel, pytest.mark.llm]

SETUP = r"""
%load_ext tokentrail
import asyncio, contextvars, threading
from concurrent.futures import ThreadPoolExecutor
import anthropic, openai
import tokentrail as tt
from tokentrail.demo.local_model import connect

MODEL, HI = "gemma3-270m", [{"role": "user", "content": "Say hi"}]
oa = openai.OpenAI(base_url=connect(), api_key="sk-local", max_retries=0, timeout=60)
aoa = openai.AsyncOpenAI(base_url=connect(), api_key="sk-local", max_retries=0, timeout=60)
an = anthropic.Anthropic(base_url=connect("anthropic"), api_key="sk-local", max_retries=0, timeout=60)
aan = anthropic.AsyncAnthropic(base_url=connect("anthropic"), api_key="sk-local", max_retries=0, timeout=60)
seen = []  # (input, output) tokens as the server reported them, one per call

def _anthropic_in(u):
    return u.input_tokens + (u.cache_read_input_tokens or 0) + (u.cache_creation_input_tokens or 0)

def chat(n=3):
    u = oa.chat.completions.create(model=MODEL, messages=HI, max_tokens=n).usage
    seen.append((u.prompt_tokens, u.completion_tokens))

def chat_stream(n=3):
    s = oa.chat.completions.create(model=MODEL, messages=HI, max_tokens=n, stream=True,
                                   stream_options={"include_usage": True})
    seen.extend((c.usage.prompt_tokens, c.usage.completion_tokens) for c in s if c.usage)

def message(n=3):
    u = an.messages.create(model=MODEL, messages=HI, max_tokens=n).usage
    seen.append((_anthropic_in(u), u.output_tokens))

def message_stream(n=3):
    inp = out = 0
    for ev in an.messages.create(model=MODEL, messages=HI, max_tokens=n, stream=True):
        if ev.type == "message_start":
            inp = _anthropic_in(ev.message.usage)
        elif ev.type == "message_delta":
            out = ev.usage.output_tokens
    seen.append((inp, out))

async def achat(n=3):
    u = (await aoa.chat.completions.create(model=MODEL, messages=HI, max_tokens=n)).usage
    seen.append((u.prompt_tokens, u.completion_tokens))
    return tt.current_run()

async def amessage(n=3):
    u = (await aan.messages.create(model=MODEL, messages=HI, max_tokens=n)).usage
    seen.append((_anthropic_in(u), u.output_tokens))

def sums(pairs):
    return [sum(p[0] for p in pairs), sum(p[1] for p in pairs)]

def tokens(run):
    return [run.usage.input_tokens, run.usage.output_tokens]
"""


@pytest.fixture(scope="module")
def k(kernel: Kernel) -> Kernel:
    kernel.ok(SETUP, timeout=180)
    return kernel


def server_tokens(model: LocalModel) -> tuple[float, float]:
    m = model.metrics()
    return m["prompt_tokens_total"] + m["prompt_tokens_cached_total"], m["tokens_predicted_total"]


def test_sdk_calls_add_up_to_the_server_usage(k: Kernel, local_model: LocalModel) -> None:
    before = server_tokens(local_model)
    cell = k.ok("%%track_usage mixed --tag arch=mem0 --tag seed=7\n"
                "seen.clear()\nchat()\nchat_stream()\nmessage()\nmessage_stream()\n'answer'")  # fmt: skip
    after = server_tokens(local_model)
    shown = cell.displays()
    assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" in shown[0]  # the live panel
    assert "Run mixed [done]  arch=mem0 seed=7" in shown[0]["text/plain"]  # the final report, as saved
    assert "<b>Run mixed</b> · done" in shown[0]["text/html"] and "arch=mem0" in shown[0]["text/html"]
    assert cell.result() == {"text/plain": "'answer'"}  # the body's value shows; the report is not doubled
    usage = k.json("[_.usage.input_tokens, _.usage.output_tokens, _.calls, _.to_dict()['total_tokens'], "
                   "sums(seen), tt.last_run() is _.run, _.run.name, _.run.tags]")  # fmt: skip
    assert usage[:2] == usage[4] and usage[2] == 4 and usage[3] == sum(usage[4])
    assert usage[5:] == [True, "mixed", {"arch": "mem0", "seed": "7"}]
    assert [after[0] - before[0], after[1] - before[1]] == usage[4]


def test_an_injected_stream_usage_is_hidden_and_counted(k: Kernel, local_model: LocalModel) -> None:
    before = server_tokens(local_model)
    cell = k.ok("%%track_usage hidden --no-panel\n"
                "s = oa.chat.completions.create(model=MODEL, messages=HI, max_tokens=4, stream=True)\n"
                "chunks = list(s)\n"
                "print(len(chunks) > 1, all(c.choices for c in chunks), any(c.usage for c in chunks))"
                )  # fmt: skip
    after = server_tokens(local_model)
    assert cell.text().split() == ["True", "True", "False"]  # the injected usage-only chunk is hidden
    (report,) = cell.displays()
    assert "Run hidden [done]" in report["text/plain"] and "<table" in report["text/html"]
    assert set(report) == {"text/plain", "text/html", "text/markdown"}
    assert k.json("tokens(tt.last_run())") == [after[0] - before[0], after[1] - before[1]]


def test_threads_belong_to_the_cell_that_started_them(k: Kernel) -> None:
    k.ok("go, go_u = threading.Event(), threading.Event()\n"
         "def late():\n    go.wait(30)\n    chat(2)\n"
         "def stranger():\n    go_u.wait(30)\n    chat(2)\n"
         "u = threading.Thread(target=stranger)\nu.start()")  # fmt: skip
    k.ok("%%track_usage threads --quiet\nseen.clear()\n"
         "with ThreadPoolExecutor(2) as pool:\n    list(pool.map(lambda n: chat(n), [2, 3]))\n"
         "t = threading.Thread(target=late)\nt.start()")  # fmt: skip
    k.ok("threads_run, threads_seen = tt.last_run(), list(seen)")
    k.ok("%%track_usage later --quiet\nseen.clear()\ngo.set(); t.join(60)\nlate_seen = seen.pop()\n"
         "go_u.set(); u.join(60)\nstranger_seen = seen.pop()\ncontextvars.Context().run(chat)")  # fmt: skip
    got = k.json("[threads_run.calls, tokens(threads_run), sums(threads_seen + [late_seen]), "
                 "tt.last_run().name, tt.last_run().calls, tokens(tt.last_run()), sums(seen), "
                 "[e.run_id for e in tt.tracker().events if e.usage.input_tokens == stranger_seen[0] "
                 "and e.usage.output_tokens == stranger_seen[1]][-1]]")  # fmt: skip
    assert got[0] == 3 and got[1] == got[2]  # the late thread's call joined its own cell's run
    assert got[3:6] == ["later", 1, got[6]]  # the empty-context call resolved to the executing cell
    assert got[7] is None  # a thread from an untracked cell is never attributed to a tracked one


def test_top_level_await(k: Kernel) -> None:
    cell = k.ok("%%track_usage awaited --quiet\nseen.clear()\nfirst = await achat()\n"
                "others = await asyncio.gather(achat(2), achat(4))\nawait amessage()")  # fmt: skip
    assert cell.displays() == []
    got = k.json("[first is _.run, all(r is _.run for r in others), _.calls, tokens(_.run), sums(seen)]")
    assert got[:3] == [True, True, 4] and got[3] == got[4]


def test_budget_stops_the_cell_at_the_next_call(k: Kernel) -> None:
    k.ok("tt.set_price(MODEL, input_per_mtok=1.0, output_per_mtok=2.0)")
    cell = k.execute("%%track_usage capped --budget-usd 0.000001 --no-panel\n"
                     "seen.clear()\nfor _i in range(5):\n    chat()\nafter = True")  # fmt: skip
    assert cell.status == "error" and cell.ename == "BudgetExceeded"
    assert "run 'capped': budget exceeded: spent $" in cell.evalue and "of a $1e-06 limit" in cell.evalue
    assert len(cell.errors()) == 1  # shown once, as a normal cell error
    assert "Run capped [error]" in cell.displays()[0]["text/plain"]
    got = k.json("[len(seen), tt.last_run().calls, tokens(tt.last_run()), sums(seen), "
                 "'after' in globals(), tt.last_run().status]")  # fmt: skip
    assert got[:2] == [1, 1] and got[2] == got[3] and got[4:] == [False, "error"]
    k.ok("tt.pricing.PRICES.clear_overrides()")


def test_a_bad_argument_runs_nothing(k: Kernel) -> None:
    runs = k.json("len(tt.tracker().runs())")
    cell = k.execute("%%track_usage --budget-usd nope --tag x=1\nran = True\nchat()")
    assert cell.status == "error" and cell.ename == "UsageError"
    assert "argument --budget-usd: expected a number of USD, got 'nope'" in cell.evalue
    assert "usage: %%track_usage [NAME]" in cell.text("stderr") and "Traceback" not in cell.text("stderr")
    assert k.json("['ran' in globals(), len(tt.tracker().runs())]") == [False, runs]


def test_interrupt_ends_the_run_with_the_calls_so_far(k: Kernel) -> None:
    cell = k.execute("%%track_usage stopped --no-panel\nseen.clear()\n"
                     "while True:\n    chat(8)\n    print('call done', flush=True)",
                     interrupt_on="call done")  # fmt: skip
    assert cell.status == "error" and cell.ename == "KeyboardInterrupt"
    assert "Run stopped [interrupted]" in cell.displays()[0]["text/plain"]
    got: list[Any] = k.json("[tt.last_run().status, len(seen), seen, "
                            "[[e.usage.input_tokens, e.usage.output_tokens] for e in tt.last_run().events "
                            "if e.status == 'ok'], tt.current_run()]")  # fmt: skip
    status, n_seen, seen, ok_events, current = got
    assert status == "interrupted" and n_seen >= 1 and current is None
    # every call the cell saw finish is in the run; at most one more finished as the interrupt landed
    assert not Counter(map(tuple, seen)) - Counter(map(tuple, ok_events)) and len(ok_events) - n_seen in (
        0,
        1,
    )


def test_interrupting_an_awaiting_cell(k: Kernel) -> None:
    cell = k.execute("%%track_usage astopped --quiet\nseen.clear()\n"
                     "while True:\n    await achat(8)\n    print('call done', flush=True)",
                     interrupt_on="call done")  # fmt: skip
    assert cell.status == "error" and cell.ename == "CancelledError"  # how ipykernel stops an await-cell
    got = k.json("[tt.last_run().name, tt.last_run().status, len(seen), "
                 "len([e for e in tt.last_run().events if e.status == 'ok']), tt.current_run()]")  # fmt: skip
    assert got[:2] == ["astopped", "interrupted"] and got[2] >= 1 and got[3] - got[2] in (0, 1)
    assert got[4] is None


def test_reloading_never_counts_twice(k: Kernel) -> None:
    before = k.json(
        "[len(tt.tracker().ledger.hub.subscriptions()), len(get_ipython().input_transformers_post)]"
    )
    k.ok("%reload_ext tokentrail\n%reload_ext tokentrail\n%load_ext tokentrail")
    k.ok("%%track_usage reloaded --quiet\nchat()")
    assert k.json("[tt.last_run().calls, len(tt.tracker().ledger.hub.subscriptions()), "
                  "len(get_ipython().input_transformers_post)]") == [1, *before]  # fmt: skip
    k.ok("%unload_ext tokentrail")
    state = k.json("[__import__('sys').modules['tokentrail.instrument'].is_instrumented(), "
                   "'track_usage' in get_ipython().magics_manager.magics['cell'], "
                   "tt.tracker().calls]")  # fmt: skip
    assert state[:2] == [False, False]
    k.ok("chat()")
    assert k.json("tt.tracker().calls") == state[2]  # nothing is patched any more
    k.ok("%load_ext tokentrail")
