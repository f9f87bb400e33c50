"""Whose fault is what podman said: the submission's (a reason a kubelet would show, in a cluster's terms) or the
machine's (an InfraError, no points lost). The fake cluster's kubelet (tests/cluster/kubelet.py) reads podman's
failures with these same rules, as it plays Pods with the same podman."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graders.backends.podman.cli import strip_noise

MACHINE_FIX = ("check that `podman run --rm docker.io/library/busybox:1.36 true` works on its own; on the "
               "project's build machines run scripts/setup-debian.sh, whose preflight says what is missing")

# What a cluster would show too, caused by the submission: these are the student's failures. Anything
# else podman says when it cannot start a Pod (pause image, catatonit, storage, runtime, rlimits,
# cgroups, networks) is the machine's: an InfraError, no points lost.
STUDENT_ERRORS = (
    (r"invalid reference format|repository name must be", "InvalidImageName"),
    (r"short-name|pinging container registry|initializing source|manifest unknown|image not known|"
     r"reading manifest|unable to pull|no such image", "ErrImagePull"),
    (r"executable file not found|exec: \"[^\"]*\": (no such file or directory|permission denied|is a directory)|"
     r"memory limit too low|minimum memory limit", "RunContainerError"),
    (r"init container \S+ exited with code", "CrashLoopBackOff"),
    (r"not a directory|did not finish within", "CreateContainerError"),
)
# Podman's own machinery, even when its message also says "executable file not found" (catatonit).
MACHINE_ERRORS = (r"pause image|pause binary|catatonit|conmon|rlimit|cgroups? |hybrid mode|overlay|storage|"
                  r"no space left|runtime \"?\w+\"? not found|netavark|\bcni\b|slirp|database|\block")
MACHINE_FIXES = (
    ("catatonit|pause",
     "install catatonit (Debian: apt-get install catatonit), which podman needs for its pause image"),
    ("newuidmap|newgidmap", "install uidmap (Debian: apt-get install uidmap)"),
    ("setrlimit|rlimit|hybrid mode", "point CONTAINERS_CONF at scripts/podman/containers.conf (runc, low ulimits)"),
)


# The submission's even though the message names podman's storage (runc's refusal quotes the container's
# rootfs under /var/lib/containers/storage/overlay): a mount inside /proc (runc libcontainer/rootfs_linux.go,
# checkProcMount), which any node's runc refuses too.
# A memory limit below what the container already uses when runc sets it (opencontainers/runc
# libcontainer/cgroups/fs/memory.go, setMemory: EBUSY from the kernel), named "cgroup config" in runc's words:
# the grader's own limit is never lower than 512 MiB, so only the student's (`64m` is 64 millibytes, one byte once
# rounded up) can be refused so; any node's runc refuses it too, and the kubelet reports a start that failed as
# RunContainerError (kubernetes/kubernetes pkg/kubelet/container/sync_result.go, ErrRunContainer).
STUDENT_FIRST = ((r"cannot be mounted because it is inside /proc", "RunContainerError"),
                 (r"unable to set memory limit to \d+", "RunContainerError"))


def error_text(stderr: str) -> str:
    """What podman said went wrong, on one line: its `Error:` lines, else its last lines."""
    lines = [line.strip() for line in strip_noise(stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return " | ".join(errors or lines[-3:]) or "no error output"


def reason_for(error: str) -> str | None:
    """The kubelet's reason for a start failure the submission caused; None for the machine's own."""
    for pattern, reason in STUDENT_FIRST:
        if re.search(pattern, error, re.I):
            return reason
    if re.search(MACHINE_ERRORS, error, re.I):
        return None
    for pattern, reason in STUDENT_ERRORS:
        if re.search(pattern, error, re.I):
            return reason
    return None


def machine_fix(error: str) -> str:
    """What to do about a failure of the machine's, as specific as podman's words allow."""
    return next((fix for pattern, fix in MACHINE_FIXES if re.search(pattern, error, re.I)), MACHINE_FIX)


def exit_race(stderr: str) -> bool:
    """podman read a /proc file of a process that exited meanwhile: nothing is wrong, the state just changed."""
    return "no such process" in stderr and "/proc/" in stderr


# `kube play` gives a pod the exit policy "stop": when its last container ends, podman stops the infra container,
# and a `podman start` that meets that stop half done is refused (measured, podman 4.3: "cannot get namespace path
# unless container <infra> is running: container is stopped"); once the stop is done, `podman start` brings the
# infra container back with the container. A node keeps the Pod's sandbox meanwhile (kubernetes/kubernetes
# pkg/kubelet/kuberuntime/kuberuntime_manager.go, computePodActions restarts containers in the existing sandbox),
# so such a refusal is a moment of podman's, never the submission's RunContainerError.
SANDBOX_STOPPING_WAIT = 20.0  # seconds a restart keeps trying; the stop takes milliseconds on an idle machine


def sandbox_stopping(error: str) -> bool:
    """podman refused a start because it was stopping the pod's infra container at that moment."""
    return "cannot get namespace path unless container" in error


def mounting(pod: dict[str, Any], error: str) -> set[str] | None:
    """The containers that mount a volume where runc refused to mount one (`... to rootfs at "/proc/logs"`):
    the failure is theirs, the others would start; None when the error names no mount."""
    found = re.search(r'to rootfs at "([^"]+)"', error)
    if not found:
        return None
    return {str(c.get("name")) for c in pod["spec"].get("containers", [])
            if any(isinstance(m, dict) and str(m.get("mountPath", "")).rstrip("/") == found.group(1).rstrip("/")
                   for m in c.get("volumeMounts") or [])} or None


# Where podman keeps its configuration, storage and cgroups: files of the machine that grades, which a student
# can neither see nor change. A cluster's status for the same mistake names none of them: the kubelet's waiting
# message for ErrImagePull is the runtime's error, and its event "Failed to pull image ...", each about the image
# (kubernetes/kubernetes, pkg/kubelet/images/image_manager.go); podman's short-name error also names
# /etc/containers/registries.conf. Paths inside a container (`rootfs at "/etc/nginx"`) are the student's and stay.
PODMAN_CONFIGURATION = re.compile(r'"?(?:/etc/containers|/usr/share/containers|(?:/root|/home/[^/\s"]+)/\.config/'
                                  r'containers)/[^\s",;:]*"?')
MACHINE_PATHS = re.compile(r'"?(?:/var/lib/containers|/var/run/containers|/run/containers|/run/libpod|/sys/fs/cgroup)'
                           r'(?:/[^\s",;:]*)?"?')


def without_machine_paths(error: str, workdir: Path) -> str:
    """A start failure the submission caused, without the grading machine's files (the run's own folder included)."""
    text = re.sub(rf'"?{re.escape(str(workdir))}(?:/[^\s",;:]*)?"?', "a folder of the grader's", error)
    text = PODMAN_CONFIGURATION.sub("podman's configuration", text)
    return MACHINE_PATHS.sub("a folder of podman's", text)
