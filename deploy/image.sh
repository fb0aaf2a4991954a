#!/usr/bin/env bash
# The container image's steps, in one script: the Dockerfile runs it, and so do the tests (tests/test_deploy.py),
# so what the image does is what CI checks. No Docker engine is needed to test it.
#
#   image.sh install [SRC]   install Rapport from the source folder SRC (default: this script's repository):
#                            install-deps, then install-rapport
#   image.sh install-deps [SRC]     every dependency from SRC/requirements.lock, hashes checked (pip
#                            --require-hashes: a package with another hash fails), and nothing else (--no-deps)
#   image.sh install-rapport [SRC]  Rapport itself with --no-deps, so nothing unpinned or unhashed slips in
#   image.sh check           the installed Rapport answers --version, every module of it imports, and the embedding
#                            model is in the image with the sha256 Rapport expects (located without importing
#                            its package)
#   image.sh install-fonts   Debian's fonts-noto-cjk (apt-get, as root): names in Chinese, Japanese and Korean are
#                            written in the pictures (bot/insight/drawing.py) instead of drawn as boxes
#   image.sh check-fonts     the installed Rapport draws with a font that writes those names (exit 1 if none)
#   image.sh start [ARGS]    exec `rapport run ARGS`: Rapport becomes the process that receives SIGTERM
#
# DRY_RUN=1 prints each command instead of running it. PYTHON picks the interpreter (default python3), RAPPORT
# the command (default: rapport beside that interpreter, else on PATH).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"

step() {
    if [ -n "${DRY_RUN:-}" ]; then
        printf '%q ' "$@"
        printf '\n'
    else
        "$@"
    fi
}

rapport_command() {
    if [ -n "${RAPPORT:-}" ]; then
        echo "$RAPPORT"
        return
    fi
    local beside
    beside="$(dirname "$(command -v "$PYTHON")")/rapport"
    if [ -x "$beside" ]; then echo "$beside"; else echo rapport; fi
}

case "${1:-}" in
    install | install-deps | install-rapport)
        src="${2:-$HERE/..}"
        # No pip cache in the image; no pip self-update check against the index during a build.
        export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
        if [ "$1" != install-rapport ]; then
            # --no-deps: exactly the lock, which leaves out what is installed but never used (pyproject.toml,
            # [tool.pip-tools]); pip would otherwise insist on tokenizers' download client.
            step "$PYTHON" -m pip install --require-hashes --no-deps -r "$src/requirements.lock"
        fi
        if [ "$1" != install-deps ]; then
            step "$PYTHON" -m pip install --no-deps "$src"
        fi
        ;;
    check)
        step "$(rapport_command)" --version
        # Every module of Rapport imports (the lock was installed with --no-deps: nothing it needs may be missing),
        # and EmbeddingMatcher() refuses a model whose sha256 is not the one pinned in bot/interests/similarity.py.
        step "$PYTHON" -c "$(cat <<'PY'
import importlib, pkgutil
for package in ("bot", "adapters", "storage"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(info.name)
from bot.interests.similarity import EmbeddingMatcher
print(EmbeddingMatcher().model_path)
from bot.graph.reply_model import shipped, word_vectors
assert shipped(True) and shipped(False) and word_vectors(), "the reply ranker or its word vectors are missing"
PY
)"
        ;;
    install-fonts)
        step apt-get update
        step apt-get install -y --no-install-recommends fonts-noto-cjk
        step rm -rf /var/lib/apt/lists/*
        ;;
    check-fonts)
        step "$PYTHON" -c "$(cat <<'PY'
import sys
from bot.insight.drawing import CJK_SAMPLES, font_families
families = font_families()
print(", ".join(families))
if len(families) == 1:
    sys.exit(f"no installed font writes {' '.join(CJK_SAMPLES)}: such names draw as boxes (image.sh install-fonts)")
PY
)"
        ;;
    start)
        shift
        if [ -n "${DRY_RUN:-}" ]; then
            step "$(rapport_command)" run "$@"
        else
            exec "$(rapport_command)" run "$@"
        fi
        ;;
    *)
        echo "usage: $0 install|install-deps|install-rapport [SRC] | install-fonts | check | check-fonts | start [ARGS]" >&2
        exit 2
        ;;
esac
