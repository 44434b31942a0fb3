#!/usr/bin/env bash
# Builds an offline stand-in for the official node:<major>-bookworm-slim image when no image registry
# is reachable: Debian 12 (debootstrap --variant=minbase, from the Debian mirror) plus this machine's own
# Node and npm, imported under the official name so the Dockerfile's FROM finds it.
# Usage: test/container/build-base.sh IMAGE_TAG   (e.g. node:20-bookworm-slim; the major must be the host's)
# STAND_IN_NODE=/path/to/node takes that Node binary instead of the host's (npm stays the host's).
# Needs root, debootstrap and a reachable docker daemon. The image carries the label mas.stand-in.
set -euo pipefail
TAG="${1:?usage: build-base.sh IMAGE_TAG}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE_BIN="$(readlink -f "${STAND_IN_NODE:-$(command -v node)}")"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
NODE_VERSION="$("$NODE_BIN" -p 'process.versions.node')"
want="${TAG#node:}"; want="${want%%-*}"
if [ "${NODE_VERSION%%.*}" != "$want" ]; then
  echo "build-base: $TAG needs Node $want but this machine has Node $NODE_VERSION" >&2; exit 1
fi

ROOT="$(mktemp -d /tmp/mas-base.XXXXXX)"
chmod 0755 "$ROOT" # mktemp made it 0700, and it becomes the image's /
trap 'rm -rf --one-file-system "$ROOT"' EXIT
echo "build-base: debootstrap --variant=minbase bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || { tail -20 "$ROOT.log" >&2; rm -f "$ROOT.log"; exit 1; }
rm -f "$ROOT.log"

# Node and npm where the official image has them (/usr/local), nothing of the host's npm configuration.
install -m 0755 "$NODE_BIN" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
if chroot "$ROOT" /usr/bin/ldd /usr/local/bin/node | grep -q 'not found'; then
  echo "build-base: $NODE_BIN needs libraries that minbase lacks" >&2; exit 1
fi

# The official image's apt sources (security updates included) and its cleanliness.
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/* "$ROOT"/tmp/*

echo "build-base: importing $TAG (Node $NODE_VERSION from $NODE_BIN)"
tar --numeric-owner -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'LABEL mas.stand-in=debootstrap-minbase-bookworm+host-node' \
  --change 'CMD ["node"]' \
  - "$TAG" >/dev/null
