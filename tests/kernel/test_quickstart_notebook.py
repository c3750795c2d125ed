"""The quickstart notebook executes headless (nbclient) on the embedded model; only its budget cell fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tokentrail.demo import LocalModel

pytestmark = [pytest.mark.kernel, pytest.mark.llm]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def text(cell: Any) -> str:
    """Everything a cell showed, as plain text (stream text and each output's text/plain)."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_the_quickstart_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    raising = [c for c in code if "raises-exception" in c.metadata.get("tags", [])]
    assert len(raising) == 1 and "--budget-usd" in raising[0].source


def test_the_quickstart_runs_headless(local_model: LocalModel) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    run_in = {"metadata": {"path": str(NOTEBOOK.parent)}}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources=run_in).execute()  # in memory only
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [
        (c.source.splitlines()[0], o.ename) for c in code for o in c.outputs if o.output_type == "error"
    ]
    assert errors == [("%%track_usage capped --budget-usd 0.00001", "BudgetExceeded")]
    by_source = {c.source.splitlines()[0]: c for c in code}
    tracked = by_source["%%track_usage quickstart --tag model=gemma3-270m"]
    final = [o for o in tracked.outputs if o.output_type == "display_data"]
    assert len(final) == 1 and "Run quickstart [done]  model=gemma3-270m" in final[0].data["text/plain"]
    assert "<b>Run quickstart</b> · done" in final[0].data["text/html"]  # the static copy is the final report
    assert "search" in final[0].data["text/plain"] and "n/a" not in final[0].data["text/plain"]
    assert "Usage(input_tokens=" in text(by_source["report = _"])
    numbers = text(by_source['print(report.cost.total, report.calls, report.to_dict()["total_tokens"])'])
    assert numbers.split()[1] == "3" and numbers.split()[-1] == "True"
    assert "quickstart" in text(by_source["%usage runs"])
    assert "spent $" in text(by_source["%%track_usage capped --budget-usd 0.00001"])
    assert "<Run 'capped' error: 1 calls" in text(by_source["tt.last_run()"])
