"""The offline check: the YAML parses, the lab's Pods are there, valid and safe."""

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
            hint="follow the README part by part, replacing each TODO; then run the grader again")
    raise CheckFailed(
        expected=f"every .yaml/.yml file in {submission.folder} to parse, and the Pods {pods} to be "
                 f"present, schema-valid and within the safety policy ({LIMITS})",
        observed=listing,
        hint="fix each line above (a file with a problem is not applied at all); "
             "`kubectl apply --dry-run=client -f FILE` shows schema errors too")
