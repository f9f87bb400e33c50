"""k8s-101 graders: grade Kubernetes lab submissions on a real cluster (kind, a named context, podman).

Layers, each importing only the ones below it:
    labs/<lab>/test_*.py  ->  graders.checks  ->  graders.backends
The pytest surface (options, fixtures, report) lives in graders.plugin.
"""

from graders.lab import Lab
from graders.policy import Allowances

__all__ = ["Allowances", "Lab"]
