"""The hands-on `kubectl` steps of each lab's README, read from the README itself and run verbatim with the
installed kubectl against the test cluster and the lab's reference solution (the labs' folders hold it,
as a student's would): each command's output must show what the README says it shows. A README whose
command stops working, or a new command nobody checked, fails here.

The README is the script: its commands run in its order, as a student who follows it runs them. Each
command of a ```bash block runs where the block shows it (`kubectl get pods` after each part); a command
named in the text (`Try it: ...`) runs where the text first names it, and a later mention of a command
that ran already is a reference to it, not a step. Every such command is either a step below (the
README's words for what it shows, and the check of that), in the same order, or in NOT_RUN with why.

CI's kind job runs the same steps against its real cluster (set K8S101_KUBECTL_KUBECONFIG): there the
API server and kubelet are real, and the same expectations must hold.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

from tests import kubectl
from tests.cluster.fixture import fake_cluster
from tests.kubectl import Kubectl, Ran
from tests.labs import REPO

LABS = ("1.1", "1.2")
READY_TIMEOUT = 180.0  # seconds for a Pod to run: a real cluster may still pull its images
IP = r"\d+\.\d+\.\d+\.\d+"


# -- what the README says ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Said:
    """One kubectl command of a README: in a ```bash block (with its `# comment`) or inline in the text."""
    command: str
    says: str = ""


FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n?", re.S | re.M)  # every fence, so that they pair up
SHELLS = ("bash", "sh", "shell", "")


def readme_commands(readme: Path) -> list[Said]:
    """The README's kubectl commands in the order a student runs them (see the module's docstring)."""
    text, found, position = readme.read_text(), list[Said](), 0

    def mentions(prose: str) -> None:
        for span in re.findall(r"`(kubectl [^`]+)`", prose):
            if span.strip() not in {said.command for said in found}:
                found.append(Said(span.strip()))

    for block in FENCE.finditer(text):
        mentions(text[position:block.start()])
        position = block.end()
        if block.group(1) in SHELLS:
            found += [Said(command, comment) for command, _, comment in map(_split_comment, block.group(2).splitlines())
                      if command.startswith("kubectl ")]
    mentions(text[position:])
    return found


def _split_comment(line: str) -> tuple[str, str, str]:
    """`kubectl get pods   # wait for ...` -> the command and the comment (a # outside quotes, after a space)."""
    quote = ""
    for index, char in enumerate(line):
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        elif char == "#" and not quote and line[index - 1] == " ":
            return line[:index].rstrip(), "#", line[index + 1:].strip()
    return line.rstrip(), "", ""


# -- what each step must show ------------------------------------------------------------------------------
@dataclass
class Context:
    kubectl: Kubectl
    external: bool  # a real cluster (CI's kind), not the test cluster
    hostname: str = ""  # what `hostname` printed in app, for the step that compares


Check = Callable[[Ran, Context], None]  # an AssertionError: not (yet) what the README says


class Contradicts(Exception):
    """What a check raises when the output contradicts the README, so that polling stops at once."""


@dataclass(frozen=True)
class Step:
    said: Said
    check: Check
    poll: float = 0.0  # seconds to run it again until the check holds (the README says to wait)
    watch_for: str = ""  # it never ends by itself (`get -w`): stop once a line shows this


def rows(output: str) -> list[dict[str, str]]:
    """kubectl's table output: one dict a row, by the header's column names."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", header)]
    ends: list[int | None] = [*starts[1:], None]
    names = [header[a:b].strip() for a, b in zip(starts, ends, strict=True)]
    return [{name: line[a:b].strip() for name, a, b in zip(names, starts, ends, strict=True)} for line in lines[1:]]


def ok(ran: Ran) -> None:
    assert ran.returncode == 0, f"it failed:\n{ran}"


def shows(*texts: str) -> Check:
    def check(ran: Ran, context: Context) -> None:
        ok(ran)
        for text in texts:
            assert text in ran.stdout, f"expected {text!r} in its output:\n{ran}"
    return check


def pod_row(name: str, **cells: str) -> Check:
    def check(ran: Ran, context: Context) -> None:
        ok(ran)
        found = [row for row in rows(ran.stdout) if row.get("NAME") == name]
        assert found, f"no row for {name}:\n{ran}"
        for column, value in cells.items():  # the last row: `get -w` prints one a change
            assert found[-1].get(column) == value, f"{column} of {name}: expected {value}, found {found[-1]}\n{ran}"
    return check


def gone(*names: str) -> Check:
    def check(ran: Ran, context: Context) -> None:
        ok(ran)
        listed = {row.get("NAME") for row in rows(ran.stdout)}
        assert not listed & set(names), f"still listed: {listed & set(names)}\n{ran}"
    return check


def deleted(*names: str, at_least: float = 0.0, at_most: float = 0.0) -> Check:
    def check(ran: Ran, context: Context) -> None:
        shows(*(f'pod "{name}" deleted' for name in names))(ran, context)
        assert ran.seconds >= at_least, f"it returned after {ran.seconds:.1f} s, before the grace period:\n{ran}"
        assert not at_most or ran.seconds <= at_most, f"it took {ran.seconds:.1f} s:\n{ran}"
    return check


def all_of(*checks: Check) -> Check:
    def check(ran: Ran, context: Context) -> None:
        for one in checks:
            one(ran, context)
    return check


def one_node(ran: Ran, context: Context) -> None:
    ok(ran)
    found = rows(ran.stdout)
    assert len(found) == 1 and found[0]["STATUS"] == "Ready", f"expected one Ready node:\n{ran}"


def described_first_pod(ran: Ran, context: Context) -> None:
    ok(ran)
    text = ran.stdout
    assert re.search(r"^Labels:\s+app=hello$", text, re.M), f"no label app=hello:\n{ran}"
    assert re.search(r"^\s+Image:\s+nginx:1\.25$", text, re.M), f"no image nginx:1.25:\n{ran}"
    assert re.search(rf"^IP:\s+{IP}$", text, re.M), f"no IP:\n{ran}"
    assert re.search(r"^Events:\n(.*\n)*.*Started\s+.*Started container nginx", text, re.M), f"no events:\n{ran}"


def the_request_logged(ran: Ran, context: Context) -> None:
    ok(ran)
    assert re.search(r'"GET / HTTP/1\.1" 200 \d+ "-" "Wget"', ran.stdout), f"no line of the wget request:\n{ran}"


def remember_hostname(ran: Ran, context: Context) -> None:
    ok(ran)
    assert ran.stdout.strip(), f"no hostname:\n{ran}"
    context.hostname = ran.stdout.strip()


def same_hostname(ran: Ran, context: Context) -> None:
    ok(ran)
    first = context.hostname
    assert ran.stdout.strip() == first, f"not the name app printed, {first}:\n{ran}"


# What kubectl shows while an init container runs (pkg/printers/internalversion/printers.go printPod):
# Pending before the kubelet reports, Init:0/1, PodInitializing, Running.
INIT_STATUSES = {"Pending", "Init:0/1", "PodInitializing", "Running"}


def web_runs_after_init(ran: Ran, context: Context) -> None:
    ok(ran)
    status = rows(ran.stdout)[0]["STATUS"]
    if status not in INIT_STATUSES:  # Init:Error, CrashLoopBackOff...: no use waiting
        raise Contradicts(f"STATUS {status}, not one of {sorted(INIT_STATUSES)}:\n{ran}")
    assert status == "Running", f"not Running yet: {status}"  # polled until it is


def all_three_parts(ran: Ran, context: Context) -> None:
    ok(ran)
    pod = yaml.safe_load(ran.stdout)
    assert {"metadata", "spec", "status"} <= set(pod), f"not metadata, spec and status:\n{ran}"
    assert pod["status"].get("phase"), f"a status without a phase:\n{ran}"


def labels_shown(ran: Ran, context: Context) -> None:
    ok(ran)
    labels = set(rows(ran.stdout)[0]["LABELS"].split(","))
    assert {"app=web", "tier=frontend"} <= labels, f"labels {labels}:\n{ran}"


def wide_columns(ran: Ran, context: Context) -> None:
    ok(ran)
    row = rows(ran.stdout)[0]
    assert {"STATUS", "READY", "IP", "NODE"} <= set(row), f"columns {list(row)}:\n{ran}"
    assert row["STATUS"] == "Running" and row["READY"] == "1/1" and re.fullmatch(IP, row["IP"]) and row["NODE"], ran


def phase_and_ip(ran: Ran, context: Context) -> None:
    ok(ran)
    assert re.fullmatch(rf"Running {IP}\n", ran.stdout), f"expected the phase and the IP on one line:\n{ran}"


def init_printed_nothing(ran: Ran, context: Context) -> None:
    ok(ran)  # the reference's init container writes the page into the volume, and prints nothing
    assert ran.stdout == "", f"expected the init container's output, which is nothing:\n{ran}"


def replaced(ran: Ran, context: Context) -> None:
    shows('pod "web" deleted', "pod/web replaced")(ran, context)


def said(command: str, says: str = "") -> Said:
    return Said(command, says)


STEPS: dict[str, list[Step]] = {
    "1.1": [
        Step(said("kubectl version --client"), shows("Client Version: v")),
        Step(said("kubectl get nodes"), one_node),
        Step(said("kubectl apply -f labs/1.1/my-first-pod.yaml"), shows("pod/my-first-pod created")),
        Step(said("kubectl get pods", "wait for READY 1/1 and STATUS Running"),
             pod_row("my-first-pod", READY="1/1", STATUS="Running"), poll=READY_TIMEOUT),
        Step(said("kubectl describe pod my-first-pod", "labels, image, IP, and the Events at the bottom"),
             described_first_pod),
        Step(said("kubectl exec my-first-pod -- curl -s localhost:80"), shows("Welcome to nginx!")),
        Step(said("kubectl apply -f labs/1.1/app-with-sidecar.yaml"), shows("pod/app-with-sidecar created")),
        Step(said("kubectl get pods", "READY 2/2"), pod_row("app-with-sidecar", READY="2/2", STATUS="Running"),
             poll=READY_TIMEOUT),
        Step(said("kubectl exec app-with-sidecar -c log-shipper -- wget -qO- localhost:80"),
             shows("Welcome to nginx!")),
        Step(said("kubectl logs app-with-sidecar -c log-shipper", "the request above, as a log line"),
             the_request_logged, poll=15),  # tail -F prints within a second
        Step(said("kubectl exec app-with-sidecar -c app -- hostname"), remember_hostname),
        Step(said("kubectl exec app-with-sidecar -c log-shipper -- hostname", "the same name"), same_hostname),
        # "app-with-sidecar takes about 30 seconds to go away": tail -F as PID 1 waits out the grace period
        Step(said("kubectl delete pod my-first-pod app-with-sidecar"),
             deleted("my-first-pod", "app-with-sidecar", at_least=25)),
        Step(said("kubectl get pods"), gone("my-first-pod", "app-with-sidecar")),
    ],
    "1.2": [
        # Part 1: the Pod as the file is then (here the whole solution)
        Step(said("kubectl apply -f labs/1.2/web.yaml"), shows("pod/web created")),
        Step(said("kubectl get pod web -o yaml", "metadata, spec and status: all three parts"), all_three_parts),
        Step(said("kubectl get pod web --show-labels"), labels_shown),
        Step(said("kubectl get pods -l tier=frontend", "only the Pods with that label"), pod_row("web")),
        Step(said("kubectl describe pod web", "look for Annotations:"),
             shows("Annotations:      description: Pod YAML anatomy, lab 1.2")),
        Step(said("kubectl replace --force -f labs/1.2/web.yaml"), replaced),  # "deletes the Pod and creates it anew"
        # Parts 2 to 6, each on the Pod made again
        Step(said("kubectl exec web -c nginx -- env"), shows("GREETING=Hello, Kubernetes\n"), poll=READY_TIMEOUT),
        Step(said("kubectl get pod web", "STATUS Init:0/1, then PodInitializing, then Running"),
             web_runs_after_init, poll=READY_TIMEOUT),
        Step(said("kubectl logs web -c write-page", "what the init container printed"), init_printed_nothing),
        Step(said("kubectl exec web -c nginx -- curl -s localhost:80"), shows("<h1>Written by an init container</h1>")),
        Step(said("kubectl get pod web -w"), pod_row("web", READY="1/1"), watch_for=" 1/1 "),  # "watch READY turn 1/1"
        Step(said("kubectl get nodes --show-labels"), shows("kubernetes.io/os=linux")),
        # Part 7: the finished Pod once more
        Step(said("kubectl replace --force -f labs/1.2/web.yaml"), replaced),
        Step(said("kubectl get pod web -o wide", "STATUS (the phase), READY, IP, NODE"), wide_columns,
             poll=READY_TIMEOUT),
        Step(said("kubectl get pod web -o jsonpath='{.status.phase} {.status.podIP}{\"\\n\"}'"), phase_and_ip,
             poll=READY_TIMEOUT),
        # "nginx stops at once on SIGTERM, so web goes away in a second or two" (a loaded machine: more)
        Step(said("kubectl delete pod web"), deleted("web", at_most=20)),
        Step(said("kubectl get pods"), gone("web")),
    ],
}
NOT_RUN: dict[str, dict[str, str]] = {
    "1.1": {"kubectl apply": "a mention in the text (the refusal after a changed file), not a command",
            "kubectl logs": "a mention in the text (what app's log no longer shows), not a command",
            "kubectl describe pod": "a mention in the text (what a failed check's details resemble), not a command",
            "kubectl replace --force -f FILE": "FILE stands for the student's file",
            "kubectl apply --dry-run=server -f FILE": "FILE stands for the student's file"},
    "1.2": {"kubectl describe pod": "it describes a Pod whose nodeSelector matches no node: the "
                                    "unmatched-node-selector verdict (tests/submissions/1.2) shows that message",
            "kubectl get": "a mention in the text (`-l` filters by labels), not a command"},
}


def pods_of(lab: str) -> list[str]:
    return [yaml.safe_load(path.read_text())["metadata"]["name"]
            for path in sorted((REPO / "tests/submissions" / lab / "reference").glob("*.yaml"))]


# -- the tests -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lab", LABS)
def test_every_kubectl_command_of_the_readme_is_checked(lab: str) -> None:
    """Offline: the README's commands, in its order, and this module's steps are the same list, so neither
    drifts."""
    found = readme_commands(REPO / "labs" / lab / "README.md")
    planned = [step.said for step in STEPS[lab]]
    unknown = [s for s in found if s not in planned and s.command not in NOT_RUN[lab]]
    assert not unknown, (f"labs/{lab}/README.md has kubectl commands no test checks: {unknown}; add a Step (what "
                         f"the README says it shows) or a NOT_RUN entry (why not) to tests/test_kubectl_readme.py")
    stale = [s for s in planned if s not in found] + [c for c in NOT_RUN[lab] if c not in {s.command for s in found}]
    assert not stale, f"steps for commands labs/{lab}/README.md no longer has: {stale}"
    assert [s for s in found if s.command not in NOT_RUN[lab]] == planned, \
        f"the steps are not in the order labs/{lab}/README.md gives them:\n" + "\n".join(map(str, found))


def test_the_readme_is_read_in_a_students_order(tmp_path: Path) -> None:
    """Block commands run each time a block shows them; a mention in the text runs where it first appears."""
    readme = tmp_path / "README.md"
    readme.write_text("Check it: `kubectl version --client`.\n\n```bash\nkubectl get pods      # READY 1/1\n"
                      "echo done\n```\n\n```yaml\nkubectl: not a command\n```\n\nAgain `kubectl get pods` and "
                      "`kubectl logs x -c y`.\n\n```bash\nkubectl get pods\nkubectl get pod x -o jsonpath='{\"#\"}'\n"
                      "```\n")
    assert readme_commands(readme) == [
        Said("kubectl version --client"), Said("kubectl get pods", "READY 1/1"), Said("kubectl logs x -c y"),
        Said("kubectl get pods"), Said("kubectl get pod x -o jsonpath='{\"#\"}'")]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """(kubeconfig, external): CI's kind cluster when K8S101_KUBECTL_KUBECONFIG names it, else a test cluster."""
    external = kubectl.external_kubeconfig()
    if external:
        yield external, True
        return
    with fake_cluster(tmp_path) as running:
        yield running.kubeconfig, False


@pytest.mark.podman
@pytest.mark.cluster
@pytest.mark.parametrize("lab", LABS)
def test_the_readme_steps_show_what_the_readme_says(lab: str, cluster: tuple[Path, bool], tmp_path: Path) -> None:
    kubectl.installed()
    kubeconfig, external = cluster
    workdir = tmp_path / "repository"  # as the student's checkout: labs/<id>/ holding a correct solution
    (workdir / "labs" / lab).mkdir(parents=True)
    for path in (REPO / "tests/submissions" / lab / "reference").glob("*.yaml"):
        shutil.copy(path, workdir / "labs" / lab / path.name)
    context = Context(Kubectl(kubeconfig, tmp_path / "kubectl-cache", workdir), external)
    names = " ".join(pods_of(lab))
    if external:  # a real cluster outlives the test: nothing of an earlier run in the way
        context.kubectl.run(f"kubectl delete pod {names} --ignore-not-found --wait", timeout=120)
    try:
        plan = [said for said in readme_commands(REPO / "labs" / lab / "README.md") if said.command not in NOT_RUN[lab]]
        assert plan == [step.said for step in STEPS[lab]], "the README's steps changed: see the offline test"
        for step in STEPS[lab]:
            _run(step, context)
    finally:
        if external:
            context.kubectl.run(f"kubectl delete pod {names} --ignore-not-found --grace-period=0 --force")


def _run(step: Step, context: Context) -> None:
    """One step, again and again while it may still become true (poll), with the README's words on failure."""
    deadline = time.monotonic() + step.poll
    while True:
        if step.watch_for:
            ran = context.kubectl.until(step.said.command, step.watch_for, timeout=READY_TIMEOUT)
            ran.returncode = 0  # stopped by the test, as a student stops it with Ctrl-C
        else:
            ran = context.kubectl.run(step.said.command, timeout=READY_TIMEOUT)
        says = f" (the README: {step.said.says})" if step.said.says else ""
        try:
            step.check(ran, context)
            return
        except Contradicts as error:
            raise AssertionError(f"{step.said.command}{says}: {error}") from None
        except AssertionError as error:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{step.said.command}{says}: {error}") from None
        time.sleep(1)


def test_a_step_whose_output_differs_from_the_readme_fails() -> None:
    """Offline, on kubectl's own table layout: the checks can fail, and say what the README promised."""
    table = ("NAME           READY   STATUS             RESTARTS      AGE\n"
             "my-first-pod   0/1     CrashLoopBackOff   3 (10s ago)   1m\n")
    assert rows(table) == [{"NAME": "my-first-pod", "READY": "0/1", "STATUS": "CrashLoopBackOff",
                            "RESTARTS": "3 (10s ago)", "AGE": "1m"}]
    context = Context(Kubectl(Path("kubeconfig"), Path("cache"), Path(".")), external=False)
    with pytest.raises(AssertionError, match="READY of my-first-pod: expected 1/1"):
        pod_row("my-first-pod", READY="1/1")(Ran("kubectl get pods", 0, table, "", 0.1), context)
    with pytest.raises(AssertionError, match="it failed"):
        shows("pod/web created")(Ran("kubectl apply -f web.yaml", 1, "", "error: no objects passed", 0.1), context)
    web = "NAME   READY   STATUS       RESTARTS   AGE\nweb    0/1     Init:Error   0          5s\n"
    with pytest.raises(Contradicts, match="STATUS Init:Error"):
        web_runs_after_init(Ran("kubectl get pod web", 0, web, "", 0.1), context)
