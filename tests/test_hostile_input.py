"""Hostile and broken submissions: a clear `manifests` failure, exit 1, a report, nothing created, fast."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pytest
import yaml

from graders.yamlfiles import MAX_DOCUMENTS, MAX_FILE_BYTES

from tests.grading import LAB, lab_args

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "my-first-pod"},
       "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def text(name: str, content: str) -> Callable[[Path], object]:  # object: write_text's count
    return lambda folder: (folder / name).write_text(content)


def raw(name: str, content: bytes) -> Callable[[Path], object]:
    return lambda folder: (folder / name).write_bytes(content)


def link_outside(folder: Path) -> None:
    outside = folder.parent / "secret.yaml"
    outside.write_text(yaml.safe_dump(POD))
    (folder / "pod.yaml").symlink_to(outside)


def duplicate_across_files(folder: Path) -> None:
    (folder / "a.yaml").write_text(yaml.safe_dump(POD))
    (folder / "b.yml").write_text(yaml.safe_dump(POD))


def symlink_loop(folder: Path) -> None:
    (folder / "a.yaml").symlink_to("b.yaml")
    (folder / "b.yaml").symlink_to("a.yaml")


def starter(folder: Path) -> None:
    for name in ("my-first-pod.yaml", "app-with-sidecar.yaml"):
        (folder / name).write_text((LAB / name).read_text())


def nested(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


# case -> (how to make the submission folder, text the manifests message must contain)
CASES: dict[str, tuple[Callable[[Path], object], str]] = {
    "alias-bomb": (text("bomb.yaml", ALIAS_BOMB), "expands to more than 10000 YAML nodes"),
    "recursive-alias": (text("loop.yaml", "a: &a [*a]\n"), "expands to more than 10000 YAML nodes"),
    "deep-nesting": (text("deep.yaml", nested(5000)), "nested more than 64 levels deep"),
    "huge-file": (text("huge.yaml", "# " + "x" * MAX_FILE_BYTES + "\n"), "larger than 256 KiB"),
    "many-documents": (text("many.yaml", "---\na: 1\n" * 5000), f"more than {MAX_DOCUMENTS} YAML documents"),
    "binary": (raw("pod.yaml", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))), "is a binary file"),
    # kubectl reads a byte that is not UTF-8 as U+FFFD (cli-runtime visitor.go): the name is then invalid
    "latin-1": (raw("pod.yaml", yaml.safe_dump({**POD, "metadata": {"name": "caf\xe9"}}, allow_unicode=True)
                    .encode("latin-1")), "found 'caf\ufffd'"),
    "link-outside": (link_outside, "is a link to a file outside the submission folder"),
    "empty-file": (text("pod.yaml", ""), "holds no Kubernetes objects"),
    "comments-only": (text("pod.yaml", "# nothing yet\n---\n"), "no objects passed to apply"),
    "empty-folder": (lambda folder: None, "no .yaml or .yml file found here"),
    "not-a-mapping": (text("pod.yaml", "- just\n- a list\n"), "is a list (`[...]` or `- ` items), not a Kubernetes"),
    "spec-null": (text("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: my-first-pod}\nspec: null\n"),
                  "spec: a Pod needs a spec with at least one container"),
    "containers-null": (text("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: my-first-pod}\n"
                                         "spec: {containers: null, volumes: null}\n"),
                        "spec.containers: a Pod needs at least one container"),
    "metadata-null": (text("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: null\n"), "found None"),
    "duplicate-across-files": (duplicate_across_files, "Pod my-first-pod is defined more than once"),
    "unknown-kind": (text("pod.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"),
                     "found apiVersion: example.com/v1, kind: Widget"),
    "cluster-role": (text("rbac.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
                                       "metadata: {name: x}\n"), "this lab asks only for Pods"),
    "namespace": (text("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: mine}\n"),
                  "this lab asks only for Pods"),
    "untouched-starter": (starter, "not started yet"),
    "symlink-loop": (symlink_loop, "a.yaml: is a link that leads nowhere (a loop of links, or a missing file)"),
    "huge-integer": (text("pod.yaml", yaml.safe_dump(POD) + "x: " + "7" * 5000 + "\n"),
                     "is larger than any Kubernetes field takes"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_fails_manifests_cleanly(pytester: pytest.Pytester, case: str) -> None:
    make, message = CASES[case]
    folder = pytester.path / "submission"
    folder.mkdir()
    make(folder)
    report = pytester.path / "grade.json"
    started = time.monotonic()
    result = pytester.runpytest_inprocess(*lab_args("--backend", "podman", "--submission", str(folder),
                                                    "--grade-report", str(report)))
    elapsed = time.monotonic() - started
    assert result.ret == 1
    checks = {check["id"]: check for check in json.loads(report.read_text())["checks"]}
    assert checks["manifests"]["status"] == "failed"
    assert message in checks["manifests"]["message"], checks["manifests"]["message"]
    assert all(check["status"] in ("failed", "passed") for check in checks.values())  # no grader error
    assert "not graded" in checks["first-pod-ready"]["message"]  # nothing of it reached the cluster
    result.stdout.no_fnmatch_line("*Traceback*")
    assert elapsed < 180 / 2, elapsed  # a refusal, not a wait of the ready timeout (180 s)


def test_aliases_count_towards_the_depth_limit(tmp_path: Path) -> None:
    from graders.manifests import load_submission

    lines = ["a0: &a0 " + "[" * 60 + "x" + "]" * 60]
    lines += [f"a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60 for i in range(1, 12)]
    (tmp_path / "deep.yaml").write_text("\n".join(lines) + "\n")
    problems = [str(p) for p in load_submission(tmp_path, ["my-first-pod"]).problems]
    assert "deep.yaml: is nested more than 64 levels deep, the limit" in problems
