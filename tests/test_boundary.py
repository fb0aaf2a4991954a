"""The core never imports a platform SDK: every bot/ module imports with slack_bolt, slack_sdk and discord absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_importing_every_core_module_leaves_the_platform_sdks_out() -> None:
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "bot").rglob("*.py")
                     if p.stem != "__init__")
    assert "bot.app" in modules and len(modules) > 20
    code = (f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'slack_bolt', 'slack_sdk', 'discord'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
