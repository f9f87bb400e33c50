"""The offline check: the YAML parses, the lab's Pods are there, valid (schema and API server) and safe."""

from __future__ import annotations

from pathlib import Path

from graders.errors import CheckFailed
from graders.manifests import Submission


def manifests_valid(submission: Submission) -> None:
    if not submission.problems:
        return
    names = submission.expected_pods
    pods = ("the Pod " if len(names) == 1 else "the Pods ") + " and ".join(names)
    # a mistake before a placeholder: the summary line shows the first (a tab error, not the other file's TODO)
    problems = sorted(submission.problems, key=lambda problem: problem.todo)
    listing = "\n" + "\n".join(f"  - {problem}" for problem in problems)
    if all(problem.todo for problem in problems):
        files = sorted({problem.file for problem in problems})
        todos = [f"{file}, line {number}: {line}"
                 for file in files for number, line in _todo_lines(submission.folder / file)]
        said = (f"{len(todos)} TODO{'s' if len(todos) != 1 else ''}:" + "".join(f"\n  - {todo}" for todo in todos)
                if todos else f"TODO placeholders:{listing}")
        raise CheckFailed(
            expected=f"{pods}, with every TODO of the starter files filled in",
            observed=f"not started yet: {', '.join(files)} still {'holds' if len(files) == 1 else 'hold'} {said}",
            hint="follow the README part by part, replacing each TODO (the comments say what goes there); then run "
                 "the grader again (a file is checked in full once its TODOs are filled in)")
    hint = ("fix each line above (a file with a problem is not applied at all)"
            + ("; `kubectl apply --dry-run=server -f FILE` on a cluster shows the same schema and API-server errors"
               if submission.cluster_reachable else ""))
    if any(problem.todo for problem in problems):
        hint += "; a file with TODOs left is checked in full once they are filled in"
    for pod, (container, _) in submission.split_pods.items():
        hint = (f"a sidecar is a second container of the same Pod, not a Pod of its own: move {container} "
                f"under {pod}'s `containers:`; then " + hint)
    # The limits are said by the problem that meets one ("more than 20 files"), not in every Expected line.
    raise CheckFailed(
        expected=f"every .yaml/.yml file in {submission.folder} to parse, and {pods} to be present, "
                 "schema-valid, accepted by the API server and within the safety policy",
        observed=listing,
        hint=hint)


def _todo_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a starter file that say TODO (placeholders, and the comments beside the fields to add),
    without its heading's "Fill in every TODO"."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)
            if "TODO" in line and "every TODO" not in line]
