"""The Kubernetes API side of the kind and context backends: the only package that imports the official
`kubernetes` client. Its modules, bottom up: errors (the API's errors by status), calls (the one request
path), connection (kubeconfig, proxies, the exec websocket), state (a Pod in the interface's terms),
evidence and sandbox (one namespace per run), cluster (what both backends share). The names other
modules use are re-exported here."""

from graders.backends.kube.cluster import (
    NO_NODE, ClusterBackend, check_reachable, cluster_problem, kindnet_installed, reap_stale_namespaces)
from graders.backends.kube.connection import Configuration, api_client, client_for, is_loopback, load_configuration
from graders.backends.kube.sandbox import KubernetesSandbox, sandbox_namespace
from graders.backends.kube.state import PULLING, exec_status, pull_is_fatal, server_minor

__all__ = ["NO_NODE", "PULLING", "ClusterBackend", "Configuration", "KubernetesSandbox",
           "api_client", "check_reachable", "client_for", "cluster_problem", "exec_status", "is_loopback",
           "kindnet_installed", "load_configuration", "pull_is_fatal", "reap_stale_namespaces", "sandbox_namespace",
           "server_minor"]
