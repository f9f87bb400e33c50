"""Which other backends this machine could grade with, for a message about one that cannot run here.

Cheap looks only (a second or two): `podman info` answers, or the user's kubeconfig names contexts. It is
asked only once a backend has failed, so a working run never pays for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

PODMAN_INFO_TIMEOUT = 20  # seconds for `podman info` (about 1 s on an idle machine)


def podman_version() -> str:
    """podman's version when `podman info` answers on this machine, else ''."""
    if not shutil.which("podman"):
        return ""
    try:
        done = subprocess.run(["podman", "info", "--format", "{{.Version.Version}}"], capture_output=True, text=True,
                              timeout=PODMAN_INFO_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def kubeconfig_contexts() -> list[str]:
    """The context names of the user's kubeconfig ($KUBECONFIG's files, else ~/.kube/config), as kubectl merges them."""
    paths = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or [Path.home() / ".kube/config"]
    names: list[str] = []
    for path in paths:
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for context in (config.get("contexts") or []) if isinstance(config, dict) else []:
            name = context.get("name") if isinstance(context, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def usable_here(but: str) -> list[str]:
    """The options that would grade on this machine instead of backend `but`, each with why it would work."""
    found = []
    if but != "podman" and (version := podman_version()):
        found.append(f"`--backend podman` (podman {version} works on this machine; no Kubernetes needed)")
    if but != "context" and (contexts := kubeconfig_contexts()):
        shown = ", ".join(contexts[:3]) + (", ..." if len(contexts) > 3 else "")
        found.append(f"`--backend context --context NAME` (your kubeconfig has the contexts {shown})")
    return found


def instead(but: str) -> str:
    """'or grade on this machine without it: add `--backend podman` (...) to your pytest command', or what
    to install for that."""
    found = usable_here(but)
    if not found:
        return "or install podman 4.x and add `--backend podman` to your pytest command (no Kubernetes needed)"
    return "or grade on this machine without it: add " + " or ".join(found) + " to your pytest command"
