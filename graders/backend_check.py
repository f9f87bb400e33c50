"""Can this backend run a grading run? `python -m graders.backend_check --backend NAME [--context NAME]`

It makes the backend and opens one sandbox exactly as a grading run starts (podman: the run's network;
a cluster: its API answers, the kubeconfig context loads, a namespace is created), then removes the
sandbox. Exit status 0 with one line when it works; else the infrastructure problem in the words a
grading run would use, and 1. The re-grade (graders/regrade.py) runs it once before grading anyone, so
that a broken backend stops the re-grade at once with its first cause instead of failing every student.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from graders.backends import NAMES, OPTIONS, BackendSettings, make_backend
from graders.errors import InfraError
from graders.report import plain, without_stack_traces

LAB_ID = "backend-check"  # the sandbox's lab label: what a leftover of it would be called


def check(settings: BackendSettings) -> str:
    """Make the backend and one sandbox, then remove it; raises InfraError when the backend cannot run."""
    backend = make_backend(settings)
    try:
        sandbox = backend.open_sandbox(LAB_ID, uuid.uuid4().hex[:8])
        sandbox.close()
    finally:
        backend.close()
    return f"backend {settings.name} works: it made and removed a sandbox"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders.backend_check", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=NAMES, required=True)
    parser.add_argument("--context", help="kubeconfig context for --backend context")
    args = parser.parse_args(argv)
    options = {name: option.default for name, option in OPTIONS.items()} | {"context": args.context}
    try:
        print(check(BackendSettings(name=args.backend, options=options)))
    except InfraError as error:
        problem = InfraError(without_stack_traces(plain(error.problem)), [plain(t) for t in error.tried],
                             plain(error.fix))
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
