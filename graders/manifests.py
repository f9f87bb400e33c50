"""Reading a submission: every .yaml/.yml file of a folder, parsed, validated and policed.

A file with any problem contributes nothing to the cluster ("nothing from a rejected file is
created"); Pods from the other files are still graded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import kubernetes_validate
import yaml

from graders import policy, validation
from graders.versions import KUBERNETES_VERSION
from graders.yamlfiles import MAX_FILES, UnreadableFile, read_documents

YAML_SUFFIXES = (".yaml", ".yml")
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

    def why_not_gradable(self, pod: str) -> str | None:
        """Why a Pod cannot be graded on the cluster, or None when it can."""
        if pod in self.split_pods:
            container, file = self.split_pods[pod]
            return (f"Pod {pod} was not applied: {container} is written as a Pod of its own ({file}), but it must "
                    f"be a second entry of {pod}'s `containers:` (`- name: {container}`), because only containers "
                    f"of one Pod share localhost and volumes")
        if pod in self.pods:
            return None
        if pod in self.rejected_pods:
            return f"Pod {pod} was not applied: {self.rejected_pods[pod]} has problems (see the manifests check)"
        if self.unreadable:  # the Pod is most likely in the file that could not be read
            return (f"no Pod named {pod} was found in the files that could be read; {', '.join(self.unreadable)} "
                    f"could not be (see the manifests check)")
        return f"no Pod named {pod} was found in the .yaml/.yml files of {self.folder}"


def load_submission(folder: Path, expected_pods: Sequence[str],
                    containers: Mapping[str, Sequence[str]] | None = None,
                    allows: policy.Allowances = policy.DEFAULT_ALLOWANCES) -> Submission:
    """`containers`: Pod -> the container names the lab asks for (recognises a container written as a Pod);
    `allows`: what the lab lets a Pod take from the machine (volume types, env sources), for the policy."""
    submission = Submission(folder=folder, expected_pods=tuple(expected_pods), allows=allows)
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
    for owner, (container, file) in list(submission.split_pods.items()):
        names = [c.get("name") for c in submission.pods.get(owner, {}).get("spec", {}).get("containers", [])]
        if container in names:  # the Pod is right as well: the extra Pod alone is the mistake
            del submission.split_pods[owner]
        elif owner in submission.pods:  # graded as the lesson means it, or not at all
            submission.pods.pop(owner)
            submission.rejected_pods[owner] = file
    for name in expected_pods:
        if name not in submission.pods and name not in submission.rejected_pods:
            submission.problems.append(Problem(
                str(folder), "", f"no Pod named {name} in any file (check metadata.name and kind: Pod)" if not unread
                else f"no Pod named {name} in the files that could be read: fix {', '.join(unread)} first"))
    return submission


def _load_file(path: Path, submission: Submission, owners: Mapping[str, str]) -> bool:
    """Add the file's Pods and problems to the submission; False when it could not be read at all."""
    problems: list[Problem] = []
    found: dict[str, dict[str, Any]] = {}
    try:
        documents = read_documents(path, submission.folder)
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
    for number, document in enumerate(documents, start=1):
        where = f"document {number}" if len(documents) > 1 else ""
        if document is None:
            continue  # an empty document (a trailing ---) is harmless
        split = _container_as_pod(document, owners)
        if split:
            submission.split_pods.setdefault(split[0], (split[1], path.name))
            problems.append(Problem(path.name, _join(where, "metadata.name"), _split_reason(*split)))
            continue
        pod, reasons = _accept_document(document, submission.expected_pods, submission.allows)
        name = pod["metadata"]["name"] if pod else None
        if name and (name in found or name in submission.pods or name in submission.rejected_pods):
            reasons.append(("metadata.name", f"Pod {name} is defined more than once"))
            if name in submission.pods:  # which one was meant? neither is applied
                submission.pods.pop(name)
                submission.rejected_pods[name] = path.name
        problems.extend(Problem(path.name, _join(where, field_path), reason) for field_path, reason in reasons)
        problems.extend(Problem(path.name, _join(where, field_path), "still a TODO placeholder: fill it in", todo=True)
                        for field_path in _todos(document))
        if pod and name and name not in found:  # an accepted Pod always has its name
            found[name] = pod
    submission.problems.extend(problems)
    target = submission.rejected_pods if problems else None
    for name, pod in found.items():
        if target is not None:
            target.setdefault(name, path.name)
        else:
            submission.pods[name] = pod
            submission.sources[name] = path.name
    return True


def _accept_document(document: Any, expected: tuple[str, ...], allows: policy.Allowances = policy.DEFAULT_ALLOWANCES
                     ) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Return the Pod (namespace stripped) when the document is one of the lab's Pods, and its problems."""
    if not isinstance(document, dict):
        return None, [("", f"expected a Kubernetes object (a mapping), found {type(document).__name__}")]
    kind, api_version = document.get("kind"), document.get("apiVersion")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if kind != "Pod" or api_version != "v1":
        return None, [("kind", f"this lab asks only for Pods (apiVersion: v1, kind: Pod), found "
                               f"apiVersion: {api_version}, kind: {kind}")]
    if name not in expected:
        return None, [("metadata.name", f"this lab asks for Pods named {', '.join(expected)}, found {name!r}")]
    document = _without_nulls(document)  # as the API server reads them: a null field is an absent one
    reasons = _structure_problems(document) or (_schema_problems(document) or validation.problems(document)) \
        + policy.violations(document, allows)
    namespace = document["metadata"].get("namespace")  # a mapping: it held one of the expected names
    if namespace not in (None, "default"):
        reasons.append(("metadata.namespace", f"namespace {namespace!r}: the grader runs your Pods in a namespace "
                                              f"of its own; remove this line (namespace: default is fine)"))
    pod = copy.deepcopy(document)
    pod["metadata"].pop("namespace", None)  # the grader picks the namespace
    return pod, reasons


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
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [(_field_path(error.absolute_path), _schema_reason(error))]
    return []


def _schema_reason(error: kubernetes_validate.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown field: {error.message} (check the spelling and indentation)"
    if error.validator == "type" and "array" in str(error.validator_value) and isinstance(error.instance, dict):
        return _list_not_mapping(_field_path(error.absolute_path), error.instance)
    return error.message


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
