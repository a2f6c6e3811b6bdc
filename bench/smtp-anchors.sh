#!/usr/bin/env bash
# Acceptance figures for the SMTP edge against Postfix anchors, all driven by the same Postfix smtp-source runs
# (bench/RESULTS.md, "## SMTP edge: smtp-source anchors"). Run from the repo root, as root (Postfix's master
# needs it), with the postfix package installed (./test.sh or /work/shared/bench/setup.sh):
#   bench/smtp-anchors.sh [messages-1k=20000] [messages-100k=4000] [sessions=200]
# Targets, each on its own loopback port, one after the other for every size:
#   smtp-sink  Postfix's sink: answers 250 and discards (no disk) - the ceiling;
#   postfix    a private Postfix 3.7 instance (own config and queue directories under a temp folder, never the
#              system's): smtpd -> cleanup -> hold queue, one fsynced queue file per message before the 250;
#   edge       the published mailpipeline-edge on a local spool (Edge__*, Spool__Path), started as edge-load.sh does.
# smtp-source runs `-d` (many messages per connection) with `-s` parallel sessions. Prints one line per run and
# the edge's group-commit latency histogram (end of DATA -> durable) from its /metrics.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
n1k=${1:-20000}; n100k=${2:-4000}; sessions=${3:-200}
work=$(mktemp -d); chmod 755 "$work"
port=$((20000 + RANDOM % 20000)); sinkport=$((port + 2)); pfport=$((port + 3)); hport=$((port + 1))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/pf/etc/main.cf" ] && postfix -c "$work/pf/etc" stop >/dev/null 2>&1 || true
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT

dotnet publish -c Release src/MailPipeline.Edge -o "$work/edge" -nologo -v:q -clp:ErrorsOnly >/dev/null
mkdir -p "$work/spool"
Edge__HostName=mx.load.test Edge__ListenAddress=127.0.0.1 Edge__Port=$port Edge__HealthPort=$hport \
Edge__AcceptedDomains__0=load.test Edge__MaxSessions=10000 Edge__MaxSessionsPerIp=10000 \
Edge__MaxConnectionsPerIpPerMinute=1000000 Edge__MaxMessageLineLength=0 Edge__ReverseDnsLookup=false \
Spool__Path=$work/spool Logging__LogLevel__Default=Warning DOTNET_gcServer=0 \
  dotnet "$work/edge/mailpipeline-edge.dll" >"$work/edge.log" 2>&1 &
edge=$!; pids+=("$edge")

/usr/sbin/smtp-sink -u nobody "127.0.0.1:$sinkport" 1000 >/dev/null 2>&1 &
pids+=("$!")

# A private Postfix: its own config_directory, queue_directory and data_directory; loopback only; every message
# put on hold (cleanup writes and fsyncs the queue file, nothing is delivered).
pf=$work/pf; mkdir -p "$pf/etc" "$pf/queue" "$pf/data"; chown postfix "$pf/data"
cp /etc/postfix/master.cf /etc/postfix/postfix-files /etc/postfix/postfix-script /etc/postfix/post-install "$pf/etc/"
cp -r /etc/postfix/postfix-files.d /etc/postfix/dynamicmaps.cf /etc/postfix/dynamicmaps.cf.d "$pf/etc/" 2>/dev/null || true
cat > "$pf/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = anchor.load.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = load.test
smtpd_data_restrictions = check_client_access static:HOLD
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 250
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
smtputf8_enable = no
CONF
sed -i "s/^smtp      inet.*/$pfport     inet  n       -       n       -       250       smtpd/" "$pf/etc/master.cf"
postfix -c "$pf/etc" check >/dev/null 2>&1 || true
postfix -c "$pf/etc" start >/dev/null 2>&1 || { echo "postfix did not start; see $pf/maillog" >&2; cat "$pf/maillog" >&2; exit 1; }

for _ in $(seq 150); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
for p in $sinkport $pfport; do for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done; done

cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }
run() { # name port size count
  local c0 t0 t1 c1=""
  c0=$([ "$1" = edge ] && cpu "$edge" || echo 0); t0=$(date +%s.%N)
  smtp-source -d -s "$sessions" -m "$4" -l "$3" -M client.load.test -f bench@client.load.test -t user@load.test "127.0.0.1:$2" >/dev/null
  t1=$(date +%s.%N); c1=$([ "$1" = edge ] && cpu "$edge" || echo 0)
  awk -v n="$1" -v s="$3" -v m="$4" -v w="$(echo "$t1 - $t0" | bc)" -v c="$(echo "$c1 - $c0" | bc)" \
    'BEGIN { printf "%-9s %6d B  %6d msgs  %7.2f s  %8.0f msgs/s", n, s, m, w, m / w; if (c > 0) printf "  server cpu %.1f s (%.0f us/msg)", c, c / m * 1e6; printf "\n" }'
}
echo "smtp-source -d -s $sessions; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in 1024 102400; do
  n=$([ "$size" = 1024 ] && echo "$n1k" || echo "$n100k")
  run smtp-sink $sinkport $size $((n / 4)) >/dev/null   # warm-up (JIT, connections)
  run edge $port $size $((n / 4)) >/dev/null
  run smtp-sink $sinkport $size "$n"
  run postfix $pfport $size "$n"
  run edge $port $size "$n"
  postsuper -c "$pf/etc" -d ALL hold >/dev/null 2>&1 || true
done
echo "edge group commit (end of DATA -> durable), cumulative:"
curl -fs "http://127.0.0.1:$hport/metrics" | grep -E '^mailpipeline_edge_commit_seconds_(bucket|count|sum)'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
