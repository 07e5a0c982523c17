#!/usr/bin/env bash
# Builds the Dockerfile with Debian's buildah where no Docker engine runs (this project's
# machines and CI), against the stand-in base image from scripts/image/base-image.sh:
#
#   scripts/image/build.sh [TAG [BUILDAH_OPTION...]]   # TAG: localhost/jiwoo:dev (or $IMAGE)
#   scripts/image/build.sh localhost/jiwoo:dev --no-cache
#   DOCKERFILE=other.Dockerfile scripts/image/build.sh localhost/jiwoo:other
#
# The settings this host needs: --pull=never (no registry is reachable), --format docker (OCI
# images drop HEALTHCHECK), --isolation chroot with explicit ulimits (the defaults cannot be
# set inside this sandbox), --layers (the dependency layer is reused while requirements.txt
# is unchanged), and the pip set-up of the host (its index and CA bundle) mounted as a
# pip.conf for the RUN steps only: nothing of it stays in the image.
set -euo pipefail
cd "$(dirname "$0")/../.."

TAG="${1:-${IMAGE:-localhost/jiwoo:dev}}"
shift || true
PYTHON="${PYTHON:-python3}"

scripts/image/base-image.sh

# One setting of the host's pip, environment first (as pip reads it), then its files.
host_pip() {
  "$PYTHON" -m pip config list 2>/dev/null \
    | sed -n "s/^\(:env:\|global\|install\)\.$1='\(.*\)'\$/\2/p" | head -n 1 || true
}
cert="$(host_pip cert)"
cert="${cert:-/etc/ssl/certs/ca-certificates.crt}"
index_url="$(host_pip index-url)"
# Only indexes reachable over the network: file:// ones exist on the host alone.
extra_urls="$(host_pip extra-index-url | tr ' ' '\n' | grep -E '^https?://' | tr '\n' ' ' || true)"

# The RUN steps see this folder as root's home (read-only): pip reads ~/.config/pip/pip.conf.
# /root exists in the base image, so the mount leaves no mount point behind in any layer, as a
# new file such as /etc/pip.conf would.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/.config/pip"
cp "$cert" "$home/.config/pip/host-ca.crt"
{
  echo "[global]"
  echo "cert = /root/.config/pip/host-ca.crt"
  echo "timeout = 180"
  [ -z "$index_url" ] || echo "index-url = $index_url"
  [ -z "${extra_urls// /}" ] || echo "extra-index-url = $extra_urls"
} >"$home/.config/pip/pip.conf"
chmod -R a+rX "$home"

old_id="$(podman image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
start=$SECONDS
buildah build \
  --pull=never \
  --format docker \
  --isolation chroot \
  --layers \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  --volume "$home:/root:ro" \
  --tag "$TAG" \
  --file "${DOCKERFILE:-Dockerfile}" \
  "$@" \
  .
echo "built $TAG in $((SECONDS - start)) s"
# The image this one replaces is no longer named: remove it unless something still uses it.
new_id="$(podman image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then podman rmi "$old_id" >/dev/null 2>&1 || true; fi
