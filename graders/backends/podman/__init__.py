"""Podman backend: real pods from Pod YAML with `podman kube play`, on a machine without Kubernetes.

Where podman differs from Kubernetes: `podman kube play` (4.3) is not Kubernetes; each difference
that would change a verdict is bridged here (the played copy is built in play.py), so that a
correct solution passes and a wrong one fails as it would on a cluster:
- Pod names are global on the machine: each Pod runs as `<name>-<run id>`, labelled with the run.
- containerPort is published on the host (two pods with port 80 collide): ports are dropped from
  the played copy; checks read the spec as submitted.
- emptyDir becomes an anonymous volume pre-filled from the image (nginx's log symlinks would land
  in it): each emptyDir is played as a bind mount of a fresh, empty folder named by the grader.
- Annotations act on podman (seccomp `unconfined`, `io.containers.sdnotify` hangs play, values over
  63 characters are refused): the played copy has none; the policy refuses the unsafe ones.
- `$(VAR)` in command/args is not expanded (podman < 4.7): the played copy is expanded as the kubelet does.
- Secrets, configMaps, persistentVolumeClaims and subPath come from the machine's stores or are
  ignored: the lab's policy (graders/policy.py, Allowances) refuses them before anything is played.
- No pids, memory, CPU or log limits apply by default: see "Untrusted code" below.
- A failed play (image not found, command not found) leaves a half-made pod and no Kubernetes
  status: the pod is removed and the failure is reported as the status Kubernetes would show.
  Podman's own failures (pause image, catatonit, storage, runtime) are InfraErrors instead.
- Init containers run inside `podman pod start`: one that never finishes would hang it; after the
  apply timeout it is the Pod's failure (its containers never start), not the machine's.
- Every Pod is played with restartPolicy Never: podman restarts at once, for ever (a restart storm of conmon,
  runc and cleanup processes on the host). The grader's kubelet (kubelet.py) starts containers again
  as the submitted policy says, with the kubelet's back-off (10 s, 20 s, ... 300 s), and its restart count,
  CrashLoopBackOff and the probes' verdict are what state() reports.
- readinessProbe is not run by podman: the checks run it from the grader's side (exec, httpGet,
  tcpSocket), as a kubelet would (no capability "readiness-probes"). livenessProbe and startupProbe are run
  by the grader's kubelet, from the grader's side too, which kills a container that fails them.
- Pods are the only kind (capability kind:Pod alone): a lab that needs a Service is not graded here,
  and says so before anything starts.
- terminationGracePeriodSeconds is honoured on delete by this backend (podman's stop timeout is 10 s);
  a Pod that outlives a grace longer than the delete timeout fails cleanup, as on a cluster.
- Native sidecars (init containers with `restartPolicy: Always`) would block play: refused at once
  with an InfraError that names --backend kind.
- Evidence comes from the grader's side: HTTP made by the grader itself inside the Pod's network
  namespace (netns.py; as root) or else from a grader-owned busybox container joined to it, the volume
  from the host folder the grader owns, the image by its ID, the first process of a container from the
  host's /proc (evidence.py, images.py, host.py).

Untrusted code: each run gets its own `--internal` podman network (pods of other runs and the
outside are unreachable), each Pod's cgroup a pids limit (POD_PIDS_LIMIT) and a memory budget for all its
containers and their tmpfs together (POD_MEMORY_LIMIT), both written before any container starts, each
container a memory and CPU limit and a bounded log file, each emptyDir a size-limited tmpfs (when run as
root), and each container's writable layer is watched: past its ephemeral-storage limit the Pod is evicted, as
a kubelet does (storage_watch.py, limits.py). The size of a Pod is capped offline (graders/validation/caps.py).
Everything carries the run's labels and its owner (host, boot id, PID): a later run removes it at once when
that process is provably gone.

The grader's own reads: every podman call goes through bounded.py (each stream at most a bound, the call
within its timeout); HTTP through netns.py reads a bounded body; volumes are read under directory descriptors
without following links (volume_reader.py).

The package, one concern a module: cli.py (running podman, bounded), classification.py (whose fault podman's
failure is), owners.py and cleanup.py (who made what; removing pods and what killed runs left), host.py (the
run's folder, its volumes and mounts), procs.py (the host's /proc), run.py (what the parts share), state.py
(podman inspect -> PodState), limits.py, commands.py (exec), evidence.py and images.py (grader-side evidence),
runtime.py (what the grader's kubelet, kubelet.py, does through the sandbox), sandbox.py and backend.py.
"""

from graders.backends.podman.backend import PodmanBackend
from graders.backends.podman.sandbox import PodmanSandbox

__all__ = ["PodmanBackend", "PodmanSandbox"]
