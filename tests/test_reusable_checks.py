"""Reusable checks take every lab-specific word from the rubric: their hints and notes, against an
in-memory sandbox (no podman), and a guard that no lab's words come back into graders/checks."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.backends.base import ExecResult, HttpResponse
from graders.checks import lifecycle, volumes
from graders.checks.expect import file_of
from tests.test_expect import FakeSandbox, failure, make_run, running

CHECKS = Path(__file__).resolve().parent.parent / "graders" / "checks"
# Words of lab 1.1 (its programs, images, containers, files and page): they belong in its rubric.
LAB_WORDS = ("nginx", "tail", "log-shipper", "access.log", "welcome", "this lab asks", "busybox")

POD: dict[str, Any] = yaml.safe_load("""
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  volumes: [{name: logs, emptyDir: {}}]
  containers:
    - name: server
      image: httpd:2.4
      volumeMounts: [{name: logs, mountPath: /srv/logs}]
    - name: reader
      image: alpine:3.20
      volumeMounts: [{name: logs, mountPath: /in}]
""")


def messages_in(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that a student can read (docstrings excluded)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("module", sorted(CHECKS.glob("*.py")), ids=lambda path: path.name)
def test_reusable_checks_say_nothing_of_a_particular_lab(module: Path) -> None:
    found = [f"{module.name}:{line}: {word!r} in {text[:60]!r}" for line, text in messages_in(module)
             for word in LAB_WORDS if word in text.lower()]
    assert found == []


def test_the_guard_sees_message_parts_of_f_strings(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text('def f(x):\n    """nginx in a docstring is fine."""\n    return f"run {x} with tail -F"\n')
    assert [text for _, text in messages_in(path)] == ["run ", " with tail -F"]


# -- the shared volume: the lab's words come in as arguments --------------------------------------------
def share_run(tmp_path: Path, pod: dict[str, Any]):
    """A run whose server answers 200, and whose volume and reader's output never show the marker."""
    sandbox = FakeSandbox({"web": running(pod)}, http=lambda url: HttpResponse(200, "ok"))
    sandbox.volume_files = lambda pod, volume, timeout: {}  # type: ignore[method-assign]  # a stub
    sandbox.logs = lambda pod, container, tail=20: ""  # type: ignore[method-assign]  # a stub
    run = make_run(tmp_path, pod, sandbox)
    run.timeouts = dataclasses.replace(run.timeouts, show_up=0.2)  # the marker never shows here: do not wait 5 s
    return run


def test_a_mount_beside_the_log_folder_names_the_field_and_the_labs_program(tmp_path: Path) -> None:
    run = share_run(tmp_path, POD)
    failed = failure(lambda: volumes.logs_cross_volume(
        run, "web", writer="server", reader="reader", writer_log_dir="/var/log/httpd", port=80, program="httpd"))
    assert failed.hint == ("web.yaml: spec.containers[0].volumeMounts[0].mountPath: server mounts volume logs at "
                           "/srv/logs, but httpd writes its logs to /var/log/httpd: mount it there")


def test_the_readers_hint_is_the_labs_with_its_mount_filled_in(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] = "/var/log/httpd/"
    run = share_run(tmp_path, pod)
    failed = failure(lambda: volumes.logs_cross_volume(
        run, "web", writer="server", reader="reader", writer_log_dir="/var/log/httpd", port=80,
        reader_hint="{reader}: follow {mount}/access_log"))
    assert failed.hint == "reader: follow /in/access_log"
    failed = failure(lambda: volumes.logs_cross_volume(
        run, "web", writer="server", reader="reader", writer_log_dir="/var/log/httpd", port=80))
    assert failed.hint == volumes.READER_HINT.format(reader="reader", mount="/in")


def test_a_volume_type_is_asked_for_only_when_the_lab_names_one(tmp_path: Path) -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["volumes"] = [{"name": "logs", "configMap": {"name": "x"}}]
    pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] = "/var/log/httpd"
    run = share_run(tmp_path, pod)
    asked = failure(lambda: volumes.logs_cross_volume(
        run, "web", writer="server", reader="reader", writer_log_dir="/var/log/httpd", port=80,
        volume_type="emptyDir", reader_hint="r"))
    assert asked.hint == "volume logs is a configMap volume; the task asks for a volume of type emptyDir; r"
    free = failure(lambda: volumes.logs_cross_volume(
        run, "web", writer="server", reader="reader", writer_log_dir="/var/log/httpd", port=80, reader_hint="r"))
    assert free.hint == "r"


# -- deleting: the note names what really runs, the lab adds its own way out ----------------------------
STATUS = "Name:\t{name}\nState:\tS (sleeping)\nSigIgn:\t0000000000000000\nSigCgt:\t{caught}\n"


@pytest.mark.parametrize("caught, expected", [("0000000000000000", "sleep"), ("0000000000004000", None)])
def test_a_first_process_without_a_sigterm_handler_is_named(tmp_path: Path, caught: str, expected) -> None:
    sandbox = FakeSandbox({"web": running(POD)},
                          answer=lambda argv: ExecResult(0, STATUS.format(name="sleep", caught=caught), ""))
    assert lifecycle.sigterm_ignored_by(make_run(tmp_path, POD, sandbox), "web", "server") == expected


def test_unreadable_status_grants_the_pods_own_grace(tmp_path: Path) -> None:
    sandbox = FakeSandbox({"web": running(POD)}, answer=lambda argv: ExecResult(127, "", "no cat"))
    assert lifecycle.sigterm_ignored_by(make_run(tmp_path, POD, sandbox), "web", "server") is None


def test_the_cleanup_note_ends_with_the_labs_tip(tmp_path: Path) -> None:
    sandbox = FakeSandbox({"web": running(POD)},
                          answer=lambda argv: ExecResult(0, STATUS.format(name="sleep", caught="0" * 16), ""))
    run = make_run(tmp_path, POD, sandbox)
    lifecycle.deleted_cleanly(run, ["web"], sigterm_tip="use `exec sleep` with a trap")
    assert len(run.notes) == 2  # both containers run the stubborn sleep
    assert run.notes[0].startswith("container server of Pod web ignores SIGTERM (its first process, sleep, has no")
    assert run.notes[0].endswith("set terminationGracePeriodSeconds: 2, or use `exec sleep` with a trap")
    bare = make_run(tmp_path, POD, sandbox)
    lifecycle.deleted_cleanly(bare, ["web"])
    assert bare.notes[0].endswith("set terminationGracePeriodSeconds: 2")
    assert file_of(run, "web") == "web.yaml"
