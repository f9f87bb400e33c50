"""The container engine that runs kind's node, chosen as kind chooses it, and whether it answers: said in
seconds, before anything is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess

# What each engine kind can use needs: its command installed and its daemon (or service) answering.
ENGINE_NAMES = {"docker": "Docker", "podman": "podman", "nerdctl": "nerdctl", "finch": "finch"}
INSTALL_FIX = {"docker": "install Docker (https://docs.docker.com/get-docker/) and start it"}
START_FIX = {"docker": "start Docker (Docker Desktop, or `sudo systemctl start docker`): `docker info` must work",
             "podman": "check that `podman info` works", "finch": "start finch's VM (`finch vm start`)"}
ENGINE_TIMEOUT = 30  # seconds for `ENGINE info` (a second or so; Docker Desktop starting up takes longer)


def kind_engine() -> str:
    """The engine that runs kind's node, chosen as kind chooses it: KIND_EXPERIMENTAL_PROVIDER when set
    (kind: pkg/internal/runtime/runtime.go), else the first of docker, nerdctl (or finch) and podman whose
    `-v` prints that engine's own version line (a podman posing as `docker` does not count), else docker
    (kind: pkg/cluster/provider.go, DetectNodeProvider and NewProvider's fallback; the providers' util.go,
    IsAvailable)."""
    chosen = os.environ.get("KIND_EXPERIMENTAL_PROVIDER", "")
    if chosen in (*ENGINE_NAMES, "nerdctl.lima"):
        return chosen
    for engine, says in (("docker", "Docker version"), ("nerdctl", "nerdctl version"), ("finch", "finch version"),
                         ("podman", "podman version")):
        if shutil.which(engine) and version_line(engine).startswith(says):
            return engine
    return "docker"


def version_line(engine: str) -> str:
    try:
        lines = subprocess.run([engine, "-v"], capture_output=True, text=True, timeout=ENGINE_TIMEOUT,
                               stdin=subprocess.DEVNULL).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return lines[0] if len(lines) == 1 else ""


def engine_problem(engine: str) -> tuple[str, str]:
    """('', '') when the engine kind would use answers `ENGINE info`, else (why not, what to do).

    kind asks the engine for its info before it creates anything (kind: pkg/cluster/internal/create/create.go,
    validateProvider; the docker provider's Info runs `docker info`), and it fails there when Docker's daemon
    is not running; asking first says so in seconds instead of after a download."""
    name = ENGINE_NAMES.get(engine, engine)
    if not shutil.which(engine):
        return (f"{name} is not installed (kind runs the cluster's node as a {name} container)",
                INSTALL_FIX.get(engine, f"install {name}"))
    try:
        subprocess.run([engine, "info"], capture_output=True, text=True, timeout=ENGINE_TIMEOUT, check=True,
                       stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return (f"{name} does not answer (`{engine} info` took more than {ENGINE_TIMEOUT} s)",
                START_FIX.get(engine, f"`{engine} info` must work"))
    except subprocess.CalledProcessError as error:
        said = command_output(error)
        if engine == "docker":
            return f"Docker is installed but not running (`docker info`: {said})", START_FIX["docker"]
        return f"{name} does not work (`{engine} info`: {said})", START_FIX.get(engine, f"`{engine} info` must work")
    except OSError as error:
        return f"{name} does not run ({error})", INSTALL_FIX.get(engine, f"install {name} again")
    return "", ""


def command_output(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        text = (error.stderr or error.stdout or "").strip()
        return text.splitlines()[-1] if text else f"{error.cmd[0]} exited with status {error.returncode}"
    return str(error)
