"""The graders read every file as kubectl reads it: each submission file of tests/submissions/ and the files
made below (every encoding and form a student's editor or shell writes) go through
`kubectl create --dry-run=client -o json -f FILE` against the test cluster and through the graders'
reader (graders/yamlfiles.py). Both must agree: the same objects, as JSON, or both refuse the file (the
graders may refuse it for a reason of their own: the schema, the API server's rules, the safety policy).

Where they may differ, and why, is listed: the kubectl versions that decode a file differently
(VERSION_DEPENDENT: the graders follow the current one), and what the graders refuse more
(REFUSED_MORE: their safety limits, which the README states).

kubectl runs once over every file (`-f` repeated, errors name their file), again over the files it took,
and once for each file it refused. It is the binary the `kubectl` on PATH runs for this server (the
Google Cloud CLI's dispatcher runs the kubectl.1.NN beside it that matches the server's minor version).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from graders.manifests import LIST_KINDS, Submission, load_submission
from graders.yamlfiles import UnreadableFile, read_file
from tests import kubectl
from tests.cluster.discovery import BY_KIND
from tests.cluster.fixture import fake_cluster
from tests.labs import REPO, lab_by_id

SUBMISSIONS = sorted(p for p in (REPO / "tests/submissions").glob("*/*/*") if p.suffix in (".yaml", ".yml"))

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "my-first-pod", "labels": {"app": "hello"}},
       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}
SIDECAR = {**POD, "metadata": {"name": "app-with-sidecar"}}
POD_YAML = yaml.safe_dump(POD, sort_keys=False)
SIDECAR_YAML = yaml.safe_dump(SIDECAR, sort_keys=False)


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _list(*items: dict[str, Any], **fields: Any) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items), **fields}, sort_keys=False)


def _values(text: str) -> str:
    """A Pod with `text` as its container's args: how kubectl's YAML library types plain scalars."""
    return POD_YAML.replace("    ports:", f"    args: [{text}]\n    ports:")


# name -> content: what editors, shells and copy-paste make of a manifest, and the ways to get it wrong
# (all named .yaml: the graders read the .yaml and .yml files of a folder, JSON in them included)
MADE: dict[str, bytes | str] = {
    # encodings (cli-runtime visitor.go: BOMOverride, else UTF-8 with U+FFFD for a bad byte)
    "utf8-bom.yaml": b"\xef\xbb\xbf" + POD_YAML.encode(),
    "utf16le-bom-crlf.yaml": b"\xff\xfe" + _crlf(POD_YAML).encode("utf-16-le"),  # Windows PowerShell 5.1's `>`
    "utf16be-bom.yaml": b"\xfe\xff" + POD_YAML.encode("utf-16-be"),
    "utf16le-no-bom.yaml": POD_YAML.encode("utf-16-le"),
    "crlf.yaml": _crlf(POD_YAML),
    "latin1-annotation.yaml": POD_YAML.replace("  labels:", "  annotations:\n    note: caf\xe9\n  labels:")
    .encode("latin-1"),
    "nul-byte.yaml": POD_YAML.encode() + b"\0\n",
    # JSON (apimachinery pkg/util/yaml/decoder.go: a `{` first is a JSON stream)
    "json-tabs.yaml": json.dumps(POD, indent="\t"),
    "json-stream.yaml": json.dumps(POD) + "\n" + json.dumps(SIDECAR),
    "json-array.yaml": json.dumps([POD, SIDECAR]),
    "json-broken.yaml": json.dumps(POD)[:-1],
    "json-nan.yaml": json.dumps(POD).replace('"name": "nginx"', '"name": "nginx", "x": NaN'),
    "json-then-yaml.yaml": json.dumps(POD) + "\n---\n" + SIDECAR_YAML,
    "yaml-flow-first.yaml": "{apiVersion: v1, kind: Pod, metadata: {name: my-first-pod},\n"
                            " spec: {containers: [{name: nginx, image: 'nginx:1.25'}]}}\n",
    "json-after-separator.yaml": "---\n" + json.dumps(POD, indent="\t"),
    # kind: List (visitor.go FlattenListVisitor)
    "list.yaml": _list(POD, SIDECAR),
    "list-json.yaml": json.dumps(yaml.safe_load(_list(POD, SIDECAR)), indent="\t"),
    "podlist.yaml": _list(POD).replace("kind: List", "kind: PodList"),
    "list-empty.yaml": _list(),
    "list-nested.yaml": _list({"apiVersion": "v1", "kind": "List", "items": [POD]}),
    "list-null-item.yaml": _list(POD).replace("items:\n", "items:\n- null\n"),
    "list-items-map.yaml": "apiVersion: v1\nkind: List\nitems:\n  first: " + json.dumps(POD) + "\n",
    "list-no-apiversion.yaml": _list(POD).replace("apiVersion: v1\nkind: List", "kind: List"),
    "list-unknown-kind.yaml": _list(POD).replace("kind: List", "kind: WidgetList"),
    "pod-with-items.yaml": POD_YAML + "items: []\n",
    # documents (decoder.go YAMLReader: `---` lines; go-yaml reads a document up to its `...`)
    "comments-only.yaml": "# nothing here yet\n# TODO later\n",
    "empty.yaml": "",
    "blank-lines.yaml": "\n  \n\n",
    "null-document.yaml": "null\n",
    "empty-documents.yaml": "---\n---\n" + POD_YAML + "---\n# only a comment\n---\n",
    "separator-comment.yaml": POD_YAML + "--- # the sidecar\n" + SIDECAR_YAML,
    "separator-text.yaml": POD_YAML + "--- the sidecar\n" + SIDECAR_YAML,
    "separator-four-dashes.yaml": POD_YAML + "----\n" + SIDECAR_YAML,
    "document-end.yaml": POD_YAML + "...\n",
    "document-end-then-more.yaml": POD_YAML + "...\n" + SIDECAR_YAML,
    "document-end-then-junk.yaml": POD_YAML + "...\n[ not: yaml\n",
    "pyyaml-null-separator.yaml": yaml.safe_dump_all([POD, None, SIDECAR]),  # PyYAML writes `--- null`
    "directive.yaml": "%YAML 1.1\n---\n" + POD_YAML,
    "top-level-list.yaml": yaml.safe_dump([POD]),
    "scalar.yaml": "hello\n",
    # values (kubernetes-sigs/yaml goyaml.v2 resolve.go; yaml.go convertToJSONableObject)
    "typed-scalars.yaml": _values("08, 0777, 0x1F, 1_000, 1e3, 1.0, 2024-01-02, 12:30, y, n, On, +.5, .5, 0b101, "
                                  "0o17, 9223372036854775808, 18446744073709551615, 1e21, -0, 0.0, '1', ~, 1e999"),
    "label-y.yaml": POD_YAML.replace("app: hello", "app: y"),
    "label-number.yaml": POD_YAML.replace("app: hello", "app: 1e3"),
    "keys.yaml": POD_YAML.replace("spec:", "spec:\n  nodeSelector: {80: x, 1.5: a, true: z, 0.1: w, 1e6: v}"),
    "null-key.yaml": POD_YAML.replace("  labels:", "  annotations: {~: x}\n  labels:"),
    "nan.yaml": POD_YAML.replace("spec:", "spec:\n  priority: .nan"),
    "tags.yaml": POD_YAML.replace("  labels:", "  annotations: {a: !!binary aGVsbG8=, b: !custom text}\n"
                                               "  labels: !!set {app}\n  x-labels:"),
    "merge-key.yaml": "x: &base {name: nginx, image: 'nginx:1.25'}\n---\n"
                      + POD_YAML.replace("  - name: nginx\n    image: nginx:1.25", "  - <<: {name: nginx}\n"
                                                                                  "    image: nginx:1.25"),
    "duplicate-key.yaml": POD_YAML.replace("  name: my-first-pod", "  name: other\n  name: my-first-pod"),
    "tab-indent.yaml": POD_YAML.replace("  name: my-first-pod", "\tname: my-first-pod"),
    "number-beyond-64-bits.yaml": _values("18446744073709551616"),
}
# file -> (the first kubectl minor that reads it as the graders do, why older ones do not)
VERSION_DEPENDENT = {
    "json-then-yaml.yaml": (33, "since kubectl 1.33 a stream that stops being JSON after its first object goes "
                                "on as YAML (apimachinery pkg/util/yaml/decoder.go YAMLOrJSONDecoder.Decode); "
                                "older ones refuse the rest"),
    "yaml-flow-first.yaml": (33, "a YAML flow mapping that starts with `{` is not JSON: kubectl 1.33+ then reads "
                                 "it as YAML, older ones refuse it with JSON's error"),
    "json-nan.yaml": (33, "NaN is no JSON: kubectl 1.33+ then reads the file as YAML (where NaN is a string), older "
                          "ones refuse it with JSON's error"),
}
# file -> why the graders refuse what kubectl reads (README, "What the graders accept")
REFUSED_MORE = {
    "number-beyond-64-bits.yaml": "a number beyond 64 bits fits no Kubernetes field: kubectl versions disagree "
                                  "on it (a string, a float, or an error); the graders refuse it, with the line",
}


def test_every_made_file_has_a_note_where_it_may_differ() -> None:
    assert set(VERSION_DEPENDENT) | set(REFUSED_MORE) <= set(MADE)


# -- the two readers -------------------------------------------------------------------------------------------
def graders_objects(path: Path) -> list[Any] | str:
    """What the graders' reader makes of the file, as kubectl would print it (its namespace defaulted), or
    why it refuses the file."""
    try:
        documents = read_file(path, path.parent, LIST_KINDS)
    except (UnreadableFile, yaml.YAMLError, RecursionError) as error:
        return f"refused: {error}"
    found = []
    for document in documents:
        value = json.loads(json.dumps(document.value))
        if isinstance(value, dict) and isinstance(value.get("metadata"), dict) and \
                getattr(BY_KIND.get(str(value.get("kind"))), "namespaced", False):
            value["metadata"].setdefault("namespace", "default")  # kubectl's SetNamespace for namespaced kinds
        found.append(value)
    return found


def graders_refuse(path: Path, lab: str) -> bool:
    """The graders refuse the file, reading it or checking what is in it (the lab's rubric: its kinds and
    names, the schema, the API server's rules, the policy), or find no object at all, as kubectl finds none."""
    rubric = lab_by_id(lab).lab
    submission: Submission = load_submission(path.parent, rubric.pods, rubric.containers, rubric.allows,
                                             objects=rubric.objects)
    return any(problem.file == path.name or "holds no Kubernetes objects" in problem.message
               for problem in submission.problems)


def parse_objects(output: str) -> list[Any]:
    """`-o json` prints one JSON object per created object, one after another."""
    decoder, position, found = json.JSONDecoder(), 0, list[Any]()
    while True:
        while position < len(output) and output[position] in " \t\r\n":
            position += 1
        if position == len(output):
            return found
        value, position = decoder.raw_decode(output, position)
        found.append(value)


class Kubectl:
    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.env = {**kubectl.Kubectl(kubeconfig, cache, cache).env()}
        self.binary, self.minor = self._resolved()

    def _resolved(self) -> tuple[str, int]:
        """The binary `kubectl` runs against this server: the dispatcher's kubectl.1.NN, or kubectl itself."""
        dispatcher = kubectl.installed()
        done = subprocess.run([dispatcher, "version", "-o", "json"], env=self.env, capture_output=True, text=True,
                              timeout=60)
        client = json.loads(done.stdout)["clientVersion"]
        minor = int(re.match(r"\d+", client["minor"]).group())  # type: ignore[union-attr]
        beside = Path(dispatcher).resolve().parent / f"kubectl.1.{minor}"
        if "dispatcher" not in client.get("gitVersion", "") and beside.is_file():
            return str(beside), minor
        return dispatcher, minor

    def create(self, paths: list[Path]) -> tuple[int, list[Any], str]:
        argv = [self.binary, "create", "--dry-run=client", "-o", "json"]
        for path in paths:
            argv += ["-f", str(path)]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=300)
        return done.returncode, parse_objects(done.stdout), done.stderr


def named_in(stderr: str, path: Path) -> bool:
    return f'"{path}"' in stderr or f"{path}:" in stderr


# -- the comparison ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """(file, lab) of every submission file and every made file, the made ones each in a folder of its own."""
    made = tmp_path_factory.mktemp("made")
    found = [(path, path.parent.parent.name) for path in SUBMISSIONS]
    for name, content in MADE.items():
        (made / name.split(".")[0]).mkdir()
        target = made / name.split(".")[0] / name
        target.write_bytes(content.encode() if isinstance(content, str) else content)
        found.append((target, "1.1"))
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    kubectl.installed()
    work = tmp_path_factory.mktemp("kubectl-decoding")
    with fake_cluster(work) as running:  # discovery and OpenAPI only: no Pod is played
        yield Kubectl(running.kubeconfig, work / "cache")


def test_the_graders_read_every_file_as_kubectl_does(files: list[tuple[Path, str]], client: Kubectl) -> None:
    paths = [path for path, _ in files]
    _, _, stderr = client.create(paths)
    refused = [path for path in paths if named_in(stderr, path)]
    more = [path for path in paths if path.name in REFUSED_MORE and path not in refused]
    taken = [path for path in paths if path not in refused and path not in more]
    problems: list[str] = []
    mine = {path: graders_objects(path) for path in taken}
    for path in [path for path in taken if isinstance(mine[path], str)]:
        # some of kubectl's errors name no file ("no objects passed", a List in a List): it alone says
        code, _, err = client.create([path])
        if code == 0:
            problems.append(f"{path}: kubectl reads it, the graders {mine[path]}")
        refused.append(path)
        taken.remove(path)
    code, printed, stderr = client.create(taken)
    if code != 0 or printed != [obj for path in taken for obj in mine[path]]:  # which files differ: one at a time
        for path in taken:
            code, objects, err = client.create([path])
            if mine[path] != objects:
                problems.append(f"{path}: kubectl 1.{client.minor} printed {objects} {err}, the graders read "
                                f"{mine[path]}")
    for path in more:  # kubectl reads them; the graders refuse them on purpose, as the README says
        if not isinstance(graders_objects(path), str):
            problems.append(f"{path}: REFUSED_MORE says the graders refuse it ({REFUSED_MORE[path.name]}), but "
                            f"they read it")
    labs = dict(files)
    for path in refused:
        code, objects, err = client.create([path])
        problems += _judge_refused(path, labs[path], code, err, client.minor)
    assert not problems, "\n".join(problems)
    assert len(paths) == len(SUBMISSIONS) + len(MADE) and len(taken) > len(SUBMISSIONS) // 2


def _judge_refused(path: Path, lab: str, code: int, err: str, minor: int) -> list[str]:
    if code == 0:
        return [f"{path}: kubectl named it in an error, and then read it alone: {err}"]
    first, why = VERSION_DEPENDENT.get(path.name, (0, ""))
    if minor < first:  # this kubectl refuses what the current one reads, and the graders read as the current one
        found = graders_objects(path)
        return [f"{path}: the graders refuse it ({found}), the current kubectl reads it: {why}"] \
            if isinstance(found, str) else []
    if graders_refuse(path, lab):
        return []
    return [f"{path}: kubectl 1.{minor} refuses it ({err.strip()}), the graders accept it: {graders_objects(path)}"]


def test_the_newest_kubectl_reads_the_version_dependent_files_as_the_graders_do(
        files: list[tuple[Path, str]], client: Kubectl) -> None:
    """The files older kubectl versions refuse, read by the newest one installed: as the graders read them."""
    folder = Path(client.binary).resolve().parent
    newest = max((p for p in folder.glob("kubectl.1.*")), key=lambda p: int(p.name.rsplit(".", 1)[1]), default=None)
    if newest is None or int(newest.name.rsplit(".", 1)[1]) < max(first for first, _ in VERSION_DEPENDENT.values()):
        pytest.skip(f"no kubectl 1.{max(f for f, _ in VERSION_DEPENDENT.values())}+ installed beside {client.binary}")
    made = {path.name: path for path, _ in files}
    for name in VERSION_DEPENDENT:
        done = subprocess.run([str(newest), "create", "--dry-run=client", "-o", "json", "-f", str(made[name])],
                              env=client.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and parse_objects(done.stdout) == graders_objects(made[name]), \
            f"{name}: {newest.name} printed {done.stdout}{done.stderr}; the graders read {graders_objects(made[name])}"


def test_a_float_key_is_written_as_kubectl_writes_it() -> None:
    """float32 %g, as sigs.k8s.io/yaml formats a float key; checked here without kubectl."""
    from graders.yamlscalars import key_text

    assert [key_text(v) for v in (1.5, 0.1, 1000.0, 1e6, 1234567.0, -2.5, math.inf)] == [
        "1.5", "0.1", "1000", "1e+06", "1.234567e+06", "-2.5", ".inf"]

