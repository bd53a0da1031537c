#!/usr/bin/env bash
# Builds the real control-plane binaries that the k8s test tier and the demo run: kube-apiserver,
# kubectl, etcd and helm, all from source through the Go module proxy (no other download source is
# reachable from the project's machines). Each binary is cached outside the repository by component
# and version, so a fresh clone reuses it and only the first run pays for the compile.
#
#   e2e/control-plane/build.sh                # build whatever is missing, print the time each took
#   e2e/control-plane/build.sh --print-paths  # KUBE_APISERVER=... ETCD=... KUBECTL=... HELM=... (builds nothing)
#   e2e/control-plane/build.sh --missing      # the components not built yet, one a line (builds nothing)
#
# Safe to run concurrently (one flock for all builds; a waiting run finds the binaries done) and
# resumable: a binary is written to a temporary name and renamed into place only when complete, and
# an interrupted compile restarts from Go's build cache.
set -euo pipefail

# Kubernetes v1.35.4: the newest 1.35 patch on the module proxy. Its go.mod says `go 1.25.0`, so the
# machine's Go 1.26 builds it without fetching another toolchain; 1.36's staging modules move to
# `go 1.26` and 1.37 to Go 1.27, while the operator targets the current stable minor.
KUBERNETES_VERSION=v1.35.4
# etcd v3.6.16: the newest 3.6 patch. Debian's etcd 3.4 lacks the watch progress requests that the
# 1.35 API server's consistent reads rely on.
ETCD_VERSION=v3.6.16
# helm v3.22.0: the newest v3 release; it builds with Go 1.26 (its go.mod asks for 1.26.0).
HELM_VERSION=v3.22.0

if [ -z "${KUBELVS_CACHE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    KUBELVS_CACHE=/var/cache/kubelvs
  else
    KUBELVS_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kubelvs
  fi
fi
BIN_ROOT=$KUBELVS_CACHE/bin
SRC_ROOT=$KUBELVS_CACHE/src

KUBE_APISERVER=$BIN_ROOT/kube-apiserver-$KUBERNETES_VERSION/kube-apiserver
BUILT_KUBECTL=$BIN_ROOT/kubectl-$KUBERNETES_VERSION/kubectl
ETCD=$BIN_ROOT/etcd-$ETCD_VERSION/etcd
HELM=$BIN_ROOT/helm-$HELM_VERSION/helm

release_minor=${KUBERNETES_VERSION#v1.}
release_minor=${release_minor%%.*}

# A kubectl already on PATH is used when it is within kubectl's supported skew (one minor version)
# of the API server; otherwise one is built from the same release.
system_kubectl() {
  local candidate version minor
  candidate=$(command -v kubectl) || return 1
  version=$("$candidate" version --client -o json 2>/dev/null |
    sed -n 's/.*"gitVersion": *"\(v[^"]*\)".*/\1/p' | head -n 1) || return 1
  [[ $version =~ ^v1\.([0-9]+)\. ]] || return 1
  minor=${BASH_REMATCH[1]}
  ((minor >= release_minor - 1 && minor <= release_minor + 1)) || return 1
  echo "$candidate"
}

if KUBECTL=$(system_kubectl); then kubectl_needs_build=false; else
  KUBECTL=$BUILT_KUBECTL
  kubectl_needs_build=true
fi

missing_components() {
  [ -x "$KUBE_APISERVER" ] || echo kube-apiserver
  [ "$kubectl_needs_build" = false ] || [ -x "$BUILT_KUBECTL" ] || echo kubectl
  [ -x "$ETCD" ] || echo etcd
  [ -x "$HELM" ] || echo helm
}

case "${1:-}" in
  --print-paths)
    printf 'KUBE_APISERVER=%s\nETCD=%s\nKUBECTL=%s\nHELM=%s\n' "$KUBE_APISERVER" "$ETCD" "$KUBECTL" "$HELM"
    exit 0
    ;;
  --missing)
    missing_components
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: $0 [--print-paths | --missing]" >&2
    exit 2
    ;;
esac

if [ -z "$(missing_components)" ]; then
  echo "build.sh: all binaries present under $BIN_ROOT"
  exit 0
fi

command -v go >/dev/null || {
  echo "build.sh: needs Go on PATH (the binaries are built from the Go module proxy)" >&2
  exit 1
}

mkdir -p "$BIN_ROOT" "$SRC_ROOT"
exec 9>"$BIN_ROOT/.build.lock"
if ! flock -n 9; then
  echo "build.sh: another build.sh holds $BIN_ROOT/.build.lock; waiting for it"
  flock 9
fi

# Shared by every other helper on the machine: lowest priority, at most two compile jobs.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
export GOFLAGS="-p=${KUBELVS_BUILD_JOBS:-2} -trimpath -buildvcs=false"
NICE=(nice -n 19)
# Peak memory per component is worth knowing on a 2-core, shared machine; GNU time reports it.
TIMED=()
if [ -x /usr/bin/time ]; then TIMED=(/usr/bin/time -f 'build.sh:   peak RSS %M KiB, %e s wall, %U s user')
fi

# Runs "$@" to produce $target: announces it, times it, and renames the result into place only on success.
build_step() {
  local name=$1 target=$2
  shift 2
  local started=$SECONDS
  echo "build.sh: building $name -> $target"
  mkdir -p "$(dirname "$target")"
  rm -f "$target.partial"
  "${TIMED[@]}" "${NICE[@]}" "$@"
  mv -f "$target.partial" "$target"
  echo "build.sh: built $name in $((SECONDS - started)) s ($(du -h "$target" | cut -f1))"
}

# The release's /version answer; release time from the module proxy doubles as a reproducible build date.
release_time() {
  go mod download -json "$1@$2" | sed -n 's/.*"Info": "\(.*\)".*/\1/p' | xargs sed -n 's/.*"Time":"\([^"]*\)".*/\1/p'
}

# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and maps
# them to ./staging with replace lines, which Go ignores in a dependency, so `go install ...@version`
# cannot build it. A helper module requires the release and replaces each v0.0.0 requirement with the
# published k8s.io/<name> v0.<minor>.<patch>; the list comes from the release's own go.mod.
KUBERNETES_MODULE=$SRC_ROOT/kubernetes-$KUBERNETES_VERSION
prepare_kubernetes_module() {
  local dir=$KUBERNETES_MODULE staging_version=v0.${KUBERNETES_VERSION#v1.}
  local release_gomod module
  rm -rf "$dir"
  mkdir -p "$dir"
  release_gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$release_gomod" ] || {
    echo "build.sh: could not fetch k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod" >&2
    exit 1
  }
  # Same language version and GODEBUG defaults as the release's own main module.
  {
    echo "module kubelvs.invalid/build/kubernetes"
    echo
    grep -E '^(go|godebug) ' "$release_gomod"
  } >"$dir/go.mod"
  (
    cd "$dir"
    go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
    while read -r module; do
      go mod edit -replace="$module=$module@$staging_version"
    done < <(awk '$2 == "v0.0.0" { print $1 }' "$release_gomod")
    echo "build.sh:   $(grep -c '=>' go.mod) staging modules replaced with $staging_version"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@$KUBERNETES_VERSION"
  )
}

kubernetes_ldflags() {
  local built major=1 minor=$release_minor flags="-s -w" pkg
  built=$(release_time k8s.io/kubernetes "$KUBERNETES_VERSION")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    # The module proxy carries no commit id: an empty gitCommit instead of the "$Format:%H$" placeholder.
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$built -X $pkg.gitCommit="
  done
  echo "$flags"
}

# etcd's server module maps its sibling modules with replace lines too; the helper module requires the
# published siblings at the same version and builds the server module's own main package (etcdmain.Main).
ETCD_MODULE=$SRC_ROOT/etcd-$ETCD_VERSION
prepare_etcd_module() {
  local dir=$ETCD_MODULE
  rm -rf "$dir"
  mkdir -p "$dir"
  printf 'module kubelvs.invalid/build/etcd\n\ngo 1.26.0\n' >"$dir/go.mod"
  (
    cd "$dir"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/api/v3@$ETCD_VERSION" \
      "go.etcd.io/etcd/client/pkg/v3@$ETCD_VERSION" "go.etcd.io/etcd/client/v3@$ETCD_VERSION" \
      "go.etcd.io/etcd/pkg/v3@$ETCD_VERSION"
  )
}

total_started=$SECONDS
missing=$(missing_components)
if [ -z "$missing" ]; then
  echo "build.sh: the run that held the lock built everything"
  exit 0
fi
echo "build.sh: cache $BIN_ROOT; to build: $(echo "$missing" | tr '\n' ' ')"

if grep -qx -e kube-apiserver -e kubectl <<<"$missing"; then
  echo "build.sh: preparing the k8s.io/kubernetes@$KUBERNETES_VERSION helper module"
  prepare_kubernetes_module
  kube_flags=$(kubernetes_ldflags)
  if grep -qx kube-apiserver <<<"$missing"; then
    build_step "kube-apiserver $KUBERNETES_VERSION" "$KUBE_APISERVER" \
      go -C "$KUBERNETES_MODULE" build -ldflags "$kube_flags" -o "$KUBE_APISERVER.partial" k8s.io/kubernetes/cmd/kube-apiserver
  fi
  if grep -qx kubectl <<<"$missing"; then
    build_step "kubectl $KUBERNETES_VERSION" "$BUILT_KUBECTL" \
      go -C "$KUBERNETES_MODULE" build -ldflags "$kube_flags" -o "$BUILT_KUBECTL.partial" k8s.io/kubernetes/cmd/kubectl
  fi
fi

if grep -qx etcd <<<"$missing"; then
  echo "build.sh: preparing the go.etcd.io/etcd/server/v3@$ETCD_VERSION helper module"
  prepare_etcd_module
  # etcd's only version ldflag is its git commit, which the module proxy does not carry; the version
  # itself is a constant in go.etcd.io/etcd/api/v3/version.
  build_step "etcd $ETCD_VERSION" "$ETCD" \
    go -C "$ETCD_MODULE" build -ldflags "-s -w" -o "$ETCD.partial" go.etcd.io/etcd/server/v3
fi

if grep -qx helm <<<"$missing"; then
  # helm has no replace lines, so `go install pkg@version` works. Without its version ldflags it calls
  # itself v3.22 "unreleased", and offline `helm template` assumes Kubernetes 1.20: point that at the
  # API server built here, so templates render as they will against the test control plane.
  helm_flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  helm_flags+=" -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    helm_flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$release_minor"
  done
  helm_bin_dir=$(dirname "$HELM")
  mkdir -p "$helm_bin_dir"
  rm -rf "$helm_bin_dir/.gobin"
  # shellcheck disable=SC2016 # the inner script expands its own positional arguments
  build_step "helm $HELM_VERSION" "$HELM" \
    bash -c 'GOBIN="$1" go install -ldflags "$2" "helm.sh/helm/v3/cmd/helm@$3" && mv "$1/helm" "$4"' \
    _ "$helm_bin_dir/.gobin" "$helm_flags" "$HELM_VERSION" "$HELM.partial"
  rmdir "$helm_bin_dir/.gobin"
fi

echo "build.sh: done in $((SECONDS - total_started)) s"
"$KUBE_APISERVER" --version
[ "$kubectl_needs_build" = false ] || "$BUILT_KUBECTL" version --client | sed -n 1p
"$ETCD" --version | sed -n 1p
"$HELM" version --short
