#!/usr/bin/env bash
# The shipped unit under a real systemd: boots Debian 12 (systemd as PID 1) in systemd-nspawn with
# the .deb installed, the sandbox fakes on the host's loopback (the container shares the host's
# network), and shows, through systemctl and the journal:
#   1. the service reaches `active (running)` through READY=1 (Type=notify);
#   2. secrets arrive through LoadCredential= (the config reads only ${CREDENTIALS_DIRECTORY});
#   3. `systemctl stop` while a record is in flight ends it within TimeoutStopSec, the record
#      committed (every Lead the fake Salesforce created has its link in the state database);
#   4. `systemctl reload` re-reads a changed mapping (RELOADING=1 then READY=1, same MainPID);
#   5. a configuration error stops it with status 78 and no restart (RestartPreventExitStatus=78);
#   6. the watchdog restarts a daemon whose loop is stuck (test-only COSYNC_TEST_STALL_LOOP=1).
# The root (debootstrap) is cached in /var/cache/cosync-test, keyed by what the package needs;
# each run boots a throw-away overlay of it. Exits 77 with "COSYNC-TEST-SKIPPED: reason" where the
# machine cannot (no root, no systemd-nspawn/debootstrap, no mirror, a container that does not boot).
# Usage: tests/ops/systemd_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build=$(cd "${1:?usage: systemd_test.sh BUILD_DIR}" && pwd)
skip() { echo "COSYNC-TEST-SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; dump_logs; exit 1; }
leader=""  # the container's PID 1, once booted
in_ct() { nsenter --target "$leader" --mount --uts --ipc --pid --net -- "$@"; }
dump_logs() {
  [ -n "$leader" ] || return 0
  echo "--- journal of cosyncd.service (last 60 lines, without D-Bus and mount chatter)"
  in_ct journalctl --no-pager -u cosyncd 2>/dev/null |
    grep -v -e 'Sent message' -e 'Got message' -e '(cosyncd)\[' -e '(sd-' -e 'us connection' | tail -60 || true
  echo "--- fakes"; tail -20 "$run/fakes.log"
}
note() { echo "[$(( $(date +%s) - t_begin ))s] $*"; }
t_begin=$(date +%s)

[ "$(id -u)" -eq 0 ] || skip "booting a container needs root (systemd-nspawn)"
for tool in systemd-nspawn debootstrap nsenter python3 sqlite3 cpack dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (scripts/install-deps.sh installs it)"
done

package_log=$(mktemp)
deb=$(bash "$root/scripts/package.sh" "$build" 2>"$package_log" | tail -1) || { tail -20 "$package_log"; deb=""; }
rm -f "$package_log"
[ -f "$deb" ] || fail "scripts/package.sh could not build the package"
cmake --build "$build" --target cosync-fakes >/dev/null
note "package $(basename "$deb") and cosync-fakes built"

# --- The cached root: Debian 12 with systemd, then the package's dependencies ----------------
# Built once (debootstrap: about 3 minutes) and kept between runs; the dependencies are added to
# it by apt (Depends names virtual packages, which debootstrap cannot resolve) whenever the
# package's Depends change. Each run boots a throw-away overlay of it.
cache=/var/cache/cosync-test
mkdir -p "$cache"
base="$cache/bookworm-systemd-v1"
deps_stamp=".cosync-deps-$(dpkg-deb -f "$deb" Depends | sha256sum | cut -c1-16)"
{
  flock 9
  if [ ! -e "$base/.cosync-root-ready" ]; then
    rm -rf "$base.tmp"
    note "building the container root $base (once; debootstrap takes a few minutes)"
    t=$(date +%s)
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$base.tmp" \
      http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
      { tail -5 "$cache/debootstrap.log"; rm -rf "$base.tmp"; skip "debootstrap could not build the root (see $cache/debootstrap.log)"; }
    # No login prompt on the console; the network is the host's, nothing to configure. A
    # machine id, or every boot is a "first boot" that enables (and starts) every unit by preset.
    rm -f "$base.tmp"/etc/systemd/system/getty.target.wants/*
    [ -s "$base.tmp/etc/machine-id" ] || systemd-machine-id-setup --root="$base.tmp" >/dev/null
    touch "$base.tmp/.cosync-root-ready"
    mv "$base.tmp" "$base"
    note "root built in $(( $(date +%s) - t ))s"
  fi
  if [ ! -e "$base/$deps_stamp" ]; then
    note "installing the package's dependencies into the cached root"
    cp "$deb" "$base/root/cosync.deb"
    cp /etc/resolv.conf "$base/etc/resolv.conf"
    mount -t proc proc "$base/proc"
    if ! chroot "$base" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends /root/cosync.deb && dpkg --purge cosync' >"$cache/deps.log" 2>&1; then
      umount "$base/proc"
      tail -5 "$cache/deps.log"
      skip "apt could not install the package's dependencies into the root (see $cache/deps.log)"
    fi
    umount "$base/proc"
    rm -f "$base/root/cosync.deb" "$base"/.cosync-deps-*
    touch "$base/$deps_stamp"
  fi
} 9>"$cache/.lock"

# --- Per run: an overlay of the root, the fakes and the slow proxy on loopback ---------------
run=$(mktemp -d /var/tmp/cosync-systemd-test.XXXXXX)
mkdir -p "$run/upper" "$run/work" "$run/merged" "$run/fakes-state"
pids=()
nspawn_pid=""
cleanup() {
  set +e
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid"  # nspawn powers the container off
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  mountpoint -q "$run/merged" && umount -l "$run/merged"
  rm -rf "$run"
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$run/merged" ||
  skip "cannot mount an overlay of the container root on this machine"
m="$run/merged"

"$build/tests/cosync-fakes" --token-port 0 --pc-port 0 --sf-port 0 --state-dir "$run/fakes-state" >"$run/fakes.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "fakes ready" "$run/fakes.log" && break; sleep 0.1; done
grep -q "fakes ready" "$run/fakes.log" || fail "the fakes did not start: $(cat "$run/fakes.log")"
url_of() { grep -o "^$1: http://127.0.0.1:[0-9]*" "$run/fakes.log" | sed 's/.*: //'; }
token_url=$(url_of fake-token-server)
pc_url=$(url_of fake-partner-center)
sf_port=$(url_of fake-salesforce | sed 's/.*://')
python3 "$root/tests/ops/slow_write_proxy.py" 0 "$sf_port" "$run/writes" "$run/release" >"$run/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "proxy ready" "$run/proxy.log" && break; sleep 0.1; done
proxy_port=$(sed -n 's/^proxy ready //p' "$run/proxy.log")
[ -n "$proxy_port" ] || fail "the proxy did not start: $(cat "$run/proxy.log")"

# --- The package and its configuration, as an admin would set them up ------------------------
cp "$deb" "$m/root/cosync.deb"
chroot "$m" dpkg -i /root/cosync.deb >"$run/dpkg.log" 2>&1 || fail "dpkg -i failed: $(tail -5 "$run/dpkg.log")"
mkdir -p "$m/etc/cosync/mappings" "$m/etc/cosync/credentials"
cat >"$m/etc/cosync/cosync.yaml" <<EOF
# Written by tests/ops/systemd_test.sh: the sandbox, with secrets only from LoadCredential=.
state_dir: /var/lib/cosync
poll_interval: 3s
log:
  level: info
  format: text
http:
  timeout: 10s
  max_attempts: 2
partner_center:
  base_url: $pc_url
  overlap: 5m
  auth:
    token_url: $token_url/token
    client_id: sandbox-client
    client_secret_file: \${CREDENTIALS_DIRECTORY}/partner_center_client_secret
connections:
  salesforce:
    type: salesforce
    instance_url: http://127.0.0.1:$proxy_port
    api_version: "60.0"
    auth:
      token_url: $token_url/token
      client_id: sandbox-client
      client_secret_file: \${CREDENTIALS_DIRECTORY}/salesforce_client_secret
mappings:
  - mappings/pc-sf-leads.yaml
EOF
cp "$m/etc/cosync/cosync.yaml" "$run/good.yaml"
# At first only the US referral (Contoso) is selected; the reload drops that condition.
mapping="$root/config/examples/mappings/pc-sf-leads.yaml"
grep -q '^  status: \[New, Active\]$' "$mapping" || fail "$mapping no longer has the select line this test extends"
sed 's/^  status: \[New, Active\]$/&\n  customerProfile.address.country: [US]/' "$mapping" >"$m/etc/cosync/mappings/pc-sf-leads.yaml"
for name in salesforce_client_secret partner_center_client_secret; do
  (umask 077 && printf 'sandbox-secret\n' >"$m/etc/cosync/credentials/$name")
done
chmod 700 "$m/etc/cosync/credentials"
# The Partner Center refresh token `cosyncd login` would have stored; systemd chowns the
# directory to the dynamic user when the service starts.
install -d -m 700 "$m/var/lib/private" "$m/var/lib/private/cosync"
install -m 600 "$run/fakes-state/pc_refresh_token" "$m/var/lib/private/cosync/pc_refresh_token"

# --- Boot ------------------------------------------------------------------------------------
note "booting systemd in systemd-nspawn"
# --register=no --keep-unit: the host needs no systemd of its own (no machined to register with,
# no host manager to make a scope for the container); the container's systemd runs as PID 1.
systemd-nspawn --quiet --boot --register=no --keep-unit --directory="$m" --machine="cosync-test-$$" \
  --console=pipe </dev/null >"$run/console.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 300); do
  kill -0 "$nspawn_pid" 2>/dev/null || break
  for child in $(pgrep -P "$nspawn_pid" 2>/dev/null); do
    [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] && leader=$child
  done
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || skip "systemd-nspawn cannot boot a container here: $(tail -5 "$run/console.log" | tr '\n' ' ')"
# Until its manager listens, systemctl cannot connect and prints nothing: ask again.
state=""
for _ in $(seq 450); do
  state=$(in_ct timeout 90 systemctl is-system-running --wait 2>/dev/null || true)
  [ -n "$state" ] && break
  sleep 0.2
done
case "$state" in
  running|degraded) ;;
  *) skip "systemd did not finish booting in the container (state '$state'): $(tail -5 "$run/console.log" | tr '\n' ' ')" ;;
esac
note "container booted ($state, $(in_ct systemctl --version | head -1))"
# Debug level puts every sd_notify message the service sends in the journal.
in_ct systemctl log-level debug

show() { in_ct systemctl show -P "$1" cosyncd; }
# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s; fails with WHAT when it runs out.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local end=$(( $(date +%s) + seconds ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.2
  done
}
# (grep reads to the end: an early exit of grep -q would fail the pipe under pipefail)
journal_has() { in_ct journalctl --no-pager -u cosyncd --since "@$1" | grep -- "$2" >/dev/null; }
now_ms() { date +%s%3N; }
links() { sqlite3 "file:$m/var/lib/private/cosync/state.db?mode=ro" "select count(*) from links" 2>/dev/null || echo 0; }
links_reach() { [ "$(links)" -ge "$1" ]; }

# 1. active (running) through READY=1.
t=$(now_ms); since=$(date +%s)
in_ct timeout 60 systemctl start cosyncd || fail "systemctl start cosyncd failed"
[ "$(show ActiveState)/$(show SubState)" = active/running ] || fail "not active (running): $(show ActiveState)/$(show SubState)"
status=$(in_ct systemctl status --no-pager cosyncd 2>/dev/null || true)
grep -q 'Active: active (running)' <<<"$status" || fail "systemctl status does not say active (running): $status"
journal_has "$since" "Got notification message from PID $(show MainPID) (READY=1" || fail "no READY=1 from cosyncd in the journal"
note "PASS 1: active (running) through READY=1 in $(( $(now_ms) - t )) ms"

# 2. LoadCredential=: the secrets are root-only files the dynamic user cannot open; systemd hands
# them over in the service's $CREDENTIALS_DIRECTORY, the only place the config names.
creds=/run/credentials/cosyncd.service
for name in salesforce_client_secret partner_center_client_secret; do
  [ "$(stat -c %a%U "$m/etc/cosync/credentials/$name")" = 600root ] || fail "/etc/cosync/credentials/$name is not 0600 root"
  in_ct test -s "$creds/$name" || fail "no $creds/$name while cosyncd runs"
done
cred_mode=$(in_ct stat -c '%a, owner uid %u' "$creds/salesforce_client_secret")
[ "$(in_ct stat -c %u "$creds/salesforce_client_secret")" = "$(in_ct stat -c %u /proc/"$(show MainPID)")" ] ||
  fail "the credential is not owned by cosyncd's dynamic user"
unit_text=$(in_ct systemctl cat cosyncd)
grep -q '^LoadCredential=salesforce_client_secret:' <<<"$unit_text" || fail "the unit has no LoadCredential="
wait_until 30 "a token issued for the secret" grep -q 'fake-token-server: issued access token' "$run/fakes.log"
note "PASS 2: secrets through LoadCredential= ($creds/salesforce_client_secret: $cred_mode); the fake token endpoint accepted them"

# 3. stop with a record in flight: the proxy holds the answer to the first Lead write until
# cosyncd has logged the SIGTERM, then lets it through (well within cosyncd's 2 s stop grace).
wait_until 30 "the first Lead write" test -s "$run/writes"
since=$(date +%s); t=$(now_ms)
in_ct systemctl stop --no-block cosyncd
wait_until 5 "cosyncd to log the SIGTERM" journal_has "$since" "signal 15 received"
touch "$run/release"
inactive() { [ "$(show ActiveState)" = inactive ]; }
wait_until 60 "cosyncd to stop" inactive
stop_ms=$(( $(now_ms) - t ))
timeout_stop=$(show TimeoutStopUSec)  # "30s"
[[ "$timeout_stop" =~ ^[0-9]+s$ ]] || fail "unexpected TimeoutStopUSec $timeout_stop"
timeout_stop=${timeout_stop%s}
[ "$stop_ms" -lt $(( timeout_stop * 1000 )) ] || fail "stop took ${stop_ms} ms, TimeoutStopSec is ${timeout_stop}s"
[ "$(show Result)" = success ] || fail "the stop was not clean: Result=$(show Result)"
[ "$(show ExecMainStatus)" = 0 ] || fail "cosyncd exited $(show ExecMainStatus) on stop"
journal_has "$since" "finishing the record in flight" || fail "cosyncd did not log the stop"
# The order in cosyncd's own log: SIGTERM first, then the Lead's creation logged (committed).
order=$(in_ct journalctl --no-pager -o cat -u cosyncd --since "@$since" |
  awk '/signal 15 received/ {print "SIGTERM"} /created Lead/ {print "created"}' | paste -sd, -)
case "$order" in SIGTERM,created*) ;; *) fail "no Lead was in flight when SIGTERM came (order: $order)" ;; esac
created=$(grep -o 'fake-salesforce: created Lead [A-Za-z0-9]*' "$run/fakes.log" | awk '{print $4}')
[ -n "$created" ] || fail "no Lead was created before the stop"
for id in $created; do
  n=$(sqlite3 "file:$m/var/lib/private/cosync/state.db?mode=ro" "select count(*) from links where crm_id='$id'")
  [ "$n" = 1 ] || fail "Lead $id was created but its link was not committed"
done
note "PASS 3: systemctl stop with a Lead write in flight took ${stop_ms} ms (TimeoutStopSec=${timeout_stop}s), Result=success, status 0, $(wc -w <<<"$created") Lead(s) created and linked"

# 4. reload re-reads a changed mapping: without the country condition all 3 incoming referrals sync.
in_ct timeout 60 systemctl start cosyncd || fail "restart after stop failed"
pid=$(show MainPID)
wait_until 30 "the Contoso link" links_reach 1
cp "$mapping" "$m/etc/cosync/mappings/pc-sf-leads.yaml"
t=$(now_ms); since=$(date +%s)
in_ct timeout 60 systemctl reload cosyncd || fail "systemctl reload failed"
wait_until 30 "the reload" journal_has "$since" "configuration reloaded from"
journal_has "$since" "(RELOADING=1" || fail "no RELOADING=1 notification for the reload"
wait_until 60 "the three referrals linked after the reload" links_reach 3
journal_has "$since" "Got notification message from PID $pid (READY=1" || fail "no READY=1 after the reload"
[ "$(show MainPID)" = "$pid" ] && [ "$(show ActiveState)/$(show SubState)" = active/running ] ||
  fail "the reload restarted cosyncd or left it $(show ActiveState)/$(show SubState)"
note "PASS 4: reload (RELOADING=1, READY=1, same PID $pid) took the changed mapping: 3 links $(( $(now_ms) - t )) ms later"

# 5. a configuration error: exit 78 and no restart loop.
printf 'no_such_key: 1\n' >>"$m/etc/cosync/cosync.yaml"
since=$(date +%s)
in_ct timeout 60 systemctl restart cosyncd 2>/dev/null && fail "cosyncd started with a broken config"
restarts_before=$(show NRestarts)
sleep 13  # longer than RestartSec=10: a restart would have been scheduled by now
[ "$(show ActiveState)" = failed ] || fail "after a config error the unit is $(show ActiveState), not failed"
[ "$(show ExecMainStatus)" = 78 ] || fail "cosyncd's status after a config error is $(show ExecMainStatus), not 78"
[ "$(show NRestarts)" = "$restarts_before" ] || fail "systemd restarted cosyncd after a config error"
journal_has "$since" "Scheduled restart job" && fail "systemd scheduled a restart after a config error"
journal_has "$since" "configuration error: /etc/cosync/cosync.yaml:.*no_such_key" || fail "the error does not name file, line and key"
note "PASS 5: config error: main process status=78/CONFIG, unit failed, no restart in 13 s (NRestarts=$(show NRestarts))"

# 6. the watchdog: a stalled loop stops the WATCHDOG=1 pings; systemd aborts and restarts it.
cp "$run/good.yaml" "$m/etc/cosync/cosync.yaml"
in_ct systemctl reset-failed cosyncd
mkdir -p "$m/etc/systemd/system/cosyncd.service.d"
printf '[Service]\nEnvironment=COSYNC_TEST_STALL_LOOP=1\nWatchdogSec=3\nRestartSec=1\nLimitCORE=0\n' \
  >"$m/etc/systemd/system/cosyncd.service.d/stall.conf"
in_ct systemctl daemon-reload
since=$(date +%s); t=$(now_ms)
in_ct timeout 60 systemctl start cosyncd || fail "start with the stall switch failed"
restarted() { [ "$(show NRestarts)" -ge 1 ]; }
wait_until 30 "a watchdog restart" restarted
journal_has "$since" "Watchdog timeout" || fail "the restart was not the watchdog's"
journal_has "$since" "Failed with result 'watchdog'" || fail "the unit did not fail with result watchdog"
note "PASS 6: stalled loop: watchdog timeout and restart $(( $(now_ms) - t )) ms after start (WatchdogSec=3 for the test)"
in_ct systemctl kill -s KILL cosyncd 2>/dev/null || true
rm -rf "$m/etc/systemd/system/cosyncd.service.d"
in_ct systemctl daemon-reload
in_ct systemctl stop cosyncd || true

echo "systemd OK: all 6 checks passed in $(( $(date +%s) - t_begin ))s"
