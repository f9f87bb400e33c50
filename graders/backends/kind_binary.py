"""The kind binary: one on PATH when it is recent enough, else the pinned release for this OS and CPU,
downloaded once and checked against its published sha256; and the file lock that lets one run at a time
download, create and export."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

from graders.errors import InfraError
from graders.versions import KIND_NODE_IMAGE, KIND_VERSION

Progress = Callable[[str], None]
KIND_RELEASES = "https://github.com/kubernetes-sigs/kind/releases/download"
DOWNLOAD_TIMEOUT = 60  # seconds a download may stall before it is abandoned
DOWNLOAD_DEADLINE = 600  # seconds for the whole kind download (about 10 MB)
LOCK_TIMEOUT = 1500.0  # seconds to wait for another run that holds the lock (it may be creating)


def ensure_kind(state: Path, cluster: str, tried: list[str], progress: Progress) -> str:
    """A usable kind: on PATH when recent enough, else the pinned release, downloaded once into state."""
    kind, found = kind_on_path()
    if kind:
        tried.append(f"kind at {kind}, cluster {cluster!r}, node image {KIND_NODE_IMAGE.split('@')[0]}")
        return kind
    asset = kind_asset()
    path = state / f"kind-{KIND_VERSION}-{asset}{'.exe' if asset.startswith('kind-windows') else ''}"
    tried.append(f"kind {KIND_VERSION} ({asset}, downloaded to {path}), cluster {cluster!r}, "
                 f"node image {KIND_NODE_IMAGE.split('@')[0]}")
    if found:
        tried.append(f"not the kind on PATH ({found}): older than the pinned {KIND_VERSION}")
    if not path.exists():
        download_kind(asset, path, progress)
    return str(path.resolve())


# -- the kind binary ----------------------------------------------------------------------------------
def node_arch() -> str:
    """The kind node's CPU as an OCI platform architecture: the host's (kind runs its node natively)."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "x64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(machine,
                                                                                                         machine)


def kind_asset() -> str:
    """The name of kind's release binary for this OS and CPU (pytest-kind-ng always took amd64)."""
    system, machine = platform.system().lower(), platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "x64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(machine)
    if system == "windows" and arch:
        return "kind-windows-amd64"  # the only Windows build; Windows on Arm runs it emulated
    if system in ("linux", "darwin") and arch:
        return f"kind-{system}-{arch}"
    raise InfraError(f"kind publishes no binary for {platform.system()} on {platform.machine()}",
                     fix="install kind yourself (https://kind.sigs.k8s.io/docs/user/quick-start/) and put it on "
                         "PATH, or grade without Kubernetes: --backend podman")


def download_kind(asset: str, path: Path, progress: Progress) -> None:
    """Download kind's release binary, check it against the sha256 kind publishes beside it."""
    url = f"{KIND_RELEASES}/{KIND_VERSION}/{asset}"
    progress(f"downloading kind {KIND_VERSION} ({asset})")
    fix = (f"check internet access (behind a proxy: set HTTPS_PROXY), or install kind {KIND_VERSION} yourself "
           "and put it on PATH")
    try:
        published = fetch(url + ".sha256sum").decode("ascii", "replace").split()
        binary = fetch(url)
    except OSError as error:  # urllib's URLError and timeouts are OSErrors
        raise InfraError(f"could not download kind from {url}: {error}", fix=fix) from error
    actual = hashlib.sha256(binary).hexdigest()
    if not published or actual != published[0].lower():
        raise InfraError(f"the kind binary from {url} does not match its published sha256 "
                         f"({published[0] if published else 'none'}; got {actual})",
                         fix=f"run again; if it persists, something on your network alters downloads: {fix}")
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    os.replace(partial, path)


def fetch(url: str) -> bytes:
    deadline, chunks = time.monotonic() + DOWNLOAD_DEADLINE, []
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the download took more than {DOWNLOAD_DEADLINE} s")
    return b"".join(chunks)


def kind_on_path() -> tuple[str | None, str | None]:
    """(path of a usable kind on PATH or None, description of the one found on PATH or None)."""
    path = shutil.which("kind")
    if path is None:
        return None, None
    try:
        printed = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None, f"{path}, which does not run"
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", printed)
    version = tuple(int(part) for part in found.groups()) if found else (0, 0, 0)
    pinned = tuple(int(part) for part in KIND_VERSION.lstrip("v").split("."))
    # On GitHub's runners (GITHUB_ACTIONS=true) the latest kind is on PATH: grades there use exactly the pin.
    exact = os.environ.get("GITHUB_ACTIONS") == "true"
    if version < pinned or (exact and version != pinned):
        return None, f"{path}, version {'.'.join(map(str, version)) if found else 'unknown'}"
    return path, path


# -- one run at a time --------------------------------------------------------------------------------
@contextmanager
def file_lock(path: Path, progress: Progress, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive lock between processes (two first runs would delete each other's cluster)."""
    with open(path, "a+b") as handle:
        deadline, told = time.monotonic() + timeout, False
        while not _try_lock(handle):
            if not told:
                progress("another grading run is setting up the kind cluster: waiting for it")
                told = True
            if time.monotonic() > deadline:
                raise InfraError(f"another run held {path} for more than {timeout:g} s",
                                 fix=f"wait for the other run to end; if none is running, delete {path}")
            time.sleep(0.2)
        try:
            yield
        finally:
            _unlock(handle)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
