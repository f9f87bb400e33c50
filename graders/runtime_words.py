"""What the container runtime says, put as a cluster would show it; the raw words only in a -v run.

podman's errors name its own machinery: its short-name resolution and registries.conf for an image that is
not on the machine, its `kube play` exit status, the pids and memory limits the grader writes into the Pod's
cgroup. A cluster shows none of these: the kubelet's waiting message for ErrImagePull is the pull's error,
about the image (kubernetes/kubernetes, pkg/kubelet/images/image_manager.go: ErrImagePull with the
runtime's message), and a Pod's events are the kubelet's (Pulling, Created, Started), never the grader's
bookkeeping. So a student reads `ErrImagePull: nginx:1.52 not found`; `pytest -v` (pytest's --verbose)
keeps the runtime's own text for whoever needs to see it.
"""

from __future__ import annotations

import dataclasses
import re

from graders.errors import CheckFailed

# podman (containers/image) for an image it does not have and may not pull by a short name, once the
# backend has replaced registries.conf's path by "podman's configuration"; and a registry's "manifest unknown".
_NOT_FOUND = (
    re.compile(r'(?:Error: )?short-name "(?P<image>[^"]+)" did not resolve to an alias and no unqualified-search '
               r'registries are defined in (?:podman\'s configuration|"[^"]*")'),
    re.compile(r'(?:Error: )?initializing source docker://(?P<image>[^\s:]+(?::[^\s:]+)?): reading manifest \S+ '
               r'in \S+: manifest unknown(?:: manifest unknown)?'),
    re.compile(r'(?:Error: )?(?P<image>\S+): image not known'),
)
# Lines of a podman Pod's events that are the grader's own bookkeeping, not anything a cluster would list.
_BOOKKEEPING = re.compile(r"^(?:podman kube play: exit \d+|podman pod start: exit \d+|pids limit \d+|no pids limit|"
                          r"memory limit \d+ bytes for the whole Pod|no memory limit for the whole Pod|"
                          r"the grader cannot enter the Pod's network itself)")
EVENTS_TITLE = "Recent events of "


def as_a_cluster_says(text: str) -> str:
    """The runtime's words for a missing image, as a cluster's status says it: 'nginx:1.52 not found'."""
    for pattern in _NOT_FOUND:
        text = pattern.sub(lambda found: f"{found.group('image')} not found", text)
    return text


def events_as_a_cluster_lists(text: str) -> str:
    """A Pod's event lines without the grader's bookkeeping (play's exit status, the limits it wrote)."""
    return "\n".join(line for line in text.splitlines() if not _BOOKKEEPING.match(line.strip()))


def for_student(error: CheckFailed, verbose: bool) -> CheckFailed:
    """The failure as a cluster would word it, unless the run is verbose (then as the runtime said it)."""
    if verbose:
        return error
    details = []
    for title, text in error.details:
        text = as_a_cluster_says(text)
        if title.startswith(EVENTS_TITLE):
            text = events_as_a_cluster_lists(text)
        if text.strip():
            details.append((title, text))
    return dataclasses.replace(error, expected=as_a_cluster_says(error.expected),
                               observed=as_a_cluster_says(error.observed), hint=as_a_cluster_says(error.hint),
                               details=details)
