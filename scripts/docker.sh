#!/usr/bin/env bash
# Run a local Docker engine and build the function's image; no network needed inside containers.
#
#   scripts/docker.sh up|base|image|down ...   (several in a row: up base image)
#
#   up     start dockerd in the background (state under .tools/dockerd); no-op if it answers
#   base   build localhost/observability-fn-base:bookworm with debootstrap (rootfs cached in .tools/base)
#   image  build wheels on the host into dist/wheels, then example.com/observability-fn:dev from ./Dockerfile
#          with its offline option (WHEELS=dist/wheels): containers here cannot reach PyPI
#   down   stop the dockerd that `up` started, and wait for it to exit
#
# Needs: scripts/install-tools.sh --docker (docker.io, debootstrap), and .venv for `image`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.tools/dockerd
PIDFILE=$STATE/dockerd.pid
BASE_DIR=$ROOT/.tools/base
BASE_IMAGE=localhost/observability-fn-base:bookworm
BASE_TAR=$BASE_DIR/rootfs-bookworm.tar
IMAGE=example.com/observability-fn:dev
MIRROR=http://deb.debian.org/debian
# python3-venv brings the full stdlib and ensurepip's bundled pip wheel: all a venv + offline pip install need.
BASE_PACKAGES=python3-minimal,python3-venv
export DOCKER_HOST=unix:///var/run/docker.sock

log() { echo "docker.sh: $*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

pid_alive() { [[ -s $PIDFILE ]] && kill -0 "$(<"$PIDFILE")" 2>/dev/null; }

cmd_up() {
    if engine_answers; then
        log "dockerd already answers"
        return 0
    fi
    command -v dockerd >/dev/null || { log "no dockerd: run scripts/install-tools.sh --docker"; return 1; }
    mkdir -p "$STATE"
    if ! pid_alive; then
        # Bridge, iptables and masquerading off: containers here run with --network none anyway.
        setsid dockerd \
            --storage-driver=overlay2 \
            --iptables=false --ip-masq=false --bridge=none \
            --data-root="$STATE/root" --exec-root="$STATE/exec" --pidfile="$PIDFILE" \
            -H unix:///var/run/docker.sock \
            </dev/null >"$STATE/dockerd.log" 2>&1 &
    fi
    local i
    for ((i = 0; i < 300; i++)); do
        engine_answers && { log "dockerd up (pid $(<"$PIDFILE"), log .tools/dockerd/dockerd.log)"; return 0; }
        sleep 0.1
    done
    log "dockerd did not answer within 30 s; last lines of its log:"
    tail -n 20 "$STATE/dockerd.log" >&2
    return 1
}

cmd_down() {
    if ! pid_alive; then
        log "dockerd not running"
        rm -f "$PIDFILE"
        return 0
    fi
    local pid i
    pid=$(<"$PIDFILE")
    kill "$pid"
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || { log "dockerd stopped"; return 0; }
        sleep 0.1
    done
    log "dockerd (pid $pid) still running after 30 s"
    return 1
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

cmd_base() {
    if image_exists "$BASE_IMAGE"; then
        log "$BASE_IMAGE exists"
        return 0
    fi
    if [[ ! -s $BASE_TAR ]]; then
        local rootfs=$BASE_DIR/rootfs n
        rm -rf "$rootfs"
        mkdir -p "$BASE_DIR"
        log "debootstrap bookworm ($BASE_PACKAGES) ..."
        for n in 1 2 3; do
            debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$MIRROR" \
                >"$BASE_DIR/debootstrap.log" 2>&1 && break
            ((n < 3)) || { tail -n 20 "$BASE_DIR/debootstrap.log" >&2; return 1; }
            log "debootstrap failed, retrying"
            rm -rf "$rootfs"
            sleep $((n * 5))
        done
        # What a container never needs: apt's lists and caches, docs, man pages, translations.
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
            "$rootfs"/usr/share/{doc,man,info,locale}/* "$rootfs"/var/log/*
        tar -C "$rootfs" --numeric-owner -cf "$BASE_TAR.tmp" .
        mv "$BASE_TAR.tmp" "$BASE_TAR"
        rm -rf "$rootfs"
    fi
    log "docker import $BASE_IMAGE"
    docker import "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

cmd_image() {
    local py=$ROOT/.venv/bin/python requires
    [[ -x $py ]] || { log "no .venv: run scripts/install-tools.sh"; return 1; }
    image_exists "$BASE_IMAGE" || { log "no $BASE_IMAGE: run scripts/docker.sh base"; return 1; }
    # Containers have no network here, so the Dockerfile's offline option: every wheel comes from
    # the host, the build backend's too (pip builds the package from its sources inside the image).
    requires=$("$py" -c 'import sys, tomllib; print(*tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"])' \
        "$ROOT/pyproject.toml")
    mkdir -p "$ROOT/dist/wheels"
    # setuptools never prunes build/lib, so a module deleted from krm_fn/ would live on in the wheel.
    rm -rf "$ROOT/build" "$ROOT"/dist/wheels/observability_fn-*.whl
    log "pip wheel . $requires -> dist/wheels"
    (cd "$ROOT" && "$py" -m pip wheel -q --disable-pip-version-check . $requires -w dist/wheels)
    rm -rf "$ROOT/build" "$ROOT"/dist/wheels/observability_fn-*.whl
    log "docker build $IMAGE (WHEELS=dist/wheels)"
    docker build --build-arg BASE="$BASE_IMAGE" --build-arg WHEELS=dist/wheels -t "$IMAGE" "$ROOT" >&2
    # The untagged build stage and the previous image: the sources differ on every build, so
    # they would never be reused as cache, only pile up (this engine is ours alone, under .tools).
    docker image prune -f >/dev/null
    log "$IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

(($#)) || { sed -n '2,12p' "$0"; exit 2; }
for cmd in "$@"; do
    case $cmd in
        up | down | base | image) "cmd_$cmd" ;;
        -h | --help) sed -n '2,12p' "$0" ;;
        *) log "unknown command: $cmd"; exit 2 ;;
    esac
done
