"""Faults injected per server run (`--fault NAME:VALUE`, repeatable). Adding one: a field here,
a line in FAULTS, the code that reads it (pods.py or api.py), and a scenario test."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

FAULTS = {
    "pull-429": "the first N image pulls fail with the registry's 429 toomanyrequests, then succeed",
    "pull-slow": "every image pull takes S seconds (the Pod stays ContainerCreating, with a Pulling event)",
    "exec-stall": "the first N exec connections are accepted and never answered",
    "api-down": "the server refuses connections for S seconds after the first Pod is created",
    "sa-delay": "the default ServiceAccount of a new namespace appears after S seconds",
    "restart-backoff": "the kubelet's restart back-off starts at S seconds instead of a node's 10 (then doubles)",
    "image-id": "the imageID form the kubelet reports: repo (docker.io/library/nginx@sha256:...), import (kind "
                "load on containerd 2.3: docker.io/library/import-2026-01-31@sha256:...), bare (sha256:<image ID>), "
                "registry-1 (registry-1.docker.io/library/nginx@sha256:...)",
    "ephemeral-pull-slow": "an ephemeral container's image pull takes S seconds (ContainerCreating meanwhile)",
    "server-version": "the Kubernetes minor version served (1.NN): below 1.29, native sidecars' restartPolicy is "
                      "dropped, as the API server of 1.28 does",
}
IMAGE_ID_FORMS = ("repo", "import", "bare", "registry-1")


NODE_BACKOFF = 10.0  # seconds: a node's kubelet backs off this long first, for restarts and image pulls


@dataclass
class Faults:
    pull_429: int = 0  # pulls still to fail
    pull_slow: float = 0.0
    exec_stall: int = 0  # exec connections still to stall
    api_down: float = 0.0
    sa_delay: float = 0.3  # the real controller takes a fraction of a second
    restart_backoff: float = NODE_BACKOFF  # a node's; a shorter one keeps the order of events and only their pace
    image_id: str = "repo"  # one of IMAGE_ID_FORMS
    ephemeral_pull_slow: float = 0.0
    server_version: str = "1.36"  # kind v0.32's node image (graders/versions.py)

    @classmethod
    def parse(cls, specs: list[str]) -> "Faults":
        faults = cls()
        kinds = {f.name: f.type for f in fields(cls)}
        for spec in specs:
            name, _, value = spec.partition(":")
            if name not in FAULTS or not value:
                raise ValueError(f"unknown fault {spec!r}: use NAME:VALUE with NAME one of {', '.join(FAULTS)}")
            attribute = name.replace("-", "_")
            if kinds[attribute] in (str, "str"):
                allowed = IMAGE_ID_FORMS if attribute == "image_id" else None
                if (allowed and value not in allowed) or (attribute == "server_version"
                                                          and not re.fullmatch(r"1\.\d+", value)):
                    raise ValueError(f"fault {spec!r}: the value must be {' or '.join(allowed or ('1.NN',))}")
                setattr(faults, attribute, value)
                continue
            number = int(value) if kinds[attribute] in (int, "int") else float(value)
            if number < 0:
                raise ValueError(f"fault {spec!r}: the value must not be negative")
            setattr(faults, attribute, number)
        return faults
