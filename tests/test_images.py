"""graders/images.py: image references read as distribution/reference reads them, and identity by digest in
every imageID form a runtime reports (issue 19 item 2)."""

from __future__ import annotations

import pytest

from graders import images

NGINX = "ab" * 32  # the lab image's digest on the node
BUSYBOX = "cd" * 32
CONFIG = "ef" * 32  # an image ID (config digest)


@pytest.mark.parametrize(("written", "qualified", "familiar"), [
    # distribution/reference normalize.go: Docker Hub by default, library/ for official images
    ("nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("docker.io/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("index.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),  # legacy name
    ("registry-1.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),  # Hub's API host
    ("bitnami/nginx", "docker.io/bitnami/nginx", "bitnami/nginx"),
    ("ghcr.io/x/y:1", "ghcr.io/x/y:1", "ghcr.io/x/y:1"),
    ("localhost:5000/app", "localhost:5000/app", "localhost:5000/app"),
    (f"nginx:1.25@sha256:{NGINX}", f"docker.io/library/nginx:1.25@sha256:{NGINX}", "nginx:1.25"),
])
def test_references_are_read_as_distribution_reads_them(written, qualified, familiar):
    assert images.qualified(written) == qualified
    assert images.familiar(written) == familiar
    assert images.same_reference(written, familiar)


@pytest.mark.parametrize("written", ["NGINX:1.25", "nginx:1.25@sha256:abc", "nginx::1", ""])
def test_what_is_no_reference_is_left_as_written(written):
    assert images.parse(written) is None
    assert images.qualified(written) == written


# Every imageID form a cluster (or podman) reports for a container that runs the lab's nginx:1.25
SAME = [
    f"docker.io/library/nginx@sha256:{NGINX}",  # containerd, pulled by tag: the repository digest
    f"docker.io/library/import-2026-01-31@sha256:{NGINX}",  # kind load, containerd 2.3 (kind #4184)
    f"registry-1.docker.io/library/nginx@sha256:{NGINX}",  # a runtime that names Docker Hub's API host
    f"docker-pullable://nginx@sha256:{NGINX}",  # dockershim and cri-dockerd
    f"sha256:{CONFIG}",  # an image with no digest reference: its image ID
    CONFIG,  # podman's image ID
]


@pytest.mark.parametrize("image_id", SAME)
def test_every_form_of_the_lab_images_id_is_the_lab_image(image_id):
    assert images.same_image(image_id, {NGINX, CONFIG}) is True


@pytest.mark.parametrize("image_id", [f"docker.io/library/busybox@sha256:{BUSYBOX}",
                                      f"docker.io/library/nginx@sha256:{BUSYBOX}",  # the name proves nothing
                                      f"docker.io/library/import-2026-01-31@sha256:{BUSYBOX}",
                                      f"sha256:{BUSYBOX}"])
def test_another_digest_is_another_image_whatever_its_name(image_id):
    assert images.same_image(image_id, {NGINX, CONFIG}) is False


def test_a_bare_image_id_is_not_judged_against_a_nodes_repository_digests():
    """A node's status lists repository digests, no image IDs: an ID there is no evidence either way."""
    node_knows = images.KnownDigests({NGINX}, image_ids=False)
    assert images.same_image(f"sha256:{BUSYBOX}", node_knows) is None
    assert images.same_image(f"docker.io/library/busybox@sha256:{BUSYBOX}", node_knows) is False
    assert images.same_image(f"docker.io/library/import-2026-01-31@sha256:{NGINX}", node_knows) is True
    assert images.same_image("", node_knows) is None and images.same_image("podman://abc", node_knows) is None


def test_digests_of_a_nodes_image_names():
    """status.images[].names: repository digests, then tags (kubelet nodestatus/setters.go, Images)."""
    names = [f"docker.io/library/import-2026-01-31@sha256:{NGINX}", "docker.io/library/nginx:1.25"]
    assert images.digests(names) == {NGINX}
    assert images.digests([f"sha256:{CONFIG}", f"docker.io/library/nginx@sha256:{NGINX}"]) == {CONFIG, NGINX}


def test_what_runs_is_described_without_a_meaningless_name():
    assert images.describe(f"docker.io/library/busybox@sha256:{BUSYBOX}") == \
        f"docker.io/library/busybox@sha256:{BUSYBOX[:12]}…"
    assert images.describe(f"docker.io/library/import-2026-01-31@sha256:{BUSYBOX}") == f"the image {BUSYBOX[:12]}"
    assert images.describe(CONFIG) == f"the image {CONFIG[:12]}"
