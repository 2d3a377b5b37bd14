#!/usr/bin/env bash
# End-to-end test of the image and the lab; a user or CI runs it from any
# directory. Builds the image, checks what it is made of, runs one container
# with only a zones volume and a config (reload, a broken zone, health), then
# the compose lab: answers from primary and secondary, an edit that reaches
# both (SIGHUP, NOTIFY, IXFR), the secondary answering alone, `mailzone route`
# and `mailzone check` inside the lab. Everything it starts is removed on
# exit, failed or not. Talks to nothing beyond the containers' own bridges.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export MAILZONE_IMAGE="${MAILZONE_IMAGE:-mailzone:lab-test}"
project="mzlab$$"
solo="mzsolo$$"
work="$(mktemp -d)"
# The containers run as UID 65532 and read the bind-mounted files.
chmod 0755 "$work"

step() { printf '\n== %s\n' "$*"; }
# grep that reads its whole input: `grep -q` stops at the first match, and
# with pipefail the writer's SIGPIPE would fail the pipeline.
contains() { grep "$@" >/dev/null; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

command -v docker >/dev/null 2>&1 || fail "docker is not installed (Debian package docker.io)"
docker info >/dev/null 2>&1 || fail "the Docker engine does not answer (is dockerd running?)"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor docker-compose is installed (Debian package docker-compose)"
fi
dc() { "${compose[@]}" -p "$project" -f "$work/lab/compose.yaml" "$@"; }

cleanup() {
  local code=$?
  if [ "$code" -ne 0 ]; then
    echo "--- logs (test failed) ---" >&2
    docker logs "$solo" >&2 2>&1 || true
    [ -f "$work/lab/compose.yaml" ] && dc logs --no-color >&2 2>&1 || true
  fi
  docker rm -f "$solo" >/dev/null 2>&1 || true
  [ -f "$work/lab/compose.yaml" ] && dc down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

# Polls a command (quietly) once a second until it succeeds; fails after $1 s.
wait_for() {
  local secs=$1 what=$2
  shift 2
  for _ in $(seq "$secs"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  fail "$what (waited ${secs} s)"
}

health_is() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = "$2" ]; }

step "build the image"
"$root/docker/build.sh"

step "the image: non-root, static, no shell or package manager, under 15 MB"
[ "$(docker image inspect -f '{{.Config.User}}' "$MAILZONE_IMAGE")" = "65532:65532" ] || fail "image user is not 65532:65532"
size=$(docker image inspect -f '{{.Size}}' "$MAILZONE_IMAGE")
[ "$size" -lt $((15 * 1024 * 1024)) ] || fail "image is $size bytes, over 15 MB"
echo "image size: $((size / 1024)) KiB"
cid=$(docker create "$MAILZONE_IMAGE")
files=$(docker export "$cid" | tar -t | grep -v '/$' | sort)
docker rm "$cid" >/dev/null
echo "$files"
expected=$(printf '%s\n' .dockerenv dev/console etc/group etc/hostname etc/hosts etc/mailzone/mailzone.toml \
  etc/mtab etc/passwd etc/resolv.conf usr/local/bin/mailzone zones/example.com.zone | sort)
# .dockerenv, dev/console, hostname, hosts, mtab and resolv.conf are the engine's, made for every container.
unexpected=$(comm -23 <(echo "$files") <(echo "$expected"))
[ -z "$unexpected" ] || fail "unexpected files in the image: $unexpected"

step "docker run with only a zones volume and a config"
mkdir -p "$work/solo/zones"
cp "$here/zones/lab.example.zone" "$work/solo/zones/"
cat >"$work/solo/mailzone.toml" <<'EOF'
version = 1
[[zone]]
name = "lab.example."
file = "/zones/lab.example.zone"
[zone.check]
allow = [{ id = "MX012", reason = "lab addresses" }]
[server]
listen = ["0.0.0.0:53"]
control_socket = "/run/mailzone/control.sock"
EOF
chmod -R a+rX "$work/solo"
# No network but its own loopback: queries come from inside (docker exec).
docker run -d --name "$solo" --network none \
  -v "$work/solo/zones:/zones" \
  -v "$work/solo/mailzone.toml:/etc/mailzone/mailzone.toml:ro" \
  --health-interval 1s --health-timeout 2s --health-retries 2 --health-start-period 5s \
  "$MAILZONE_IMAGE" >/dev/null
wait_for 30 "the container did not become healthy" health_is "$solo" healthy
q() { docker exec "$solo" mailzone query @127.0.0.1 "$@"; }
q lab.example MX | contains 'MX 10 mx1.lab.example.' || fail "no MX answer from the container"
[ "$(docker exec "$solo" /bin/sh -c true 2>/dev/null && echo shell)" != shell ] || fail "the image has a shell"
docker exec "$solo" mailzone status | contains 'lab.example' || fail "mailzone status inside the container"

# A broken edit: the old zone keeps serving, docker logs say where.
printf 'broken   IN MX  not-a-number mx1\n' >>"$work/solo/zones/lab.example.zone"
bad_line=$(wc -l <"$work/solo/zones/lab.example.zone")
docker kill -s HUP "$solo" >/dev/null
logged() { docker logs "$solo" 2>&1 | contains "lab.example.zone:$bad_line"; }
wait_for 10 "no diagnostic with lab.example.zone:$bad_line in docker logs" logged
docker logs "$solo" 2>&1 | grep "lab.example.zone:$bad_line" | head -3
[ "$(docker inspect -f '{{.State.Running}}' "$solo")" = true ] || fail "the container stopped on a broken zone"
q lab.example MX | contains 'MX 10 mx1.lab.example.' || fail "the last good zone is not served"
if q broken.lab.example MX | contains 'IN MX'; then fail "the broken record was served"; fi

# A good edit is served after SIGHUP.
sed -i -e '$d' -e 's/2026120301 ; serial/2026120302 ; serial/' "$work/solo/zones/lab.example.zone"
printf 'added    IN TXT "reloaded"\n' >>"$work/solo/zones/lab.example.zone"
docker kill -s HUP "$solo" >/dev/null
edited() { q added.lab.example TXT | contains reloaded; }
wait_for 10 "the edit was not served after SIGHUP" edited
health_is "$solo" healthy || fail "unhealthy after reloads"

# A server that stops answering turns the container unhealthy.
docker kill -s STOP "$solo" >/dev/null
wait_for 20 "the container did not turn unhealthy while the server was frozen" health_is "$solo" unhealthy
docker kill -s CONT "$solo" >/dev/null
wait_for 20 "the container did not recover" health_is "$solo" healthy
echo "healthcheck: healthy -> unhealthy (SIGSTOP) -> healthy (SIGCONT)"

docker stop -t 10 "$solo" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$solo")" = 0 ] || fail "SIGTERM did not end the server with exit code 0"
echo "SIGTERM: exit code 0"

step "the lab: primary, secondary (TSIG, NOTIFY), probe"
cp -r "$here" "$work/lab"
rm -f "$work/lab/test.sh"
chmod -R a+rX "$work/lab"
dc up -d
probe=$(dc ps -q probe)
[ -n "$probe" ] || fail "no probe container"
[ "$(docker wait "$probe")" = 0 ] || fail "the probe failed: $(docker logs "$probe" 2>&1)"
docker logs "$probe"
docker logs "$probe" | contains 'mx1.lab.example. *172.30.53.25' || fail "the probe's route lacks mx1"

run() { dc run --rm --no-deps -T probe "$@"; }
answer() { run query "@$1" "$2" "$3" --dnssec | sed -n '/;; ANSWER/,/^$/p' | { grep -v '^;;' || true; } | sort; }
for server in 172.30.53.10 172.30.53.11; do
  for qt in "lab.example MX" "lab.example TXT" "lab._domainkey.lab.example TXT" "_dmarc.lab.example TXT" \
    "parked.example MX" "parked.example DNSKEY"; do
    set -- $qt
    out=$(answer "$server" "$1" "$2")
    [ -n "$out" ] || fail "no $2 answer for $1 from $server"
  done
done
out=$(answer 172.30.53.11 lab.example TXT)
echo "$out" | contains 'v=spf1 ip4:172.30.53.25' || fail "SPF missing from the secondary: $out"
out=$(answer 172.30.53.11 _dmarc.lab.example TXT)
echo "$out" | contains 'v=DMARC1; p=reject' || fail "DMARC missing from the secondary: $out"
out=$(answer 172.30.53.11 lab._domainkey.lab.example TXT)
echo "$out" | contains 'v=DKIM1; k=rsa;' || fail "DKIM missing from the secondary: $out"
out=$(answer 172.30.53.11 parked.example DNSKEY)
echo "$out" | contains 'RRSIG DNSKEY 13 ' || fail "the signed zone reached the secondary unsigned: $out"
for qt in "lab.example MX" "lab._domainkey.lab.example TXT" "_dmarc.lab.example TXT" "parked.example MX"; do
  set -- $qt
  [ "$(answer 172.30.53.10 "$1" "$2")" = "$(answer 172.30.53.11 "$1" "$2")" ] || fail "primary and secondary differ on $1 $2"
done
echo "MX, SPF, DKIM, DMARC and the signed zone agree on both servers"

step "edit on the volume, SIGHUP the primary, NOTIFY reaches the secondary"
zone="$work/lab/zones/lab.example.zone"
sed -i 's/2026120301 ; serial/2026120302 ; serial/' "$zone"
printf 'mx3             IN A    172.30.53.27\n                IN TXT  "v=spf1 a -all"\n@               IN MX   30 mx3\n' >>"$zone"
dc kill -s SIGHUP primary
has_mx3() { answer "$1" lab.example MX | contains 'MX 30 mx3'; }
wait_for 15 "the primary did not serve the edit" has_mx3 172.30.53.10
wait_for 15 "the secondary did not follow (NOTIFY, IXFR)" has_mx3 172.30.53.11
dc logs secondary | grep -i 'notify' | tail -2 || true
echo "the edit reached the primary and the secondary"

step "stop the primary: the secondary answers alone"
dc stop primary
run route postmaster@lab.example --server 172.30.53.11 | tee "$work/route.txt"
grep -q 'mx3.lab.example. *172.30.53.27' "$work/route.txt" || fail "route via the secondary lacks mx3"
code=0
out=$(run route parked.example --server 172.30.53.11) || code=$?
echo "$out"
[ "$code" = 1 ] || fail "route for a null-MX domain exited $code, not 1"
echo "$out" | contains 'null MX (RFC 7505)' || fail "route does not report the null MX"

step "mailzone check inside the lab"
dc run --rm --no-deps -T primary check /etc/mailzone/mailzone.toml | tail -3
dc run --rm --no-deps -T primary check /etc/mailzone/mailzone.toml >/dev/null || fail "mailzone check of the lab config failed"

step "lab test passed"
