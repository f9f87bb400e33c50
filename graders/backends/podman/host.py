"""The run's folder on the host: the copies podman plays, each emptyDir's folder (a tmpfs bounded to its
sizeLimit when the grader is root), the owner file; and its removal whatever a Pod wrote into it. Every name in
it comes from the grader, never from the YAML."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from graders.backends.base import MAX_VOLUME_BYTES
from graders.backends.podman import cli, play, volume_reader
from graders.backends.podman.owners import OWNER_FILE
from graders.errors import InfraError

WORKDIR_PREFIX = "k8s101-"  # per-run directories for emptyDir volumes, under the temporary directory
MAX_VOLUME_FILES = 100


def make_workdir(run_id: str, labels: dict[str, str]) -> Path:
    """A fresh folder for the run, with its owner written in it (the same as its objects' labels)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{run_id}-")).resolve()
    (workdir / OWNER_FILE).write_text(json.dumps(labels))
    return workdir


def inside(workdir: Path, path: Path) -> Path:
    """path, after checking it resolves inside the run's work folder."""
    if not path.resolve().is_relative_to(workdir):
        raise InfraError(f"refusing to use {path}: it is outside the run's folder {workdir}",
                         fix="report this as a bug of the graders")
    return path


class Volumes:
    """The host folders played as the Pods' emptyDir volumes (the grader's side of them)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.folders: dict[str, dict[str, Path]] = {}  # student's Pod -> volume name -> host folder

    def make(self, pod: str, index: int, number: int, volume: dict[str, Any]) -> Path:
        """A fresh folder for the number-th volume of the index-th Pod, bounded to its sizeLimit when
        the grader may mount a tmpfs (as root); never named after anything in the YAML."""
        folder = inside(self.workdir, self.workdir / "volumes" / f"pod{index}" / f"volume{number}")
        folder.mkdir(parents=True)
        if os.geteuid() == 0:
            size = play.emptydir_size(volume)
            mounted = cli.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777,nosuid,nodev",
                               "k8s101-emptydir", str(folder)], timeout=30)
            if mounted.returncode != 0:
                raise InfraError(f"could not bound an emptyDir of Pod {pod}: {mounted.stderr.strip()}",
                                 tried=[f"mount -t tmpfs -o size={size} {folder}"], fix="check `mount` works as root")
        self.folders.setdefault(pod, {})[str(volume.get("name"))] = folder
        return folder

    def folder(self, pod: str, volume: str) -> Path | None:
        """The host folder played as the Pod's emptyDir named `volume`."""
        return self.folders.get(pod, {}).get(volume)

    def files(self, pod: str, volume: str, timeout: float) -> dict[str, str]:
        """Read on the host, each folder and file opened under its parent's descriptor without following links:
        the Pod may change the volume while the grader reads it (volume_reader.py)."""
        return volume_reader.read_files(str(self._readable(pod, volume)), MAX_VOLUME_FILES, MAX_VOLUME_BYTES,
                                        timeout)

    def _readable(self, pod: str, volume: str) -> Path:
        """The host folder the grader made for one of the Pod's emptyDir volumes (it named and mounted it
        itself, so no podman call is needed); it must lie inside this run's work directory."""
        folder = self.folder(pod, volume)
        if folder is None or not folder.is_dir() or not folder.resolve().is_relative_to(self.workdir.resolve()):
            raise InfraError(f"the grader cannot find the folder of volume {volume} of Pod {pod}",
                             tried=[f"the emptyDir folders this run made for Pod {pod}"],
                             fix="only emptyDir volumes played by this grader can be read from the grader's side")
        return folder.resolve()

    def remove(self, pod: str) -> None:
        for folder in self.folders.pop(pod, {}).values():
            unmount(folder)
            remove_tree(folder)


def leftovers(workdir: Path) -> list[str]:
    """What is left in the run's folder of its Pods' volumes: their files and their mounts."""
    left = [f"directory {path}" for path in workdir.glob("*/*/*")] if workdir.exists() else []
    return left + [f"mount {path}" for path in mounts_under(workdir)]


def mounts_under(folder: Path) -> list[str]:
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    prefix = f"{folder}/"
    points = [line.split()[1].replace("\\040", " ") for line in lines if len(line.split()) > 1]
    return sorted((point for point in points if point.startswith(prefix)), reverse=True)


def unmount(folder: Path) -> None:
    for point in mounts_under(folder) + ([str(folder)] if str(folder) in _mount_points() else []):
        cli.run(["umount", "-l", point], timeout=30)


def _mount_points() -> set[str]:
    try:
        return {line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines() if len(line.split()) > 1}
    except OSError:
        return set()


def remove_workdir(workdir: Path) -> None:
    """Unmount the tmpfs volumes first: removing the files would empty them and leave them mounted."""
    unmount(workdir)
    remove_tree(workdir)


def remove_tree(folder: Path) -> None:
    """Remove a folder whatever a Pod wrote into it: shutil.rmtree recurses once per level and raises
    RecursionError (not an OSError, so ignore_errors lets it through) on a tree a container made thousands
    of folders deep, which then broke every later run's reaping. `rm -rf` walks any depth and follows no link."""
    try:
        cli.run(["rm", "-rf", "--", str(folder)], timeout=120)
    except (subprocess.TimeoutExpired, OSError):
        pass  # what is left is reaped by a later run, by its owner or its age
