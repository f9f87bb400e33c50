"""Runtime hints that explain a failure from the Pod's spec (graders/checks/diagnostics.py), offline."""

from __future__ import annotations

import pytest

from graders.checks.diagnostics import command_replaced, mount_hides
from graders.lab import ImageFacts

NGINX = ImageFacts(command=("nginx", "-g", "daemon off;"), writes_to=("/var/log/nginx",))


def test_a_replaced_start_command_is_named_with_the_exit_code() -> None:
    hint = command_replaced({"name": "app", "command": ["nginx"]}, NGINX, 0, "pod.yaml, spec.containers[0]")
    assert hint is not None
    assert hint.startswith("pod.yaml, spec.containers[0].command: `nginx` replaced the image's own start command "
                           "`nginx -g 'daemon off;'`, and the container exited with code 0.")
    assert 'command: ["nginx", "-g", "daemon off;"]' in hint


@pytest.mark.parametrize("container", [
    {"name": "app"},  # the image's own command
    {"name": "app", "args": ["-g", "daemon off;"]},  # args only: the image's entrypoint still runs
    {"name": "app", "command": ["nginx", "-g", "daemon off;"]},  # the same command, written out
    {"name": "app", "command": ["nginx"], "args": ["-g", "daemon off;"]},
])
def test_the_images_own_command_is_not_blamed(container: dict) -> None:
    assert command_replaced(container, NGINX, 1, "pod.yaml, spec.containers[0]") is None


def test_no_facts_no_blame() -> None:
    assert command_replaced({"name": "app", "command": ["sh"]}, ImageFacts(), 0, "x") is None


def test_a_volume_over_a_parent_folder_is_named() -> None:
    container = {"name": "app", "volumeMounts": [{"name": "cache", "mountPath": "/tmp"},
                                                 {"name": "logs", "mountPath": "/var/log/"}]}
    hint = mount_hides(container, NGINX, "pod.yaml, spec.containers[0]")
    assert hint is not None
    assert hint.startswith("pod.yaml, spec.containers[0].volumeMounts[1].mountPath: volume logs is mounted at "
                           "/var/log, a parent folder of /var/log/nginx, where the image writes: the empty volume "
                           "hides /var/log/nginx")
    assert hint.endswith("Mount the volume at /var/log/nginx itself")


@pytest.mark.parametrize("path", ["/var/log/nginx", "/var/log/nginx/", "/var/log/nginx-old", "/var/lo", "/logs"])
def test_a_mount_at_or_beside_the_folder_is_not_blamed(path: str) -> None:
    container = {"name": "app", "volumeMounts": [{"name": "logs", "mountPath": path}]}
    assert mount_hides(container, NGINX, "x") is None


@pytest.mark.podman
def test_a_container_that_logged_nothing_says_so_on_podman(pytester: pytest.Pytester) -> None:
    """'read its last log lines below': they are there, or the grader says there are none."""
    from tests.grading import SUBMISSIONS, grade_lab

    result = grade_lab(pytester, "--backend", "podman", "--submission", str(SUBMISSIONS / "command-replaced"),
                       "-k", "sidecar_ready")
    result.stdout.fnmatch_lines([
        "Hint:     app-with-sidecar.yaml, spec.containers[[]0[]].command: `nginx` replaced the image's own start "
        "command `nginx -g 'daemon off;'`, and the container exited with code 0.*",
        "Last log lines of app-with-sidecar/app:", "    | (none: the container has written nothing to its output)",
    ])
    assert result.ret == 1


def test_logs_that_cannot_be_read_leave_the_verdict_alone() -> None:
    """A log API error while collecting details is said under the failure, never turned into an InfraError."""
    from types import SimpleNamespace

    from graders.backends.base import ContainerState, PodState
    from graders.checks.diagnostics import details
    from graders.errors import InfraError

    class Sandbox:
        def state(self, pod):
            return PodState(pod, "Running", {}, {}, (ContainerState("app", "nginx:1.25", True, True),))

        def logs(self, pod, container, tail=20):
            raise InfraError("the log API answered 500")

        def events(self, pod):
            raise InfraError("the events API answered 500")

    found = dict(details(SimpleNamespace(sandbox=Sandbox()), "web"))  # type: ignore[arg-type]  # reads only .sandbox
    assert found["Last log lines of web/app"] == "(could not be read: the log API answered 500)"
    assert found["Recent events of web"] == "(could not be read: the events API answered 500)"
