"""Containers of a Pod share volumes: what one container writes, another reads.

The shared volume is read from the grader's side (podman: the host folder the grader bind-mounts;
a cluster: an ephemeral busybox container mounting it read-only), and the request is made from the
grader's side too: programs in the student's images (grep, cat, curl) decide nothing.
"""

from __future__ import annotations

import uuid

from graders.checks.pods import pod_containers, running_container, runs_lab_image
from graders.errors import CheckFailed
from graders.run import LabRun
from graders.waiting import NotYet, until

# Seconds a logged request may take to reach the sidecar's output (`tail -F` looks once a second).
SHOW_UP = 5.0
POLL = 0.2  # seconds between looks: the request shows up at the sidecar's next look, at any moment


def shared_mounts(pod_spec: dict, writer: str, reader: str) -> dict[str, tuple[str, str]]:
    """Volumes both containers mount: volume name -> (writer's mount path, reader's mount path)."""
    containers = {c.get("name"): c for c in pod_containers(pod_spec)}

    def mounts(name: str) -> dict[str, str]:
        return {m["name"]: m["mountPath"] for m in containers.get(name, {}).get("volumeMounts") or []}

    writer_mounts, reader_mounts = mounts(writer), mounts(reader)
    return {name: (writer_mounts[name], reader_mounts[name]) for name in writer_mounts if name in reader_mounts}


def logs_cross_volume(run: LabRun, pod: str, *, writer: str, reader: str, writer_log_dir: str, port: int,
                      image: str | None = None, program: str | None = None) -> None:
    """A request marked with a unique query string, made to `writer`'s web server (which runs `image`
    with `program`), shows up in a volume shared with `reader` and in `reader`'s output (the
    log-shipping sidecar). The marker is a query on the index page: only the access log records it
    (a 404 path would land in nginx's error log too)."""
    running_container(run, pod, writer)
    running_container(run, pod, reader)
    spec = run.submission.pods[pod]["spec"]
    shared = shared_mounts(spec, writer, reader)
    volume_kinds = {v.get("name"): next((k for k in v if k != "name"), "?") for v in spec.get("volumes") or []}
    if not shared:
        raise CheckFailed(
            expected=f"containers {writer} and {reader} of Pod {pod} to mount the same volume",
            observed="no volume is mounted by both (check volumeMounts[].name of both containers)",
            hint="declare one emptyDir volume under spec.volumes and mount it in both containers")

    marker = f"k8s101-marker-{uuid.uuid4().hex[:12]}"
    response = run.sandbox.http_get(pod, port, f"/?{marker}", timeout=run.timeouts.exec)
    if response.status != 200:
        raise CheckFailed(
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
        raise NotYet(_observed(files, in_output, reader, list(reader_paths.values())))

    try:
        until(probe, timeout=SHOW_UP, longest_wait=POLL)
    except NotYet as last:
        raise CheckFailed(
            expected=f"a request logged by {writer} (GET /?{marker}) to appear in the volume shared with "
                     f"{reader} ({reader}'s mount: {', '.join(reader_paths.values())}) and in {reader}'s output",
            observed=last.observed,
            hint=_hint(shared, volume_kinds, writer, reader, writer_log_dir)) from None


def _observed(files: list[str], in_output: bool, reader: str, paths: list[str]) -> str:
    where = ", ".join(paths)
    if files:
        return (f"the request reached the shared volume ({', '.join(files)}) but not {reader}'s output "
                f"(`kubectl logs POD -c {reader}` shows nothing of it)")
    if in_output:
        return f"the request is in {reader}'s output but in no file under {where}, its mount of the shared volume"
    return f"the request appeared neither in the files under {where} ({reader}'s mount) nor in {reader}'s output"


def _hint(shared: dict[str, tuple[str, str]], kinds: dict[str, str], writer: str, reader: str,
          writer_log_dir: str) -> str:
    tips = []
    for name, (writer_path, reader_path) in shared.items():
        if kinds.get(name) != "emptyDir":
            tips.append(f"volume {name} is a {kinds.get(name)} volume; this lab asks for an emptyDir")
        if writer_path.rstrip("/") != writer_log_dir:
            tips.append(f"{writer} mounts volume {name} at {writer_path}, but nginx writes its logs to "
                        f"{writer_log_dir}: mount it there")
        else:
            tips.append(f"{reader} should print the log to its output, e.g. command: "
                        f"[\"sh\", \"-c\", \"tail -F {reader_path.rstrip('/')}/access.log\"]")
    return "; ".join(tips)
