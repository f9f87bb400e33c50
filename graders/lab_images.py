"""The images a lab runs, declared once, in its own folder: `labs/<id>/images.json`.

    {"nginx": "nginx:1.25", "busybox": "busybox:1.36"}

Each entry is a name the rubric uses (`IMAGES["nginx"]`) and the image as the lab writes it, with its tag.
Everything else that needs a lab's images reads them from here: the rubric (its checks and titles), the
pinned list of graders/versions.py (`python -m graders.versions images`), the Classroom workflow's pulls
(graders/classroom.py), the stand-in builder, the preflight and the setup script. A new image for a lab
is one line in its file.

The file is JSON, not YAML, because the grader reads every .yaml/.yml file of a lab's folder as the
student's submission; the re-grade copies only those, so it grades with the instructor's declaration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from graders import images

FILE = "images.json"
RUBRICS = "test_*.py"  # a folder of labs/ is a lab when it holds its rubric (graders/rubric.py finds them alike)


class DeclarationError(ValueError):
    """A lab's images.json that cannot be used, with the file and what to write."""


def read(where: str | Path) -> dict[str, str]:
    """The images a lab declares (name -> image as written), from its folder or a file in it, such as the
    rubric's own `__file__`. A lab folder without the file declares none."""
    folder = Path(where)
    folder = folder if folder.is_dir() else folder.parent
    path = folder / FILE
    if not path.exists():
        return {}
    try:
        declared = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeclarationError(f"{path}: not valid JSON ({error}); write it as "
                               '{"nginx": "nginx:1.25", "busybox": "busybox:1.36"}') from None
    if not isinstance(declared, dict):
        raise DeclarationError(f"{path}: expected a mapping of names to images, such as "
                               f'{{"nginx": "nginx:1.25"}}; found {type(declared).__name__}')
    for name, image in declared.items():
        problem = _problem(image)
        if problem:
            raise DeclarationError(f"{path}: {name}: {problem}")
    return declared


def _problem(image: object) -> str:
    if not isinstance(image, str):
        return f"expected an image as text, such as \"nginx:1.25\"; found {json.dumps(image)}"
    ref = images.parse(image)
    if ref is None or image != image.strip():
        return f"{image!r} is not an image reference (name:tag, such as nginx:1.25)"
    if not ref.tag:
        return f"{image!r} has no tag: name one (without it a runtime pulls :latest, whatever that is today)"
    if ref.digest:  # the stand-ins are built here, and a build never has the registry's digest
        return (f"{image!r} pins a digest: write the tag alone (machines without a registry grade with "
                f"stand-in images built under that tag, scripts/build-standin-images.sh)")
    return ""


def lab_folders(repo: Path) -> list[Path]:
    """Every lab folder of the repository (one with a rubric), in lab order (1.2 before 1.10)."""
    folders = {rubric.parent for rubric in (repo / "labs").glob(f"*/{RUBRICS}")}
    return sorted(folders, key=lambda f: [int(part) if part.isdigit() else part for part in f.name.split(".")])


def every_image(folders: Iterable[Path], also: Iterable[str] = ()) -> list[str]:
    """The images of these labs and then `also`, each once (nginx:1.25 and docker.io/library/nginx:1.25 are
    one), as a runtime stores them: docker.io/library/nginx:1.25."""
    found = [*(image for folder in folders for image in read(folder).values()), *also]
    return list(dict.fromkeys(images.qualified(image) for image in found))
