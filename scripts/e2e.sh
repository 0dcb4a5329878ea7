#!/usr/bin/env bash
# End to end against a real cluster (kind, k3d, minikube…): obsctl up → verify → down.
#
#   KUBECONFIG=~/.kube/config scripts/e2e.sh
#
# Environment:
#   E2E_PROFILE      profile to install (default: dev)
#   E2E_CONTEXT      kube context (default: the kubeconfig's current context)
#   E2E_TIMEOUT      Helm timeout per release (default: 15m)
#   E2E_KEEP=1       leave the stack installed (skip `down`)
#   E2E_KEEP_DATA=1  `down` without --purge-data (volume claims stay)
#
# With no kubeconfig or an unreachable cluster it says so and exits 0, so CI without a cluster
# stays green. Exit 1 when any stage fails; `down` runs even after a failed `up` or `verify`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '[e2e] %s\n' "$*" >&2; }

kubeconfig=${KUBECONFIG:-$HOME/.kube/config}
if [[ ! -f "${kubeconfig%%:*}" ]]; then
  say "no cluster: no kubeconfig (KUBECONFIG unset and no ~/.kube/config); skipped"
  exit 0
fi

"$root/scripts/install-tools.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"

context_args=()
if [[ -n "${E2E_CONTEXT:-}" ]]; then context_args=(--context "$E2E_CONTEXT"); fi
if ! kubectl "${context_args[@]}" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
  say "no cluster: the API server of $(kubectl "${context_args[@]}" config current-context 2>/dev/null || echo '(no current context)') is not reachable; skipped"
  exit 0
fi

cargo build --release --quiet
obsctl="$root/target/release/obsctl"
profile=${E2E_PROFILE:-dev}
common=(--profile "$profile" "${context_args[@]}")
say "cluster $(kubectl "${context_args[@]}" config current-context), profile $profile"

status=0
down() {
  if [[ "${E2E_KEEP:-}" == 1 ]]; then
    say "E2E_KEEP=1: leaving the stack installed (obsctl down ${common[*]} --yes removes it)"
    return
  fi
  local purge=(--purge-data)
  if [[ "${E2E_KEEP_DATA:-}" == 1 ]]; then purge=(); fi
  say "down"
  "$obsctl" down "${common[@]}" --helm "$root/.tools/bin/helm" --yes "${purge[@]}" || status=1
}
trap down EXIT

say "up"
if ! "$obsctl" up "${common[@]}" --helm "$root/.tools/bin/helm" --yes --timeout "${E2E_TIMEOUT:-15m}"; then
  say "up failed"
  status=1
else
  say "up again: every release must be unchanged"
  out=$("$obsctl" up "${common[@]}" --helm "$root/.tools/bin/helm" --yes --output json) || status=1
  if grep -q '"note":"upgraded"\|"note":"installed"' <<<"$out"; then
    say "a second up changed a release"
    status=1
  fi
  say "verify"
  "$obsctl" verify "${common[@]}" --timeout 5m || { say "verify failed"; status=1; }
fi

trap - EXIT
down
if [[ $status == 0 ]]; then say "passed"; else say "FAILED"; fi
exit "$status"
