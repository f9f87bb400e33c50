"""The copy of a Pod that podman plays, and the policy that keeps the machine's stores out: offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from graders import policy
from graders.errors import InfraError
from graders.backends.podman import PodmanBackend, PodmanSandbox, classification, cli, host, owners
from graders.backends.podman import play as podman_play
from graders.backends.podman.kubelet import Kubelet
from graders.backends.podman.play import expand, expand_container, playable, quantity
from graders.backends.podman.run import PodmanRun
from graders.backends.podman.runtime import KubeletRuntime
from graders.backends.podman.storage_watch import Watcher

LAB_POD: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"},
                                                          "annotations": {"io.containers.sdnotify": "container"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "ports": [{"containerPort": 80}]}],
                    "initContainers": [{"name": "i", "image": "busybox:1.36"}],
                    "volumes": [{"name": "/", "emptyDir": {"sizeLimit": "10Mi"}}, {"name": "../etc"}]}}


@pytest.mark.parametrize("text, expected", [
    ("$(A)", "1"), ("$(A)$(B)", "12"), ("$$(A)", "$(A)"), ("$$$(A)", "$1"), ("$(UNSET)", "$(UNSET)"),
    ("$(A", "$(A"), ("$A", "$A"), ("a$", "a$"), ("$", "$"), ("$()", "$()"), ("x $(B) y", "x 2 y"),
])
def test_expansion_is_the_kubelets(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "B": "2"}) == expected


def test_env_values_expand_from_the_ones_above_then_command_and_args() -> None:
    container: dict[str, Any] = {"env": [{"name": "DIR", "value": "/logs"}, {"name": "FILE", "value": "$(DIR)/a.log"},
                         {"name": "LATER", "value": "$(AFTER)"}, {"name": "AFTER", "value": "z"}],
                 "command": ["sh", "-c"], "args": ["tail -F $(FILE) $$(FILE) $(AFTER) $(NOPE)"]}
    expand_container(container)
    assert container["env"][1]["value"] == "/logs/a.log"
    assert container["env"][2]["value"] == "$(AFTER)"  # only variables defined above, as the kubelet does
    assert container["args"] == ["tail -F /logs/a.log $(FILE) z $(NOPE)"]


@pytest.mark.parametrize("value, expected", [
    ("512Mi", 512 * 2**20), ("1G", 10**9), ("500m", Decimal("0.5")), ("2", 2), (2, 2), ("1e3", 1000),
    ("1.5Gi", int(1.5 * 2**30)), ("nonsense", None), (True, None), ([], None), ("1e999999", Decimal("1e999999")),
])
def test_quantities(value, expected) -> None:
    assert quantity(value) == expected


def test_the_played_copy_is_bounded_renamed_and_has_no_annotations_or_ports(tmp_path: Path) -> None:
    folders = []

    def folder(index: int, volume: dict) -> Path:
        folders.append((index, volume["name"]))
        return tmp_path / f"volume{index}"

    played = playable(LAB_POD, "p-run1", {"run": "1"}, folder)
    # only the grader's own annotation: init containers of type "always" (podman's "once" races with them)
    assert played["metadata"] == {"name": "p-run1", "labels": {"app": "x", "run": "1"},
                                  "annotations": {"io.podman.annotations.init.container.type": "always"}}
    assert LAB_POD["metadata"]["annotations"]  # the submitted spec keeps them for the checks
    for container in played["spec"]["containers"] + played["spec"]["initContainers"]:
        assert "ports" not in container
        assert container["resources"]["limits"] == {"memory": str(512 * 2**20), "cpu": "1000m"}
    assert folders == [(0, "/"), (1, "../etc")]
    # every policy is played as Never: podman restarts at once for ever (a restart storm); the grader's kubelet
    # starts containers again as the submitted policy says, with the kubelet's back-off (podman/kubelet.py)
    assert played["spec"]["restartPolicy"] == "Never" and "restartPolicy" not in LAB_POD["spec"]
    for restart in ("Always", "OnFailure", "Never"):
        again = playable({**LAB_POD, "spec": {**LAB_POD["spec"], "restartPolicy": restart}}, "p", {}, folder)
        assert again["spec"]["restartPolicy"] == "Never"
    plain = {**LAB_POD, "spec": {k: v for k, v in LAB_POD["spec"].items() if k != "initContainers"}}
    assert playable(plain, "p", {}, folder)["spec"]["restartPolicy"] == "Never"
    assert [v["hostPath"]["path"] for v in played["spec"]["volumes"]] == [str(tmp_path / "volume0"),
                                                                          str(tmp_path / "volume1")]


@pytest.mark.parametrize("limits, requests, expected_limits, expected_requests", [
    ({"memory": "64Mi", "cpu": "250m"}, {}, {"memory": str(64 * 2**20), "cpu": "250m"},
     {"memory": str(64 * 2**20), "cpu": "250m"}),
    ({"memory": "8Gi", "cpu": 16}, {"memory": "4Gi", "cpu": 8}, {"memory": str(512 * 2**20), "cpu": "1000m"},
     {"memory": str(512 * 2**20), "cpu": "1000m"}),
    ({}, {"memory": "32Mi", "cpu": "100m"}, {"memory": str(512 * 2**20), "cpu": "1000m"},
     {"memory": str(32 * 2**20), "cpu": "100m"}),
    ({"memory": "0.5"}, {}, {"memory": "1", "cpu": "1000m"}, {"memory": "1", "cpu": "1000m"}),
])
def test_limits_are_the_students_when_lower(limits, requests, expected_limits, expected_requests) -> None:
    container = {"resources": {"limits": limits, "requests": requests}}
    podman_play.bound_resources(container)
    assert container["resources"] == {"limits": expected_limits, "requests": expected_requests}


@pytest.mark.parametrize("source, size", [({}, podman_play.EMPTYDIR_CAP), ({"sizeLimit": "10Mi"}, 10 * 2**20),
                                          ({"sizeLimit": "100Gi"}, podman_play.EMPTYDIR_CAP)])
def test_emptydir_size_is_its_limit_under_a_cap(source: dict, size: int) -> None:
    assert podman_play.emptydir_size({"name": "v", "emptyDir": source}) == size


# -- what podman says when a Pod cannot start: the student's, or the machine's --------------------------
STUDENT = {
    "Error: initializing source docker://nginx:1.255: reading manifest 1.255": "ErrImagePull",
    "Error: invalid reference format": "InvalidImageName",
    'Error: starting container 1a: runc: runc create failed: unable to start container process: exec: "ngnx": '
    'executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found':
        "RunContainerError",
    'starting container 2b: runc create failed: unable to start container process: exec: "/etc/passwd": '
    'permission denied: OCI permission denied': "RunContainerError",
    "init container wait-forever did not finish within 60 s": "CreateContainerError",
}
MACHINE = [
    "Error: building local pause image: finding pause binary: exec: \"catatonit\": executable file not found "
    "in $PATH",  # the pause image: catatonit missing on a fresh machine
    "starting container c0: runc: runc create failed: unable to start container process: error during container "
    "init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: "
    "OCI permission denied",  # measured here without scripts/podman/containers.conf
    "Error: crun: cgroups in hybrid mode not supported, falling back to cgroupfs: OCI runtime error",
    "Error: mounting storage for container 3c: creating overlay mount: no space left on device",
    "Error: default OCI runtime \"runc\" not found: invalid argument",
    "Error: netavark: failed to create bridge interface",
]


@pytest.mark.parametrize("error, reason", sorted(STUDENT.items()))
def test_failures_a_cluster_shows_are_the_students(error: str, reason: str) -> None:
    assert classification.reason_for(error) == reason


@pytest.mark.parametrize("error", MACHINE)
def test_podmans_own_failures_are_the_machines(error: str) -> None:
    assert classification.reason_for(error) is None


def test_the_missing_pause_binary_says_to_install_catatonit() -> None:
    assert "apt-get install catatonit" in classification.machine_fix(MACHINE[0])


@pytest.mark.parametrize("error, shown", [
    ('Error: short-name "nginx:1.255" did not resolve to an alias and no unqualified-search registries are '
     'defined in "/etc/containers/registries.conf"',  # podman 4.3.1 here, for an image typo
     'Error: short-name "nginx:1.255" did not resolve to an alias and no unqualified-search registries are '
     "defined in podman's configuration"),
    ('Error: mounting "/tmp/k8s101-1a2b-x/volumes/pod0/volume0" to rootfs at "/etc/nginx/nginx.conf": '
     "not a directory",  # the student's path inside the container stays
     'Error: mounting a folder of the grader\'s to rootfs at "/etc/nginx/nginx.conf": not a directory'),
    ("Error: reading /var/lib/containers/storage/overlay/abc/diff/bin/ngnx: no such image",
     "Error: reading a folder of podman's: no such image"),
])
def test_a_students_start_failure_names_no_file_of_the_grading_machine(error: str, shown: str) -> None:
    assert classification.without_machine_paths(error, Path("/tmp/k8s101-1a2b-x")) == shown


# -- killed runs ------------------------------------------------------------------------------------------
def test_a_live_owner_is_never_gone_and_a_dead_one_on_this_boot_is() -> None:
    mine = owners.owner_labels()
    assert not owners.owner_gone(mine)
    host, boot, _, _ = (mine[key] for key in owners.OWNER_LABELS)
    # a PID above pid_max: not running
    dead = dict(zip(owners.OWNER_LABELS, (host, boot, str(2**22 + 17), "123"), strict=True))
    assert owners.owner_gone(dead)
    reused = {**mine, owners.OWNER_LABELS[3]: "1"}  # same PID, another process (started at another time)
    assert owners.owner_gone(reused)
    for key, other in ((owners.OWNER_LABELS[0], "another-host"), (owners.OWNER_LABELS[1], "another-boot")):
        assert not owners.owner_gone({**dead, key: other})  # not provably gone: the age rule decides
    assert not owners.owner_gone({})
    # alive: kept however old (parallel test workers grade with a short --reap-after beside live runs)
    assert owners.owner_alive(mine)
    assert not any(owners.owner_alive(labels) for labels in (dead, reused, {}, {**mine, owners.OWNER_LABELS[0]: "x"}))


def test_the_owner_names_the_session_that_started_it_when_it_is_a_valid_label(monkeypatch) -> None:
    monkeypatch.setenv(owners.SESSION_VARIABLE, "regrade-2026-12-03.a1")
    assert owners.owner_labels()[owners.SESSION_LABEL] == "regrade-2026-12-03.a1"
    for unusable in ("", "has spaces", "x" * 64, "-starts-with-a-dash"):
        monkeypatch.setenv(owners.SESSION_VARIABLE, unusable)
        assert owners.SESSION_LABEL not in owners.owner_labels()  # never a label podman or a cluster refuses


def deep_tree(top: Path, levels: int) -> None:
    """Folders `levels` deep under top, as a container can make them (far past PATH_MAX: made level by level)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def test_a_tree_thousands_of_folders_deep_is_removed_without_a_recursion_error(tmp_path: Path) -> None:
    """A killed run's folder holding such a tree once made every later run's reaping a grader error."""
    deep_tree(tmp_path / "k8s101-deep", 3000)
    with pytest.raises(RecursionError):  # what the standard library does with it
        shutil.rmtree(tmp_path / "k8s101-deep")
    host.remove_tree(tmp_path / "k8s101-deep")
    assert not (tmp_path / "k8s101-deep").exists()


# -- the machine's stores and annotations: refused on every backend ---------------------------------------
def _violations(spec: dict, allows: policy.Allowances = policy.DEFAULT_ALLOWANCES, annotations=None) -> list[str]:
    pod = {"metadata": {"name": "p", "annotations": annotations or {}},
           "spec": {"containers": [{"name": "c", "image": "i"}], **spec}}
    return [path for path, _ in policy.violations(pod, allows)]


@pytest.mark.parametrize("source", ["secret", "configMap", "persistentVolumeClaim", "projected", "downwardAPI",
                                    "ephemeral", "nfs", "csi", "image"])
def test_volume_types_the_lab_does_not_allow_are_refused(source: str) -> None:
    assert _violations({"volumes": [{"name": "v", source: {}}]}) == [f"spec.volumes[0].{source}"]
    assert _violations({"volumes": [{"name": "v", source: {}}]}, policy.Allowances(volumes={"emptyDir", source})) == []


def test_env_sources_and_subpath_are_refused_unless_allowed() -> None:
    container = {"name": "c", "image": "i", "env": [{"name": "A", "value": "1"},
                                                   {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s"}}}],
                 "envFrom": [{"secretRef": {"name": "s"}}],
                 "volumeMounts": [{"name": "v", "mountPath": "/a", "subPath": "x"},
                                  {"name": "v", "mountPath": "/b", "subPathExpr": "$(A)"}]}
    spec = {"initContainers": [container], "volumes": [{"name": "v", "emptyDir": {}}]}
    assert _violations(spec) == ["spec.initContainers[0].env[1].valueFrom", "spec.initContainers[0].envFrom",
                                 "spec.initContainers[0].volumeMounts[0].subPath",
                                 "spec.initContainers[0].volumeMounts[1].subPathExpr"]
    assert _violations(spec, policy.Allowances(env_from_sources=True, sub_path=True)) == []


@pytest.mark.parametrize("key, value, refused", [
    ("seccomp.security.alpha.kubernetes.io/pod", "unconfined", True),
    ("container.seccomp.security.alpha.kubernetes.io/app", "unconfined", True),
    ("container.seccomp.security.alpha.kubernetes.io/app", "", True),
    ("seccomp.security.alpha.kubernetes.io/pod", "runtime/default", False),
    ("seccomp.security.alpha.kubernetes.io/pod", "docker/default", False),
    ("seccomp.security.alpha.kubernetes.io/pod", "localhost/profile.json", False),
    ("container.apparmor.security.beta.kubernetes.io/app", "unconfined", True),
    ("container.apparmor.security.beta.kubernetes.io/app", "runtime/default", False),
    ("io.containers.sdnotify", "container", False),  # harmless on a cluster; not played on podman
])
def test_annotations_as_the_baseline_judges_them(key: str, value: str, refused: bool) -> None:
    assert _violations({}, annotations={key: value}) == ([f"metadata.annotations[{key}]"] if refused else [])


def test_host_paths_outside_the_run_folder_are_refused(tmp_path: Path) -> None:
    workdir = tmp_path.resolve()  # only the run's folder matters here: no podman needed
    assert host.inside(workdir, tmp_path / "volumes" / "pod1" / "volume0") == tmp_path / "volumes" / "pod1" / "volume0"
    (tmp_path / "link").symlink_to("/etc")
    for outside in (tmp_path / ".." / "elsewhere", Path("/"), tmp_path / "link" / "passwd"):
        with pytest.raises(InfraError, match="outside the run's folder"):
            host.inside(workdir, outside)


def test_a_podman_that_does_not_work_is_named_when_the_run_starts(tmp_path: Path, monkeypatch) -> None:
    """No `podman info` is paid up front on every run; a broken podman is still diagnosed at the first
    thing a run creates (its network), in the same words."""
    fake = tmp_path / "podman"
    fake.write_text("#!/bin/sh\necho 'Error: cannot open the database: permission denied' >&2\nexit 125\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    backend = PodmanBackend()
    with pytest.raises(InfraError) as caught:
        backend.open_sandbox("1.1", "broken")
    assert caught.value.problem == "podman is installed but does not work"
    assert "cannot open the database" in caught.value.tried[0] and "install podman" in caught.value.fix
    assert not list(Path(tempfile.gettempdir()).glob(f"{host.WORKDIR_PREFIX}broken-*"))


def test_a_restart_that_meets_podman_stopping_the_sandbox_is_tried_again(tmp_path: Path, monkeypatch) -> None:
    """CI on a busy runner saw a Pod's only container graded RunContainerError: its restart met podman stopping the
    infra container (kube play's exit policy "stop"). The words are podman 4.3's, measured with a start every 30 ms
    while the container exited. Any other refusal is said at once, as the kubelet says a failed start."""
    run = PodmanRun("podman", "r1", "1.1", labels={}, workdir=tmp_path, network="k8s101-r1")
    runtime = KubeletRuntime(type("Reach", (), {"run": run})())
    stopping = ('Error: unable to start container "9b13": cannot get namespace path unless container 1d5b is '
                'running: container is stopped\n')
    answers = [(125, "", stopping), (125, "", stopping), (0, "lonely-c\n", "")]
    monkeypatch.setattr(cli, "run", lambda argv, timeout, **_: subprocess.CompletedProcess(argv, *answers.pop(0)))
    assert runtime.start("lonely", "c") == "" and not answers

    answers[:] = [(125, "", 'Error: crun: executable file not found in $PATH\n'), (0, "", "")]
    assert "executable file not found" in runtime.start("lonely", "c") and len(answers) == 1


def test_reading_a_pod_while_its_process_exits_is_asked_again(tmp_path: Path, monkeypatch) -> None:
    """podman's inspect reads /proc/<pid>/cgroup of a container it still believes running; a process that exits
    in between made that an infrastructure error (CI saw it once in 700 tests). It is a race, not the machine."""
    run = PodmanRun("podman", "r1", "1.1", labels={}, workdir=tmp_path, network="k8s101-r1")
    run.submitted["web"] = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "x"}]}}
    sandbox = object.__new__(PodmanSandbox)  # only what state() reads: no podman needed
    sandbox.run, sandbox.storage = run, Watcher(lambda *_: None)
    sandbox.kubelet = Kubelet(KubeletRuntime(sandbox))  # not started: add() starts it
    race = "Error: read /proc/20427/cgroup: no such process\n"
    exited = json.dumps([{"Name": run.container("web", "app"), "Image": "sha",
                          "State": {"Status": "exited", "ExitCode": 0, "Pid": 0, "FinishedAt": ""}}])
    answers = [(125, "", race), (0, exited, "")]
    monkeypatch.setattr(cli, "run", lambda argv, timeout, **_: subprocess.CompletedProcess(argv, *answers.pop(0)))
    state = sandbox.state("web")
    assert state is not None and not answers
    assert state.containers[0].name == "app" and not state.containers[0].ready

    answers[:] = [(125, "", race)] * 4  # a race that never ends is the machine's after all
    with pytest.raises(InfraError, match="no such process"):
        sandbox.state("web")
    assert not answers
