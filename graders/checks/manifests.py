"""The offline check: the YAML parses, the lab's Pods are there, valid and safe."""

from __future__ import annotations

from graders.errors import CheckFailed
from graders.manifests import Submission


def manifests_valid(submission: Submission) -> None:
    if not submission.problems:
        return
    pods = " and ".join(submission.expected_pods)
    raise CheckFailed(
        expected=f"every .yaml/.yml file in {submission.folder} to parse, and the Pods {pods} to be "
                 f"present, schema-valid and within the safety policy",
        observed="\n" + "\n".join(f"  - {problem}" for problem in submission.problems),
        hint="fix each line above (a file with a problem is not applied at all); "
             "`kubectl apply --dry-run=client -f FILE` shows schema errors too")
