"""The offline check: the YAML parses, the lab's Pods are there, valid (schema and API server) and safe."""

from __future__ import annotations

from graders.errors import CheckFailed
from graders.manifests import Submission
from graders.yamlfiles import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_FILES, MAX_NODES

LIMITS = (f"limits: {MAX_FILES} files, {MAX_FILE_BYTES // 1024} KiB and {MAX_DOCUMENTS} documents a file, "
          f"{MAX_NODES} YAML nodes and {MAX_DEPTH} levels a document")


def manifests_valid(submission: Submission) -> None:
    if not submission.problems:
        return
    pods = " and ".join(submission.expected_pods)
    listing = "\n" + "\n".join(f"  - {problem}" for problem in submission.problems)
    if all(problem.todo for problem in submission.problems):
        files = sorted({problem.file for problem in submission.problems})
        raise CheckFailed(
            expected=f"the Pods {pods}, with every TODO of the starter files filled in",
            observed=f"not started yet: {', '.join(files)} still hold TODO placeholders:{listing}",
            hint="follow the README part by part, replacing each TODO; then run the grader again (a file is "
                 "checked in full once its TODOs are filled in)")
    hint = ("fix each line above (a file with a problem is not applied at all); "
            "`kubectl apply --dry-run=server -f FILE` on a cluster shows the same schema and API-server errors")
    if any(problem.todo for problem in submission.problems):
        hint += "; a file with TODOs left is checked in full once they are filled in"
    for pod, (container, _) in submission.split_pods.items():
        hint = (f"a sidecar is a second container of the same Pod, not a Pod of its own: move {container} "
                f"under {pod}'s `containers:`; then " + hint)
    raise CheckFailed(
        expected=f"every .yaml/.yml file in {submission.folder} to parse, and the Pods {pods} to be present, "
                 f"schema-valid, accepted by the API server and within the safety policy ({LIMITS})",
        observed=listing,
        hint=hint)
