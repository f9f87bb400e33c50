"""What the kind and context backends share once they reach a cluster: its sandboxes, whether it
answers and can run Pods, and the namespaces that killed runs left behind."""

from __future__ import annotations

import time
from typing import Callable

from kubernetes import client

from graders.backends.base import MANAGED_BY, MANAGED_BY_LABEL, is_stale
from graders.backends.kube.calls import call, get, request
from graders.backends.kube.connection import client_for
from graders.backends.kube.errors import NETWORK_ERRORS, APIError, NotFound
from graders.backends.kube.sandbox import KubernetesSandbox, sandbox_namespace
from graders.errors import InfraError

NO_NODE = "no node has registered"
# kind's network plugin, a DaemonSet in kube-system (kind: pkg/build/nodeimage/const_cni.go)
KINDNET = "/apis/apps/v1/namespaces/kube-system/daemonsets/kindnet"


class ClusterBackend:
    """What the kind and context backends share once they reach a cluster: a sandbox is a namespace.

    One client configuration serves the whole run: loading a kubeconfig may run a credential plugin
    (gke-gcloud-auth-plugin takes seconds), so it is never loaded again per sandbox or per exec.
    """

    name = "cluster"

    def __init__(self, configuration: client.Configuration, where: str,
                 progress: Callable[[str], None] | None = None) -> None:
        self._make_client = lambda: client_for(configuration)
        self.where = where
        self.progress = progress

    def open_sandbox(self, lab_id: str, run_id: str) -> KubernetesSandbox:
        return KubernetesSandbox(self._make_client, sandbox_namespace(lab_id, run_id), run_id, where=self.where,
                                 progress=self.progress, version=getattr(self, "version", ""))

    def reap_stale(self, older_than: float) -> list[str]:
        return reap_stale_namespaces(self._make_client(), older_than)

    def close(self) -> None:
        pass


def check_reachable(api: client.ApiClient, where: str, tried: list[str], fix: str) -> str:
    """The cluster's version, or InfraError when its API server does not answer. Asked once, not ridden
    out: the kind backend polls it until its own deadline, and a context that does not answer is said at once."""
    try:
        return call(client.VersionApi(api).get_code, ride_out=0).git_version
    except (APIError, *NETWORK_ERRORS) as error:
        raise InfraError(f"the Kubernetes API of {where} does not answer: {error}", tried=tried, fix=fix) from error


def cluster_problem(api: client.ApiClient) -> str | None:
    """Why a cluster that answers cannot run Pods yet, or None when it can (its reads ridden out as any).

    A kind cluster interrupted after kubeadm but before its network plugin answers API calls while
    its node stays NotReady and CoreDNS stays Pending: the lab's Pods would never start.
    """
    nodes = call(get, api, "/api/v1/nodes").get("items") or []
    if not nodes:
        return NO_NODE
    for node in nodes:
        conditions = {c.get("type"): c for c in (node.get("status") or {}).get("conditions") or []}
        ready = conditions.get("Ready") or {}
        if ready.get("status") != "True":
            why = ready.get("message") or ready.get("reason") or "no Ready condition"
            return f"node {node['metadata']['name']} is not Ready ({why})"
    for pod in call(get, api, "/api/v1/namespaces/kube-system/pods").get("items") or []:
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        if phase == "Pending":  # not Failed: evicted Pods stay Failed while their replacements run
            return f"kube-system Pod {pod['metadata']['name']} is {phase}"
    return None


def kindnet_installed(api: client.ApiClient) -> bool:
    """Whether kind installed its network plugin (its step "Installing CNI" applies the kindnet DaemonSet):
    False only when the API server says it does not exist (404), never on a passing error."""
    try:
        call(get, api, KINDNET)
    except NotFound:
        return False
    except (APIError, *NETWORK_ERRORS):
        return True
    return True


def reap_stale_namespaces(api: client.ApiClient, older_than: float) -> list[str]:
    """Delete the namespaces of runs that were killed (ours by label, started over older_than s ago)."""
    core, what = client.CoreV1Api(api), "remove the namespaces of killed runs"
    namespaces = request(what, core.list_namespace, label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY}").items
    now = time.time()
    stale = [ns.metadata.name for ns in namespaces
             if is_stale(ns.metadata.labels, older_than, now) and not ns.metadata.deletion_timestamp]
    for name in stale:
        request(what, core.delete_namespace, name, missing_ok=True)
    return [f"namespace {name}" for name in stale]
