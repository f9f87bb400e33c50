"""Where each kind of object lives in the Kubernetes API: the one table the kube backend reads to
create, read, list and delete any kind the same way (raw JSON on its REST path).

Pure data, without the Kubernetes client, so that the backend registry can say which kinds a cluster
backend runs without importing it. A kind a lab needs is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    kind: str
    group: str  # "" for the core API (/api/v1), else e.g. "apps" (/apis/apps/v1)
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """As a manifest writes it: "v1", "apps/v1"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The REST path of the collection (name None) or of one object."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{base}{scope}/{self.plural}" + (f"/{name}" if name else "")


RESOURCES = {resource.kind: resource for resource in (
    Resource("Pod", "", "v1", "pods"),
    Resource("Service", "", "v1", "services"),
    Resource("ConfigMap", "", "v1", "configmaps"),
    Resource("Deployment", "apps", "v1", "deployments"),
)}
