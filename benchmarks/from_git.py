"""Code as it was at an earlier commit, loaded from this repository's git history as a module of its own: the
baseline a benchmark measures against, never a copy that could drift from what that commit really ran."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_at(commit: str, path: str, name: str, renames: Mapping[str, str] | None = None) -> types.ModuleType:
    """`path` as of `commit`, imported as module `name`; `renames` rewrites its imports of modules that have moved
    since (a clone without that history cannot run the baseline: git says so)."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
                            capture_output=True, text=True, check=True).stdout
    for before, after in (renames or {}).items():
        source = source.replace(before, after)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module
