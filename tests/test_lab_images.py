"""A lab's images are declared once, in labs/<id>/images.json (graders/lab_images.py): the rubric, versions,
the Classroom workflow and the stand-in builder read them there, so a new image for a lab is one line in one
file. Proven on a copy of the repository with a synthetic lab that declares images no real lab has."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders import classroom, images, lab_images, versions
from tests.labs import REPO, LabUnderTest, find_labs

SYNTHETIC = "9.7"  # an id no real lab has: labs are numbered by chapter
RUBRIC = f'''from graders import Lab, lab_images
from graders.checks import manifests

IMAGES = lab_images.read(__file__)
lab = Lab("{SYNTHETIC}", "Another image", pods=["cache"], readme="labs/{SYNTHETIC}/README.md")


@lab.check("manifests", 100, f"cache runs {{IMAGES['cache']}}", section="check-your-work")
def test_manifests(submission):
    manifests.manifests_valid(submission)
'''
# A new tag of a repository the builder has a recipe for, and a repository it has none for.
DECLARED = {"web": "nginx:1.27", "cache": "redis:7.2"}
REAL_IMAGES = versions.machine_images(lab_images.lab_folders(REPO))
LABS = find_labs()


def pod_images(folder: Path) -> set[str]:
    """The images the Pods of a folder's YAML files run (a TODO placeholder is none)."""
    found = set()
    for path in folder.glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            spec = (document or {}).get("spec") or {}
            for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
                if container.get("image") not in (None, "TODO"):
                    found.add(images.familiar(container["image"]))
    return found


@pytest.mark.parametrize("lab", LABS, ids=[lab.id for lab in LABS])
def test_a_lab_declares_exactly_the_images_its_reference_runs(lab: LabUnderTest) -> None:
    declared = {images.familiar(image) for image in lab_images.read(lab.folder).values()}
    assert declared == pod_images(lab.submissions / "reference")
    assert pod_images(lab.folder) <= declared  # what the starter already writes
    assert {images.familiar(image) for image in lab.lab.images} <= declared  # the rubric's image facts


def test_versions_lists_the_labs_images_then_the_graders_own() -> None:
    assert REAL_IMAGES[-1] == images.qualified(versions.GRADER_IMAGE)  # busybox:1.36, also a lab image today
    assert [images.familiar(image) for image in REAL_IMAGES] == list(versions.LAB_IMAGES)
    listed = subprocess.run([sys.executable, "-m", "graders.versions", "images"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=True)
    assert listed.stdout.split() == REAL_IMAGES


@pytest.mark.parametrize(("text", "words"), [
    ('{"nginx": "nginx:1.25",}', "not valid JSON"),
    ('["nginx:1.25"]', 'expected a mapping of names to images, such as {"nginx": "nginx:1.25"}; found list'),
    ('{"nginx": 1.25}', 'nginx: expected an image as text, such as "nginx:1.25"; found 1.25'),
    ('{"nginx": "NGINX:1.25"}', "nginx: 'NGINX:1.25' is not an image reference (name:tag, such as nginx:1.25)"),
    ('{"nginx": " nginx:1.25"}', "is not an image reference"),
    ('{"nginx": "nginx"}', "nginx: 'nginx' has no tag: name one"),
    ('{"nginx": "nginx:1.25@sha256:' + "0" * 64 + '"}', "pins a digest: write the tag alone"),
])
def test_a_declaration_that_cannot_be_used_names_its_file_and_what_to_write(tmp_path: Path, text: str,
                                                                             words: str) -> None:
    (tmp_path / lab_images.FILE).write_text(text)
    with pytest.raises(lab_images.DeclarationError) as error:
        lab_images.read(tmp_path / "test_lab_9_7.py")  # as a rubric reads it: from its own __file__
    assert str(error.value).startswith(f"{tmp_path / lab_images.FILE}: ") and words in str(error.value)


def test_a_lab_without_the_file_declares_no_image(tmp_path: Path) -> None:
    assert lab_images.read(tmp_path) == {}


def with_synthetic_lab(repo: Path, declared: dict[str, str]) -> Path:
    """The repository's graders, labs, scripts and workflows in repo, with a synthetic lab that declares
    `declared`: its folder holds the only edit."""
    for folder in ("graders", "labs", "scripts", ".github"):
        shutil.copytree(REPO / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    lab = repo / "labs" / SYNTHETIC
    lab.mkdir()
    (lab / f"test_lab_{SYNTHETIC.replace('.', '_')}.py").write_text(RUBRIC)
    (lab / lab_images.FILE).write_text(json.dumps(declared))
    return repo


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_synthetic_lab(tmp_path_factory.mktemp("lab-images") / "repo", DECLARED)


def run_in(repo: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A command in the copy, with its graders (python -m puts the working folder first)."""
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": sys.executable})


NEW = [images.qualified(image) for image in DECLARED.values()]


def test_versions_lists_a_new_labs_images(copy: Path) -> None:
    listed = run_in(copy, sys.executable, "-m", "graders.versions", "images")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [*REAL_IMAGES, *NEW]  # in lab order; busybox:1.36 is the grader's, once


def test_the_classroom_workflow_pulls_a_new_labs_images_and_its_check_notices_a_change(copy: Path) -> None:
    assert classroom.write_generated(copy) == 0
    steps = yaml.safe_load((copy / classroom.WORKFLOW).read_text())["jobs"]["run-autograding-tests"]["steps"]
    pulls = next(step["run"] for step in steps if step["name"].startswith("Pull the lab images"))
    assert f"for image in {' '.join([*REAL_IMAGES, *NEW])}; do" in pulls
    assert "manifests: cache runs redis:7.2'" in (copy / classroom.WORKFLOW).read_text()  # the title reads it too
    declaration = copy / "labs" / SYNTHETIC / lab_images.FILE
    declaration.write_text(json.dumps({**DECLARED, "cache": "redis:7.4"}))
    try:  # the committed workflow still names redis:7.2: the check fails until it is written again
        assert classroom.write_generated(copy, check=True) == 1
    finally:
        declaration.write_text(json.dumps(DECLARED))
    assert classroom.write_generated(copy, check=True) == 0


def test_the_stand_in_builder_finds_a_new_labs_images_and_its_recipes(copy: Path) -> None:
    listed = run_in(copy, "bash", "scripts/build-standin-images.sh", "--list")
    assert listed.returncode == 0, listed.stderr
    recipes = dict(line.split() for line in listed.stdout.splitlines())
    assert recipes == {"docker.io/library/nginx:1.25": "nginx", "docker.io/library/busybox:1.36": "busybox",
                       "docker.io/library/nginx:1.27": "nginx", "docker.io/library/redis:7.2": "none"}


def test_the_builder_says_how_to_give_it_a_python_that_lists_the_images(copy: Path) -> None:
    broken = subprocess.run(["bash", "scripts/build-standin-images.sh", "--list"], cwd=copy, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHON": "/nonexistent/python"})
    assert broken.returncode == 1
    assert "could not list the labs' images" in broken.stderr and "set PYTHON to a Python" in broken.stderr


def standin_label(image: str) -> str:
    return subprocess.run(["podman", "image", "inspect", "--format", '{{index .Labels "k8s101.standin"}}', image],
                          capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.mark.podman
def test_the_builder_builds_a_new_labs_images_by_their_repositorys_recipe(tmp_path: Path) -> None:
    """The only lab declares nginx:1.25 (present), a new nginx tag, a new busybox tag and a repository with
    no recipe: the new nginx tag is the present stand-in, tagged; busybox's recipe really runs (the grader's
    busybox:1.36 comes last); the third is named, and the run fails. Test tags are removed afterwards."""
    tag = f"0.0-k8s101-test-{os.getpid()}"
    new_nginx, new_busybox = f"docker.io/library/nginx:{tag}", f"docker.io/library/busybox:{tag}"
    repo = tmp_path / "repo"
    with_synthetic_lab(repo, {"web": "nginx:1.25", "next": new_nginx, "shell": new_busybox, "cache": f"redis:{tag}"})
    for real in ("1.1", "1.2"):
        shutil.rmtree(repo / "labs" / real)
    try:
        built = run_in(repo, "bash", "scripts/build-standin-images.sh")
        assert built.returncode == 1, built.stderr
        assert built.stdout.splitlines() == [f"built {new_nginx} (as docker.io/library/nginx:1.25)",
                                             f"built {new_busybox}"]
        assert f"no stand-in recipe for docker.io/library/redis:{tag}: on a machine that reaches its registry, " \
               "podman pull it" in built.stderr
        assert standin_label(new_nginx) == standin_label(new_busybox) == "2"
    finally:
        subprocess.run(["podman", "rmi", "--ignore", new_nginx, new_busybox], capture_output=True, timeout=120)
    assert standin_label("docker.io/library/nginx:1.25") == "2"  # untagging the copy left the original
