"""The runtime's words put as a cluster shows them (issue 22, student 5): an image typo on podman reads
`ErrImagePull: nginx:1.255 not found`, a Pod's events list nothing of the grader's bookkeeping, and a -v run
keeps podman's own text."""

from __future__ import annotations

import pytest

from graders.errors import CheckFailed
from graders.runtime_words import as_a_cluster_says, events_as_a_cluster_lists, for_student

# What podman 4.3.1 printed here for `image: nginx:1.255`, as the podman backend passes it on
SHORT_NAME = ('Error: short-name "nginx:1.255" did not resolve to an alias and no unqualified-search registries '
              "are defined in podman's configuration")


@pytest.mark.parametrize("said", [
    SHORT_NAME,
    'Error: short-name "nginx:1.255" did not resolve to an alias and no unqualified-search registries are '
    'defined in "/etc/containers/registries.conf"',
    "Error: initializing source docker://nginx:1.255: reading manifest 1.255 in docker.io/library/nginx: "
    "manifest unknown",
    "Error: nginx:1.255: image not known",
])
def test_a_missing_image_reads_as_a_cluster_says_it(said: str) -> None:
    shown = as_a_cluster_says(f"container nginx: ErrImagePull: {said}")
    assert shown == "container nginx: ErrImagePull: nginx:1.255 not found"


def test_the_graders_bookkeeping_is_not_a_pod_event() -> None:
    events = "podman kube play: exit 0\npids limit 1024 (created)\npodman pod start: exit 0\nevicted: disk full"
    assert events_as_a_cluster_lists(events) == "evicted: disk full"


def test_a_verbose_run_keeps_the_runtimes_own_words() -> None:
    failed = CheckFailed("container nginx to start", f"container nginx: ErrImagePull: {SHORT_NAME}", "check the tag",
                         [("What the cluster shows", f"STATUS Pending; container nginx: ErrImagePull ({SHORT_NAME})"),
                          ("Recent events of web", f"podman kube play: exit 125\n{SHORT_NAME}")])
    shown = str(for_student(failed, verbose=False))
    assert "short-name" not in shown and "podman" not in shown and "configuration" not in shown
    assert "Observed: container nginx: ErrImagePull: nginx:1.255 not found" in shown
    assert "Recent events of web:\n    nginx:1.255 not found" in shown
    assert for_student(failed, verbose=True) is failed
    assert for_student(failed, verbose=False).headline == "container nginx: ErrImagePull: nginx:1.255 not found"


@pytest.mark.podman
@pytest.mark.parametrize("verbose", [False, True])
def test_an_image_typo_on_podman_reads_as_on_a_cluster_and_raw_only_with_v(tmp_path, verbose: bool) -> None:
    import subprocess

    from tests.grading import SUBMISSIONS, grader_command

    command = grader_command("--backend", "podman", "--submission", str(SUBMISSIONS / "image-typo"),
                             *(["-v"] if verbose else []))
    output = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600).stdout
    assert "ErrImagePull" in output
    if verbose:
        assert 'short-name "nginx:1.255"' in output and "podman kube play: exit" in output
    else:
        assert "short-name" not in output and "registries" not in output and "kube play" not in output
        assert "-> container nginx: ErrImagePull: nginx:1.255 not found" in output
