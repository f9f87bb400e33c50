"""Every message a README promises is the message the grader gives for that mistake (issue 22, item 2).

The promises are the quoted messages of the labs' "Common mistakes" tables and "When a check fails"
lists, and of the rows of the top-level README's troubleshooting table that name the offline check's
messages. Each is mapped to a submission that makes the mistake and the check that reports it; a
promise without one fails (a README may not promise words nobody checks). The offline check's words
(`manifests`, and "not graded" reasons) are compared here with the grader's real output; the others
grade their submission on podman (marked podman).

In a promise, `...` (or `…`) stands for any text and a lone `N` for a number; backticks are ignored on
both sides (a Markdown code span cannot hold the backticks the grader prints).
"""

from __future__ import annotations

import json
import re

import pytest

from graders.checks.manifests import manifests_valid
from graders.errors import CheckFailed
from graders.manifests import load_submission
from tests.grading import grade_lab
from tests.labs import REPO, LabUnderTest, find_labs

LABS = {lab.id: lab for lab in find_labs()}
# The top-level README's troubleshooting rows about the offline check: those whose first cell holds one of these.
OFFLINE_ROWS = ("Invalid value", "expected the number", "quantities must match", "no matches for kind",
                "belongs to the Pod", "YAML does not allow tabs", "must be a list of", "not valid YAML",
                "unknown field")
MANIFESTS, NOT_GRADED = "manifests", "not graded"
# promise -> (lab, submission, check): MANIFESTS, (NOT_GRADED, Pod) or the id of a check graded on podman
PROMISES: dict[str, tuple[str, str, str | tuple[str, str]]] = {
    # labs/1.1/README.md, Common mistakes
    "my-first-pod.yaml: not valid YAML: line 6: YAML does not allow tabs; indent with spaces": (
        "1.1", "yaml-tab", MANIFESTS),
    "spec.containers: must be a list of - name: ... items, but it is a mapping (...)": (
        "1.1", "containers-mapping", MANIFESTS),
    'spec.containers[1].name: Duplicate value: "app"': ("1.1", "duplicate-container-name", MANIFESTS),
    "spec.containers[1].name: Invalid value: \"log_shipper\": a lowercase RFC 1123 label must consist of lower case "
    "alphanumeric characters or '-' ...": ("1.1", "invalid-container-name", MANIFESTS),
    'spec.containers[1].volumeMounts[0].name: Not found: "log" (... declared: logs)': (
        "1.1", "undeclared-volume", MANIFESTS),
    'spec.volumes[1].name: Duplicate value: "logs"': ("1.1", "duplicate-volume-name", MANIFESTS),
    'volumeMounts[1].mountPath: Invalid value: "/logs": must be unique': ("1.1", "duplicate-mount-path", MANIFESTS),
    "containerPort: Invalid value: 80800: must be between 1 and 65535, inclusive": (
        "1.1", "port-out-of-range", MANIFESTS),
    'ports[0].name: Invalid value: "http_web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens '
    "(-)": ("1.1", "invalid-port-name", MANIFESTS),
    "env[0].name: Invalid value: \"LOG=FILE\": a valid environment variable name must consist only of printable "
    "ASCII characters other than '='": ("1.1", "invalid-env-name", MANIFESTS),
    "metadata.labels.app: Invalid value: \"hello world\": a valid label must be an empty string or consist of "
    "alphanumeric characters, '-', '_' or '.' ...": ("1.1", "invalid-label", MANIFESTS),
    'ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"': (
        "1.1", "protocol-lowercase", MANIFESTS),
    'apiVersion: no matches for kind "Pod" in version "apps/v1"': ("1.1", "pod-apps-v1", MANIFESTS),
    'unknown field "terminationGracePeriodSeconds": terminationGracePeriodSeconds belongs to the Pod\'s spec ...': (
        "1.1", "grace-period-in-container", MANIFESTS),
    "containerPort: expected the number 80; found the text '80'": ("1.2", "quoted-port", MANIFESTS),
    "Pod my-first-pod is defined more than once (also in ...)": ("1.1", "pod-in-two-files", MANIFESTS),
    "log-shipper is written as a Pod of its own ...": ("1.1", "sidecar-as-pod", MANIFESTS),
    "it must be a second entry of app-with-sidecar's containers:": (
        "1.1", "sidecar-as-pod", (NOT_GRADED, "app-with-sidecar")),
    "spec.containers[0].command: nginx replaced the image's own start command nginx -g 'daemon off;', and the "
    "container exited with code 0": ("1.1", "command-replaced", "sidecar-ready"),
    "volume logs is mounted at /var/log, a parent folder of /var/log/nginx, where the image writes: the empty "
    "volume hides /var/log/nginx": ("1.1", "mount-over-parent", "sidecar-ready"),
    # labs/1.1/README.md, When a check fails
    "ErrImagePull": ("1.1", "image-typo", "first-pod-serves"),
    "CrashLoopBackOff": ("1.1", "sidecar-exits", "sidecar-ready"),
    "expected containers named app, log-shipper": ("1.1", "renamed-sidecar", "sidecar-ready"),
    # labs/1.2/README.md, When a check fails
    "expected the number 80; found the text '80'": ("1.2", "quoted-port", MANIFESTS),
    "expected 500m (= 0.5); found 5 (= 5)": ("1.2", "cpu-units", "resources"),
    "requests.memory: 256Mi is more than its limit 128Mi": ("1.2", "limit-below-request", MANIFESTS),
    "quantities must match the regular expression ...": ("1.2", "memory-bad-unit", MANIFESTS),
    'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"': (
        "1.2", "restart-sometimes", MANIFESTS),
    'httpGet.port: Invalid value: "80": must contain at least one letter (a-z)': (
        "1.2", "probe-quoted-port", MANIFESTS),
    "readinessProbe: Forbidden: may not be set for init containers": ("1.2", "probe-on-init-container", MANIFESTS),
    "found the number 42: put it in quotes": ("1.2", "annotation-number", MANIFESTS),
    "expected an entry named GREETING": ("1.2", "env-typo", "env"),
    "an answer without 'Written by an init container'": ("1.2", "init-wrong-path", "init-page"),
    "the kubelet never marks the container Ready": ("1.2", "probe-wrong-path", "readiness"),
    "the Pod stays Pending: its nodeSelector asks for a node labelled ...": (
        "1.2", "unmatched-node-selector", "node-selector"),
    # README.md, Troubleshooting (the offline check's rows)
    "Invalid value: ...": ("1.1", "invalid-label", MANIFESTS),
    "Unsupported value: ...": ("1.2", "restart-sometimes", MANIFESTS),
    "Duplicate value: ...": ("1.1", "duplicate-volume-name", MANIFESTS),
    "Not found: ...": ("1.1", "undeclared-volume", MANIFESTS),
    "Forbidden: ...": ("1.2", "probe-on-init-container", MANIFESTS),
    "expected text; found the number 42": ("1.2", "annotation-number", MANIFESTS),
    'no matches for kind "Pod" in version "apps/v1"': ("1.1", "pod-apps-v1", MANIFESTS),
    'unknown field "...": ... belongs to the Pod\'s spec ..., not to a container': (
        "1.1", "grace-period-in-container", MANIFESTS),
    "YAML does not allow tabs; indent with spaces": ("1.1", "yaml-tab", MANIFESTS),
    "must be a list of ... items, but it is a mapping": ("1.1", "containers-mapping", MANIFESTS),
    "not valid YAML: line N": ("1.1", "bad-indentation", MANIFESTS),
    "unknown field": ("1.1", "field-typo", MANIFESTS),
}
# What podman cannot show (a kubelet's back-off state), with why: its verdict table says the same.
NOT_ON_PODMAN = {"ImagePullBackOff": "podman reports ErrImagePull only, never the kubelet's back-off "
                                     "(tests/submissions/1.1/verdicts.py, EITHER_PULL_REASON)"}


def _spans(text: str) -> list[str]:
    """The code spans of a Markdown text, ``double`` ones first (they may hold a backtick)."""
    spans = re.findall(r"``\s?(.+?)\s?``", text)
    rest = re.sub(r"``.+?``", "", text)
    return [_plain(span) for span in spans + re.findall(r"`([^`]+)`", rest)]


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def _section(readme: str, heading: str) -> str:
    start = readme.index(heading)
    following = re.search(r"^#{1,3} ", readme[start + len(heading):], flags=re.MULTILINE)
    return readme[start:start + len(heading) + following.start()] if following else readme[start:]


def promised() -> dict[str, str]:
    """Every promise of the READMEs -> where it is promised."""
    found: dict[str, str] = {}
    for lab_id in LABS:
        readme = (REPO / "labs" / lab_id / "README.md").read_text(encoding="utf-8")
        if "### Common mistakes" in readme:
            for row in _section(readme, "### Common mistakes").splitlines()[3:]:
                cells = row.split(" | ")
                if row.startswith("|") and len(cells) > 2:
                    found.update(dict.fromkeys(_spans(cells[1]), f"labs/{lab_id}/README.md, Common mistakes"))
        for line in _section(readme, "## When a check fails").splitlines():
            bold = re.match(r"- \*\*(.+?)\*\*", line)
            if bold:
                found.update(dict.fromkeys(_spans(bold.group(1)), f"labs/{lab_id}/README.md, When a check fails"))
    troubleshooting = _section((REPO / "README.md").read_text(encoding="utf-8"), "### Troubleshooting")
    for row in troubleshooting.splitlines():
        first = row.split(" | ")[0]
        if row.startswith("| ") and any(marker in first for marker in OFFLINE_ROWS):
            found.update(dict.fromkeys(_spans(first), "README.md, Troubleshooting"))
    return found


def _pattern(promise: str) -> re.Pattern[str]:
    text = re.escape(_plain(promise))
    for elision in (" ...", "...", " …", "…"):  # a space before it stands for the text it elides, too
        text = text.replace(re.escape(elision), ".*?")
    return re.compile(re.sub(r"(?<![\w.])N(?![\w.])", r"\\d+", text), flags=re.DOTALL)


def offline_output(lab: LabUnderTest, variant: str, check: str | tuple[str, str]) -> str:
    declared = lab.lab
    submission = load_submission(lab.submissions / variant, declared.pods, declared.containers, declared.allows,
                                 objects=declared.objects)
    if check == MANIFESTS:
        with pytest.raises(CheckFailed) as failed:
            manifests_valid(submission)
        return str(failed.value)
    return str(submission.why_not_gradable(check[1]))


def test_every_promise_of_a_readme_is_mapped_to_a_mistake() -> None:
    unmapped = {promise: where for promise, where in promised().items()
                if promise not in PROMISES and promise not in NOT_ON_PODMAN}
    assert unmapped == {}, "give each a submission that makes the mistake, in PROMISES"
    assert set(PROMISES) <= set(promised()), "a mapping for a promise no README makes any more"


OFFLINE = sorted(promise for promise, (_, _, check) in PROMISES.items() if check == MANIFESTS or
                 isinstance(check, tuple))
GRADED = sorted({(lab, variant) for lab, variant, check in PROMISES.values() if isinstance(check, str) and
                 check != MANIFESTS})


@pytest.mark.parametrize("promise", OFFLINE)
def test_the_offline_check_says_what_the_readme_promises(promise: str) -> None:
    lab_id, variant, check = PROMISES[promise]
    output = _plain(offline_output(LABS[lab_id], variant, check))
    assert _pattern(promise).search(output), (promise, output)


@pytest.mark.podman
@pytest.mark.parametrize(("lab_id", "variant"), GRADED, ids=[f"{lab}/{variant}" for lab, variant in GRADED])
def test_a_graded_check_says_what_the_readme_promises(pytester: pytest.Pytester, lab_id: str, variant: str) -> None:
    lab = LABS[lab_id]
    report = pytester.path / "grade.json"
    grade_lab(pytester, "--backend", "podman", "--submission", str(lab.submissions / variant), "--grade-report",
              str(report), lab=lab.folder)
    messages = {check["id"]: _plain(check["message"]) for check in json.loads(report.read_text())["checks"]}
    for promise, (promised_lab, promised_variant, check) in PROMISES.items():
        if (promised_lab, promised_variant) == (lab_id, variant) and isinstance(check, str) and check != MANIFESTS:
            assert _pattern(promise).search(messages[check]), (promise, messages[check])


def test_a_promise_pattern_means_what_it_says() -> None:
    assert _pattern("not valid YAML: line N").search("not valid YAML: line 11, column 6")
    assert not _pattern("not valid YAML: line N").search("not valid YAML: line eleven")
    assert _pattern("a ... b").search("a x y b") and not _pattern("a ... b").search("b a")
    assert _pattern("must be a list of - name: ... items").search(_plain("must be a list of `- name: ...` items"))
