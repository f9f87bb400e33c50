"""What a lab needs of its backend: a run on a backend that lacks it says so before anything starts,
names the backend to use, and grades nothing that needs it (no points lost, never a grader error)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from graders import capabilities as can
from graders.backends import BACKENDS, NAMES, able, lacking
from graders.lab import Lab
from tests.grading import REPO

WEB_POD = """apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers: [{name: nginx, image: "nginx:1.25"}]
"""
WEB_SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
RUBRIC = '''
from graders import Lab
from graders.checks import manifests, pods

lab = Lab("2.1", "Services", pods=["web"], objects=[("Service", "web")], readme="README.md")


@lab.check("manifests", 10, "YAML parses; Pod and Service present")
def test_manifests(submission):
    manifests.manifests_valid(submission)


@lab.check("web-ready", 40, "web is Ready")
def test_web_ready(lab_run):
    pods.wait_running(lab_run, "web")


@lab.check("service-routes", 50, "the Service reaches web")
def test_service_routes(lab_run):
    lab_run.require("web", kind="Service")
'''
SIDECAR_RUBRIC = '''
from graders import Lab
from graders.checks import manifests

lab = Lab("9.1", "Sidecars", pods=["web"], readme="README.md")


@lab.check("manifests", 10, "YAML parses")
def test_manifests(submission):
    manifests.manifests_valid(submission)


@lab.check("native-sidecar", 20, "the sidecar starts before nginx", needs={"native-sidecars"})
def test_native_sidecar(lab_run):
    raise AssertionError("must not run on a backend without native sidecars")
'''


def recording_podman(folder: Path) -> Path:
    """A podman on PATH that only records its calls (and fails, as if broken)."""
    log = folder / "podman-calls.log"
    shim = folder / "bin" / "podman"
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\necho \"podman $*\" >> '{log}'\nexit 1\n")
    shim.chmod(0o755)
    return log


def grade_lab(pytester: pytest.Pytester, rubric: str, files: dict[str, str]) -> tuple[pytest.RunResult, dict, Path]:
    lab = pytester.mkdir("lab")
    (lab / "test_lab.py").write_text(rubric)
    for name, text in files.items():
        (lab / name).write_text(text)
    log = recording_podman(pytester.path)
    report = pytester.path / "grade.json"
    result = pytester.runpytest_subprocess(str(lab), "-c", str(REPO / "pytest.ini"), "--rootdir", str(pytester.path),
                                           "--backend", "podman", "--grade-report", str(report))
    return result, json.loads(report.read_text()), log


def test_a_lab_that_needs_services_on_podman_says_so_up_front_and_starts_no_pod(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{pytester.path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result, grade, podman_calls = grade_lab(pytester, RUBRIC, {"web.yaml": WEB_POD, "service.yaml": WEB_SERVICE})
    assert not podman_calls.exists(), f"podman was called: {podman_calls.read_text()}"
    output = result.stdout.str()
    up_front = "grader: lab 2.1 needs Services, which backend podman cannot run: use --backend kind or " \
               "--backend context; not graded here: web-ready, service-routes"
    assert up_front in output
    assert output.index(up_front) < output.index("test_lab.py")  # before the first check's result
    statuses = {check["id"]: (check["status"], check["points"]) for check in grade["checks"]}
    assert statuses == {"manifests": ("passed", 10), "web-ready": ("error", 0), "service-routes": ("error", 0)}
    assert grade["score"] == 10 and grade["max_score"] == 100
    errors = [check["message"] for check in grade["checks"] if check["status"] == "error"]
    assert all("Infrastructure problem (no points lost): lab 2.1 needs Services, which backend podman cannot run"
               in message and "use --backend kind or --backend context" in message for message in errors), errors
    result.stdout.fnmatch_lines(["*2 check(s) could not be graded because of an infrastructure problem*"])
    assert "grader error" not in output and "Traceback" not in output
    assert result.ret == 1


def test_a_check_that_needs_native_sidecars_is_not_graded_on_podman(pytester: pytest.Pytester,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{pytester.path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result, grade, podman_calls = grade_lab(pytester, SIDECAR_RUBRIC, {"web.yaml": WEB_POD})
    assert not podman_calls.exists(), "the check's need is known before its fixtures start the backend"
    result.stdout.fnmatch_lines(["grader: lab 9.1 needs native sidecar containers, which backend podman cannot "
                                 "run: use --backend kind or --backend context; not graded here: native-sidecar"])
    statuses = {check["id"]: check["status"] for check in grade["checks"]}
    assert statuses == {"manifests": "passed", "native-sidecar": "error"}
    assert "must not run" not in result.stdout.str()


def test_a_lab_declares_its_objects_and_needs_their_kinds() -> None:
    lab = Lab("2.1", "Services", pods=["web"], objects=[("Service", "web"), ("Pod", "web")], needs={"node-labels"})
    assert lab.objects == (("Pod", "web"), ("Service", "web"))
    assert lab.pods == ("web",)
    assert lab.allows.kinds == {"Pod", "Service"}  # by default, the kinds it declares
    assert lab.needs == {"kind:Pod", "kind:Service", "node-labels"}


def test_every_backend_runs_pods_and_only_clusters_run_services() -> None:
    assert all(can.kind("Pod") in entry.capabilities for entry in BACKENDS.values())
    assert lacking("podman", frozenset({can.kind("Service"), can.kind("Pod")})) == {can.kind("Service")}
    assert able(frozenset({can.kind("Service"), can.READINESS_PROBES})) == ["kind", "context"]
    assert NAMES == ("kind", "context", "podman")


def test_capabilities_read_as_words() -> None:
    assert can.listing({"kind:Service", "kind:ConfigMap"}) == "ConfigMaps and Services"
    assert can.listing({can.NATIVE_SIDECARS}) == "native sidecar containers"
    assert can.kinds_of({"kind:Pod", can.NODE_LABELS}) == {"Pod"}


def test_every_option_of_the_registry_is_a_command_line_option(pytester: pytest.Pytester) -> None:
    from graders.backends import OPTIONS
    result = pytester.runpytest_subprocess(str(REPO / "labs" / "1.1"), "-c", str(REPO / "pytest.ini"),
                                           "--rootdir", str(REPO), "--help")
    assert OPTIONS, "the registry declares the backends' options"
    for option in OPTIONS.values():
        result.stdout.fnmatch_lines([f"*{option.flag_name}*"])
    result.stdout.fnmatch_lines(["*grader_kind_cluster*", "*grader_delete_cluster*"])  # and ini keys


def test_a_misspelt_need_is_refused_when_the_lab_is_declared() -> None:
    with pytest.raises(ValueError, match="lab 9.9: unknown capabilities readiness-probe; graders/capabilities.py"):
        Lab("9.9", "typo", pods=["web"], needs={"readiness-probe"})
    lab = Lab("9.9", "typo", pods=["web"])
    with pytest.raises(ValueError, match="unknown capabilities sidecars"):
        lab.check("x", 1, "x", needs={"sidecars"})
