"""The end-of-run summary and infrastructure problems in a student's terms (graders/report.py)."""

from __future__ import annotations

import pytest

from graders.lab import Check, Lab
from graders.report import SEE_ABOVE, TRACE_LEFT_OUT, CheckResult, plain, summary_lines, without_stack_traces

POOL = ("HTTPSConnectionPool(host='127.0.0.1', port=6443): Max retries exceeded with url: /version/ (Caused by "
        "NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=6443): Failed to establish a new connection: "
        "[Errno 111] Connection refused\"))")


@pytest.mark.parametrize(("raw", "said"), [
    (f"the Kubernetes API of context x does not answer: {POOL}",
     "the Kubernetes API of context x does not answer: 127.0.0.1:6443: Connection refused"),
    ("HTTPSConnectionPool(host='k.example', port=443): Max retries exceeded with url: /api (Caused by "
     "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))",
     "k.example:443: the TLS handshake failed (wrong server address or certificate?)"),
    ("HTTPSConnectionPool(host='10.0.0.1', port=6443): Max retries exceeded with url: /version/ (Caused by "
     "ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to 10.0.0.1 timed out.'))",
     "10.0.0.1:6443: the connection timed out"),
    ("podman is not installed or not on PATH", "podman is not installed or not on PATH"),
])
def test_plain_keeps_the_address_and_the_reason(raw: str, said: str) -> None:
    assert plain(raw) == said


def test_one_infrastructure_problem_is_said_once_in_the_summary() -> None:
    lab = Lab("9.9", "t", pods=["p"])
    checks = [Check(f"c{i}", f"check {i}", 10) for i in range(4)]
    lab.checks.extend(checks)
    results = [CheckResult(checks[0], "passed"),
               CheckResult(checks[1], "error", "long", "not graded: no cluster"),
               CheckResult(checks[2], "error", "long", "not graded: no cluster"),
               CheckResult(checks[3], "error", "other", "not graded: disk full")]
    lines = summary_lines(lab, results, "kind")
    notes = [line.split("-> ")[1] for line in lines if "-> " in line]
    assert notes == ["not graded: no cluster", SEE_ABOVE, "not graded: disk full"]


GO_PANIC = """Error: playing pod app-with-sidecar: exit status 2
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x55d1c2]

goroutine 1 [running]:
github.com/containers/podman/v4/pkg/domain/infra/abi.(*ContainerEngine).PlayKube(...)
\t/build/podman/pkg/domain/infra/abi/play.go:123 +0x1a
main.main()
\t/build/podman/cmd/podman/main.go:45 +0x2b"""


def test_a_go_stack_trace_is_left_out_but_not_what_failed() -> None:
    assert without_stack_traces(GO_PANIC) == (
        "Error: playing pod app-with-sidecar: exit status 2\n"
        "panic: runtime error: invalid memory address or nil pointer dereference\n" + TRACE_LEFT_OUT)


def test_text_without_a_stack_trace_is_kept_whole() -> None:
    text = "container app: CrashLoopBackOff: exited with code 1\n  [signal] is not a trace here"
    assert without_stack_traces(text) == text
