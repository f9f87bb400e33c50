"""Benchmark: a grading run of lab 1.1 on podman against the floor of the same work in bare podman.

    python scripts/benchmark.py [--runs 5]

Grader: `pytest labs/1.1 --backend podman --submission tests/submissions/1.1/reference`, wall time.
Floor: the same two Pods started with `podman kube play`, probed (the page from each container, a
marked request found through the sidecar's volume mount) and removed, with nothing but podman.
Prints the median of each and their ratio (target: at most 3x).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "submissions" / "1.1" / "reference"


def grader_run() -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "labs/1.1", "--backend", "podman", "--submission",
                             str(REFERENCE), "-q"], cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"the grader did not give full marks:\n{result.stdout[-2000:]}")
    return elapsed


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
        podman("exec", f"{sidecar}-app", "curl", "-s", "http://localhost:80/bench-marker")
        podman("exec", f"{sidecar}-log-shipper", "grep", "-rl", "bench-marker", "/logs")
        podman("pod", "stop", "-t", "0", first, sidecar)
        podman("pod", "rm", first, sidecar)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    floor = [floor_run() for _ in range(runs)]
    grader = [grader_run() for _ in range(runs)]
    f, g = statistics.median(floor), statistics.median(grader)
    print(f"bare podman (start, probe, remove both Pods): median {f:.2f} s  runs {', '.join(f'{t:.2f}' for t in floor)}")
    print(f"pytest labs/1.1 --backend podman (reference): median {g:.2f} s  runs {', '.join(f'{t:.2f}' for t in grader)}")
    print(f"ratio {g / f:.1f}x (target: at most 3x)")


if __name__ == "__main__":
    main()
