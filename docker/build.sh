#!/usr/bin/env bash
# Builds the mailzone image: a static release binary (glibc, crt-static, so
# it needs nothing from the image), then `docker build` of docker/Dockerfile
# on a context assembled under target/docker/. The tag is $MAILZONE_IMAGE
# (default mailzone:latest). Prints the image size.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${MAILZONE_IMAGE:-mailzone:latest}"
triple=x86_64-unknown-linux-gnu

command -v docker >/dev/null 2>&1 || {
  echo "docker/build.sh: docker is not installed (Debian package docker.io)" >&2
  exit 2
}

# crt-static applies to the target only (build scripts and proc macros stay
# dynamic because --target is given); strip keeps the image small.
RUSTFLAGS="-C target-feature=+crt-static" \
CARGO_PROFILE_RELEASE_DEBUG=0 \
CARGO_PROFILE_RELEASE_STRIP=symbols \
  cargo build --release --locked --target "$triple" -p mailzone

ctx=target/docker/context
rm -rf "$ctx"
mkdir -p "$ctx/state/zones" "$ctx/state/keys" "$ctx/state/run/mailzone"
cp "target/$triple/release/mailzone" "$ctx/mailzone"
cp -r docker/rootfs "$ctx/rootfs"
cp docker/Dockerfile "$ctx/Dockerfile"
# The example zone, so that `docker run` with no volume serves something.
cp zones/example.com.zone "$ctx/state/zones/example.com.zone"
chmod 0755 "$ctx/mailzone" "$ctx/state/zones" "$ctx/state/run" "$ctx/state/run/mailzone"
chmod 0700 "$ctx/state/keys"
chmod 0644 "$ctx/state/zones/example.com.zone"
find "$ctx/rootfs" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

docker build --quiet -t "$image" "$ctx" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "built $image: $((size / 1024)) KiB ($(ls -l "$ctx/mailzone" | awk '{print $5}') bytes of binary)"
