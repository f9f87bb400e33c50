"""Context backend: an existing cluster, reached through a kubeconfig context the user names.

Never the current context implicitly: a student's kubeconfig may point at a real cluster.
"""

from __future__ import annotations

from graders.backends.kube import (
    KubernetesSandbox, api_client, check_reachable, reap_stale_namespaces, sandbox_namespace)


class ContextBackend:
    name = "context"

    def __init__(self, context: str) -> None:
        self.context = context
        self.version = check_reachable(
            api_client(None, context), f"context {context}",
            tried=[f"kubeconfig context {context} (from $KUBECONFIG or ~/.kube/config)"],
            fix=f"check `kubectl --context {context} cluster-info`")

    def open_sandbox(self, lab_id: str, run_id: str) -> KubernetesSandbox:
        return KubernetesSandbox(lambda: api_client(None, self.context), sandbox_namespace(lab_id, run_id),
                                 run_id, where=f"context {self.context} (Kubernetes {self.version})")

    def reap_stale(self, older_than: float) -> list[str]:
        return reap_stale_namespaces(api_client(None, self.context), older_than)

    def close(self) -> None:
        pass
