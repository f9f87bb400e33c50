"""What to show a student with a failure: the containers' last log lines and the Pod's events."""

from __future__ import annotations

import json
import re
import shlex
from html.parser import HTMLParser
from typing import Any, Mapping

from graders import images
from graders.backends.base import ContainerState, PodState
from graders.errors import InfraError
from graders.lab import ImageFacts
from graders.run import LabRun

LOG_LINES = 10
EVENT_LINES = 10

# Waiting reasons that cannot fix themselves: fail at once, with what to do.
PULL_FAILED = "the image cannot be pulled: check its name and tag against the README (a typo is the usual cause)"
FATAL_REASONS = {
    "ErrImagePull": PULL_FAILED,
    "ImagePullBackOff": PULL_FAILED,
    "ErrImageNeverPull": "the image is not on the node and imagePullPolicy is Never",
    "InvalidImageName": "the image field is not a valid image reference: write it as name:tag, as the README does",
    "CrashLoopBackOff": "the container keeps exiting and being restarted: its command must keep running "
                        "(read its last log lines below)",
    "CreateContainerConfigError": "the container's configuration refers to something missing "
                                  "(a ConfigMap, Secret or volume)",
    "CreateContainerError": "the container could not be created: check its command, args and volumeMounts",
    "RunContainerError": "the container's command could not be started: check command and args "
                         "(is the program in the image?)",
    "Evicted": "a container wrote more into its own filesystem than it may: write only what the task asks "
               "(log files belong in the shared volume), and no large files",
}


NO_LOG_LINES = "(none: the container has written nothing to its output)"
EXITED = ("CrashLoopBackOff", "Error", "Completed")  # reasons of a container whose own command ended


def fatal_hint(run: LabRun, pod: str, container: ContainerState, reason: str) -> str:
    """The hint for a container that cannot start or keeps exiting: what the Pod's spec says about it
    when it explains the failure (a replaced start command, a volume hiding the image's folder), else
    the reason's general hint."""
    spec = run.submission.pods.get(pod, {}).get("spec") or {}
    where = run.submission.sources.get(pod, f"Pod {pod}")
    found = _spec_container(spec, container.name)
    facts = _facts(run.lab.images, container.image or (found[1].get("image", "") if found else ""))
    if found and facts and reason in EXITED:
        field_path, spec_container = found
        specific = (command_replaced(spec_container, facts, container.exit_code, f"{where}, {field_path}")
                    or mount_hides(spec_container, facts, f"{where}, {field_path}"))
        if specific:
            return specific
    return FATAL_REASONS.get(reason, FATAL_REASONS["CrashLoopBackOff"])


def command_replaced(container: Mapping[str, Any], facts: ImageFacts, exit_code: int | None, where: str) -> str | None:
    """`command:` set to something other than the image's own start command, in a container that exited."""
    command = container.get("command")
    if not facts.command or not isinstance(command, list) or not command:
        return None
    given = [str(part) for part in command] + [str(part) for part in container.get("args") or []]
    if given == list(facts.command):
        return None
    code = f"with code {exit_code}" if exit_code is not None else "at once"
    return (f"{where}.command: `{shlex.join(given)}` replaced the image's own start command "
            f"`{shlex.join(facts.command)}`, and the container exited {code}. A container lives as long as "
            f"its command runs in the foreground: remove `command:` to keep the image's own, or write the "
            f"whole command: `command: {json.dumps(list(facts.command))}`")


def mount_hides(container: Mapping[str, Any], facts: ImageFacts, where: str) -> str | None:
    """A volume mounted over a parent folder of where the image writes: the empty volume hides that folder."""
    for index, mount in enumerate(container.get("volumeMounts") or []):
        path = str(mount.get("mountPath", "")).rstrip("/") if isinstance(mount, dict) else ""
        for folder in facts.writes_to:
            if path and folder.startswith(path + "/"):
                return (f"{where}.volumeMounts[{index}].mountPath: volume {mount.get('name')} is mounted at "
                        f"{path}, a parent folder of {folder}, where the image writes: the empty volume hides "
                        f"{folder}, so the program cannot open its files there and exits. Mount the volume at "
                        f"{folder} itself")
    return None


def _spec_container(spec: Mapping[str, Any], name: str) -> tuple[str, Mapping[str, Any]] | None:
    for kind in ("containers", "initContainers"):
        for index, container in enumerate(spec.get(kind) or []):
            if isinstance(container, dict) and container.get("name") == name:
                return f"spec.{kind}[{index}]", container
    return None


def _facts(lab_images: Mapping[str, ImageFacts], image: str) -> ImageFacts | None:
    """nginx:1.25 and docker.io/library/nginx:1.25 are one image (graders/images.py)."""
    return next((facts for name, facts in lab_images.items() if images.same_reference(name, image)), None)


def describe(state: PodState | None) -> str:
    """A Pod's state in kubectl's words: 'STATUS Running, READY 1/2; log-shipper: CrashLoopBackOff (...)'."""
    if state is None:
        return "the Pod does not exist"
    ready = sum(1 for c in state.containers if c.ready)
    parts = [f"STATUS {state.phase}, READY {ready}/{len(state.containers)}"]
    for init in state.init_containers:  # one not finished holds every container back (PodInitializing)
        if init.reason != "Completed":
            detail = init.reason or ("running" if init.running else "not started")
            parts.append(f"init container {init.name}: {detail}" + (f" ({init.message})" if init.message else ""))
    for container in state.containers:
        if container.running and container.ready:
            continue
        detail = container.reason or ("running, not Ready" if container.running else "not running")
        if container.message:
            detail += f" ({container.message})"
        parts.append(f"container {container.name}: {detail}")
    if state.terminating:
        parts.append("being deleted")
    return "; ".join(parts)


def details(run: LabRun, pod: str, containers: list[str] | None = None) -> list[tuple[str, str]]:
    """Last log lines of each container and the Pod's recent events, for a failure message.

    Collecting them never changes the verdict: a backend that cannot read logs or events (InfraError)
    leaves a line saying so under the student's failure, not an infrastructure error in its place."""
    found: list[tuple[str, str]] = []
    try:
        state = run.sandbox.state(pod)
    except InfraError as error:
        return [(f"Pod {pod}", f"(could not be read: {error.problem})")]
    names = containers or ([c.name for c in state.containers] if state else [])
    for name in names:
        try:
            lines = run.sandbox.logs(pod, name, tail=LOG_LINES)
        except InfraError as error:
            lines = f"(could not be read: {error.problem})"
        found.append((f"Last log lines of {pod}/{name}", lines if lines.strip() else NO_LOG_LINES))
    try:
        events = run.sandbox.events(pod)[-EVENT_LINES:]
    except InfraError as error:
        events = [f"(could not be read: {error.problem})"]
    found.append((f"Recent events of {pod}", "\n".join(events)))
    return found


PAGE_WORDS = 200  # characters of a page shown in a message


class _Text(HTMLParser):
    """The words a browser would show of a page: no tags, no head, no scripts."""

    HIDDEN = {"head", "title", "script", "style"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN and self.hidden > 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.words.append(data)


def page_words(body: str) -> str:
    """A page as a student reads it in a browser, quoted: '403 Forbidden nginx/1.22.1', not its HTML with
    \\r\\n escapes; text that is no HTML keeps its words, with its line breaks as spaces."""
    text = body
    if re.search(r"<[a-zA-Z!/]", body):
        parser = _Text()
        try:
            parser.feed(body)
            parser.close()
            text = " ".join(parser.words)
        except Exception:  # a page that no parser reads: its raw text, as it came  # noqa: BLE001
            text = body
    words = " ".join(text.split())
    if not words:
        return "an empty page"
    return repr(words if len(words) <= PAGE_WORDS else words[:PAGE_WORDS] + "...")
