"""Lab 1.2 "Pod YAML anatomy": the rubric. Run `pytest labs/1.2` to grade your YAML in this folder.

Every field the lab asks for is checked twice where the cluster lets us: as you wrote it (with the
file and field path when it differs) and as the cluster shows it (read back, or seen inside the Pod).
"""

from graders import Lab, lab_images
from graders.checks import expect, lifecycle, manifests, pods

IMAGES = lab_images.read(__file__)  # images.json, beside this file: the lab's images, declared once
WEB, NGINX, INIT = "web", "nginx", "write-page"
PAGE = "Written by an init container"
DOCROOT = "/usr/share/nginx/html"  # where the nginx image serves files from
lab = Lab("1.2", "Pod YAML anatomy", pods=[WEB], readme="labs/1.2/README.md")


@lab.check("manifests", 10, "YAML parses; Pod web present, schema-valid and safe", section="check-your-work")
def test_manifests(submission):
    manifests.manifests_valid(submission)


@lab.check("metadata", 10, "web has labels app=web, tier=frontend and a description annotation",
           section="part-1-metadata")
def test_metadata(lab_run):
    expect.spec_matches(lab_run, WEB, {"metadata": {"labels": {"app": "web", "tier": "frontend"}}},
                        what="labels app: web and tier: frontend", hint="labels go under metadata.labels")
    expect.metadata_observed(lab_run, WEB, labels={"app": "web", "tier": "frontend"},
                             annotations={"description": "Pod YAML anatomy, lab 1.2"},
                             hint="annotations go under metadata.annotations, beside labels; copy the value "
                                  "from the README exactly")


@lab.check("container", 10, f"container nginx runs {IMAGES['nginx']} with a port named http (80)",
           section="part-2-the-container")
def test_container(lab_run):
    expect.spec_matches(lab_run, WEB, {"spec": {"containers": [
        {"name": NGINX, "image": IMAGES["nginx"], "ports": [{"name": "http", "containerPort": 80}]}]}},
        what=f"a container nginx running {IMAGES['nginx']} that declares port 80 under the name http",
        hint="under ports, one entry with both name: http and containerPort: 80 (a number, no quotes)")
    expect.wait_started(lab_run, WEB)


@lab.check("env", 10, "GREETING is set inside container nginx", section="part-2-the-container")
def test_env(lab_run):
    expect.spec_matches(lab_run, WEB, {"spec": {"containers": [
        {"name": NGINX, "env": [{"name": "GREETING", "value": "Hello, Kubernetes"}]}]}},
        what="the environment variable GREETING=Hello, Kubernetes in container nginx",
        hint="env is a list of name/value pairs in the container; names are case-sensitive")
    expect.env_observed(lab_run, WEB, NGINX, {"GREETING": "Hello, Kubernetes"},
                        hint="`kubectl exec web -c nginx -- env` shows what the container sees")


@lab.check("resources", 15, "nginx requests 100m CPU / 64Mi and is limited to 500m / 128Mi",
           section="part-3-resources")
def test_resources(lab_run):
    expect.limits_not_below_requests(lab_run, WEB)
    expect.spec_matches(lab_run, WEB, {"spec": {"containers": [{"name": NGINX, "resources": {
        "requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}}]}},
        what="requests cpu 100m, memory 64Mi; limits cpu 500m, memory 128Mi (any equal notation: 0.5 = 500m)",
        hint="CPU is counted in cores (500m = half a core; 5 would be five cores), memory in bytes with "
             "binary suffixes (Mi = 1024 * 1024): see the README's table of units")


@lab.check("init-page", 15, "an init container writes the page nginx then serves from an emptyDir",
           section="part-4-an-init-container")
def test_init_page(lab_run):
    expect.spec_matches(lab_run, WEB, {"spec": {
        "initContainers": [{"name": INIT, "image": IMAGES["busybox"]}],
        "containers": [{"name": NGINX, "volumeMounts": [{"name": "html", "mountPath": DOCROOT}]}],
        "volumes": [{"name": "html", "emptyDir": {}}]}},
        what=f"an init container {INIT} ({IMAGES['busybox']}), and an emptyDir html that nginx mounts at {DOCROOT}",
        hint="the init container and nginx must mount the same volume; nginx serves the files under "
             f"{DOCROOT}")
    expect.page_served(lab_run, WEB, NGINX, port=80, text=PAGE, what=f"the page the init container wrote ({PAGE!r})",
                       hint=f"the init container must write index.html into its own mount of the html volume "
                            f"(its mountPath), which nginx sees at {DOCROOT}; `kubectl logs web -c {INIT}` "
                            f"shows what it printed")


@lab.check("readiness", 10, "a readinessProbe asks nginx for / on its port; web becomes Ready",
           section="part-5-a-readiness-probe")
def test_readiness(lab_run):
    nginx = next((c for c in lab_run.submission.pods.get(WEB, {}).get("spec", {}).get("containers", [])
                  if c.get("name") == NGINX), {})
    # The path is not compared: any path nginx serves makes the Pod Ready, and the probe request below tells.
    expect.spec_matches(lab_run, WEB, {"spec": {"containers": [{"name": NGINX, "readinessProbe": {"httpGet": {
        "port": expect.port_matcher(nginx, 80)}}}]}},
        what="a readinessProbe on container nginx that GETs / on nginx's port 80 (by number or by the name http)",
        hint="a probe aimed at a port nothing listens on keeps the Pod Running but never Ready (READY 0/1)")
    expect.readiness_probe_answers(lab_run, WEB, NGINX)
    pods.wait_running(lab_run, WEB)


@lab.check("node-selector", 10, "web selects Linux nodes and is scheduled", section="part-6-scheduling-and-restarts")
def test_node_selector(lab_run):
    expect.spec_matches(lab_run, WEB, {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}},
                        what="nodeSelector kubernetes.io/os: linux",
                        hint="nodeSelector is a map under spec, beside containers")
    expect.wait_started(lab_run, WEB)


@lab.check("status", 5, "web is Running with restartPolicy Always, as `kubectl get pod -o wide` shows",
           section="part-7-read-the-status")
def test_status(lab_run):
    expect.spec_matches(lab_run, WEB, {"spec": {"restartPolicy": "Always"}}, what="restartPolicy: Always",
                        hint="restartPolicy belongs to the Pod's spec (not to a container); a web server "
                             "should be restarted whenever it stops")
    expect.phase_is(lab_run, WEB, "Running")


@lab.check("cleanup", 5, "web deletes cleanly and nothing is left", section="clean-up")
def test_cleanup(lab_run):
    lifecycle.deleted_cleanly(lab_run, [WEB])
