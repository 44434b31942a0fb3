#!/usr/bin/env bash
# npm run test:container — builds the image from the Dockerfile and smoke-tests it (test/container/smoke.sh).
# Daemon: the one `docker` reaches; with CONTAINER_TEST_OWN_DAEMON=1 (what .ci/run sets), or when none is
# reachable and this runs as root, a private one (test/container/private-daemon.sh), stopped and deleted
# at the end with everything in it. On a daemon it did not start, it removes its containers and its image
# (a stand-in base it built stays, for the next run).
# Base image: node:<NODE_VERSION>-bookworm-slim if present or pullable; otherwise, offline, a stand-in
# built from debootstrap and this machine's own Node (test/container/build-base.sh; STAND_IN_NODE picks
# another Node binary), whose major then decides NODE_VERSION. The build trusts the extra CA certificates
# of NODE_EXTRA_CA_CERTS or npm's cafile (EXTRA_CA_CERTS build argument), for TLS-intercepting proxies.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "[test:container] $*"; }
IMAGE="${CONTAINER_TEST_IMAGE:-mas-api:smoke-$$}"
WORK="$(mktemp -d /tmp/mas-ctr.XXXXXX)"
OWN=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$OWN" ]; then
    say "stopping the private docker daemon and deleting its data"
    bash test/container/private-daemon.sh stop "$WORK/d"
  elif [ -z "${CONTAINER_TEST_IMAGE:-}" ]; then
    docker rmi "$IMAGE" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- daemon
if [ "${CONTAINER_TEST_OWN_DAEMON:-}" = 1 ] || { ! docker version >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; }; then
  say "starting a private docker daemon (own containerd, socket and data root under $WORK/d; no bridge)"
  OWN=1
  dh="$(bash test/container/private-daemon.sh start "$WORK/d")" || { say "the private docker daemon did not start" >&2; exit 1; }
  export "$dh"
elif ! docker version >/dev/null 2>&1; then
  say "no docker daemon reachable (start one, or run as root with docker.io installed)" >&2; exit 1
fi
say "docker daemon $(docker version -f '{{.Server.Version}}'), storage $(docker info -f '{{.Driver}}')"

# --- base image
NODE_VERSION="${NODE_VERSION:-$(sed -n 's/^ARG NODE_VERSION=//p' Dockerfile)}"
BASE="node:$NODE_VERSION-bookworm-slim"
if docker image inspect "$BASE" >/dev/null 2>&1; then
  say "base $BASE: present in the daemon$(docker image inspect -f '{{if index .Config.Labels "mas.stand-in"}} (a stand-in: {{index .Config.Labels "mas.stand-in"}}){{end}}' "$BASE")"
elif timeout 60 docker pull -q "$BASE" >/dev/null 2>&1; then
  say "base $BASE: pulled from the registry"
else
  STAND_IN_NODE="${STAND_IN_NODE:-$(command -v node)}"; export STAND_IN_NODE
  HOST_MAJOR="$("$STAND_IN_NODE" -p 'process.versions.node.split(".")[0]')"
  say "base $BASE: NO REGISTRY BASE IMAGE could be pulled; building a stand-in offline from debootstrap (bookworm minbase)"
  say "  and this machine's Node $("$STAND_IN_NODE" --version) ($STAND_IN_NODE), so the image is built and tested on Node $HOST_MAJOR$([ "$HOST_MAJOR" = "$NODE_VERSION" ] || echo ", not $NODE_VERSION")"
  NODE_VERSION="$HOST_MAJOR"; BASE="node:$NODE_VERSION-bookworm-slim"
  docker image inspect "$BASE" >/dev/null 2>&1 || bash test/container/build-base.sh "$BASE"
fi

# --- extra CA certificates: those of the configured bundle that Node does not already trust
CA_FILE="${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}"
EXTRA_CA=""
if [ -n "$CA_FILE" ] && [ "$CA_FILE" != null ] && [ -r "$CA_FILE" ]; then
  EXTRA_CA="$(node -e '
    const known = new Set(require("tls").rootCertificates.map((c) => c.replace(/\s+/g, "")));
    const pems = require("fs").readFileSync(process.argv[1], "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    process.stdout.write(pems.filter((c) => !known.has(c.replace(/\s+/g, ""))).join("\n"));' "$CA_FILE")"
  say "EXTRA_CA_CERTS: $(grep -c 'BEGIN CERTIFICATE' <<<"$EXTRA_CA" || true) certificate(s) from $CA_FILE that Node does not bundle"
fi

# --- build: BuildKit when the client has it (buildx, or a pre-23 client's built-in one); else the legacy builder
BUILD=(docker build)
if docker buildx version >/dev/null 2>&1; then BUILD=(docker buildx build --load --progress plain)
else
  for c in docker /usr/bin/docker; do
    v="$("$c" version -f '{{.Client.Version}}' 2>/dev/null || true)"
    if [ -n "$v" ] && [ "${v%%.*}" -lt 23 ] 2>/dev/null; then BUILD=(env DOCKER_BUILDKIT=1 "$c" build --progress plain); break; fi
  done
fi
say "building $IMAGE (NODE_VERSION=$NODE_VERSION) with: ${BUILD[*]} --network host"
t0=$SECONDS
if ! "${BUILD[@]}" --network host -t "$IMAGE" --build-arg NODE_VERSION="$NODE_VERSION" \
     --build-arg EXTRA_CA_CERTS="$EXTRA_CA" . >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log"; say "image build FAILED"; exit 1
fi
say "built $IMAGE in $((SECONDS - t0)) s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# --- smoke test
bash test/container/smoke.sh "$IMAGE"
