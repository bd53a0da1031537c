#!/usr/bin/env bash
# kubelvs end to end on a laptop with Docker: a kind cluster (kind-config.yaml: one control plane and
# three workers labelled kubelvs.io/lb=true), the image built and loaded, the chart installed, the
# examples applied; then it checks that `kubectl get vrrpgroups` shows exactly one MASTER holding the
# VIP, deletes that node's agent pod and checks that another node takes over, and tears down.
#
# Needs docker, kind, kubectl and helm on PATH, and the ip_vs module loaded on the Docker host for the
# IPVS half (kind nodes share the host's kernel). Not run in CI: there is no Docker engine there.
#
#   e2e/kind/run.sh                      # everything, cluster deleted at the end
#   KUBELVS_KIND_KEEP=1 e2e/kind/run.sh  # keep the cluster to look around (kind delete cluster --name kubelvs)
#
# Environment: KUBELVS_KIND_CLUSTER (default kubelvs), KUBELVS_KIND_NODE_IMAGE (a kindest/node image of
# Kubernetes 1.30 or later), KUBELVS_IMAGE (default kubelvs:dev), KUBELVS_KIND_TIMEOUT (seconds per
# wait, default 180), KUBELVS_KIND_SKIP_BUILD=1 (use an image already built under KUBELVS_IMAGE).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cluster="${KUBELVS_KIND_CLUSTER:-kubelvs}"
image="${KUBELVS_IMAGE:-kubelvs:dev}"
timeout_s="${KUBELVS_KIND_TIMEOUT:-180}"
namespace=kubelvs-system
group=lvs-vip
vip=198.51.100.254
# The example groups select their interface by the documentation prefix 198.51.100.0/24: each worker
# gets one address from it on eth0, the kind network, which carries the VRRP multicast between them.
lan_prefix=198.51.100
lan_first_host=11

log() { printf '[kind-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH"
done

context="kind-${cluster}"
k() { kubectl --context "$context" "$@"; }

teardown() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "diagnostics after the failure:"
    k get vrrpgroups,nodestates -o wide >&2 || true
    k -n "$namespace" get pods -o wide >&2 || true
    k -n "$namespace" logs -l app.kubernetes.io/component=agent --tail=30 --prefix >&2 || true
  fi
  if [ "${KUBELVS_KIND_KEEP:-0}" = 1 ]; then
    log "keeping cluster ${cluster} (kind delete cluster --name ${cluster})"
  else
    log "deleting cluster ${cluster}"
    kind delete cluster --name "$cluster" >&2 || true
  fi
  exit "$status"
}

# Polls a command until it succeeds (prints nothing in between), or fails after timeout_s.
wait_for() {
  local what="$1"
  shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${timeout_s}s waiting for: ${what}"
    sleep 1
  done
}

master_of_group() { k get vrrpgroup "$group" -o jsonpath='{.status.master}'; }

# Nodes whose agent reports Master of the group: exactly one, or it is a split brain.
masters_reported() {
  k get nodestates -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.masterOf}{"\n"}{end}' |
    awk -F '\t' -v g="$group" '{ n = split($2, m, ","); for (i = 1; i <= n; i++) if (m[i] == g) print $1 }'
}

# Succeeds when exactly one node reports Master, it is the group's status.master, and only it holds the VIP.
one_master() {
  local master reported holders
  master="$(master_of_group)"
  [ -n "$master" ] || return 1
  reported="$(masters_reported)"
  [ "$reported" = "$master" ] || return 1
  holders=""
  for node in "${workers[@]}"; do
    if docker exec "$node" ip -o address show to "${vip}/32" | grep -q .; then holders="${holders}${node} "; fi
  done
  [ "$holders" = "${master} " ]
}

master_is_not() { local m; m="$(master_of_group)"; [ -n "$m" ] && [ "$m" != "$1" ] && one_master; }

trap teardown EXIT

log "creating kind cluster ${cluster}"
create_args=(create cluster --name "$cluster" --config "$repo/kind-config.yaml" --wait 120s)
if [ -n "${KUBELVS_KIND_NODE_IMAGE:-}" ]; then create_args+=(--image "$KUBELVS_KIND_NODE_IMAGE"); fi
kind "${create_args[@]}"

mapfile -t workers < <(k get nodes -l kubelvs.io/lb=true -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
[ "${#workers[@]}" -ge 2 ] || fail "kind-config.yaml should give at least two nodes labelled kubelvs.io/lb=true"
host="$lan_first_host"
for node in "${workers[@]}"; do
  docker exec "$node" ip address add "${lan_prefix}.${host}/24" dev eth0
  if ! docker exec "$node" test -e /proc/net/ip_vs; then
    log "warning: no IPVS in ${node}'s kernel (modprobe ip_vs on the Docker host): VirtualServices stay inactive"
  fi
  host=$((host + 1))
done

if [ "${KUBELVS_KIND_SKIP_BUILD:-0}" != 1 ]; then
  log "building ${image}"
  docker build -t "$image" "$repo"
fi
log "loading ${image} into the cluster"
kind load docker-image "$image" --name "$cluster"

log "installing the chart"
helm --kube-context "$context" install kubelvs "$repo/charts/kubelvs" \
  --namespace "$namespace" --create-namespace \
  --set-string image.repository="${image%:*}" --set-string image.tag="${image##*:}" \
  --set image.pullPolicy=Never \
  --set-json 'agent.nodeSelector={"kubelvs.io/lb":"true"}' \
  --wait --timeout "${timeout_s}s"
k -n "$namespace" rollout status daemonset/kubelvs-agent --timeout "${timeout_s}s"

log "applying examples/"
mapfile -t example_namespaces < <(grep -h '^  namespace:' "$repo"/examples/*.yaml | awk '{ print $2 }' | sort -u)
for ns in "${example_namespaces[@]}"; do
  k create namespace "$ns" --dry-run=client -o yaml | k apply -f -
  # web-dr.yaml's group admits namespaces labelled kubelvs.io/web=true; the others admit every namespace.
  k label namespace "$ns" "kubelvs.io/${ns}=true" --overwrite
done
k apply -f "$repo/examples/"

log "waiting for one MASTER of ${group}"
wait_for "exactly one Master of ${group}, holding ${vip}" one_master
k get vrrpgroups
first="$(master_of_group)"
log "${first} is Master of ${group}"

pod="$(k -n "$namespace" get pods -l app.kubernetes.io/component=agent \
  --field-selector "spec.nodeName=${first}" -o jsonpath='{.items[0].metadata.name}')"
[ -n "$pod" ] || fail "no agent pod on ${first}"
log "deleting ${pod}, the agent on ${first}"
started=$SECONDS
k -n "$namespace" delete pod "$pod" --wait=false
wait_for "another node to take over ${group}" master_is_not "$first"
log "$(master_of_group) took over in about $((SECONDS - started)) s"
k get vrrpgroups

k -n "$namespace" rollout status daemonset/kubelvs-agent --timeout "${timeout_s}s"
wait_for "exactly one Master after ${first}'s agent came back" one_master
k get vrrpgroups,nodestates
log "PASS"
