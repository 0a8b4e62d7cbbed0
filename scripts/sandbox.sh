#!/usr/bin/env bash
# Command 1 of the README: installs what is missing, builds, and starts the sandbox: fake
# Partner Center, fake Salesforce and a fake token endpoint on loopback, seeded with referrals,
# plus `cosyncd run` on config/examples/sandbox.yaml. Ctrl-C stops everything.
# `scripts/sandbox.sh dataverse` runs the same against a fake Dynamics 365 (Dataverse) instead.
set -euo pipefail
config=config/examples/sandbox.yaml
state=.sandbox/state  # the config's state_dir: the fakes put the Partner Center refresh token there
extra_fakes=()
if [ "${1:-}" = "dataverse" ]; then
  config=config/examples/sandbox-dataverse.yaml
  state=.sandbox/state-dataverse
  extra_fakes=(--dv-port 18084)
fi
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
COSYNC_BUILD_TARGETS="cosyncd cosync-fakes" bash scripts/build.sh build

rm -rf .sandbox
mkdir -p "$state"
chmod 700 .sandbox "$state"
printf 'sandbox-secret\n' > .sandbox/client_secret
chmod 600 .sandbox/client_secret

build/tests/cosync-fakes --token-port 18081 --pc-port 18082 --sf-port 18083 "${extra_fakes[@]}" --state-dir "$state" \
  > >(sed -u 's/^/[fakes] /') &
fakes=$!
trap 'kill $fakes 2>/dev/null || true; wait $fakes 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/18083) 2>/dev/null && break
  sleep 0.1
done

echo "[sandbox] cosyncd run --config $config (Ctrl-C to stop)"
build/cosyncd run --config "$config"
