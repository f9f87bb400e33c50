"""Expected verdicts of the graded submissions of lab 1.1 (the folders beside this file), on any backend.

The podman end-to-end tests and the fake cluster's parity test assert them (tests/labs.py finds this
file); CI's kind job checks its reports against them: `python -m tests.labs verdict 1.1 VARIANT REPORT.json`.
"""

from __future__ import annotations

CHECKS = ["manifests", "first-pod-ready", "first-pod-serves", "sidecar-ready", "sidecar-localhost",
          "sidecar-shared-volume", "cleanup"]
# A Pod that was never created fails each of its checks, cleanup included ("not graded: ...").
NOT_GRADED_FIRST = {"first-pod-ready": "not graded", "first-pod-serves": "not graded", "cleanup": "not graded"}
NOT_GRADED_SIDECAR = {"sidecar-ready": "not graded", "sidecar-localhost": "not graded",
                      "sidecar-shared-volume": "not graded", "cleanup": "not graded"}
SIDECAR_CHECKS = ("sidecar-ready", "sidecar-localhost", "sidecar-shared-volume")  # a created Pod: cleanup passes

# submission folder -> {failed check id: text its message must contain}
VERDICTS: dict[str, dict[str, str]] = {
    "reference": {},
    "one-file-namespaced": {},
    # the reference as kubectl also reads it (graders/yamlfiles.py): saved by Windows PowerShell 5.1 (UTF-16LE,
    # BOM, CRLF); UTF-8 with a BOM beside JSON indented with tabs in UTF-16BE; one kind: List among comments
    "powershell-utf16": {},
    "bom-and-json": {},
    "kind-list": {},
    "image-typo": {"first-pod-ready": "my-first-pod.yaml: spec.containers[0].image: expected nginx:1.25; "
                                      "found 'nginx:1.255'",
                   "first-pod-serves": "container nginx: ErrImagePull"},
    "missing-label": {"first-pod-ready": "my-first-pod.yaml: metadata.labels.app: expected 'hello'; found nothing"},
    "wrong-port": {"first-pod-ready": "my-first-pod.yaml: spec.containers[0].ports: expected a port with "
                                  "containerPort: 80; found containerPort: 8080"},
    "bad-indentation": {"manifests": "my-first-pod.yaml: not valid YAML: line 11", **NOT_GRADED_FIRST},
    "extra-service": {"manifests": "this lab asks only for Pods", **NOT_GRADED_FIRST},
    "field-typo": {"manifests": "spec.containers[0].ports[0]: unknown field", **NOT_GRADED_FIRST},
    "wrong-pod-name": {"manifests": "found 'my-pod'", "first-pod-ready": "no Pod named my-first-pod",
                       "first-pod-serves": "no Pod named my-first-pod", "cleanup": "no Pod named my-first-pod"},
    "sidecar-exits": {"sidecar-ready": "container log-shipper: CrashLoopBackOff",
                      "sidecar-localhost": "CrashLoopBackOff", "sidecar-shared-volume": "CrashLoopBackOff"},
    "sidecar-image-typo": {"sidecar-ready": "container log-shipper: ErrImagePull",
                           "sidecar-localhost": "ErrImagePull", "sidecar-shared-volume": "ErrImagePull"},
    "renamed-sidecar": {"sidecar-ready": "app-with-sidecar.yaml: spec.containers: expected containers named app, "
                                         "log-shipper; found app, sidecar",
                        "sidecar-localhost": "a container named log-shipper",
                        "sidecar-shared-volume": "a container named log-shipper"},
    "separate-volumes": {"sidecar-shared-volume": "no volume is mounted by both"},
    "wrong-mount-path": {
        "sidecar-shared-volume": "app-with-sidecar.yaml: spec.containers[0].volumeMounts[0].mountPath: "
                                 "app mounts volume logs at /var/log/app, but nginx writes"},
    "sidecar-silent": {
        "sidecar-shared-volume": "reached the shared volume (/logs/access.log) but not log-shipper's output"},
    "privileged": {"manifests": "spec.containers[1].securityContext.privileged", **NOT_GRADED_SIDECAR},
    "hostpath-volume": {"manifests": "spec.volumes[0].hostPath", **NOT_GRADED_SIDECAR},
}

# Groups added per topic, kept apart so that each grows on its own.

# Hostile submissions: escapes, the machine's stores, annotations, resource bounds (untrusted input).
# Podman-side containment (tests/test_untrusted_podman.py asserts the limits themselves).
SIDECAR_NEVER_STARTED = "init container wait-forever did not finish within 15 s"
HOSTILE: dict[str, dict[str, str]] = {
    "hostile-stores": {"manifests": "spec.volumes[1].persistentVolumeClaim: persistentVolumeClaim volumes are not "
                                    "used in this lab", **NOT_GRADED_SIDECAR},
    "hostile-subpath": {"manifests": "spec.containers[0].volumeMounts[0].subPath", **NOT_GRADED_SIDECAR},
    "hostile-seccomp-annotation": {"manifests": "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]",
                                   **NOT_GRADED_SIDECAR},
    # volumes named "/", "../../…/tmp/…" and "/etc/…": refused as the API server does, never played (and the
    # podman backend names its folders itself, so even an accepted name could not reach the host)
    "hostile-volume-names": {"manifests": 'spec.volumes[0].name: Invalid value: "/"', **NOT_GRADED_SIDECAR},
    "hostile-annotations": {},  # sdnotify and a long value: harmless on a cluster, not played on podman
    "var-expansion": {},  # $(LOG_FILE) expanded from env as the kubelet does
    # app forks 3,000 sleeps (the Pod stops at its pids limit) and runs no nginx; the grader's probes join only
    # the Pod's network, so they still get an answer (refused) and the verdict is the student's, not the machine's
    "hostile-fork-bomb": {"sidecar-ready": "instead of nginx", "sidecar-localhost": "localhost:80",
                          "sidecar-shared-volume": "localhost:80"},
    "hostile-memory": {},  # each 4 GB dd is OOM-killed in its container; tail goes on, as on a cluster
    "hostile-disk-fill": {"sidecar-ready": "container log-shipper: CrashLoopBackOff",
                          "sidecar-localhost": "CrashLoopBackOff", "sidecar-shared-volume": "CrashLoopBackOff"},
    # 1 GiB to stdout: the log file stays bounded, the lesson's checks pass. Its readinessProbe keeps it out of
    # Ready until the flood ends, so the verdict does not race the flood (a kubelet runs that probe as the
    # grader does here): before it had one, a busy machine's flood outlasted the shared-volume check's wait.
    "hostile-log-flood": {},
    "hostile-init-hangs": {"sidecar-ready": SIDECAR_NEVER_STARTED, "sidecar-localhost": SIDECAR_NEVER_STARTED,
                           "sidecar-shared-volume": SIDECAR_NEVER_STARTED},
}

# Pods the API server refuses (422), and messages a beginner can act on.
INVALID: dict[str, dict[str, str]] = {
    "duplicate-container-name": {"manifests": 'spec.containers[1].name: Duplicate value: "app"', **NOT_GRADED_SIDECAR},
    "undeclared-volume": {"manifests": 'spec.containers[1].volumeMounts[0].name: Not found: "log"',
                          **NOT_GRADED_SIDECAR},
    "duplicate-volume-name": {"manifests": 'spec.volumes[1].name: Duplicate value: "logs"', **NOT_GRADED_SIDECAR},
    "duplicate-mount-path": {"manifests": 'volumeMounts[1].mountPath: Invalid value: "/logs": must be unique',
                             **NOT_GRADED_SIDECAR},
    "invalid-container-name": {"manifests": 'spec.containers[1].name: Invalid value: "log_shipper": a lowercase '
                                            'RFC 1123 label', **NOT_GRADED_SIDECAR},
    "port-out-of-range": {"manifests": "containerPort: Invalid value: 80800: must be between 1 and 65535",
                          **NOT_GRADED_FIRST},
    "invalid-port-name": {"manifests": 'ports[0].name: Invalid value: "http_web": must contain only',
                          **NOT_GRADED_FIRST},
    "invalid-env-name": {"manifests": 'env[0].name: Invalid value: "LOG=FILE"', **NOT_GRADED_SIDECAR},
    "invalid-label": {"manifests": 'metadata.labels.app: Invalid value: "hello world"', **NOT_GRADED_FIRST},
    "yaml-tab": {"manifests": "line 6: YAML does not allow tabs; indent with spaces",
                 **{check: "my-first-pod.yaml could not be read (see [manifests] above)"
                    for check in NOT_GRADED_FIRST}},
    "containers-mapping": {"manifests": "spec.containers: must be a list of `- name: ...` items", **NOT_GRADED_FIRST},
    "sidecar-as-pod": {"manifests": "log-shipper is written as a Pod of its own",
                       **{check: "must be a second entry of app-with-sidecar's `containers:`"
                          for check in NOT_GRADED_SIDECAR}},
    "command-replaced": {check: "replaced the image's own start command `nginx -g 'daemon off;'`"
                         for check in SIDECAR_CHECKS},
    "mount-over-parent": {check: "a parent folder of /var/log/nginx" for check in SIDECAR_CHECKS},
    # a volume name is a DNS label: one naming a host path (issue 7.1) is refused before anything is played
    "volume-name-escape": {"manifests": 'spec.volumes[0].name: Invalid value: "../../../../tmp/escaped": a lowercase '
                                        'RFC 1123 label', **NOT_GRADED_SIDECAR},
    # issue 21, section 2: refused by a cluster, once graded as passing on podman
    "protocol-lowercase": {"manifests": 'ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", '
                                        '"TCP", "UDP"', **NOT_GRADED_FIRST},
    "pod-apps-v1": {"manifests": 'my-first-pod.yaml: apiVersion: no matches for kind "Pod" in version "apps/v1"',
                    **{check: "Pod my-first-pod was not applied: my-first-pod.yaml has problems"
                       for check in NOT_GRADED_FIRST}},
    # the refused copy still counts as a definition: the good copy in the other file is not applied either
    "pod-in-two-files": {"manifests": "Pod my-first-pod is defined more than once (also in app-with-sidecar.yaml)",
                         **NOT_GRADED_FIRST},
    # issue 22, item 2: where a misplaced field belongs, from the schema
    "grace-period-in-container": {"manifests": 'unknown field "terminationGracePeriodSeconds": '
                                               "terminationGracePeriodSeconds belongs to the Pod's `spec`",
                                  **NOT_GRADED_SIDECAR},
}

# Evidence the student cannot script: grader-side probes, image identity, lifecycle as a cluster judges it.
EVIDENCE: dict[str, dict[str, str]] = {
    # fake curl/wget/grep in the student's images answered the old in-container probes: no nginx runs
    "evidence-fake-curl": {"first-pod-ready": "instead of nginx", "first-pod-serves": "Connection refused",
                           "sidecar-ready": "container app runs `sh -c mkdir",
                           "sidecar-localhost": "Connection refused",
                           "sidecar-shared-volume": "Connection refused"},
    # the sidecar serves a "Welcome to nginx!" page on port 80 while app sleeps
    "evidence-imposter-sidecar": {"sidecar-ready": "container app runs `sleep infinity` instead of nginx",
                                  "sidecar-localhost": "container app runs `sleep infinity` instead of nginx",
                                  "sidecar-shared-volume": "container app runs `sleep infinity` instead of nginx"},
    # nginx:1.25@sha256:<another image's digest>: the digest decides what runs
    "evidence-foreign-digest": {"first-pod-ready": "which is not nginx:1.25's", "first-pod-serves": "ErrImagePull"},
}

# Issue 20, round two: the Pod as a whole, the grader's own reads, grader errors a student could trigger,
# the student's faults once called the machine's, a scripted nginx, and what reaches a terminal or Actions.
NEVER_READY_WITHIN = "Pod app-with-sidecar Running with all containers Ready within 30 s"
ROUND_TWO: dict[str, dict[str, str]] = {
    # 1. the Pod as a whole
    "hostile-many-containers": {"manifests": "spec.containers: 250 containers (initContainers included): at most 8 "
                                             "are graded (the grader's limit for one Pod", **NOT_GRADED_SIDECAR},
    "hostile-many-volumes": {"manifests": "spec.volumes: 41 volumes: at most 8 are graded", **NOT_GRADED_SIDECAR},
    # 8 containers holding 1.8 GB and 720 MB of tmpfs in all: the Pod's memory budget bounds them together (the
    # machine's memory is asserted in tests/test_untrusted_podman.py); the extra containers are the task's failure
    "hostile-pod-memory": {"sidecar-ready": "expected containers named app, log-shipper; found app, log-shipper, "
                                            "hog-1"},
    "hostile-rootfs-fill": {check: "Evicted: the Pod was evicted: container log-shipper wrote more than 512 MiB "
                                   "into its own filesystem" for check in SIDECAR_CHECKS},
    # 2. the grader's own reads: what a kubelet keeps of a probe's output or body decides as here
    "hostile-probe-output": {},
    "hostile-endless-body": {},
    "hostile-expansion-bomb": {check: "RunContainerError: after $(VAR) expansion, env V5 of container log-shipper "
                                      "would be longer than" for check in SIDECAR_CHECKS},
    # 3. grader errors a student could trigger: each is the Pod's answer, judged
    # issue 21 §3: only sidecar-ready needs Ready; the other checks judge the running, unready Pod (and pass)
    "hostile-redirect-port": {"sidecar-ready": "HTTP 302 redirected to 'http://localhost:99999/', whose port "
                                               "is not a port number"},
    "hostile-probe-path": {"sidecar-ready": "container app: running, not Ready (readinessProbe: httpGet :80/caf\u00e9: "
                                            "HTTP 404): after 31 s"},
    "hostile-deep-volume": {},
    "hostile-volume-link-swap": {},
    # 4. the student's fault, no longer called the machine's
    "hostile-slow-exec-probe": {"sidecar-ready": "readinessProbe: exec did not finish within its timeoutSeconds "
                                                 "(1 s)"},
    "hostile-proc-mount": {check: "container log-shipper: RunContainerError" for check in SIDECAR_CHECKS},
    # 5. a script named nginx, run from a volume: not nginx
    "evidence-script-nginx": {"first-pod-ready": "runs /opt/tools/nginx, a file of volume tools, which the Pod wrote "
                                                 "itself, not the image's own nginx",
                              "first-pod-serves": "runs /opt/tools/nginx, a file of volume tools"},
    # the same script found through PATH: the command's words are right, the running executable is busybox
    "evidence-path-nginx": {"first-pod-ready": "container nginx's first process runs /opt/tools/busybox, which is "
                                               "not nginx:1.25's own nginx (/usr/sbin/nginx)",
                            "first-pod-serves": "first process runs /opt/tools/busybox"},
    # 6. escapes, workflow commands and a fake score in the sidecar's log: quoted (tests/test_quoting_podman.py)
    "hostile-log-control": {check: "container log-shipper: CrashLoopBackOff" for check in SIDECAR_CHECKS},
}

# Issue 21 §3 and the restart storm of issue 20: probes and restarts as the kubelet's, one cause said once.
SAID_ABOVE = "(said in full under sidecar-ready above)"
KUBELET: dict[str, dict[str, str]] = {
    # app's tcpSocket readinessProbe asks port 8080, where nothing listens: a verdict once the kubelet had its
    # tries (3 x 2 s + 1 s), not at the 180 s deadline; the checks that need no Ready still judge the Pod (pass)
    "readiness-never": {"sidecar-ready": "container app: running, not Ready (readinessProbe"},
    # app runs `sleep infinity`: sidecar-ready says so, the checks it stops say it once more and point there
    "app-runs-sleep": {"sidecar-ready": "container app runs `sleep infinity` instead of nginx",
                       "sidecar-localhost": "Connection refused, because container app runs `sleep infinity` instead "
                                            "of nginx (its command field replaces the image's own command) "
                                            + SAID_ABOVE,
                       "sidecar-shared-volume": "Connection refused, because container app runs `sleep infinity` "
                                                "instead of nginx (its command field replaces the image's own "
                                                "command) " + SAID_ABOVE},
    # four containers exiting at once under restartPolicy Always: restarted with the kubelet's back-off, not
    # podman's restart storm; a crash loop at the third end, said once
    "hostile-restart-storm": {"sidecar-ready": "found app, log-shipper, crash-1, crash-2",
                              "sidecar-localhost": "container crash-1: CrashLoopBackOff: it keeps exiting (exit "
                                                   "code 1)",
                              "sidecar-shared-volume": "container crash-1: CrashLoopBackOff: it keeps exiting (exit "
                                                       "code 1) and being restarted"},
}

VERDICTS.update({**HOSTILE, **INVALID, **EVIDENCE, **ROUND_TWO, **KUBELET})


# The fake cluster's parity test (tests/test_fake_cluster_parity.py).
# submission -> (verdict on the context path, why it differs from podman's): the table's verdicts
# hold on both paths today; a submission whose verdict must differ goes here, with the reason.
# A kubelet shows ErrImagePull, then ImagePullBackOff for the rest of its back-off: a grader that first looks
# a few seconds late (a loaded machine) sees the second. Either is the same verdict, in the hint's words.
PULL_FAILED = "the image cannot be pulled"
EITHER_PULL_REASON = ("a kubelet reports ErrImagePull and then, during its back-off, ImagePullBackOff: which one the "
                      "grader sees depends on when it first looks; podman reports ErrImagePull only")
CONTEXT_DIFFERS: dict[str, tuple[dict[str, str | tuple[str, ...]], str]] = {
    "image-typo": ({**VERDICTS["image-typo"], "first-pod-serves": PULL_FAILED}, EITHER_PULL_REASON),
    "sidecar-image-typo": ({check: PULL_FAILED for check in VERDICTS["sidecar-image-typo"]}, EITHER_PULL_REASON),
    "evidence-foreign-digest": (
        {"first-pod-ready": ("which is not nginx:1.25's", PULL_FAILED), "first-pod-serves": PULL_FAILED},
        "a cluster pulls by digest and the registry has no such manifest for nginx (ErrImagePull); podman runs the "
        "local image that digest names, and the grader refuses it by identity. On a cluster, first-pod-ready is "
        "refused by identity too once the node lists nginx:1.25's digests (issue 19: the other Pod's nginx is "
        "often pulled first), else by the failed pull: the same checks fail (and " + EITHER_PULL_REASON + ")"),
}

# Submissions that test how the grading machine contains a hostile Pod. On a cluster the node does that
# (the kubelet's podPidsLimit, eviction at an emptyDir's sizeLimit, log rotation), and the fake cluster
# models none of it: played through it, these would load this machine instead of testing a verdict.
NOT_ON_THE_FAKE_CLUSTER: dict[str, str] = {
    "hostile-fork-bomb": "pids are bounded by the kubelet's podPidsLimit (kind-config.yaml), not modelled here",
    "hostile-disk-fill": "a kubelet evicts a Pod over its emptyDir sizeLimit; not modelled here",
    "hostile-log-flood": "a kubelet rotates container logs; not modelled here (1 GiB would land on this disk)",
    "hostile-init-hangs": "a cluster waits for the init container until the ready deadline (180 s): the same FAIL, "
                          "three minutes later; its podman verdict is in the table",
    "hostile-pod-memory": "a kubelet's Pod cgroup bounds the Pod's memory; not modelled here (1.8 GB on this machine)",
    "hostile-rootfs-fill": "a kubelet evicts a Pod over its containers' ephemeral-storage limit; not modelled here "
                           "(6 GB would land on this disk)",
    "hostile-probe-output": "the fake kubelet's probes are its own code, not the grader's reads (1.2 GB a probe)",
    "hostile-endless-body": "the fake kubelet's probes are its own code, not the grader's reads",
    "hostile-expansion-bomb": "the fake cluster's kubelet expands $(VAR) on its own; the grader's bound is podman's",
    "hostile-proc-mount": "the fake cluster plays Pods with podman, whose refusal it reports in its own words",
    "hostile-redirect-port": "the fake kubelet's probes are its own code, not the grader's",
    "hostile-probe-path": "the fake kubelet's probes are its own code, not the grader's",
    "hostile-slow-exec-probe": "the fake kubelet's probes are its own code, not the grader's",
    "evidence-path-nginx": "a cluster shows the grader no process (no host /proc), so the command's words are all "
                           "that is judged there and this scripted nginx would pass (README, Evidence): podman only",
}

# Options a submission is graded with, and why.
NEVER_READY = ("an exec readinessProbe that times out may still succeed later (a slow start), so it is a verdict at "
               "the readiness deadline, as a refused connection or an HTTP status is not: 30 s instead of 180 s, the "
               "same FAIL")
GRADED_WITH: dict[str, tuple[tuple[str, ...], str]] = {
    "hostile-slow-exec-probe": (("--timeout-ready", "30"), NEVER_READY),
    "hostile-init-hangs": (("--timeout-apply", "15"), "the verdict comes at the apply timeout: 15 s instead of the "
                                                       "default 60 s, the same FAIL in the same words"),
}

# Submissions that load the whole machine: graded while no other podman test runs (the `alone` marker),
# so that neither they nor a test beside them is judged on a machine the other one exhausts.
ALONE: dict[str, str] = {
    "hostile-fork-bomb": "1,024 processes forking on one core",
    "hostile-memory": "4 GB asked for every second",
    "hostile-disk-fill": "1 GiB written into a tmpfs",
    "hostile-log-flood": "1 GiB to stdout: its log-shipper's output arrived late beside other tests",
    "hostile-pod-memory": "1.8 GB asked for by six containers, and 720 MB of tmpfs",
    "hostile-rootfs-fill": "6 GB written to a container's own filesystem until the grader evicts the Pod",
    "hostile-probe-output": "1.2 GB through podman exec at every probe",
    "hostile-endless-body": "an endless answer at every probe",
}

# Broken submissions CI also grades on a real kind cluster, besides the reference (.github/workflows/ci.yml).
ON_KIND = ["sidecar-exits", "wrong-mount-path"]
