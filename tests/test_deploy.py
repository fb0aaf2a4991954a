"""Deployment files: the image's steps (deploy/image.sh, which the Dockerfile runs), the hash-locked requirements,
the compose file and the systemd unit. No Docker engine runs here: what the image does is tested through the script.
"""

from __future__ import annotations

import ast
import asyncio
import configparser
import os
import re
import signal
import socket
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import aiohttp
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fonts import cjk_font_installed
from tests.slack.fake_slack import FakeSlack

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
IMAGE_SH = DEPLOY / "image.sh"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
UNUSED = {canonicalize_name(n) for n in PYPROJECT["tool"]["pip-tools"]["unsafe-package"]}
LOCK_ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)((?:\s*\\\s*--hash=sha256:[0-9a-f]{64})+)", re.MULTILINE)


def locked() -> dict[str, tuple[str, int]]:
    """requirements.lock: package -> (version, number of hashes)."""
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(m[1]): (m[2], m[3].count("--hash=")) for m in LOCK_ENTRY.finditer(text)}


def image_sh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Generous: `check` imports every module and loads the model, over a minute on a busy 2-core machine.
    return subprocess.run(["bash", str(IMAGE_SH), *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})


# --- requirements.lock ----------------------------------------------------------------------------------------


def test_the_lock_pins_every_runtime_dependency_at_pyprojects_version_with_hashes() -> None:
    lock = locked()
    assert lock and all(hashes >= 1 for _, hashes in lock.values()), "every entry carries its sha256 hashes"
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        (pinned,) = [s.version for s in requirement.specifier if s.operator == "=="]
        assert lock.get(canonicalize_name(requirement.name), ("missing",))[0] == pinned, requirement.name


def test_the_lock_covers_what_the_runtime_dependencies_need_in_turn() -> None:
    """The closure of the runtime dependencies (their extras, markers as on the image's Python) is all in the lock, so
    `pip install --require-hashes --no-deps -r requirements.lock` leaves nothing out, but for what pyproject's
    [tool.pip-tools] names as installed and never used (test_what_the_lock_leaves_out_is_never_imported).
    Test-only packages are not in it."""
    lock = locked()
    # The lock is made for the image's Python, 3.11, whatever Python runs this test (3.13 would add audioop-lts).
    environment: dict[str, str] = {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.0"}
    seen: set[str] = set()
    todo = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        if name in UNUSED:
            assert name not in lock
            continue
        assert name in lock, f"{requirement} is needed at run time and missing from requirements.lock"
        for needed in metadata.requires(requirement.name) or []:
            dependency = Requirement(needed)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({**environment, "extra": extra})
                                                for extra in extras):
                todo.append(dependency)
    assert "pytest" not in lock and "ruff" not in lock and "lightgbm" not in lock


def test_the_lock_is_made_with_the_pinned_tool() -> None:
    header = (ROOT / "requirements.lock").read_text().split("\n\n")[0]
    assert "pip-compile --generate-hashes" in header
    tool = PYPROJECT["project"]["optional-dependencies"]["lock"]
    assert tool == ["pip-tools==7.6.2"]
    text = (ROOT / "requirements.lock").read_text()
    for local in ("file://", "--find-links", "--index-url", "--extra-index-url"):
        assert local not in text  # no index or wheel folder of this machine's in the lock


def test_what_the_lock_leaves_out_is_never_imported() -> None:
    """Every module of Rapport imported, the embedding model loaded and the platform SDKs started up: none of the
    packages left out of the lock is in sys.modules (a fresh interpreter, so no other test's imports count)."""
    script = """
import asyncio, importlib, pkgutil, sys
from importlib import metadata
for package in ("bot", "adapters", "storage"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(info.name)
from bot.interests.vectors import shared_matcher
shared_matcher()
import slack_bolt.app.async_app, slack_sdk.web.async_client, discord, matplotlib.pyplot, psycopg, aiosqlite
from apscheduler.schedulers.asyncio import AsyncIOScheduler
distributions = metadata.packages_distributions()
print(sorted({d for name in sys.modules for d in distributions.get(name.split(".")[0], [])}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = {canonicalize_name(d) for d in ast.literal_eval(done.stdout.strip().splitlines()[-1])}
    assert "tokenizers" in imported and "onnxruntime" in imported  # the check saw the model load
    assert not imported & UNUSED, f"left out of requirements.lock but imported: {sorted(imported & UNUSED)}"


# --- deploy/image.sh --------------------------------------------------------------------------------------------


def test_the_install_step_is_the_hash_checked_lock_then_rapport_alone() -> None:
    """What `image.sh install` runs, printed (DRY_RUN): the lock with --require-hashes --no-deps, then Rapport with
    --no-deps.

    Covered: the commands and their order, and that the Dockerfile's two halves (install-deps, install-rapport) add
    up to the same. Not covered here: running them, which would reinstall every dependency (minutes; CI installs
    them anyway, from pyproject). That the lock is complete and hashed is tested above, from the file; that the
    installed package holds the model and its pinned hash is test_the_check_step_finds_the_version_and_the_model."""
    both = image_sh("install", "/src", DRY_RUN="1", PYTHON="python3")
    assert both.returncode == 0, both.stderr
    assert both.stdout.splitlines() == [
        "python3 -m pip install --require-hashes --no-deps -r /src/requirements.lock ",
        "python3 -m pip install --no-deps /src ",
    ]
    halves = [image_sh(step, "/src", DRY_RUN="1", PYTHON="python3").stdout
              for step in ("install-deps", "install-rapport")]
    assert "".join(halves) == both.stdout
    assert image_sh("frobnicate").returncode == 2


def test_the_check_step_finds_the_version_and_the_model() -> None:
    """`image.sh check`, for real, on this installation: what the Dockerfile runs after installing."""
    checked = image_sh("check", PYTHON=sys.executable)
    assert checked.returncode == 0, checked.stderr
    version, model = checked.stdout.splitlines()[-2:]
    assert version.strip().endswith(PYPROJECT["project"]["version"])
    assert model.endswith("model.onnx")


def test_the_image_installs_a_cjk_font_and_checks_the_pictures_use_it() -> None:
    """`image.sh install-fonts` (printed: it runs apt-get as root) and `check-fonts`, for real: it passes exactly
    when this machine has a font that writes Chinese, found as the pictures find it."""
    printed = image_sh("install-fonts", DRY_RUN="1").stdout.splitlines()
    assert printed[:2] == ["apt-get update ", "apt-get install -y --no-install-recommends fonts-noto-cjk "]
    checked = image_sh("check-fonts", PYTHON=sys.executable)
    if cjk_font_installed():
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.strip().startswith("DejaVu Sans, "), checked.stdout  # and a font to fall back on
    else:
        assert checked.returncode == 1 and "no installed font writes" in checked.stderr, checked.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_start_step_serves_health_and_readiness_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`image.sh start`, as the image's command, on SQLite in a temp folder (its working directory, as the image's
    volume), against the local fake Slack: /healthz and /readyz answer, and SIGTERM ends it with status 0."""
    fake = FakeSlack().start()
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SLACK_", "DISCORD_", "RAPPORT_"))}
    env.update(PYTHON=sys.executable, RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'rapport.db'}",
               RAPPORT_ENV="production", RAPPORT_SECRET_KEY="deploy-test", RAPPORT_HOST="127.0.0.1",
               RAPPORT_PORT=str(port), RAPPORT_LOG_LEVEL="WARNING", SLACK_BOT_TOKEN=fake.install("T0IMAGE"),
               SLACK_SIGNING_SECRET="s" * 32, RAPPORT_SLACK_API_URL=fake.url)
    process = await asyncio.create_subprocess_exec("bash", str(IMAGE_SH), "start", env=env, cwd=tmp_path,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                        assert health.status == 200
                        break
                except aiohttp.ClientError:
                    assert process.returncode is None, "rapport run ended before it served"
                    await asyncio.sleep(0.05)
            async with session.get(f"http://127.0.0.1:{port}/readyz") as ready:
                assert ready.status == 200 and (await ready.json())["ready"] is True
        process.send_signal(signal.SIGTERM)  # to the script's process: `exec` made it rapport itself
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        fake.stop()
    assert process.returncode == 0, err.decode()
    assert (tmp_path / "rapport.db").exists()


# --- Dockerfile, compose, systemd -------------------------------------------------------------------------------


def test_the_image_health_check_asks_the_port_rapport_listens_on(tmp_path: Path) -> None:
    """The HEALTHCHECK's command, run as Docker runs it, against a server on RAPPORT_PORT: a port other than the
    default must not make a healthy container 'unhealthy'."""
    import http.server
    import json
    import threading

    text = (DEPLOY / "Dockerfile").read_text()
    command = json.loads(re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", text)[1])  # type: ignore[index]
    seen: list[str] = []

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "RAPPORT_PORT": str(server.server_address[1])}
        done = subprocess.run([sys.executable, *command[1:]], env=env, timeout=20, check=False)
    finally:
        server.shutdown()
    assert done.returncode == 0 and seen == ["/healthz"]


def test_the_dockerfile_runs_the_script_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    instructions = [line.split()[0] for line in lines if line.split()[0].isupper()]
    runs = [line for line in lines if line.startswith("RUN ")]
    assert any("image.sh install-deps" in r for r in runs) and any("image.sh install-rapport" in r for r in runs)
    assert any("image.sh check" in r for r in runs)
    fonts = next(i for i, r in enumerate(runs) if "image.sh install-fonts" in r)
    assert fonts < next(i for i, r in enumerate(runs) if "image.sh install-rapport" in r)
    assert any("image.sh check-fonts" in r for r in runs[fonts + 1:])
    (user,) = [line for line in lines if line.startswith("USER ")]
    assert user.split()[1] not in ("root", "0")
    assert instructions.index("USER") > max(i for i, name in enumerate(instructions) if name == "RUN")
    assert lines[-1] == 'CMD ["/opt/rapport/deploy/image.sh", "start"]'
    python = re.search(r"^FROM python:(\d+\.\d+)", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    assert python and python[1] == "3.11"
    for line in lines:  # every file the image copies is in the repository
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_compose_runs_rapport_beside_postgresql() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    rapport, db = compose["services"]["rapport"], compose["services"]["db"]
    assert (DEPLOY / compose["services"]["rapport"]["build"]["context"] / rapport["build"]["dockerfile"]).exists()
    assert rapport["environment"]["RAPPORT_DATABASE_URL"].startswith("postgresql://")
    assert "@db:" in rapport["environment"]["RAPPORT_DATABASE_URL"]
    assert rapport["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert db["image"].startswith("postgres:")
    assert int(rapport["stop_grace_period"].removesuffix("s")) >= 25  # rapport run drains for up to 20 s
    assert any(v.endswith(":/var/lib/rapport") for v in rapport["volumes"])


def test_the_systemd_unit_runs_rapport_unprivileged_and_gives_it_time_to_drain() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "rapport.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("/rapport run")
    assert service["User"] not in ("root", "0") and service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 25
    assert service["NoNewPrivileges"] == "yes" and service["ReadWritePaths"] == service["WorkingDirectory"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_install_steps_work_on_a_machine_without_rapport(tmp_path: Path) -> None:
    """The install steps at the unit's top, run as written with the system paths moved under tmp_path (no root here):
    the settings file goes into /etc/rapport, which no earlier step makes."""
    steps = [line.removeprefix("#").strip() for line in (DEPLOY / "rapport.service").read_text().splitlines()
             if line.startswith("#   ")]
    placed = next(step for step in steps if step.startswith("install ") and "/etc/rapport/rapport.env" in step)
    env_file = tmp_path / ".env"
    env_file.write_text("RAPPORT_ENV=production\n")
    command = placed.replace("/etc/rapport", str(tmp_path / "etc" / "rapport")).replace(" .env ", f" {env_file} ")
    # Owner and group need root and a rapport group: the rest of the command is run as written.
    command = re.sub(r" -o \S+ -g \S+", "", command)
    run = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "etc" / "rapport" / "rapport.env").read_text() == "RAPPORT_ENV=production\n"
