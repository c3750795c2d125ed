"""Build hook: compile tokentrail's optional C modules (the SDK hot path ``instrument/_speedups.c``, the
fold's ``ledger/_columns.c``) in place, with the interpreter's own compiler settings. Without a C
compiler (or with ``TOKENTRAIL_NO_SPEEDUPS=1``) the build goes on and tokentrail runs the same work in
pure Python."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCES = (Path("src/tokentrail/instrument/_speedups.c"), Path("src/tokentrail/ledger/_columns.c"))


def compile_extension(source: Path, target: Path) -> str | None:
    """Compile ``source`` into the extension module ``target``; None if it worked, else why not."""
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    # -ffp-contract=off: no fused multiply-adds, so C's cost arithmetic rounds as Python's does
    flags = ["-O2", "-ffp-contract=off", "-fPIC", "-shared", "-Wall"]
    command = [*cc, *flags, f"-I{include}", str(source), "-o", str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{exc}"
    return None if done.returncode == 0 else done.stderr.strip() or f"exit {done.returncode}"


class SpeedupsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Wheels (editable ones too) get each compiled module beside its source when a compiler works."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("TOKENTRAIL_NO_SPEEDUPS"):
            return
        root = Path(self.root)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        for source in SOURCES:
            target = root / source.with_suffix(suffix)
            failed = compile_extension(root / source, target)
            if failed is not None:
                print(f"tokentrail: {source.name} was not built ({failed}); its pure-Python path is used",
                      file=sys.stderr)  # fmt: skip
                continue
            if version != "editable":  # an editable install imports it from src/ as it is
                build_data["artifacts"].append(str(target.relative_to(root)))
                build_data["pure_python"] = False
                build_data["infer_tag"] = True
