"""Context backend: an existing cluster, reached through a kubeconfig context the user names.

Never the current context implicitly: a student's kubeconfig may point at a real cluster.
"""

from __future__ import annotations

from graders.backends.kube import ClusterBackend, api_client, check_reachable


class ContextBackend(ClusterBackend):
    name = "context"

    def __init__(self, context: str) -> None:
        self.context = context
        self.version = check_reachable(
            api_client(None, context), f"context {context}",
            tried=[f"kubeconfig context {context} (from $KUBECONFIG or ~/.kube/config)"],
            fix=f"check `kubectl --context {context} cluster-info`")
        super().__init__(lambda: api_client(None, context), where=f"context {context} (Kubernetes {self.version})")
