"""What the API server refuses in a Pod, checked offline, in its words (a faithful subset of
ValidatePodCreate, k8s.io/kubernetes pkg/apis/core/validation/validation.go, for what a student writes).

The schema check knows types and field names; it does not know that a container name must be a DNS
label, that a request may not exceed its limit or that restartPolicy is one of three words. The API
server does, so a Pod that passes the schema can still never be created on a cluster, while podman would
play it anyway. Checking here gives the same verdict on every backend: such a Pod fails `manifests` and
is not applied.

Three stages, in the API server's order: what it cannot decode (400: the schema's types and field names,
`schema`; quantities, `decoding`), then what it refuses to store (422: `pod`, with `containers`,
`probes`, `resources`; `names` and `quantity` are their rules). Each line keeps the API server's (or
kubectl's) words and adds a hint in the lesson's terms (`errors`).
"""

from graders.validation.decoding import problems as decode_problems
from graders.validation.errors import Problem, quote
from graders.validation.pod import problems

__all__ = ["Problem", "decode_problems", "problems", "quote"]
