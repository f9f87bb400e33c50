"""Benchmark: what a student waits for, against the floor of the same work.

    python scripts/benchmark.py [--runs 5] [--skip-cluster]

Measured in one run, alternating (a) (b) (c) (d) (e) each round so that machine noise cancels:
  (a) grader:   `pytest labs/1.1 --backend podman` on the reference solution (full marks asserted);
  (b) floor:    the same two Pods started with `podman kube play`, probed (the page from each container,
                a marked request found through the sidecar's volume mount and in its output, which its
                `tail -F` prints within a second) and removed, nothing but podman;
  (c) refused:  `pytest labs/1.1` (default backend) on the untouched starter, whose every file is refused
                offline; podman, kind and docker on PATH are shims that record any call, and one call fails
                the benchmark: a submission that cannot be applied starts no backend;
  (d) pytest:   `python -m pytest --version`, the cost of starting pytest at all;
  (e) cluster:  a full grade with `--backend context` on the podman-backed test cluster (tests/cluster),
                when it is there.
Prints each median and the ratios a/b (target ≤ 1.5), c/d (≤ 2) and e/b (≤ 2.5).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

import yaml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "submissions" / "1.1" / "reference"
STARTER = REPO / "labs" / "1.1"
TARGETS = {"a/b": 1.5, "c/d": 2.0, "e/b": 2.5}
# As on a student's machine, Python caches compiled modules: where PYTHONDONTWRITEBYTECODE is set (as on
# the build machines), the graders would be compiled on every run (~0.06 s) while pytest's own modules
# were compiled when pip installed them.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], *, env: dict[str, str] | None = None, expect: int = 0) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env or ENV)
    elapsed = time.perf_counter() - start
    if result.returncode != expect:
        sys.exit(f"{' '.join(argv)}: exit {result.returncode}, expected {expect}:\n{result.stdout[-3000:]}")
    return elapsed


def grader_run() -> float:
    return timed([sys.executable, "-m", "pytest", "labs/1.1", "--backend", "podman", "--submission",
                  str(REFERENCE), "-q"])


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout


def floor_run() -> float:
    suffix = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="k8s101-bench-") as work:
        files = []
        for path in sorted(REFERENCE.glob("*.yaml")):
            pod = yaml.safe_load(path.read_text())
            pod["metadata"]["name"] += f"-{suffix}"
            for container in pod["spec"]["containers"]:
                container.pop("ports", None)
            for volume in pod["spec"].get("volumes", []):
                Path(work, volume["name"]).mkdir()
                volume.pop("emptyDir")
                volume["hostPath"] = {"path": str(Path(work, volume["name"])), "type": "Directory"}
            files.append(Path(work, path.name))
            files[-1].write_text(yaml.safe_dump(pod))
        first, sidecar = f"my-first-pod-{suffix}", f"app-with-sidecar-{suffix}"
        start = time.perf_counter()
        for file in files:
            podman("kube", "play", str(file))
        assert "Welcome to nginx!" in podman("exec", f"{first}-nginx", "curl", "-s", "http://localhost:80/")
        assert "Welcome to nginx!" in podman("exec", f"{sidecar}-log-shipper", "wget", "-qO-", "http://localhost:80/")
        podman("exec", f"{sidecar}-app", "curl", "-s", "http://localhost:80/?bench-marker")
        podman("exec", f"{sidecar}-log-shipper", "grep", "-rl", "bench-marker", "/logs")
        while "bench-marker" not in podman("logs", f"{sidecar}-log-shipper"):  # its `tail -F` looks once a second
            time.sleep(0.05)
        podman("pod", "stop", "-t", "0", first, sidecar)
        podman("pod", "rm", first, sidecar)
        return time.perf_counter() - start


class Shims:
    """podman, kind and docker on PATH that only record that they were called."""

    def __init__(self, folder: Path) -> None:
        self.log = folder / "calls.log"
        for tool in ("podman", "kind", "docker"):
            shim = folder / tool
            shim.write_text(f"#!/bin/sh\necho \"{tool} $*\" >> '{self.log}'\nexit 1\n")
            shim.chmod(0o755)
        self.env = {**ENV, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def refused_run(shims: Shims) -> float:
    elapsed = timed([sys.executable, "-m", "pytest", "labs/1.1", "--submission", str(STARTER), "-q"],
                    env=shims.env, expect=1)
    if shims.calls():
        sys.exit(f"(c) a submission refused offline started a backend: {shims.calls()}")
    return elapsed


def pytest_version_run() -> float:
    return timed([sys.executable, "-m", "pytest", "--version"])


class FakeCluster:
    """The podman-backed test cluster of tests/cluster, started once for all (e) runs."""

    def __init__(self, folder: Path) -> None:
        self.kubeconfig = folder / "kubeconfig"
        self.process = subprocess.Popen([sys.executable, "-m", "tests.cluster", "--kubeconfig", str(self.kubeconfig)],
                                        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "ready" in line:
                return
        sys.exit("(e) the test cluster exited before it was ready")

    def run(self) -> float:
        env = {**ENV, "KUBECONFIG": str(self.kubeconfig)}
        return timed([sys.executable, "-m", "pytest", "labs/1.1", "--backend", "context", "--context", "fake-cluster",
                      "--submission", str(REFERENCE), "-q"], env=env)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-cluster", action="store_true", help="do not measure (e), the test cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="k8s101-bench-") as work:
        shims = Shims(Path(work))
        cluster = None
        if not args.skip_cluster and (REPO / "tests" / "cluster" / "__main__.py").exists():
            cluster = FakeCluster(Path(work))
        runs: dict[str, tuple[str, Callable[[], float]]] = {
            "a": ("grader, podman, reference", grader_run),
            "b": ("floor, bare podman", floor_run),
            "c": ("refused offline, no backend", lambda: refused_run(shims)),
            "d": ("python -m pytest --version", pytest_version_run),
        }
        if cluster:
            runs["e"] = ("grader, test cluster (--backend context)", cluster.run)
        times: dict[str, list[float]] = {key: [] for key in runs}
        try:
            for _ in range(args.runs):
                for key, (_, run) in runs.items():
                    times[key].append(run())
        finally:
            if cluster:
                cluster.stop()
    medians = {key: statistics.median(values) for key, values in times.items()}
    for key, (what, _) in runs.items():
        print(f"({key}) {what:45} median {medians[key]:6.2f} s   runs {', '.join(f'{t:.2f}' for t in times[key])}")
    failed = False
    for ratio, target in TARGETS.items():
        top, bottom = ratio.split("/")
        if top in medians and bottom in medians:
            value = medians[top] / medians[bottom]
            failed |= value > target
            print(f"{ratio} = {value:.2f} (target ≤ {target:g}){'' if value <= target else '  MISSED'}")
    if not cluster:
        print("(e) not measured: no test cluster (tests/cluster) or --skip-cluster")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
