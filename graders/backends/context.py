"""Context backend: an existing cluster, reached through a kubeconfig context the user names.

Never the current context implicitly: a student's kubeconfig may point at a real cluster.
"""

from __future__ import annotations

from graders.backends.kube import ClusterBackend, check_reachable, client_for, load_configuration


class ContextBackend(ClusterBackend):
    name = "context"

    def __init__(self, context: str) -> None:
        self.context = context
        # loaded once for the run: the context's credential plugin (gcloud, aws, az) runs here only
        configuration = load_configuration(None, context)
        self.version = check_reachable(
            client_for(configuration), f"context {context}",
            tried=[f"kubeconfig context {context} (from $KUBECONFIG or ~/.kube/config)"],
            fix=f"check `kubectl --context {context} cluster-info`")
        super().__init__(configuration, where=f"context {context} (Kubernetes {self.version})")
