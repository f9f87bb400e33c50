"""Every pinned version, in one place: the kind backend, the schema validation and CI read them here.

kind v0.32.0 (tag commit cda67ef8588f) sets this node image as its default in
pkg/apis/config/defaults/image.go; its release notes list the same digest.
"""

KIND_VERSION = "v0.32.0"
KIND_NODE_IMAGE = (
    "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
)
# The images the labs name: a failed pull of one of these is the registry's fault (rate limit, network)
# unless the registry says it does not exist; a failed pull of any other image is the student's typo.
LAB_IMAGES = ("nginx:1.25", "busybox:1.36")
# Student manifests are schema-checked against the Kubernetes version of the node image.
KUBERNETES_VERSION = "1.36"


def main() -> None:
    """Print the pins as KEY=value lines, for $GITHUB_OUTPUT: `python -m graders.versions`."""
    print(f"kind_version={KIND_VERSION}")
    print(f"node_image={KIND_NODE_IMAGE}")
    print(f"kubernetes_version={KUBERNETES_VERSION}")


if __name__ == "__main__":
    main()
