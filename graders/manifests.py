"""Reading a submission: every .yaml/.yml file of a folder, parsed, validated and policed.

A file with any problem contributes nothing to the cluster ("nothing from a rejected file is
created"); Pods from the other files are still graded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import kubernetes_validate
import yaml

from graders import policy
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
    allows: policy.Allowances = policy.DEFAULT_ALLOWANCES  # the lab's, for the policy

    def why_not_gradable(self, pod: str) -> str | None:
        """Why a Pod cannot be graded on the cluster, or None when it can."""
        if pod in self.pods:
            return None
        if pod in self.rejected_pods:
            return f"Pod {pod} was not applied: {self.rejected_pods[pod]} has problems (see the manifests check)"
        return f"no Pod named {pod} was found in the .yaml/.yml files of {self.folder}"


def load_submission(folder: Path, expected_pods: Sequence[str],
                    allows: policy.Allowances = policy.DEFAULT_ALLOWANCES) -> Submission:
    submission = Submission(folder=folder, expected_pods=tuple(expected_pods), allows=allows)
    paths = sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES)
    submission.files = [p.name for p in paths]
    if not paths:
        submission.problems.append(Problem(str(folder), "", "no .yaml or .yml file found here"))
    if len(paths) > MAX_FILES:
        submission.problems.append(Problem(str(folder), "", f"holds {len(paths)} .yaml/.yml files; only the first "
                                                             f"{MAX_FILES} (by name) are read, the limit"))
    for path in paths[:MAX_FILES]:
        _load_file(path, submission)
    for name in expected_pods:
        if name not in submission.pods and name not in submission.rejected_pods:
            submission.problems.append(Problem(
                str(folder), "", f"no Pod named {name} in any file (check metadata.name and kind: Pod)"))
    return submission


def _load_file(path: Path, submission: Submission) -> None:
    problems: list[Problem] = []
    found: dict[str, dict[str, Any]] = {}
    try:
        documents = read_documents(path, submission.folder)
    except UnreadableFile as error:
        submission.problems.append(Problem(path.name, "", str(error)))
        return
    except RecursionError:  # PyYAML composes recursively: a file nested past Python's stack
        submission.problems.append(Problem(path.name, "", "is nested too deeply to be read"))
        return
    except yaml.YAMLError as error:
        submission.problems.append(Problem(path.name, "", f"not valid YAML: {_yaml_reason(error)}"))
        return
    except OSError as error:
        submission.problems.append(Problem(path.name, "", f"cannot be read: {error.strerror or error}"))
        return
    for number, document in enumerate(documents, start=1):
        where = f"document {number}" if len(documents) > 1 else ""
        if document is None:
            continue  # an empty document (a trailing ---) is harmless
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
        if pod and name not in found:
            found[name] = pod
    submission.problems.extend(problems)
    target = submission.rejected_pods if problems else None
    for name, pod in found.items():
        if target is not None:
            target.setdefault(name, path.name)
        else:
            submission.pods[name] = pod


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
    reasons = _structure_problems(document) or _schema_problems(document) + policy.violations(document, allows)
    namespace = metadata.get("namespace")
    if namespace not in (None, "default"):
        reasons.append(("metadata.namespace", f"namespace {namespace!r}: the grader runs your Pods in a namespace "
                                              f"of its own; remove this line (namespace: default is fine)"))
    pod = copy.deepcopy(document)
    pod["metadata"].pop("namespace", None)  # the grader picks the namespace
    return pod, reasons


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
    return error.message


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
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem
