# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# contrib/kubernetes: the DaemonSet and the ConfigMap, parsed, checked against what the binary
# needs (the capabilities its --help names for applying a file, the host's bpffs and cgroup
# mounts, the ConfigMap's file where --config looks), then the container's own command run
# here with what the kubelet would give it: its arguments, exactly its capabilities,
# no_new_privs, the ConfigMap's file in the kubelet's ..data layout (not the runtime's AppArmor
# or seccomp profile, nor its namespaces); it steers, answers its probe and Prometheus, and
# follows an update of the ConfigMap.
# A bpffs of its own (in a private mount namespace), as a node has one mounted (systemd's).
PRIVATE_MOUNTS=1
. "$(dirname "$0")/lib.sh"

own_bpffs
K8S=$TOP/contrib/kubernetes
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	skip_all "python3-yaml is not installed (make deps installs it)"
fi
# manifest EXPR: a Python expression over d (the DaemonSet), c (its container), m (the
# ConfigMap), printed (lists space-separated). One Python for all of them (a coprocess: its
# start costs a second in a VM), each answer ended by a line of its own.
coproc MANIFEST {
	exec /usr/bin/python3 -u -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
m = yaml.safe_load(open(sys.argv[2]))
c = d["spec"]["template"]["spec"]["containers"][0]
for expr in sys.stdin:
	try:
		v = eval(expr)
		print(" ".join(map(str, v)) if isinstance(v, list) else v)
	except Exception as e:
		print("error:", repr(e))
	print("--end--")' "$K8S/daemonset.yaml" "$K8S/configmap.yaml"
}
PIDS+=("$MANIFEST_PID")
manifest() {
	local line out=""
	echo "$1" >&"${MANIFEST[1]}"
	while IFS= read -r line <&"${MANIFEST[0]}" && [ "$line" != --end-- ]; do
		out+=${out:+$'\n'}$line
	done
	printf '%s\n' "$out"
}

is "a DaemonSet and a ConfigMap, both parsed" "DaemonSet ConfigMap" "$(manifest '[d["kind"], m["kind"]]')"
is "in the node's host network namespace" True "$(manifest 'd["spec"]["template"]["spec"]["hostNetwork"]')"
is "not privileged, no privilege escalation, read-only root" "False False True" \
	"$(manifest '[c["securityContext"][k] for k in ("privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem")]')"
# what sksteer --help names for a run that applies a file: steering's
need=$("$SKSTEER" --help | tr '\n' ' ' | grep -o 'steering (-p/-s) and --trace need [A-Z_, and]*CAP_[A-Z_]*' |
	grep -o 'CAP_[A-Z_]*' | sed 's/^CAP_//' | sort | tr '\n' ' ' | sed 's/ $//')
is "every capability dropped, then exactly those the binary names for applying a file added" \
	"ALL $need" "$(manifest 'c["securityContext"]["capabilities"]["drop"] + sorted(c["securityContext"]["capabilities"]["add"])')"
is "the host's bpffs and cgroup v2 mounted where they are on the host" \
	"bpffs:/sys/fs/bpf:/sys/fs/bpf cgroup:/sys/fs/cgroup:/sys/fs/cgroup" \
	"$(manifest '[":".join([v["name"], v["hostPath"]["path"]] + [x["mountPath"] for x in c["volumeMounts"] if x["name"] == v["name"]]) for v in d["spec"]["template"]["spec"]["volumes"] if "hostPath" in v]')"
read -ra ARGS <<<"$(manifest 'c["args"]')"
COMMAND=$(manifest 'c["command"][0]')
CONF=$(for ((i = 0; i < ${#ARGS[@]}; i++)); do [ "${ARGS[i]}" = --config ] && echo "${ARGS[i + 1]}"; done)
is "the ConfigMap mounted where --config looks, with the file under its name" \
	"sksteer:$(dirname "$CONF") $(basename "$CONF")" \
	"$(manifest '[v["configMap"]["name"] + ":" + [x["mountPath"] for x in c["volumeMounts"] if x["name"] == v["name"]][0] for v in d["spec"]["template"]["spec"]["volumes"] if "configMap" in v] + list(m["data"])')"
like "it watches the file and serves the metrics the probe and the annotation name" \
	"--watch .*--serve-metrics \\\$\(NODE_IP\):$(manifest 'd["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]')" \
	"${ARGS[*]}"
is "NODE_IP is the node's address" "NODE_IP status.hostIP" \
	"$(manifest '[[e["name"], e["valueFrom"]["fieldRef"]["fieldPath"]] for e in c["env"] if e["name"] == "NODE_IP"][0]')"
is "the probe asks / there (no pins read: a lock held for long is no death)" "/ 9917" \
	"$(manifest '[c["livenessProbe"]["httpGet"]["path"], c["livenessProbe"]["httpGet"]["port"]]')"
is "unconfined by AppArmor (its default profile denies writes and locks under /sys/fs/bpf)" \
	"Unconfined unconfined" \
	"$(manifest '[c["securityContext"]["appArmorProfile"]["type"], d["spec"]["template"]["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/" + c["name"]]]')"
is "the image's entrypoint is the binary the command names" "COPY sksteer $COMMAND" \
	"$(grep '^COPY' "$K8S/Dockerfile")"

# The container's command, run as the kubelet would: the ConfigMap's file in the kubelet's
# layout (FILE -> ..data/FILE), NODE_IP this namespace's loopback, exactly its capabilities
MOUNT=$WORK/etc-sksteer
configmap() { # configmap N TEXT: the kubelet's update, a new directory swapped in as ..data
	mkdir -p "$MOUNT/..$1"
	printf '%s' "$2" >"$MOUNT/..$1/$(basename "$CONF")"
	ln -s "..$1" "$MOUNT/..data_tmp"
	mv -T "$MOUNT/..data_tmp" "$MOUNT/..data"
	find "$MOUNT" -mindepth 1 -maxdepth 1 -type d ! -name "..$1" -exec rm -rf {} +
}
configmap 1 "$(manifest 'm["data"]["sksteer.conf"]')"
ln -s "..data/$(basename "$CONF")" "$MOUNT/$(basename "$CONF")"
for ((i = 0; i < ${#ARGS[@]}; i++)); do
	ARGS[i]=${ARGS[i]//\$(NODE_IP)/127.0.0.1}
	ARGS[i]=${ARGS[i]/#$(dirname "$CONF")/$MOUNT}
done
serve --label=proxy 127.0.0.1:9000
caps=$(manifest '",".join("+" + x.lower() for x in c["securityContext"]["capabilities"]["add"])')
# before 5.11, BPF memory counts against RLIMIT_MEMLOCK: the manifest says to add SYS_RESOURCE
if ! kernel_at_least 5 11; then
	like "before 5.11: the manifest says to add SYS_RESOURCE" "before 5\.11.*add SYS_RESOURCE" \
		"$(tr '\n' ' ' <"$K8S/daemonset.yaml" | tr -s ' #' ' ')"
	caps+=,+sys_resource
fi
caps_argv "$caps"
"${CAPS_ARGV[@]}" setpriv --no-new-privs -- "$SKSTEER" "${ARGS[@]}" 2>"$WORK/pod.err" &
POD=$!
PIDS+=("$POD")
eventually '[ "$(dial 127.0.0.1:443)" = proxy:443 ]'
is "with those capabilities alone, it steers what the ConfigMap says" "proxy:80 proxy:443 proxy:8099" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:8099)"
is "the probe's / and Prometheus's /metrics answer 200" "200 200" \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9917/) $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9917/metrics)"
configmap 2 "tcp 127.0.0.1:9000 80,443"
eventually '[ "$(dial 127.0.0.1:8099)" != proxy:8099 ]'
is "an update of the ConfigMap is applied" "proxy:443 refused" "$(dial 127.0.0.1:443) $(dial 127.0.0.1:8099)"
is "quietly" "" "$(cat "$WORK/pod.err")"
kill -TERM "$POD"
wait "$POD"
is "the pod's end (SIGTERM): exit 0, the steering left on the node" "0 proxy:80" "$? $(dial 127.0.0.1:80)"

done_testing
