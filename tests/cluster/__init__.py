"""A small Kubernetes API server on 127.0.0.1 that plays Pods with podman: a test double (like
envtest) so that graders/backends/kube/ and the context backend grade real containers here.

    python -m tests.cluster --kubeconfig FILE [--fault NAME:VALUE ...]

It never ships in the student export (it lives under tests/). See README, "Maintainers".
"""
