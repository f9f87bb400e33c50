"""Containers of a Pod share one network namespace: localhost reaches every container of the Pod.

The verdict comes from a request the grader makes into the Pod's network from its own side (podman:
the grader itself inside the Pod's network namespace; a cluster: the API server's pod proxy), and from
the identity of the container that should serve: never from programs inside the student's images,
which a submission can replace (a fake curl, another server on the port).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from graders.backends.base import NOT_FOUND, ExecResult
from graders.checks.diagnostics import page_words
from graders.checks.pods import running_container, runs_lab_image, unanswered, until_answered, wait_started
from graders.errors import GraderError
from graders.run import LabRun
from graders.waiting import NoAnswer, NotYet, Settled


def serves_page(run: LabRun, pod: str, server: str | None, *, port: int, page_text: str, what: str, hint: str,
                image: str | None = None, program: str | None = None, demo_from: str | None = None) -> None:
    """Container `server` (None: the Pod's first) runs `image` with `program`, and a request to port
    `port` in the Pod's network answers 200 with `page_text` in the page. `demo_from` names the container
    the lesson makes the request from (`kubectl exec ... wget localhost`): it must exist, and its
    result is shown as a note, never decisive."""
    server = server or wait_started(run, pod).containers[0].name
    running_container(run, pod, server)
    if demo_from:
        running_container(run, pod, demo_from)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the demonstration runs beside the grader's own request
        if demo_from:
            pool.submit(_demonstrate, run, pod, demo_from, port, page_text)
        _answers(run, pod, server, port=port, page_text=page_text, what=what, hint=hint, image=image,
                 program=program)


def _answers(run: LabRun, pod: str, server: str, *, port: int, page_text: str, what: str, hint: str,
             image: str | None, program: str | None) -> None:

    def probe() -> None:
        response = run.sandbox.http_get(pod, port, "/", timeout=run.timeouts.exec)
        if response.status == 200 and page_text in response.body:
            return
        if response.status is None:
            raise NoAnswer(f"no answer on port {port}: {response.error}")
        # a 200 is the server's page, which waiting does not change: a verdict at once (issue 22, author 4)
        raise (Settled if response.status == 200 else NotYet)(
            f"HTTP {response.status}" + ("" if page_text in response.body else
                                         f", a page without {page_text!r}: {page_words(response.body)}"))

    try:
        until_answered(run, pod, port, probe)
    except (NotYet, Settled) as last:  # a server that is not the lab's program is the cause, when that is so
        raise unanswered(run, pod, server, image, program,
                         expected=f"port {port} of Pod {pod} (where container {server} serves) to answer with {what}",
                         observed=f"the grader's request to localhost:{port} inside the Pod got {last.observed}",
                         hint=hint) from None
    if image:  # something answered: it must be the lab's server, not another container or program
        runs_lab_image(run, pod, server, image, program)


def _demonstrate(run: LabRun, pod: str, container: str, port: int, page_text: str) -> None:
    """The lesson's own step, for the student to see; a failure here only adds a note."""
    try:
        result = exec_get(run, pod, container, f"http://localhost:{port}/")
    except GraderError:
        result = ExecResult(NOT_FOUND, "", "no client")
    if result.exit_code != 0 or page_text not in result.stdout:
        run.note(f"`kubectl exec {pod} -c {container} -- wget -qO- localhost:{port}` (the lesson's demonstration) "
                 f"did not show the page from inside {container} (exit status {result.exit_code}); the grade "
                 f"comes from the grader's own request")


# curl where the image has it, else busybox's wget bounded by its timeout applet: one exec, not two
CLIENT = ('if command -v curl >/dev/null 2>&1; then exec curl -sS -m "$1" "$2"; '
          'else exec timeout "$1" wget -q -O - "$2"; fi')


def exec_get(run: LabRun, pod: str, container: str, url: str) -> ExecResult:
    """GET url from inside a container with whichever client its image has (curl, or busybox wget).
    Only for demonstrations: the student's image decides what these programs do."""
    seconds = str(max(1, int(run.timeouts.exec) - 1))
    return run.sandbox.exec(pod, container, ["sh", "-c", CLIENT, "get", seconds, url], timeout=run.timeouts.exec)
