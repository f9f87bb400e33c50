"""Image references and image identity, as container runtimes name them: one small pure module.

A reference (`nginx:1.25`, `docker.io/library/nginx:1.25@sha256:…`) is read with the grammar of
distribution/reference (reference.go, normalize.go): a name without a registry is on Docker Hub
(`docker.io`), an official image's path gets `library/`, and the name `index.docker.io` is Docker Hub's
old one. `registry-1.docker.io`, the host that serves Docker Hub's API, is taken as Docker Hub too: a
runtime configured with it as its endpoint or mirror reports references under that name.

An image's identity is a sha256 digest, never a name. What a runtime reports for a running container
(`imageID` on a cluster, the image ID on podman) comes in these forms, all read by `identity()`:
- `docker.io/library/nginx@sha256:<d>`: a repository digest, the digest of what was pulled by tag (the
  registry's manifest or index); containerd's CRI reports the image's first digest reference
  (containerd, internal/cri: GetRepoDigestAndTag and the container status' imageRef);
- `docker.io/library/import-2026-01-31@sha256:<d>`: the same, for an image that `ctr images import
  --digests` brought in (kind load, containerd 2.3: kind #4184): the name says nothing, the digest does;
- `sha256:<id>` or a bare 64-hex `<id>`: the image's config digest (its image ID), for an image with no
  digest reference at all, and podman's image IDs;
- `docker-pullable://repo@sha256:<d>`, `docker://sha256:<id>`: dockershim's and cri-dockerd's spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import AbstractSet, Iterable

DOCKER_HUB = "docker.io"
# Docker Hub under other names: the legacy index name (normalize.go) and the API host that mirrors and
# endpoints name (registry-1.docker.io)
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")
OFFICIAL = "library"
_HEX = re.compile(r"[0-9a-f]{64}")
_SCHEMES = ("docker-pullable://", "docker://", "containerd://", "cri-o://")
# distribution/reference's grammar, simplified where it cannot matter here: a domain is the first
# component when it has a dot or a port or is localhost; a tag is [\w][\w.-]{0,127}
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference, its registry filled in as a runtime stores it."""

    domain: str  # docker.io, ghcr.io, localhost:5000
    path: str  # library/nginx, bitnami/nginx
    tag: str = ""  # 1.25; "" when none was written
    digest: str = ""  # the hex of a pinned @sha256:…, "" when none

    @property
    def name(self) -> str:
        """docker.io/library/nginx: the repository, as a runtime stores it."""
        return f"{self.domain}/{self.path}"

    @property
    def qualified(self) -> str:
        """docker.io/library/nginx:1.25 (the digest left out): the name under which Docker, podman and a
        kind node store an image pulled by tag."""
        return self.name + (f":{self.tag}" if self.tag else "")

    @property
    def full(self) -> str:
        """docker.io/library/nginx:1.25@sha256:…: the whole reference, registry filled in."""
        return self.qualified + (f"@sha256:{self.digest}" if self.digest else "")

    @property
    def familiar(self) -> str:
        """nginx:1.25, bitnami/nginx:2, ghcr.io/x/y:1: as a person writes it (no digest)."""
        name = self.name
        if self.domain == DOCKER_HUB:
            name = self.path.removeprefix(f"{OFFICIAL}/")
        return name + (f":{self.tag}" if self.tag else "")


def parse(reference: str) -> ImageRef | None:
    """The reference's parts, or None when it is not a valid image reference."""
    text = reference.strip()
    for scheme in _SCHEMES:
        text = text.removeprefix(scheme)
    name, _, digest = text.partition("@")
    if digest:
        algorithm, _, value = digest.partition(":")
        if algorithm != "sha256" or not _HEX.fullmatch(value):
            return None
        digest = value
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.fullmatch(tag):
            return None
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DOCKER_HUB, name
    if domain in DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"{OFFICIAL}/{path}"
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        return None
    return ImageRef(domain, path, tag, digest)


def qualified(reference: str) -> str:
    """nginx:1.25 -> docker.io/library/nginx:1.25 (a pinned digest kept); a reference that does not parse
    is returned as written."""
    found = parse(reference)
    return found.full if found else reference


def familiar(reference: str) -> str:
    """docker.io/library/nginx:1.25@sha256:… -> nginx:1.25: the same image written as a person writes it."""
    found = parse(reference)
    return found.familiar if found else reference.split("@", 1)[0]


def same_reference(a: str, b: str) -> bool:
    """nginx:1.25, docker.io/nginx:1.25 and docker.io/library/nginx:1.25 name the same tag."""
    return familiar(a) == familiar(b)


@dataclass(frozen=True)
class Identity:
    """What a runtime says runs: a repository digest (`name` set) or an image ID (`name` empty)."""

    digest: str  # 64 hex
    name: str = ""  # the repository of a digest reference, as reported (it proves nothing)

    @property
    def is_image_id(self) -> bool:
        return not self.name


def identity(image_id: str) -> Identity | None:
    """The digest in any imageID form a runtime reports (see the module's docstring); None when there is none."""
    text = image_id.strip()
    for scheme in _SCHEMES:
        text = text.removeprefix(scheme)
    name, at, digest = text.rpartition("@")
    if not at:
        name, digest = "", text
    value = digest.removeprefix("sha256:")
    if not _HEX.fullmatch(value):
        return None
    if name:
        found = parse(name)
        name = found.name if found else name
    return Identity(value, name)


def digests(names: Iterable[str]) -> set[str]:
    """The hex digests in a list of image names (a node's status.images[].names, crictl's repoDigests)."""
    found = {identity(name) for name in names if "sha256:" in name or _HEX.fullmatch(name.strip())}
    return {i.digest for i in found if i is not None}


class KnownDigests(frozenset):  # of str; frozenset[str] cannot be subclassed with new attributes on 3.10
    """Digests a backend knows for an image (bare hex), saying whether image IDs are among them: a
    cluster's node status lists repository digests only (kubelet, pkg/kubelet/nodestatus/setters.go,
    Images: names are RepoDigests then RepoTags), podman and a kind node's crictl know the IDs too."""

    image_ids: bool

    def __new__(cls, digests: Iterable[str] = (), image_ids: bool = True) -> "KnownDigests":
        made = super().__new__(cls, digests)
        made.image_ids = image_ids
        return made


def same_image(image_id: str, known: AbstractSet[str]) -> bool | None:
    """Whether what a runtime reports as running (`image_id`) is an image of the `known` digests (bare hex,
    a plain set being repository digests and image IDs). None when it cannot be told: no digest in
    `image_id`, or an image ID compared with digests that hold no image IDs (KnownDigests(image_ids=False):
    an image pulled by tag always has a repository digest to report, so a bare ID there is an image that
    was loaded without one, which the node's list cannot name)."""
    found = identity(image_id)
    if found is None:
        return None
    if found.digest in known:
        return True
    if found.is_image_id and not getattr(known, "image_ids", True):
        return None
    return False


def describe(image_id: str) -> str:
    """What runs, in words a student can check: 'docker.io/library/busybox@sha256:0123456789ab…', or
    'the image 0123456789ab' for an image ID; an import-YYYY-MM-DD name (kind load) is left out, as it
    names nothing."""
    found = identity(image_id)
    if found is None:
        return image_id or "an unknown image"
    if found.is_image_id or re.search(r"/import-\d{4}-\d{2}-\d{2}$", found.name):
        return f"the image {found.digest[:12]}"
    return f"{found.name}@sha256:{found.digest[:12]}…"
