"""What the API server refuses with 422, checked offline (graders/validation.py), and what it accepts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from graders import validation
from graders.manifests import load_submission

REFERENCE = Path(__file__).parent / "submissions" / "1.1" / "reference"
SIDECAR = yaml.safe_load((REFERENCE / "app-with-sidecar.yaml").read_text())


def changed(change) -> dict:
    pod = copy.deepcopy(SIDECAR)
    change(pod)
    return pod


def app(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def messages(pod: dict) -> list[str]:
    return [f"{where}: {message}" for where, message in validation.problems(pod)]


# change -> the API server's words (with the field path) that must appear
REFUSED = {
    "pod name with capitals": (lambda p: p["metadata"].update(name="App-With-Sidecar"),
                               'metadata.name: Invalid value: "App-With-Sidecar": a lowercase RFC 1123 subdomain'),
    "container name with underscore": (lambda p: app(p).update(name="my_app"),
                                       'spec.containers[0].name: Invalid value: "my_app": a lowercase RFC 1123 label'),
    "container name with a dot": (lambda p: app(p).update(name="app.v1"),
                                  'spec.containers[0].name: Invalid value: "app.v1": must not contain dots'),
    "container name too long": (lambda p: app(p).update(name="a" * 64),
                                "spec.containers[0].name: Invalid value: \"" + "a" * 64 + '": must be no more than 63'),
    "duplicate container": (lambda p: p["spec"]["containers"][1].update(name="app"),
                            'spec.containers[1].name: Duplicate value: "app"'),
    "init container named like a container": (
        lambda p: p["spec"].update(initContainers=[{"name": "app", "image": "busybox:1.36"}]),
        'spec.containers[0].name: Duplicate value: "app"'),
    "volume name with a slash": (lambda p: p["spec"]["volumes"][0].update(name="/etc"),
                                 'spec.volumes[0].name: Invalid value: "/etc": a lowercase RFC 1123 label'),
    "volume name with dots": (lambda p: p["spec"]["volumes"][0].update(name=".."),
                              'spec.volumes[0].name: Invalid value: "..": a lowercase RFC 1123 label'),
    "duplicate volume": (lambda p: p["spec"]["volumes"].append({"name": "logs", "emptyDir": {}}),
                         'spec.volumes[1].name: Duplicate value: "logs"'),
    "undeclared volume": (lambda p: app(p)["volumeMounts"][0].update(name="log"),
                          'spec.containers[0].volumeMounts[0].name: Not found: "log"'),
    "duplicate mountPath": (lambda p: app(p)["volumeMounts"].append({"name": "logs", "mountPath": "/var/log/nginx"}),
                            'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/var/log/nginx": '
                            'must be unique'),
    "containerPort too big": (lambda p: app(p)["ports"][0].update(containerPort=65536),
                              "spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be between 1 "
                              "and 65535, inclusive"),
    "containerPort negative": (lambda p: app(p)["ports"][0].update(containerPort=-80),
                               "containerPort: Invalid value: -80: must be between 1 and 65535"),
    "containerPort zero": (lambda p: app(p)["ports"][0].update(containerPort=0),
                           "spec.containers[0].ports[0].containerPort: Required value"),
    "hostPort too big": (lambda p: app(p)["ports"][0].update(hostPort=70000),
                         "spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535"),
    "port name too long": (lambda p: app(p)["ports"][0].update(name="http-web-server-1"),
                           'ports[0].name: Invalid value: "http-web-server-1": must be no more than 15 characters'),
    "port name of digits": (lambda p: app(p)["ports"][0].update(name="8080"),
                            'ports[0].name: Invalid value: "8080": must contain at least one letter (a-z)'),
    "port name with capitals": (lambda p: app(p)["ports"][0].update(name="HTTP"),
                                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    "port name with double hyphen": (lambda p: app(p)["ports"][0].update(name="web--http"),
                                     "must not contain consecutive hyphens"),
    "port name ending in hyphen": (lambda p: app(p)["ports"][0].update(name="http-"),
                                   "must not begin or end with a hyphen"),
    "env name with =": (lambda p: app(p).update(env=[{"name": "A=B", "value": "1"}]),
                        'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name '
                        "must consist only of printable ASCII characters other than '='"),
    "env name with a newline": (lambda p: app(p).update(env=[{"name": "A\nB", "value": "1"}]),
                                "printable ASCII characters other than '='"),
    "env name empty": (lambda p: app(p).update(env=[{"name": "", "value": "1"}]),
                       "environment variable name must be non-empty"),
    "label value with a space": (lambda p: p["metadata"].update(labels={"app": "hello world"}),
                                 'metadata.labels.app: Invalid value: "hello world": a valid label must be an empty '
                                 "string or consist of alphanumeric characters"),
    "label value too long": (lambda p: p["metadata"].update(labels={"app": "a" * 64}),
                             "must be no more than 63 characters"),
    "label key with a space": (lambda p: p["metadata"].update(labels={"my app": "x"}),
                               'metadata.labels: Invalid value: "my app": name part must consist of alphanumeric'),
    "label key with a bad prefix": (lambda p: p["metadata"].update(labels={"Example.com/app": "x"}),
                                    "prefix part a lowercase RFC 1123 subdomain"),
    "label key with an empty prefix": (lambda p: p["metadata"].update(labels={"/app": "x"}),
                                       "prefix part must be non-empty"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_the_api_servers_words_and_the_field_path(case: str) -> None:
    change, expected = REFUSED[case]
    found = messages(changed(change))
    assert any(expected in message for message in found), found


ACCEPTED = {
    "the reference": lambda p: None,
    "port name and hostPort at the limits": lambda p: app(p)["ports"][0].update(name="a23456789012345", hostPort=65535),
    # Kubernetes 1.34+ (RelaxedEnvironmentVariableValidation, GA): any printable ASCII but '='
    "env names a cluster accepts": lambda p: app(p).update(env=[{"name": n, "value": "1"} for n in
                                                               ("MY_VAR", "my.env-name", "1ST", "A B", "$X")]),
    "labels with a prefix, dots, an empty value": lambda p: p["metadata"].update(
        labels={"app.kubernetes.io/name": "web.v1_2", "tier": ""}),
    "pod name with dots": lambda p: p["metadata"].update(name="app.with.sidecar"),
    "a mount of one volume in two containers": lambda p: None,
    "init container with its own name": lambda p: p["spec"].update(
        initContainers=[{"name": "setup", "image": "busybox:1.36"}]),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_as_the_api_server_accepts_it(case: str) -> None:
    assert messages(changed(ACCEPTED[case])) == []


@pytest.mark.parametrize("junk", [None, "x", 3, ["a"], {"name": ["not", "a", "string"]}])
def test_odd_shapes_in_lists_are_left_to_the_schema_not_a_crash(junk) -> None:
    pod = changed(lambda p: [p["spec"][key].append(junk) for key in ("containers", "volumes")])
    pod["spec"]["containers"][0]["volumeMounts"].append(junk)
    assert isinstance(validation.problems(pod), list)


def test_a_refused_pod_fails_manifests_and_is_not_applied(tmp_path: Path) -> None:
    (tmp_path / "my-first-pod.yaml").write_text((REFERENCE / "my-first-pod.yaml").read_text())
    (tmp_path / "app-with-sidecar.yaml").write_text(
        (REFERENCE / "app-with-sidecar.yaml").read_text().replace("name: log-shipper", "name: app"))
    submission = load_submission(tmp_path, ["my-first-pod", "app-with-sidecar"])
    assert list(submission.pods) == ["my-first-pod"]
    assert [str(p) for p in submission.problems] == [
        'app-with-sidecar.yaml: spec.containers[1].name: Duplicate value: "app" (each container of a Pod, '
        'init containers included, needs a name of its own)']
    assert "app-with-sidecar.yaml has problems" in str(submission.why_not_gradable("app-with-sidecar"))


def test_validation_runs_on_schema_valid_pods_only(tmp_path: Path) -> None:
    """It reads values by the schema's types, so a schema error is reported alone; fixing it shows the rest."""
    pod = changed(lambda p: [app(p).update(nmae="x"), p["spec"]["containers"][1].update(name="app")])
    (tmp_path / "app-with-sidecar.yaml").write_text(yaml.safe_dump(pod))
    problems = [str(p) for p in load_submission(tmp_path, ["app-with-sidecar"]).problems]
    assert len(problems) == 1 and "spec.containers[0]: unknown field" in problems[0], problems
    del app(pod)["nmae"]
    (tmp_path / "app-with-sidecar.yaml").write_text(yaml.safe_dump(pod))
    problems = [str(p) for p in load_submission(tmp_path, ["app-with-sidecar"]).problems]
    assert len(problems) == 1 and 'Duplicate value: "app"' in problems[0], problems
