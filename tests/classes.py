"""A class of lab 1.1 as a re-grade records it, without grading anyone: for the summary's and the page's
tests, which need many students and need no podman. The messages are what the graders print for the
submissions of tests/submissions/1.1 (seen in a re-grade on podman), with what differs between two
students' runs (the request's marker, a Pod's IP, a typo) made different per student.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graders.gradebook import LabGrade, Row, write_outputs
from graders.regrade import find_lab

LAB = find_lab("1.1")

CRASH = """Expected: container log-shipper of Pod app-with-sidecar (image busybox:1.36) to keep running
Observed: container log-shipper: CrashLoopBackOff: it keeps exiting (exit code 0) and being restarted
Hint:     the container keeps exiting and being restarted: its command must keep running (read its last log lines below)
Last log lines of app-with-sidecar/log-shipper:
    cat: can't open '/logs/access.log': No such file or directory
Recent events of app-with-sidecar:
    podman kube play: exit 0
    pids limit 1024 (created)
    podman pod start: exit 0"""
MOUNT = """Expected: a request logged by app (GET /?k8s101-marker-{marker}) to appear in the volume shared with \
log-shipper (log-shipper's mount: /logs) and in log-shipper's output
Observed: the request appeared neither in the files under /logs (log-shipper's mount) nor in log-shipper's output
Hint:     app-with-sidecar.yaml: spec.containers[0].volumeMounts[0].mountPath: app mounts volume logs at \
/var/log/app, but nginx writes its logs to /var/log/nginx: mount it there"""
TYPO = """Expected: Pod my-first-pod: label app: hello, and its container running nginx:1.25 with containerPort: 80
Observed: my-first-pod.yaml: spec.containers[0].image: expected nginx:1.25; found '{typo}'
Hint:     compare your YAML with the task in the README; field names are case-sensitive
What the cluster shows:
    STATUS Pending, READY 0/1; container nginx: ErrImagePull (pod IP {ip})"""
INFRA = ("Infrastructure problem (no points lost): podman did not answer within 60 s while trying to start Pod "
         "my-first-pod")

# student -> (what they did, the checks it fails and the message of each)
FAILING = {
    "crash": (["sidecar-ready", "sidecar-localhost", "sidecar-shared-volume"], CRASH),
    "mount": (["sidecar-shared-volume"], MOUNT),
    "typo": (["first-pod-ready"], TYPO),
}


def report(failing: list[str], message: str, status: str = "failed") -> dict[str, Any]:
    checks = []
    for check in LAB.checks:
        failed = check.id in failing
        checks.append({"id": check.id, "title": check.title, "points": 0 if failed else check.points,
                       "max_points": check.points, "passed": not failed, "status": status if failed else "passed",
                       "message": message if failed else "",
                       "headline": message.split("Observed: ")[-1].splitlines()[0] if failed else ""})
    return {"lab": LAB.id, "score": sum(c["points"] for c in checks), "max_score": 100, "checks": checks}


def rows(scale: int = 1) -> list[Row]:
    """30 students: 12 full marks, 6 with a sidecar that exits, 5 with the volume mounted at the wrong path,
    3 with a typo in the image (each a different one), 1 not graded (error), 2 not started, 1 no folder;
    2 of them flagged. scale: that many times each (a large class)."""
    made = []
    plan = [kind for kind, n in (("full", 12), ("crash", 6), ("mount", 5), ("typo", 3), ("error", 1),
                                 ("not-started", 2), ("no-submission", 1)) for _ in range(n * scale)]
    typos = iter(["nginx:1.255", "ngnix:1.25", "nginx:1.52"] + [f"nginx:1.{n}" for n in range(100, 100 + 3 * scale)])
    for number, kind in enumerate(plan, start=1):
        name = f"k8s-101-student{number:02d}" if scale == 1 else f"k8s-101-student{number:03d}"
        row = Row(student=name, commit=f"{number:040x}", baseline="first commit 0123456789ab")
        if kind == "full":
            grade = LabGrade(LAB.id, "graded", report([], ""), attempts=1, seconds=9.5)
        elif kind in FAILING:
            failing, text = FAILING[kind]
            text = text.format(marker=f"{number:012x}", typo=next(typos) if kind == "typo" else "",
                               ip=f"10.88.0.{number}")
            grade = LabGrade(LAB.id, "graded", report(failing, text), attempts=1, seconds=12.0)
        elif kind == "error":
            grade = LabGrade(LAB.id, "error", report(["first-pod-ready"], INFRA, "error"),
                             problem=f"1 check(s) hit an infrastructure problem: {INFRA}", attempts=2, seconds=61.0)
        elif kind == "not-started":
            grade = LabGrade(LAB.id, "not-started", problem="labs/1.1 holds the starter files, unchanged")
        else:
            grade = LabGrade(LAB.id, "no-submission", problem="no labs/1.1 folder in the repository")
        row.labs[LAB.id] = grade
        made.append(row)
    made[0].flags = ["changed .github/workflows/classroom.yml", "added labs/1.1/conftest.py"]
    made[13].flags = ["changed graders/plugin.py"]
    return made


def write_class(out: Path, scale: int = 1) -> list[Row]:
    """Write what the re-grade of this class writes: gradebook.csv, grades.json, feedback/, summary.html."""
    made = rows(scale)
    write_outputs(out, [LAB], made, "podman")
    return made
