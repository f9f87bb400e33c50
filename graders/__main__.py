"""`python -m graders cluster`: the grader's own kind cluster, for the lab's hands-on kubectl steps.

It creates the cluster the grader uses (or reuses it, starting it again if Docker stopped it) and
prints how to point kubectl at it for this shell only. The student's own kubeconfig (~/.kube/config)
is never written: kind's kubeconfig for this cluster lives in .pytest-kind/<cluster>/kubeconfig.
`python -m graders cluster --delete` removes the cluster.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders.errors import InfraError

DEFAULT_CLUSTER = "k8s-101"  # the grader's default --kind-cluster
KIND_CONFIG = Path(__file__).resolve().parents[1] / "kind-config.yaml"


# This command grades nothing: what fails here is no "infrastructure problem (no points lost)".
NO_CLUSTER_NEEDED = ("No points are at stake here. The labs' kubectl steps need this cluster (Docker and kind) "
                     "or one of your own; grading does not.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cluster = commands.add_parser("cluster", help="bring the grader's kind cluster up (or reuse it) for kubectl")
    cluster.add_argument("--name", default=DEFAULT_CLUSTER, help=f"the cluster's name (default: {DEFAULT_CLUSTER})")
    cluster.add_argument("--delete", action="store_true", help="remove the cluster instead")
    args = parser.parse_args(argv)
    return delete_cluster(args.name) if args.delete else cluster_up(args.name)


def cluster_up(name: str) -> int:
    from graders.backends.kind import KindBackend  # loads the Kubernetes client only for this command

    try:
        backend = KindBackend(name, config=KIND_CONFIG)
    except InfraError as error:
        print(error.told(f"Could not bring up the kind cluster {name}"), file=sys.stderr)
        print(f"\n{NO_CLUSTER_NEEDED}", file=sys.stderr)
        return 1
    print(f"kind cluster {name} is up (Kubernetes {backend.version}).\n")
    print("Point kubectl at it, in this terminal only (your own ~/.kube/config is left alone):")
    print(f"    {export_line(backend.kubeconfig)}")
    print("then try `kubectl get nodes`.\n")
    print("Remove it when you are done with the course:")
    print(f"    python -m graders cluster --delete{'' if name == DEFAULT_CLUSTER else f' --name {name}'}")
    return 0


def export_line(kubeconfig: Path) -> str:
    """How to set KUBECONFIG in the user's shell: PowerShell on Windows, sh/zsh/bash elsewhere."""
    if os.name == "nt":
        return f'$env:KUBECONFIG = "{kubeconfig}"    (cmd.exe: set KUBECONFIG={kubeconfig})'
    return f"export KUBECONFIG={kubeconfig}"


def delete_cluster(name: str) -> int:
    from graders.backends.kind import delete_cluster as delete

    try:
        delete(name)
    except InfraError as error:
        print(error.told(f"Could not remove the kind cluster {name}"), file=sys.stderr)
        return 1
    print(f"kind cluster {name} removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
