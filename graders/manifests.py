"""Reading a submission: every .yaml/.yml file of a folder, parsed, validated and policed.

A file with any problem contributes nothing to the cluster ("nothing from a rejected file is
created"); Pods from the other files are still graded.

Objects are kept per kind (`objects["Service"]["web"]`); the Pods, which most checks read, also as
`pods` (the same dict as `objects["Pod"]`), with their files in `sources` and refusals in `rejected_pods`.
A document is accepted when the lab allows its kind (Allowances.kinds, by default the kinds the lab
declares) and, for a kind the lab declares, when it is one of the declared names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from graders import policy, validation
from graders.validation import caps  # the grader's own limits, not the API server's
from graders.backends.resources import RESOURCES
from graders.versions import KUBERNETES_VERSION
from graders.yamlfiles import MAX_FILES, UnreadableFile, read_file

YAML_SUFFIXES = (".yaml", ".yml")
# `kind: <Kind>List` with these apiVersions stands for its items, as kubectl's RESTMapper maps them
LIST_KINDS = {kind: resource.api_version for kind, resource in RESOURCES.items()}
TODO = "TODO"  # what the starter files leave for the student to fill in


@dataclass(frozen=True)
class Problem:
    file: str
    where: str
    message: str
    todo: bool = False  # a placeholder of the starter file, not a mistake

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}" if self.where else f"{self.file}: {self.message}"


@dataclass
class Submission:
    folder: Path
    expected_pods: tuple[str, ...]
    files: list[str] = field(default_factory=list)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)  # accepted, ready to apply
    rejected_pods: dict[str, str] = field(default_factory=dict)  # pod name -> file that was rejected
    problems: list[Problem] = field(default_factory=list)
    # Pod -> (a container of it written as a Pod of its own, the file): "a sidecar is its own Pod"
    split_pods: dict[str, tuple[str, str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # accepted Pod -> the file it came from
    unreadable: list[str] = field(default_factory=list)  # files not read at all (not YAML, a broken link...)
    allows: policy.Allowances = policy.DEFAULT_ALLOWANCES  # the lab's, for the policy
    expected: tuple[tuple[str, str], ...] = ()  # (kind, name) the lab asks for, its Pods included
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # kind -> name -> accepted
    rejected: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> name -> file that was rejected
    origins: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> accepted name -> its file
    # The student grades on a Kubernetes cluster, so `kubectl apply --dry-run=server` can show them the API
    # server's own answer; on podman there is none to ask, and a tip to ask it would not work.
    cluster_reachable: bool = True

    def __post_init__(self) -> None:
        self.expected = tuple(dict.fromkeys([("Pod", name) for name in self.expected_pods] + list(self.expected)))
        self.expected_pods = tuple(name for kind, name in self.expected if kind == "Pod")
        # the Pods' own fields are the Pod entries of the per-kind ones: one store, two ways to read it
        self.objects["Pod"], self.rejected["Pod"], self.origins["Pod"] = self.pods, self.rejected_pods, self.sources

    def applicable(self) -> list[dict[str, Any]]:
        """Every accepted object, other kinds before Pods: a ConfigMap exists before a Pod mounts it."""
        return [item for kind in sorted(self.objects, key=lambda kind: kind == "Pod")
                for item in self.objects[kind].values()]

    def why_not_gradable(self, pod: str, kind: str = "Pod") -> str | None:
        """Why an object (a Pod unless kind says otherwise) cannot be graded on the cluster, or None when it can."""
        if kind == "Pod" and pod in self.split_pods:
            container, file = self.split_pods[pod]
            return (f"Pod {pod} was not applied: {container} is written as a Pod of its own ({file}), but it must "
                    f"be a second entry of {pod}'s `containers:` (`- name: {container}`), because only containers "
                    f"of one Pod share localhost and volumes")
        if pod in self.objects.get(kind, {}):
            return None
        if pod in self.rejected.get(kind, {}):
            return f"{kind} {pod} was not applied: {self.rejected[kind][pod]} has problems (see [manifests] above)"
        if self.unreadable:  # the object is most likely in the file that could not be read
            return (f"no {kind} named {pod} was found in the files that could be read; {', '.join(self.unreadable)} "
                    f"could not be read (see [manifests] above)")
        return f"no {kind} named {pod} was found in the .yaml/.yml files of {self.folder}"


def load_submission(folder: Path, expected_pods: Sequence[str],
                    containers: Mapping[str, Sequence[str]] | None = None,
                    allows: policy.Allowances = policy.DEFAULT_ALLOWANCES,
                    objects: Sequence[tuple[str, str]] = ()) -> Submission:
    """`containers`: Pod -> the container names the lab asks for (recognises a container written as a Pod);
    `allows`: what the lab lets a Pod take from the machine (volume types, env sources) and the kinds it
    accepts, for the policy; `objects`: (kind, name) the lab asks for besides expected_pods."""
    submission = Submission(folder=folder, expected_pods=tuple(expected_pods), allows=allows, expected=tuple(objects))
    expected_pods = submission.expected_pods
    owners = {container: pod for pod, names in (containers or {}).items() for container in names
              if container not in expected_pods}
    paths = sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES)
    submission.files = [p.name for p in paths]
    if not paths:
        submission.problems.append(Problem(str(folder), "", "no .yaml or .yml file found here"))
    if len(paths) > MAX_FILES:
        submission.problems.append(Problem(str(folder), "", f"holds {len(paths)} .yaml/.yml files; only the first "
                                                             f"{MAX_FILES} (by name) are read, the limit"))
    submission.unreadable = [path.name for path in paths[:MAX_FILES] if not _load_file(path, submission, owners)]
    unread = submission.unreadable
    if paths and not unread and not any(submission.objects.values()) and not any(submission.rejected.values()) \
            and not submission.problems:  # every file empty, comments only: kubectl creates nothing either
        submission.problems.append(Problem(str(folder), "", "holds no Kubernetes objects, only empty files, comments "
                                                             "or empty documents (`kubectl apply -f` says: no "
                                                             "objects passed to apply)"))
    for owner, (container, file) in list(submission.split_pods.items()):
        names = [c.get("name") for c in submission.pods.get(owner, {}).get("spec", {}).get("containers", [])]
        if container in names:  # the Pod is right as well: the extra Pod alone is the mistake
            del submission.split_pods[owner]
        elif owner in submission.pods:  # graded as the lesson means it, or not at all
            submission.pods.pop(owner)
            submission.rejected_pods[owner] = file
    for kind, name in submission.expected:
        if name not in submission.objects.get(kind, {}) and name not in submission.rejected.get(kind, {}):
            submission.problems.append(Problem(
                str(folder), "", f"no {kind} named {name} in any file (check metadata.name and kind: {kind})"
                if not unread else
                f"no {kind} named {name} in the files that could be read: fix {', '.join(unread)} first"))
    return submission


def _load_file(path: Path, submission: Submission, owners: Mapping[str, str]) -> bool:
    """Add the file's Pods and problems to the submission; False when it could not be read at all."""
    problems: list[Problem] = []
    found: dict[tuple[str, str], dict[str, Any] | None] = {}  # (kind, name) -> object (None: refused)
    try:  # as kubectl reads it: encodings, JSON, empty documents, Lists (graders/yamlfiles.py)
        documents = read_file(path, submission.folder, LIST_KINDS)
    except UnreadableFile as error:
        submission.problems.append(Problem(path.name, "", str(error)))
        return False
    except RecursionError:  # PyYAML composes recursively: a file nested past Python's stack
        submission.problems.append(Problem(path.name, "", "is nested too deeply to be read"))
        return False
    except yaml.YAMLError as error:
        submission.problems.append(Problem(path.name, "", f"not valid YAML: {_yaml_reason(error)}"))
        return False
    except OSError as error:
        submission.problems.append(Problem(path.name, "", f"cannot be read: {error.strerror or error}"))
        return False
    for read in documents:
        where, document = read.where, read.value
        split = _container_as_pod(document, owners)
        if split:
            submission.split_pods.setdefault(split[0], (split[1], path.name))
            problems.append(Problem(path.name, _join(where, "metadata.name"), _split_reason(*split)))
            continue
        todos = _todos(document)
        pod, reasons = _accept_document(document, submission.expected, submission.allows, started=not todos)
        # An object refused for its kind or apiVersion is still the lab's Pod when it says so by its name:
        # it is "not applied" rather than missing, and a second definition of it elsewhere is a duplicate.
        kind, name = ((pod["kind"], pod["metadata"]["name"]) if pod else
                      _meant(document, submission.expected, submission.allows) or ("", None))
        accepted, rejected = submission.objects.setdefault(kind, {}), submission.rejected.setdefault(kind, {})
        if name and ((kind, name) in found or name in accepted or name in rejected):
            other = path.name if (kind, name) in found else submission.origins.get(kind, {}).get(name) or rejected[name]
            reasons.append(("metadata.name", f"{kind} {name} is defined more than once (also in {other}): keep one"))
            if name in accepted:  # which one was meant? neither is applied
                accepted.pop(name)
                rejected[name] = path.name
        problems.extend(Problem(path.name, _join(where, field_path), reason) for field_path, reason in reasons)
        problems.extend(Problem(path.name, _join(where, field_path), "still a TODO placeholder: fill it in", todo=True)
                        for field_path in todos)
        if name and (kind, name) not in found:
            found[(kind, name)] = pod  # None when refused: then the file has a problem and nothing is applied
    submission.problems.extend(problems)
    for (kind, name), pod in found.items():
        if problems or pod is None:
            submission.rejected[kind].setdefault(name, path.name)
        else:
            submission.objects[kind][name] = pod
            submission.origins.setdefault(kind, {})[name] = path.name
    return True


def _accept_document(document: Any, expected: tuple[tuple[str, str], ...],
                     allows: policy.Allowances = policy.DEFAULT_ALLOWANCES, started: bool = True
                     ) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Return the object (namespace stripped) when the document is one the lab asks for, and its problems.

    A document that still holds TODO placeholders (not `started`) is not checked against the schema
    and the API server's rules yet: their complaints would mostly be the placeholders themselves (TODO
    where a number belongs), and the schema validator costs a third of a refused run's time. What is
    unsafe is refused at once."""
    if not isinstance(document, dict):
        return None, [("", f"expected a Kubernetes object (a mapping), found {type(document).__name__}")]
    kind, api_version = document.get("kind"), document.get("apiVersion")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kinds = _lab_kinds(expected, allows)
    resource = RESOURCES.get(kind) if isinstance(kind, str) and kind in kinds else None
    if resource is None or api_version != resource.api_version:
        return None, [kind_problem(api_version, kind, kinds)]
    names = [n for k, n in expected if k == kind]
    if names and name not in names:
        return None, [("metadata.name", f"this lab asks for {kind}s named {', '.join(names)}, found {name!r}")]
    if not isinstance(name, str) or not name:  # a kind the lab allows under any name
        return None, [("metadata.name", f"every {kind} needs a name")]
    document = _without_nulls(document)  # as the API server reads them: a null field is an absent one
    if kind == "Pod":
        # In the API server's order: what it cannot decode (400), then what it refuses to store (422)
        reasons = _structure_problems(document) or (
            (_schema_problems(document) or validation.decode_problems(document) or validation.problems(document))
            if started else []) + policy.violations(document, allows) + caps.problems(document)
    else:  # the schema for any kind; the policy for the Pods it makes (a Deployment's template)
        reasons = (_schema_problems(document) if started else []) or policy.object_violations(document, allows)
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    if namespace not in (None, "default"):
        reasons.append(("metadata.namespace", f"namespace {namespace!r}: the grader runs your Pods in a namespace "
                                              f"of its own; remove this line (namespace: default is fine)"))
    pod = copy.deepcopy(document)
    pod["metadata"].pop("namespace", None)  # the grader picks the namespace
    return pod, reasons


def _lab_kinds(expected: tuple[tuple[str, str], ...], allows: policy.Allowances) -> frozenset[str]:
    return allows.kinds or frozenset(k for k, _ in expected) or frozenset({"Pod"})


def kind_problem(api_version: Any, kind: Any, kinds: frozenset[str]) -> tuple[str, str]:
    """Why a document is not one of the lab's kinds, in kubectl's words where kubectl refuses it
    (k8s.io/cli-runtime resource mapping: `no matches for kind "Pod" in version "apps/v1"`; kubectl's
    validation: `apiVersion not set`, `kind not set`), with the fix."""
    intended = [wanted for wanted in sorted(kinds) if isinstance(kind, str) and kind.lower() == wanted.lower()]
    if not kind:
        example = next(iter(sorted(kinds)))
        return ("kind", f"kind not set (kubectl refuses the file: every object says what it is; add kind: {example} "
                        f"beside apiVersion)")
    if intended and kind != intended[0]:
        return ("kind", f'no matches for kind "{kind}" in version "{api_version or ""}" (kinds are case-sensitive: '
                        f"write kind: {intended[0]})")
    if intended:
        version = RESOURCES[kind].api_version if kind in RESOURCES else "?"
        if not api_version:
            return ("apiVersion", f"apiVersion not set (kubectl refuses the file: a {kind}'s apiVersion is {version}: "
                                  f"add apiVersion: {version})")
        return ("apiVersion", f'no matches for kind "{kind}" in version "{api_version}" (kubectl finds no {kind} in '
                              f"{api_version}: a {kind}'s apiVersion is {version}, so write apiVersion: {version})")
    return ("kind", f"this lab asks only for {_kinds_wanted(kinds)}, found apiVersion: {api_version}, kind: {kind}")


def _meant(document: Any, expected: tuple[tuple[str, str], ...], allows: policy.Allowances) -> tuple[str, str] | None:
    """(kind, name) of a document refused for its kind or apiVersion that names one of the lab's objects:
    `kind: pod` or `apiVersion: apps/v1` on the lab's Pod web is still meant as Pod web."""
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        return None
    kind, name = document.get("kind"), document["metadata"].get("name")
    kinds = _lab_kinds(expected, allows)
    for wanted in kinds:
        if (not kind or (isinstance(kind, str) and kind.lower() == wanted.lower())) and (wanted, name) in expected:
            return wanted, name
    return None


def _kinds_wanted(kinds: frozenset[str]) -> str:
    """"Pods (apiVersion: v1, kind: Pod)" or "Pods and Services (kind: Pod or Service)"."""
    if len(kinds) == 1:
        (kind,) = kinds
        version = RESOURCES[kind].api_version if kind in RESOURCES else "?"
        return f"{kind}s (apiVersion: {version}, kind: {kind})"
    ordered = sorted(kinds)
    return " and ".join(f"{kind}s" for kind in ordered) + f" (kind: {' or '.join(ordered)})"


def _container_as_pod(document: Any, owners: Mapping[str, str]) -> tuple[str, str] | None:
    """(owner Pod, container) when the document is a Pod named like a container the lab asks for."""
    if (not isinstance(document, dict) or document.get("kind") != "Pod"
            or not isinstance(document.get("metadata"), dict)):
        return None
    name = document["metadata"].get("name")
    return (owners[name], name) if isinstance(name, str) and name in owners else None


def _split_reason(owner: str, container: str) -> str:
    return (f"{container} is written as a Pod of its own, but the lab asks for it as a container of Pod {owner}: "
            f"a sidecar is a second entry of {owner}'s spec.containers (`- name: {container}`), not a second Pod, "
            f"because only containers of one Pod share localhost and volumes")


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _structure_problems(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """What the API server requires beyond the schema: a spec with containers that have a name and an image."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return [("spec", "a Pod needs a spec with at least one container")]
    containers = spec.get("containers")
    if isinstance(containers, dict):  # docker-compose style: `containers:` then `app: {image: ...}`
        return [("spec.containers", _list_not_mapping("spec.containers", containers))]
    if not isinstance(containers, list) or not containers:
        return [("spec.containers", "a Pod needs at least one container (a list of name and image)")]
    problems = []
    for index, container in enumerate(containers):
        for key in ("name", "image"):
            if not isinstance(container, dict) or not isinstance(container.get(key), str) or not container[key]:
                problems.append((f"spec.containers[{index}].{key}", f"every container needs a {key}"))
    return problems


def _todos(value: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """Field paths whose value still holds a TODO of the starter file."""
    if isinstance(value, str):
        return [_field_path(path)] if TODO in value else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _todos(item, path + (key,))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _todos(item, path + (index,))]
    return []


def _schema_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    # Imported here: it loads jsonschema and the schemas (about 0.1 s), which a submission refused
    # before its schema is checked (the untouched starter) should not pay for.
    import kubernetes_validate

    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [_schema_reason(error, document.get("kind"))]
    return []


def _schema_reason(error: Any, kind: Any = "Pod") -> tuple[str, str]:  # a kubernetes_validate.ValidationError
    """(field path, message): a Pod's in the words of the component that refuses it, with where a misplaced
    field belongs (graders/validation/schema.py); another kind's in the schema's words."""
    if error.validator == "type" and "array" in str(error.validator_value) and isinstance(error.instance, dict):
        return _field_path(error.absolute_path), _list_not_mapping(_field_path(error.absolute_path), error.instance)
    if kind == "Pod":
        from graders.validation import schema

        path, message = schema.reason(error)
        return _field_path(path), message
    if error.validator == "additionalProperties":
        return _field_path(error.absolute_path), f"unknown field: {error.message} (check the spelling and indentation)"
    return _field_path(error.absolute_path), error.message


def _list_not_mapping(field_path: str, mapping: dict[Any, Any]) -> str:
    """A mapping where Kubernetes wants a list (`containers:` written as `app: {...}`), in the student's terms."""
    keys = ", ".join(f"{key}:" for key in list(mapping)[:3])
    first, value = next(iter(mapping.items()), ("app", {}))
    if isinstance(value, dict):  # items keyed by their name: the name moves into the item
        example = f"`- name: {first}` followed by its fields, indented under it"
    else:  # one item's fields without the dash
        example = f"`- {first}: {value}`"
    items = "`- name: ...` items" if field_path.endswith("containers") else "items"
    return (f"must be a list of {items}, but it is a mapping ({keys}); "
            f"start each item with '- ', e.g. {example}")


def _field_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(where: str, field_path: str) -> str:
    return ", ".join(part for part in (where, field_path) if part)


def _yaml_reason(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None and (_TAB_IN_YAML in problem or _indented_with_tab(mark)):
        return f"line {mark.line + 1}: YAML does not allow tabs; indent with spaces (your editor may insert a tab " \
               f"for the Tab key: set it to insert spaces)"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


_TAB_IN_YAML = "found character '\\t'"  # PyYAML's words for a tab where a token should start


def _indented_with_tab(mark: Any) -> bool:
    """A tab in the indentation of the failing line: PyYAML then reports some other problem."""
    buffer = getattr(mark, "buffer", None)
    if not isinstance(buffer, str):
        return False
    start = buffer.rfind("\n", 0, mark.pointer) + 1
    line = buffer[start:buffer.find("\n", start) if "\n" in buffer[start:] else len(buffer)]
    return "\t" in line[:len(line) - len(line.lstrip())]
