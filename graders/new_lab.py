"""A new lab in one command, for course authors:

    python -m graders.new_lab 1.3 "Title" [--repo DIR] [--pod NAME] [--container NAME]

writes labs/<id>/ (README.md in the course's voice, a starter YAML, the rubric test_lab_<id>.py, whose
points sum to 100, images.json, the images the lab runs) and tests/submissions/<id>/ (a reference solution
and verdicts.py), every part the author still has to write marked TODO; then regenerates what the labs
generate (the Classroom workflow, CI's job, README's list of labs). The project's tests then grade the new
lab with no other edit.
The lab's Pod is `web` with a container `nginx` unless --pod and --container name them otherwise.
It refuses an id that is malformed or taken, or a name that is no Pod or container name, and writes nothing then.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from graders import classroom

REPO = Path(__file__).resolve().parents[1]
# A Pod's and a container's name: an RFC 1123 label (kubernetes/apimachinery, pkg/util/validation/validation.go,
# IsDNS1123Label), which every name of the skeleton also is in Python and file names
DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
LAB_ID = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")  # <module>.<lab>, as in 1.2
POD, CONTAINER = "web", "nginx"
# The skeleton's one image, under the name its rubric uses: written into its images.json, which everything else
# reads (graders/lab_images.py), and into the README, starter and reference the author then rewrites.
IMAGE_NAME, IMAGE = "nginx", "nginx:1.25"
# What an author runs once the TODOs are filled in: the README's "Adding a lab", step 4, shows the same.
TEST_COMMAND = "bash scripts/test.sh tests/test_labs.py tests/test_labs_podman.py -k {lab_id}"


class NewLabError(Exception):
    pass


def new_lab(lab_id: str, title: str, repo: Path = REPO, pod: str = POD, container: str = CONTAINER) -> list[Path]:
    """Write the new lab's files into repo and regenerate the generated ones; return the files written.
    pod, container: the names of the lab's one Pod (also its file's) and of its nginx container."""
    if not LAB_ID.fullmatch(lab_id):
        raise NewLabError(f"{lab_id!r} is not a lab id: write two numbers joined by a dot, such as 1.3 "
                          "(module 1, lab 3)")
    title = " ".join(title.split())
    if not title:
        raise NewLabError("give the lab a title, such as \"Labels and selectors\" (in quotes)")
    if '"' in title or "\\" in title:
        raise NewLabError(f"the title {title!r} may not contain \" or \\: it is written into Python and YAML")
    for what, name in (("Pod", pod), ("container", container)):
        if not DNS_LABEL.fullmatch(name):
            raise NewLabError(f"{name!r} is no {what} name: lowercase letters, digits and '-', starting and ending "
                              "with a letter or digit, at most 63 characters (such as web)")
    taken = [path for path in (repo / "labs" / lab_id, repo / "tests" / "submissions" / lab_id) if path.exists()]
    if taken:
        raise NewLabError(f"lab {lab_id} exists already ({', '.join(str(p.relative_to(repo)) for p in taken)}): "
                          "choose another id, or edit that lab")
    files = {
        f"labs/{lab_id}/README.md": readme(lab_id, title, pod, container),
        f"labs/{lab_id}/{pod}.yaml": starter(lab_id, title, pod, container),
        f"labs/{lab_id}/test_lab_{lab_id.replace('.', '_')}.py": rubric(lab_id, title, pod, container),
        f"labs/{lab_id}/images.json": json.dumps({IMAGE_NAME: IMAGE}) + "\n",
        f"tests/submissions/{lab_id}/reference/{pod}.yaml": reference(lab_id, title, pod, container),
        f"tests/submissions/{lab_id}/verdicts.py": verdicts(lab_id),
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    classroom.write_generated(repo)
    return [repo / name for name in files]


def constant(name: str) -> str:
    """The rubric's Python name for a Pod or container name: web -> WEB, log-shipper -> LOG_SHIPPER."""
    return name.upper().replace("-", "_")


def readme(lab_id: str, title: str, pod: str = POD, container: str = CONTAINER) -> str:
    return f"""# Lab {lab_id}: {title}

TODO (author): two or three sentences: what the learner already knows, and what this lab adds. In this
lab you write one Pod, `{pod}`, that runs the nginx web server, and read what the cluster reports about it.

You will learn how to:

- TODO (author): one line per idea the checks below grade;
- TODO (author): ...

## Before you start

You need the same setup as in lab 1.1: this repository with its Python environment active, `kubectl`
and a test cluster to try things by hand, and Docker (for the grader's kind cluster) or podman.

You edit exactly one file: `labs/{lab_id}/{pod}.yaml`. Its `TODO` comments mark what is missing. Keep other
`.yaml` files out of this folder: the grader reads every `.yaml`/`.yml` file here.

## Part 1: the Pod

TODO (author): explain the fields of this part, with a short example the learner adapts (not the answer).
The Pod `{pod}` runs one container, `{container}`, from the image `{IMAGE}`, and declares the port it
listens on, `containerPort: 80`.

```bash
kubectl apply -f labs/{lab_id}/{pod}.yaml
kubectl get pod {pod}
```

## Part 2: read its status

TODO (author): what to look at in the running Pod, and what it shows.

```bash
kubectl get pod {pod} -o wide
kubectl describe pod {pod}
```

## Check your work

```bash
pytest labs/{lab_id}                                   # default: kind cluster, needs Docker
pytest labs/{lab_id} --backend podman                  # no Kubernetes needed, uses podman
pytest labs/{lab_id} --backend context --context NAME  # an existing cluster from your kubeconfig
```

Your file is first checked offline (YAML, schema, safety: the `manifests` check), then the Pod runs in a
namespace of the grader's own, and every failed check prints **Expected**, **Observed**, a **Hint** and
the section of this README to read again.

## Clean up

```bash
kubectl delete -f labs/{lab_id}/{pod}.yaml
```

The grader deletes everything it created by itself, also when a check fails.

## What the grader checks

| Id | Points | Passes when |
|----|-------:|-------------|
| `manifests` | 10 | the YAML parses; Pod `{pod}` is present, schema-valid and safe |
| `container` | 40 | container `{container}` runs `{IMAGE}` and declares port 80 |
| `status` | 40 | `{pod}` is `Running` |
| `cleanup` | 10 | `{pod}` deletes cleanly and nothing is left |

TODO (author): keep this table equal to `test_lab_{lab_id.replace('.', '_')}.py`.
"""


def starter(lab_id: str, title: str, pod: str = POD, container: str = CONTAINER) -> str:
    return f"""# Lab {lab_id}: {title}.
# Fill in every TODO (see README.md, parts 1 and 2), then check your work with:  pytest labs/{lab_id}
apiVersion: v1
kind: Pod
metadata:
  name: {pod}
spec:
  containers:
    - name: {container}
      image: TODO  # TODO (part 1): the nginx web server, version {IMAGE.partition(":")[2]}
      # TODO (part 1): declare the port nginx listens on (containerPort 80)
"""


def reference(lab_id: str, title: str, pod: str = POD, container: str = CONTAINER) -> str:
    return f"""# Lab {lab_id}: {title}. The reference solution: full marks on every backend.
apiVersion: v1
kind: Pod
metadata:
  name: {pod}
  labels:
    app: {pod}
spec:
  containers:
    - name: {container}
      image: {IMAGE}
      ports:
        - containerPort: 80
"""


def rubric(lab_id: str, title: str, pod: str = POD, container: str = CONTAINER) -> str:
    return f'''"""Lab {lab_id} "{title}": the rubric. Run `pytest labs/{lab_id}` to grade your YAML in this folder.

TODO (author): one check per part of the README, each linking to its section; the points sum to 100.
Check ids are a contract (the grade report and GitHub Classroom name them): settle them before students start.
"""

from graders import Lab, lab_images
from graders.checks import expect, lifecycle, manifests

IMAGES = lab_images.read(__file__)  # images.json, beside this file: the lab's images, declared once
{constant(pod)}, {constant(container)} = "{pod}", "{container}"
lab = Lab("{lab_id}", "{title}", pods=[{constant(pod)}], readme="labs/{lab_id}/README.md")


@lab.check("manifests", 10, "YAML parses; Pod {pod} present, schema-valid and safe", section="check-your-work")
def test_manifests(submission):
    manifests.manifests_valid(submission)


# TODO (author): the checks of the lesson, as in labs/1.2/test_lab_1_2.py: first what the YAML says
# (expect.spec_matches, with the file and field path when it differs), then what the cluster shows.
@lab.check("container", 40, f"container {container} runs {{IMAGES['{IMAGE_NAME}']}} and declares port 80",
           section="part-1-the-pod")
def test_container(lab_run):
    expect.spec_matches(lab_run, {constant(pod)}, {{"spec": {{"containers": [
        {{"name": {constant(container)}, "image": IMAGES["{IMAGE_NAME}"], "ports": [{{"containerPort": 80}}]}}]}}}},
        what=f"a container {container} running {{IMAGES['{IMAGE_NAME}']}} that declares containerPort 80",
        hint="under containers, one entry with name, image and ports (containerPort is a number, no quotes)")
    expect.wait_started(lab_run, {constant(pod)})


@lab.check("status", 40, "{pod} is Running, as `kubectl get pod {pod}` shows", section="part-2-read-its-status")
def test_status(lab_run):
    expect.phase_is(lab_run, {constant(pod)}, "Running")


@lab.check("cleanup", 10, "{pod} deletes cleanly and nothing is left", section="clean-up")
def test_cleanup(lab_run):
    lifecycle.deleted_cleanly(lab_run, [{constant(pod)}])
'''


def verdicts(lab_id: str) -> str:
    return f'''"""Expected verdicts of the graded submissions of lab {lab_id} (the folders beside this file), \\
on any backend:
submission folder -> {{failed check id: text its message must contain}}. Every check not named must pass.

TODO (author): a folder beside reference/ for each typical mistake, and its verdict below; run
`bash scripts/test.sh tests/test_labs_podman.py -k {lab_id}/` to grade them all.
"""

from __future__ import annotations

CHECKS = ["manifests", "container", "status", "cleanup"]

VERDICTS: dict[str, dict[str, str]] = {{
    "reference": {{}},
}}
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders.new_lab", description=__doc__.splitlines()[0])
    parser.add_argument("id", help="the new lab's id, e.g. 1.3")
    parser.add_argument("title", help="its title, in quotes, e.g. \"Labels and selectors\"")
    parser.add_argument("--repo", type=Path, default=REPO, help=f"the repository to add it to (default: {REPO})")
    parser.add_argument("--pod", default=POD, help=f"the name of the lab's Pod and of its file (default: {POD})")
    parser.add_argument("--container", default=CONTAINER, help=f"the name of its container (default: {CONTAINER})")
    args = parser.parse_args(argv)
    try:
        written = new_lab(args.id, args.title, args.repo.resolve(), pod=args.pod, container=args.container)
    except NewLabError as error:
        print(f"new_lab: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(args.repo.resolve())}")
    print(f"next: fill in the TODOs (grep -rn TODO labs/{args.id} tests/submissions/{args.id}), then "
          f"`{TEST_COMMAND.format(lab_id=args.id)}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
