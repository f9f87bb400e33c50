"""kind backend: a local kind cluster, created on first use through pytest-kind-ng and kept between
runs (students rerun often); --delete-cluster removes it at the end.

The kind version and node image are pinned in graders/versions.py. A `kind` already on PATH is
preferred when it is not older than the pin (older kinds cannot run current node images);
otherwise pytest-kind-ng downloads the pinned version. The kubeconfig is exported on
every run, also when the cluster already existed (pytest-kind-ng leaves it empty then).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest_kind.cluster as pytest_kind_cluster
from pytest_kind import KindCluster

from graders.backends.kube import ClusterBackend, api_client, check_reachable
from graders.errors import InfraError
from graders.versions import KIND_NODE_IMAGE, KIND_VERSION

STATE_DIR = Path(".pytest-kind")
KIND_COMMAND_TIMEOUT = 120  # seconds for `kind get clusters` and `kind export kubeconfig`
FIX = ("start Docker (`docker info` must work) and check internet access for the first run, "
       "or grade without Kubernetes: pytest labs/1.1 --backend podman")


class KindBackend(ClusterBackend):
    name = "kind"

    def __init__(self, cluster: str, config: Path | None = None, delete: bool = False) -> None:
        self.delete_at_end = delete
        kind, found = kind_on_path()
        if kind is None:
            # pytest-kind-ng reads its version when downloading: point it at our pin
            pytest_kind_cluster.KIND_VERSION = KIND_VERSION
        self.kubeconfig = (STATE_DIR / cluster / "kubeconfig").resolve()
        self.tried = [f"kind {'at ' + kind if kind else KIND_VERSION + ' (downloaded by pytest-kind-ng)'}, "
                      f"cluster {cluster!r}, node image {KIND_NODE_IMAGE.split('@')[0]}"]
        if found and not kind:
            self.tried.append(f"not the kind on PATH ({found}): older than the pinned {KIND_VERSION}")
        try:
            self.cluster = KindCluster(cluster, kubeconfig=self.kubeconfig, image=KIND_NODE_IMAGE,
                                       kind_path=Path(kind) if kind else None)
            self.cluster.ensure_kind()  # downloads the pinned kind when none is on PATH
            if cluster not in self._kind("get", "clusters").splitlines():
                # only for a new cluster: for an existing one, create() would load (with pykube) the
                # kubeconfig it leaves empty, and fail with a TypeError before the export below
                self.cluster.create(config_file=config if config and config.exists() else None)
            self._kind("export", "kubeconfig", f"--name={cluster}", f"--kubeconfig={self.kubeconfig}")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            raise InfraError(f"could not create or reuse the kind cluster {cluster!r}: {_output(error)}",
                             tried=self.tried, fix=FIX)
        except Exception as error:  # the download (requests) and pykube raise their own types
            raise InfraError(f"could not set up kind: {type(error).__name__}: {error}", tried=self.tried, fix=FIX)
        self.version = check_reachable(api_client(self.kubeconfig, None), f"kind cluster {cluster}",
                                       tried=self.tried, fix=f"`kind delete cluster --name {cluster}`, then run again")
        super().__init__(lambda: api_client(self.kubeconfig, None),
                         where=f"kind cluster {cluster} (Kubernetes {self.version})")

    def close(self) -> None:
        if self.delete_at_end:
            try:
                self.cluster.delete()
            except (subprocess.CalledProcessError, OSError) as error:
                raise InfraError(f"could not delete the kind cluster: {_output(error)}", tried=self.tried,
                                 fix=f"`kind delete cluster --name {self.cluster.name}`")

    def _kind(self, *args: str) -> str:
        return subprocess.run([str(self.cluster.kind_path), *args], check=True, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=KIND_COMMAND_TIMEOUT).stdout


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


def main() -> None:
    """Create or reuse the kind cluster, as a grading run would: `python -m graders.backends.kind [NAME]`."""
    name = sys.argv[1] if len(sys.argv) > 1 else "k8s-101"
    try:
        backend = KindBackend(name, config=Path("kind-config.yaml"))
    except InfraError as error:
        sys.exit(str(error))
    print(f"kind cluster {name} is up: Kubernetes {backend.version}, kubeconfig {backend.kubeconfig}")


def _output(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        text = (error.stderr or error.stdout or "").strip()
        return text.splitlines()[-1] if text else f"{error.cmd[0]} exited with status {error.returncode}"
    return str(error)


if __name__ == "__main__":
    main()
