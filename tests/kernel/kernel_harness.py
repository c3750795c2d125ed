"""A real ipykernel driven over ZMQ (jupyter_client): execute cells, collect their outputs, interrupt them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import start_new_kernel

OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "execute_result", "error")


@dataclass
class Execution:
    """One executed cell: its reply and its IOPub outputs, in order."""

    reply: dict[str, Any]
    outputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.reply["status"])

    @property
    def ename(self) -> str | None:
        return self.reply.get("ename")

    @property
    def evalue(self) -> str:
        return str(self.reply.get("evalue", ""))

    def text(self, name: str = "stdout") -> str:
        return "".join(c["text"] for t, c in self.outputs if t == "stream" and c["name"] == name)

    def errors(self) -> list[dict[str, Any]]:
        return [c for t, c in self.outputs if t == "error"]

    def displays(self) -> list[dict[str, Any]]:
        """Displayed data as a notebook saves it: each display id's data after its last update."""
        shown: list[dict[str, Any]] = []
        by_id: dict[str, int] = {}
        for kind, content in self.outputs:
            display_id = (content.get("transient") or {}).get("display_id")
            if kind == "display_data":
                if display_id:
                    by_id[display_id] = len(shown)
                shown.append(dict(content["data"]))
            elif kind == "update_display_data" and display_id in by_id:
                shown[by_id[display_id]] = dict(content["data"])
        return shown

    def result(self) -> dict[str, Any] | None:
        return next((c["data"] for t, c in self.outputs if t == "execute_result"), None)


class Kernel:
    """A python3 kernel (this venv's ipykernel) with the test process's environment."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=60)

    def execute(self, code: str, *, timeout: float = 120.0, interrupt_on: str | None = None) -> Execution:
        """Run ``code``; with ``interrupt_on``, interrupt the kernel once that text appears on stdout."""
        msg_id = self.client.execute(code)
        execution = Execution({})
        deadline = time.monotonic() + timeout
        interrupted = False
        while True:
            msg = self.client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind in OUTPUT_TYPES:
                execution.outputs.append((kind, content))
            if interrupt_on and not interrupted and interrupt_on in execution.text():
                self.manager.interrupt_kernel()
                interrupted = True
        while True:
            reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                execution.reply = reply["content"]
                return execution

    def ok(self, code: str, **kwargs: Any) -> Execution:
        """Run ``code`` and fail the test with the kernel's traceback if it raised."""
        execution = self.execute(code, **kwargs)
        assert execution.status == "ok", "\n".join("\n".join(e["traceback"]) for e in execution.errors())
        return execution

    def json(self, expr: str) -> Any:
        """The value of ``expr`` in the kernel, through JSON."""
        out = self.ok(f"print('\\x00' + __import__('json').dumps({expr}))").text()
        return json.loads(out.rsplit("\x00", 1)[1])

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
