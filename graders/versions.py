"""Every pinned version, in one place: the kind backend, the schema validation and CI read them here.

kind v0.32.0 (tag commit cda67ef8588f) sets this node image as its default in
pkg/apis/config/defaults/image.go; its release notes list the same digest.

The images the labs run are declared by each lab in its folder (labs/<id>/images.json, graders/lab_images.py);
scripts and workflows ask for them here: `python -m graders.versions images`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterable

from graders import images, lab_images

REPO = Path(__file__).resolve().parents[1]
KIND_VERSION = "v0.32.0"
KIND_NODE_IMAGE = (
    "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
)
# The grader's own image, whatever the lab: on podman the container that makes HTTP requests from the
# grader's side, on a cluster the ephemeral container that reads a volume. A lab image too, so that it is
# on every machine that grades.
GRADER_IMAGE = "busybox:1.36"
# Student manifests are schema-checked against the Kubernetes version of the node image.
KUBERNETES_VERSION = "1.36"


def lab_images_of(repo: Path = REPO) -> tuple[str, ...]:
    """Every image the labs of repo declare, each once, as a person writes it (nginx:1.25)."""
    return tuple(images.familiar(image) for image in lab_images.every_image(lab_images.lab_folders(repo)))


def machine_images(lab_folders: Iterable[Path]) -> list[str]:
    """What a machine that grades these labs needs, each once: their images, then the grader's own
    (docker.io/library/nginx:1.25, as a runtime stores them)."""
    return lab_images.every_image(lab_folders, also=[GRADER_IMAGE])


# The images the labs name: a failed pull of one of these is the registry's fault (rate limit, network)
# unless the registry says it does not exist; a failed pull of any other image is the student's typo.
LAB_IMAGES = lab_images_of()


def main(argv: list[str] | None = None) -> int:
    """`python -m graders.versions`: the pins as KEY=value lines, for $GITHUB_OUTPUT; `images`: every image
    a grading machine needs, one a line; `grader-image`: the grader's own."""
    parser = argparse.ArgumentParser(prog="python -m graders.versions", description=main.__doc__)
    parser.add_argument("what", nargs="?", choices=["images", "grader-image"])
    parser.add_argument("--repo", type=Path, default=REPO, help=f"whose labs (default: {REPO})")
    args = parser.parse_args(argv)
    if args.what == "images":
        print("\n".join(machine_images(lab_images.lab_folders(args.repo))))
    elif args.what == "grader-image":
        print(images.qualified(GRADER_IMAGE))
    else:
        print(f"kind_version={KIND_VERSION}")
        print(f"node_image={KIND_NODE_IMAGE}")
        print(f"kubernetes_version={KUBERNETES_VERSION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
