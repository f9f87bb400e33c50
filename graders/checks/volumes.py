"""Containers of a Pod share volumes: what one container writes, another reads.

The shared volume is read from the grader's side (podman: the host folder the grader bind-mounts;
a cluster: an ephemeral busybox container mounting it read-only), and the request is made from the
grader's side too: programs in the student's images (grep, cat, curl) decide nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from graders.checks.expect import file_of
from graders.checks.pods import pod_containers, running_container, runs_lab_image, unanswered
from graders.errors import CheckFailed
from graders.run import LabRun
from graders.waiting import NotYet, until

POLL = 0.2  # seconds between looks: the request shows up at the sidecar's next look, at any moment


def shared_mounts(pod_spec: dict, writer: str, reader: str) -> dict[str, tuple[str, str]]:
    """Volumes both containers mount: volume name -> (writer's mount path, reader's mount path)."""
    containers = {c.get("name"): c for c in pod_containers(pod_spec)}

    def mounts(name: str) -> dict[str, str]:
        return {m["name"]: m["mountPath"] for m in containers.get(name, {}).get("volumeMounts") or []}

    writer_mounts, reader_mounts = mounts(writer), mounts(reader)
    return {name: (writer_mounts[name], reader_mounts[name]) for name in writer_mounts if name in reader_mounts}


# What `reader` must do with the log, for the hint: {reader} and {mount} (its mount of the volume) are
# filled in. A lab names its own way (a command, a file) through reader_hint.
READER_HINT = "{reader} must print the log file it finds under {mount} to its own output, for as long as it runs"


def logs_cross_volume(run: LabRun, pod: str, *, writer: str, reader: str, writer_log_dir: str, port: int,
                      image: str | None = None, program: str | None = None, volume_type: str | None = None,
                      reader_hint: str = READER_HINT) -> None:
    """A request marked with a unique query string, made to `writer`'s web server (which runs `image`
    with `program` and logs to `writer_log_dir`), shows up in a volume shared with `reader` and in
    `reader`'s output (the log-shipping sidecar). The marker is a query on the index page: only the
    access log records it (a 404 path would land in a server's error log too). `volume_type`: the
    volume type the lab asks for, if any."""
    running_container(run, pod, writer)
    running_container(run, pod, reader)
    spec = run.submission.pods[pod]["spec"]
    shared = shared_mounts(spec, writer, reader)
    volume_kinds = {v.get("name"): next((k for k in v if k != "name"), "?") for v in spec.get("volumes") or []}
    if not shared:
        raise CheckFailed(
            expected=f"containers {writer} and {reader} of Pod {pod} to mount the same volume",
            observed="no volume is mounted by both (check volumeMounts[].name of both containers)",
            hint=f"declare one {volume_type + ' ' if volume_type else ''}volume under spec.volumes and mount it "
                 f"in both containers")

    marker = f"k8s101-marker-{uuid.uuid4().hex[:12]}"
    response = run.sandbox.http_get(pod, port, f"/?{marker}", timeout=run.timeouts.exec)
    if response.status != 200:  # a writer that is not the lab's program is the cause, when that is so
        raise unanswered(run, pod, writer, image, program,
                         expected=f"a request to {writer} on localhost:{port} (the grader's, marked /?{marker})",
                         observed=f"it got {response.error or f'HTTP {response.status}'}",
                         hint=f"{writer} must serve on port {port}")
    if image:  # something answered: it must be the lab's server writing the log, not an imposter
        runs_lab_image(run, pod, writer, image, program)
    reader_paths = {name: paths[1].rstrip("/") for name, paths in shared.items()}

    def probe() -> None:
        files = [f"{reader_paths[name]}/{path}" for name in shared
                 for path, text in run.sandbox.volume_files(pod, name, timeout=run.timeouts.exec).items()
                 if marker in text]
        in_output = marker in run.sandbox.logs(pod, reader, tail=200)
        if files and in_output:
            return
        raise NotYet(_observed(files, in_output, reader, list(reader_paths.values()), pod))

    try:
        until(probe, timeout=run.timeouts.show_up, longest_wait=POLL)
    except NotYet as last:
        raise CheckFailed(
            expected=f"a request logged by {writer} (GET /?{marker}) to appear in the volume shared with "
                     f"{reader} ({reader}'s mount: {', '.join(reader_paths.values())}) and in {reader}'s output",
            observed=last.observed,
            hint=_hint(run, pod, shared, volume_kinds, ShareTask(writer, reader, writer_log_dir, program, volume_type,
                                                                  reader_hint))) from None


def _observed(files: list[str], in_output: bool, reader: str, paths: list[str], pod: str) -> str:
    where = ", ".join(paths)
    if files:
        return (f"the request reached the shared volume ({', '.join(files)}) but not {reader}'s output "
                f"(`kubectl logs {pod} -c {reader}` shows nothing of it)")
    if in_output:
        return f"the request is in {reader}'s output but in no file under {where}, its mount of the shared volume"
    return f"the request appeared neither in the files under {where} ({reader}'s mount) nor in {reader}'s output"


@dataclass(frozen=True)
class ShareTask:
    """What the lab asks of the two containers, in its own words, for the hint."""

    writer: str
    reader: str
    writer_log_dir: str
    program: str | None  # the writer's program, as the student knows it
    volume_type: str | None
    reader_hint: str


def _hint(run: LabRun, pod: str, shared: dict[str, tuple[str, str]], kinds: dict[str, str], task: ShareTask) -> str:
    tips = []
    for name, (writer_path, reader_path) in shared.items():
        if task.volume_type and kinds.get(name) != task.volume_type:
            tips.append(f"volume {name} is a {kinds.get(name)} volume; the task asks for a volume of type "
                        f"{task.volume_type}")
        if writer_path.rstrip("/") != task.writer_log_dir:
            tips.append(f"{file_of(run, pod)}: {_mount_field(run, pod, task.writer, name)}: {task.writer} mounts "
                        f"volume {name} at {writer_path}, but {task.program or task.writer} writes its logs to "
                        f"{task.writer_log_dir}: mount it there")
        else:
            tips.append(task.reader_hint.format(reader=task.reader, mount=reader_path.rstrip("/")))
    return "; ".join(tips)


def _mount_field(run: LabRun, pod: str, container: str, volume: str) -> str:
    """The field path of a container's mount of a volume: spec.containers[0].volumeMounts[1].mountPath."""
    spec = run.submission.pods[pod]["spec"]
    for place in ("containers", "initContainers"):
        for index, entry in enumerate(spec.get(place) or []):
            if isinstance(entry, dict) and entry.get("name") == container:
                for number, mount in enumerate(entry.get("volumeMounts") or []):
                    if isinstance(mount, dict) and mount.get("name") == volume:
                        return f"spec.{place}[{index}].volumeMounts[{number}].mountPath"
    return f"container {container}'s volumeMounts"
