"""Lab 1.1 "What is a Pod?": the rubric. Run `pytest labs/1.1` to grade your YAML in this folder."""

from graders import Allowances, Lab, lab_images
from graders.lab import ImageFacts
from graders.checks import expect, lifecycle, manifests, network, pods, volumes

FIRST, SIDECAR = "my-first-pod", "app-with-sidecar"
WELCOME = "Welcome to nginx!"
IMAGES = lab_images.read(__file__)  # images.json, beside this file: the lab's images, declared once
# The web server the lesson asks for, as a fact of this lab: the image (checked by what really runs)
# and its program (the image's own command, or an explicit command or args starting with it).
NGINX, NGINX_PROGRAM = IMAGES["nginx"], "nginx"
NGINX_LOGS = "/var/log/nginx"  # where it writes access.log: app mounts the shared volume there
lab = Lab("1.1", "What is a Pod?", pods=[FIRST, SIDECAR], readme="labs/1.1/README.md",
          containers={SIDECAR: ["app", "log-shipper"]},
          images={NGINX: ImageFacts(command=("nginx", "-g", "daemon off;"), writes_to=(NGINX_LOGS,))},
          allows=Allowances(volumes={"emptyDir"}, env_from_sources=False, sub_path=False))
SPEC_HINT = "compare your YAML with the task in the README; field names are case-sensitive"


def runs_nginx(run, pod, container):
    """The container runs the lab's nginx by what really runs, not by its name, and the Pod is Running and Ready.
    A digest pinned on the image is judged before the wait: another image's digest may never start."""
    pods.no_foreign_digest(run, pod, container, NGINX)
    pods.wait_running(run, pod)
    pods.runs_lab_image(run, pod, container, NGINX, NGINX_PROGRAM)


@lab.check("manifests", 10, "YAML parses; both Pods present, schema-valid and safe", section="check-your-work")
def test_manifests(submission):
    manifests.manifests_valid(submission)


@lab.check("first-pod-ready", 15, f"my-first-pod runs {NGINX} on port 80, label app=hello, 1/1 Ready",
           section="part-1-your-first-pod")
def test_first_pod_ready(lab_run):
    nginx = expect.only_container(lab_run, FIRST, hint=f"Part 1 asks for exactly one container, running {NGINX}")
    # The container's name is free in Part 1 (the starter calls it nginx).
    expect.spec_matches(lab_run, FIRST, {"metadata": {"labels": {"app": "hello"}}, "spec": {"containers": [
        {"name": nginx, "image": NGINX, "ports": expect.declares_port(80)}]}},
        what=f"label app: hello, and its container running {NGINX} with containerPort: 80", hint=SPEC_HINT)
    runs_nginx(lab_run, FIRST, nginx)


@lab.check("first-pod-serves", 10, "inside my-first-pod, localhost:80 answers with the nginx page",
           section="part-1-your-first-pod")
def test_first_pod_serves(lab_run):
    network.serves_page(lab_run, FIRST, None, port=80, page_text=WELCOME, what="nginx's welcome page",
                        image=NGINX, program=NGINX_PROGRAM,
                        hint=f"the container must run {NGINX}, which serves its welcome page on port 80")


@lab.check("sidecar-ready", 15, "app-with-sidecar has containers app and log-shipper, both Ready",
           section="part-2-a-pod-with-a-sidecar")
def test_sidecar_ready(lab_run):
    expect.containers_named(lab_run, SIDECAR, ["app", "log-shipper"],
                            hint="container names are part of the task: exactly app and log-shipper, no others")
    expect.spec_matches(lab_run, SIDECAR, {"spec": {"containers": [{"name": "app", "image": NGINX}]}},
                        what=f"container app running {NGINX}", hint=SPEC_HINT)
    runs_nginx(lab_run, SIDECAR, "app")


@lab.check("sidecar-localhost", 20, "from log-shipper, localhost:80 reaches app (one network namespace)",
           section="part-2-a-pod-with-a-sidecar")
def test_sidecar_localhost(lab_run):
    network.serves_page(lab_run, SIDECAR, "app", port=80, page_text=WELCOME, what="nginx's welcome page",
                        image=NGINX, program=NGINX_PROGRAM, demo_from="log-shipper",
                        hint=f"app must run {NGINX} on port 80; containers of one Pod share localhost")


# {reader} and {mount}: the sidecar and where it mounts the shared volume.
FOLLOW_THE_LOG = '{reader} should print the log to its output, e.g. command: ["sh", "-c", "tail -F {mount}/access.log"]'


@lab.check("sidecar-shared-volume", 20, "app's access log reaches log-shipper through a shared emptyDir",
           section="part-2-a-pod-with-a-sidecar")
def test_sidecar_shared_volume(lab_run):
    volumes.logs_cross_volume(lab_run, SIDECAR, writer="app", reader="log-shipper",
                              writer_log_dir=NGINX_LOGS, port=80, image=NGINX, program=NGINX_PROGRAM,
                              volume_type="emptyDir", reader_hint=FOLLOW_THE_LOG)


@lab.check("cleanup", 10, "both Pods delete cleanly and nothing is left", section="part-3-clean-up")
def test_cleanup(lab_run):
    lifecycle.deleted_cleanly(lab_run, [FIRST, SIDECAR], sigterm_tip="run `trap 'exit 0' TERM; tail -F FILE & wait`")
