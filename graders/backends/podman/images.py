"""Images as podman's own store holds them: their identities (ID and digests) and the programs in their layers,
which no container writes; against them, the executable a container's first process runs, read on the host."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from graders.backends.base import RunningProgram
from graders.backends.podman import cli
from graders.backends.podman.run import PodmanRun

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # a runtime's, for an image without
MAX_PROGRAM_BYTES = 256 * 1024**2  # an executable hashed at most this far


class Images:
    """Each image looked up once per run: an image's identity does not change during a run."""

    def __init__(self, run: PodmanRun) -> None:
        self.run = run
        self.inspected: dict[str, list[dict[str, Any]]] = {}  # image -> `podman image inspect`
        self.digests: dict[str, set[str] | None] = {}  # lab image -> its identities
        self.programs: dict[tuple[str, str], dict[str, str] | None] = {}  # (image, program) -> its files by sha256

    def exists(self, image: str) -> bool:
        return self.run.call("image", "exists", image, timeout=30, what="look up an image").returncode == 0

    def identities(self, image: str) -> set[str] | None:
        """The image's ID and digests, bare (no `sha256:`)."""
        if image not in self.digests:
            found: set[str] = set()
            for inspected in self._inspect(image):
                found.add(bare_digest(inspected.get("Id", "")))
                found.add(bare_digest(inspected.get("Digest", "")))
                found |= {bare_digest(ref.rsplit("@", 1)[-1]) for ref in inspected.get("RepoDigests") or []}
            self.digests[image] = found - {""}
        return self.digests[image]

    def running_program(self, pid: int, image: str, program: str) -> RunningProgram | None:
        """The executable of a container's first process (PID on the host), read there (/proc/PID/exe: the file the
        kernel runs, whatever the YAML or a script calls it), against the files named `program` on the image's PATH,
        read from the image's own layers in podman's storage (which no container writes)."""
        own = self._programs(image, program)
        if pid <= 0 or own is None:
            return None
        try:
            path = os.readlink(f"/proc/{pid}/exe")
            digest = sha256(f"/proc/{pid}/exe")
        except OSError:
            return None  # it has just exited: nothing to judge
        return RunningProgram(path=path.removesuffix(" (deleted)"), image_own=digest in own,
                              image_paths=tuple(sorted(set(own.values()))))

    def _inspect(self, image: str) -> list[dict[str, Any]]:
        """`podman image inspect`, once per image and run ([] when the machine does not have it)."""
        if image not in self.inspected:
            result = self.run.call("image", "inspect", image, timeout=30, what=f"look up image {image}")
            self.inspected[image] = cli.parsed(result.stdout) if result.returncode == 0 else []
        return self.inspected[image]

    def _programs(self, image: str, program: str) -> dict[str, str] | None:
        """sha256 -> path of each file named `program` in a folder of the image's PATH; None when the image's
        layers cannot be read here (not root, another storage driver)."""
        key = (image, program)
        if key not in self.programs:
            self.programs[key] = programs_in_layers(self._inspect(image), program)
        return self.programs[key]


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
            if file.tell() > MAX_PROGRAM_BYTES:
                break
    return digest.hexdigest()


def programs_in_layers(inspected: list[dict[str, Any]], program: str) -> dict[str, str] | None:
    """sha256 -> path in the image of each regular file named `program` in a folder of the image's PATH, as
    the image's overlay layers hold it (the upper layer first); None when no layer folder can be read. No
    link is followed: a folder that is a link in the image (/sbin -> usr/sbin) would lead into the host's."""
    if not inspected:
        return None
    image = inspected[0]
    data = (image.get("GraphDriver") or {}).get("Data") or {}
    layers = [folder for folder in [data.get("UpperDir") or "", *str(data.get("LowerDir") or "").split(":")] if folder]
    if not layers or not all(os.path.isdir(folder) for folder in layers):
        return None
    env = dict(item.partition("=")[::2] for item in (image.get("Config") or {}).get("Env") or [])
    found: dict[str, str] = {}
    for folder in (env.get("PATH") or DEFAULT_PATH).split(":"):
        inside = f"{folder.rstrip('/')}/{program}"
        for layer in layers:
            candidate, parts = Path(layer), [part for part in inside.split("/") if part]
            try:
                for part in parts:
                    candidate = candidate / part
                    info = candidate.lstat()
                    if stat.S_ISLNK(info.st_mode):
                        raise FileNotFoundError(candidate)
            except OSError:
                continue  # not in this layer (or behind a link): the next one down may hold it
            if stat.S_ISREG(info.st_mode):
                found[sha256(str(candidate))] = inside
            break  # the uppermost layer that has the path decides
    return found


def bare_digest(ref: str) -> str:
    return ref.rsplit("@", 1)[-1].removeprefix("sha256:")
