"""The wording a student meets first (issue 22, student 7 and 8): a starter's TODOs all listed, one Pod
said as one, no limits in every Expected line, a mistake before a placeholder in the summary, the
`kubectl apply --dry-run=server` tip only where a cluster is at hand, a Pod's own name in a kubectl command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.checks import manifests, volumes
from graders.errors import CheckFailed
from graders.manifests import load_submission
from graders.rubric import discover_labs
from tests.grading import REPO

LABS = {lab.id: (folder, lab) for folder, lab in discover_labs(REPO)}


def verdict(lab_id: str, folder: Path | None = None, cluster: bool = True) -> CheckFailed:
    lab_folder, lab = LABS[lab_id]
    submission = load_submission(folder or lab_folder, lab.pods, lab.containers, lab.allows, objects=lab.objects)
    submission.cluster_reachable = cluster
    with pytest.raises(CheckFailed) as failed:
        manifests.manifests_valid(submission)
    return failed.value


def test_an_untouched_starter_lists_every_todo_with_its_line() -> None:
    failed = verdict("1.1")
    assert failed.headline == "not started yet: app-with-sidecar.yaml, my-first-pod.yaml still hold 7 TODOs"
    assert "  - my-first-pod.yaml, line 7: # TODO: give the Pod the label  app: hello" in failed.observed
    assert "  - app-with-sidecar.yaml, line 8: # TODO: declare one emptyDir volume" in failed.observed
    assert "every TODO (see" not in failed.observed  # the heading comment is no task
    assert verdict("1.2").expected.startswith("the Pod web, with every TODO")  # one Pod is no "Pods"


def test_a_mistake_comes_before_the_other_files_todo_and_no_limits_are_recited(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    shutil.copytree(LABS["1.1"][0], folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    shutil.copy(REPO / "tests/submissions/1.1/yaml-tab/my-first-pod.yaml", folder / "my-first-pod.yaml")
    failed = verdict("1.1", folder)
    assert failed.headline.startswith("my-first-pod.yaml: not valid YAML: line 6: YAML does not allow tabs")
    assert "still a TODO placeholder" in failed.observed  # the other file's TODO is still listed, after it
    assert "20 files" not in failed.expected and "KiB" not in failed.expected


def test_the_dry_run_tip_is_given_only_where_a_cluster_is_at_hand() -> None:
    folder = REPO / "tests/submissions/1.1/pod-apps-v1"
    assert "kubectl apply --dry-run=server" in verdict("1.1", folder, cluster=True).hint
    assert "kubectl apply --dry-run=server" not in verdict("1.1", folder, cluster=False).hint


def test_a_kubectl_command_names_the_pod() -> None:
    said = volumes._observed(["/in/access.log"], False, "log-shipper", ["/in"], "app-with-sidecar")
    assert "`kubectl logs app-with-sidecar -c log-shipper`" in said and "POD" not in said


@pytest.mark.parametrize("backend, tip", [("podman", False), ("kind", True)])
def test_the_grading_run_gives_the_tip_by_its_backend(tmp_path: Path, backend: str, tip: bool) -> None:
    """Every file refused offline: no backend starts, and only a run on a cluster suggests asking it."""
    import subprocess

    from tests.grading import grader_command

    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(REPO / "tests/submissions/1.1/pod-apps-v1/my-first-pod.yaml", folder)
    shutil.copy(LABS["1.1"][0] / "app-with-sidecar.yaml", folder)  # the starter: TODOs left
    command = grader_command("--backend", backend, "--submission", str(folder))
    output = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120).stdout
    assert 'no matches for kind "Pod" in version "apps/v1"' in output
    assert ("kubectl apply --dry-run=server" in output) is tip


def test_a_page_is_shown_as_its_words_not_as_html_with_escapes() -> None:
    """Lab 1.2 on podman (issue 22, student 6): nginx's 403 page came as '<html>\\r\\n<head>...'."""
    from graders.checks.diagnostics import page_words

    forbidden = ("<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1>"
                 "</center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n")
    assert page_words(forbidden) == "'403 Forbidden nginx/1.22.1'"
    assert page_words("Hello from\r\nthe sidecar\n") == "'Hello from the sidecar'"
    assert page_words("   ") == "an empty page"
    assert page_words("x" * 500).endswith("x...'")


def test_podmans_ready_column_is_said_to_be_no_kubelets(tmp_path: Path) -> None:
    """The readiness hint says 'never Ready (READY 0/1)' above 'What the cluster shows: READY 1/1' on podman,
    which runs no readiness probe: the shown state says so."""
    import copy

    from graders.checks import expect
    from tests.test_expect import POD, failure, make_run

    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][1]["readinessProbe"] = {"httpGet": {"path": "/", "port": 8080}}
    run = make_run(tmp_path, pod)
    run.capabilities = frozenset()  # podman's: no readiness-probes
    want = {"spec": {"containers": [{"name": "nginx", "readinessProbe": {"httpGet": {"port": 80}}}]}}
    failed = failure(lambda: expect.spec_matches(run, "web", want, what="a probe on port 80", hint="h"))
    assert "READY 2/2 (this backend runs no readiness probes" in dict(failed.details)["What the cluster shows"]
    run.capabilities = frozenset({"readiness-probes"})
    failed = failure(lambda: expect.spec_matches(run, "web", want, what="a probe on port 80", hint="h"))
    assert "readiness probes" not in dict(failed.details)["What the cluster shows"]


@pytest.mark.parametrize("lab_id", ["1.1", "1.2"])
def test_a_lab_says_plainly_what_a_student_without_docker_can_do(lab_id: str) -> None:
    """The Try-it steps need a cluster (issue 22, student 8): the README says so, and how to grade instead."""
    readme = " ".join((LABS[lab_id][0] / "README.md").read_text().split())
    assert "Without Docker" in readme and "is no cluster" in readme
    assert f"pytest labs/{lab_id} --backend podman" in readme
