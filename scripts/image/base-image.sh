#!/usr/bin/env bash
# A stand-in for the Dockerfile's base image, python:3.11-slim-bookworm, made with debootstrap
# where no container registry can be reached (this project's machines and CI): Debian bookworm
# with python3, python3-venv and python3-pip, `python`, `python3`, `python3.11`, `pip` and
# `pip3` linked under /usr/local/bin as in the official image, and the official image's
# environment (PATH, LANG). It is imported into the local container storage under the base
# image's own name, so `buildah build --pull=never` uses it unchanged.
#
#   scripts/image/base-image.sh           # make it unless it exists already
#   scripts/image/base-image.sh --force   # make it again
#
# Needs root, debootstrap and podman. About a minute.
set -euo pipefail

NAME="${BASE_IMAGE:-docker.io/library/python:3.11-slim-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "${1:-}" != "--force" ] && podman image exists "$NAME"; then
  echo "base image $NAME exists"
  exit 0
fi

old_id="$(podman image inspect --format '{{.Id}}' "$NAME" 2>/dev/null || true)"
root="$(mktemp -d /var/tmp/jiwoo-base-image.XXXXXX)"
cleanup() {
  # debootstrap mounts /proc and /sys in the target while it runs: never delete through them.
  for mount in proc sys dev/pts dev; do umount -l "$root/$mount" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "debootstrap bookworm into $root"
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,ca-certificates,netbase,tzdata \
  bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -n 30 "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# The official image's interpreter lives in /usr/local/bin.
for name in python python3 python3.11; do ln -sf /usr/bin/python3.11 "$root/usr/local/bin/$name"; done
for name in pip pip3; do ln -sf /usr/bin/pip3 "$root/usr/local/bin/$name"; done
# Trim as the slim image does.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log

tar --numeric-owner -C "$root" -cf - . | podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "stand-in for python:3.11-slim-bookworm (debootstrap bookworm)" \
  - "$NAME"
# The image it replaces, if any, is no longer named: remove it unless something still uses it.
if [ -n "$old_id" ]; then podman rmi "$old_id" >/dev/null 2>&1 || true; fi
podman --runtime runc run --rm --network none --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$NAME" python -c 'import sys, venv, ensurepip; print(sys.version)'
