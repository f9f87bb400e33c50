"""Containers of a Pod share one network namespace: localhost reaches every container of the Pod."""

from __future__ import annotations

from graders.backends.base import NOT_FOUND, ExecResult
from graders.checks.pods import running_container, wait_running
from graders.errors import CheckFailed
from graders.run import LabRun
from graders.waiting import NotYet, until



def http_get(run: LabRun, pod: str, container: str, url: str) -> ExecResult:
    """GET url from inside a container with whichever client its image has (curl, or busybox wget)."""
    seconds = str(max(1, int(run.timeouts.exec) - 1))
    result = run.sandbox.exec(pod, container, ["curl", "-sS", "-m", seconds, url], timeout=run.timeouts.exec)
    if result.exit_code == NOT_FOUND:  # busybox: its wget, bounded by its timeout applet
        result = run.sandbox.exec(pod, container, ["timeout", seconds, "wget", "-q", "-O", "-", url],
                                  timeout=run.timeouts.exec)
    if result.exit_code == NOT_FOUND:
        raise CheckFailed(
            expected=f"curl or wget in container {container} of Pod {pod}, to make a request from it",
            observed="neither program is in the container's image",
            hint="use the images the README names: they have curl or wget")
    return result


def serves_page(run: LabRun, pod: str, container: str | None, *, port: int, page_text: str, what: str,
                hint: str) -> None:
    """From `container` (None: the Pod's first), http://localhost:port/ answers with `page_text` in the page."""
    container = container or wait_running(run, pod).containers[0].name
    running_container(run, pod, container)
    url = f"http://localhost:{port}/"

    def probe() -> None:
        result = http_get(run, pod, container, url)
        if result.exit_code == 0 and page_text in result.stdout:
            return
        answer = (result.stderr or result.stdout).strip().splitlines()
        raise NotYet(f"exit status {result.exit_code}: {answer[-1] if answer else 'no output'}"
                     if result.exit_code else f"an answer without {page_text!r}: {result.stdout[:200]!r}")

    try:
        until(probe, timeout=run.timeouts.exec)
    except NotYet as last:
        raise CheckFailed(
            expected=f"{url} requested from container {container} of Pod {pod} to answer with {what}",
            observed=last.observed, hint=hint)
