"""Expected verdicts of the graded submissions of lab 1.2 (the folders beside this file), on any backend
that runs the official nginx:1.25 image: submission folder -> {failed check id: text its message must
contain}. Every check not named must pass.
"""

from __future__ import annotations

CHECKS = ["manifests", "metadata", "container", "env", "resources", "init-page", "readiness", "node-selector",
          "status", "cleanup"]
NOT_GRADED = {check: "not graded" for check in CHECKS[1:-1]}
PENDING = "the Pod stays Pending: its nodeSelector asks for a node labelled disktype=ssd"

VERDICTS: dict[str, dict[str, str]] = {
    "reference": {},
    "other-notations": {},
    "json-style": {},
    "wrong-probe-port": {"readiness": "readinessProbe.httpGet.port: expected port 80, or the name of the "
                                      "containerPort 80; found 8080"},
    "probe-wrong-path": {"readiness": "it gets HTTP 404: the kubelet never marks the container Ready"},
    # A cluster's API server refuses this Pod (422), and so does the offline check: it is applied nowhere.
    "limit-below-request": {"manifests": 'spec.containers[0].resources.requests: Invalid value: "256Mi": must be less '
                                         "than or equal to memory limit of 128Mi (requests.memory: 256Mi is more than "
                                         "its limit 128Mi", **NOT_GRADED, "cleanup": "not graded"},
    "cpu-units": {"resources": "web.yaml: spec.containers[0].resources.limits.cpu: expected 500m (= 0.5); "
                               "found 5 (= 5)"},
    "env-typo": {"env": "web.yaml: spec.containers[0].env: expected an entry named GREETING; found names GREETNG"},
    # nginx then serves an empty directory: / answers 403, so the readiness probe fails too.
    "init-wrong-path": {"init-page": "an answer without 'Written by an init container'",
                        "readiness": "it gets HTTP 403"},
    "quoted-port": {"manifests": "spec.containers[0].ports[0].containerPort: expected the number 80; found the text "
                                 "'80'", **NOT_GRADED, "cleanup": "not graded"},
    "unmatched-node-selector": {"node-selector": PENDING, "container": PENDING, "env": PENDING,
                                "init-page": PENDING, "readiness": PENDING, "status": PENDING},
    "missing-annotation": {"metadata": "no annotation description (annotations present: none)"},
    "restart-never": {"status": "web.yaml: spec.restartPolicy: expected 'Always'; found 'Never'"},
    "wrong-mount-path": {"init-page": "web.yaml: spec.containers[0].volumeMounts[0].mountPath: expected "
                                      "'/usr/share/nginx/html'; found '/var/www/html'"},
}

# Pods a cluster refuses (400 or 422), refused offline in its words with a hint (issue 21, section 2).
REFUSED = {**NOT_GRADED, "cleanup": "not graded"}
INVALID: dict[str, dict[str, str]] = {
    "restart-sometimes": {"manifests": 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
                                       '"Always", "OnFailure", "Never"', **REFUSED},
    # kubectl refuses the whole file before it sends anything: an annotation's value is text
    "annotation-number": {"manifests": "metadata.annotations.build: expected text; found the number 42: put it in "
                                       'quotes, "42"', **REFUSED},
    "memory-bad-unit": {"manifests": "limits.memory: quantities must match the regular expression", **REFUSED},
    "probe-quoted-port": {"manifests": 'readinessProbe.httpGet.port: Invalid value: "80": must contain at least one '
                                       "letter (a-z)", **REFUSED},
    "pull-policy-lowercase": {"manifests": 'imagePullPolicy: Unsupported value: "always"', **REFUSED},
    "probe-on-init-container": {"manifests": "spec.initContainers[0].readinessProbe: Forbidden: may not be set for "
                                             "init containers without restartPolicy=Always", **REFUSED},
}
VERDICTS.update(INVALID)

# Issue 21 §3: probes and start failures as the kubelet's, one cause said once and pointed to by the others.
LIVENESS = ("container nginx: the kubelet kills it and starts it again, again and again: its livenessProbe failed 3 "
            "times in a row")
REFUSED_START = "container nginx: RunContainerError: "
KUBELET: dict[str, dict[str, str]] = {
    # a livenessProbe on port 8080, where nothing listens: the kubelet kills nginx every 3 failures and starts it
    # again (CrashLoopBackOff on a cluster); a verdict at the first kill, in every check that waits for the Pod
    "liveness-wrong-port": {"container": LIVENESS, **{check: LIVENESS + ' (Liveness probe failed: Get '
                                                             '"http://127.0.0.1:8080/"'
                                                      for check in ("env", "init-page", "readiness", "node-selector",
                                                                    "status")}},
    # memory: 128m is 0.128 bytes, which runc cannot set (`unable to set memory limit to 1`): the submission's
    # RunContainerError in every check of the Pod, cleanup included passes (nothing runs), never the machine's
    "memory-millibytes": {"resources": "found '128m' (= 0.128)",
                          **{check: REFUSED_START for check in ("container", "env", "init-page", "readiness",
                                                                "node-selector", "status")}},
}
VERDICTS.update(KUBELET)

# Where the cluster's kubelet runs the readiness probe (kind, a context, the fake cluster), the verdict is
# its own: the message quotes its event instead of the grader's request. The same checks fail.
CONTEXT_DIFFERS: dict[str, tuple[dict[str, str], str]] = {
    "probe-wrong-path": (
        {"readiness": "Readiness probe failed: HTTP probe failed with statuscode: 404"},
        "the kubelet probes /healthz and reports 404 in its event; on podman the grader makes the request"),
    "init-wrong-path": (
        {"init-page": "an answer without 'Written by an init container'",
         "readiness": "Readiness probe failed: HTTP probe failed with statuscode: 403"},
        "nginx serves an empty folder (403); the kubelet's event says so where it runs the probe"),
}
