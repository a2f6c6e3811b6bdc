#!/usr/bin/env bash
# Runs MailPipeline's whole test suite against real servers (Knot DNS, Azurite, swaks, dkimpy).
# Installs what it needs when missing, builds, runs every test project and ends with the line
# "N passed, N failed[, N skipped]". Exits non-zero on any failure. Safe to run again.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

log() { printf '[test.sh] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the tests start or call. Keep in sync with README.md ("Tests").
# haproxy sends PROXY v2 headers to serve; postfix provides smtp-source and smtp-sink (a next hop in the delivery tests),
# python3-aiosmtpd the other test next hops (none is left running); python3-prometheus-client is the Prometheus
# project's exposition parser that the /metrics tests parse with; chromium + chromium-driver run the console's
# browser tests headless (Selenium drives them; nothing is downloaded).
APT_PACKAGES=(knot knot-dnsutils swaks libnet-ssleay-perl python3-dkim python3-authres python3-aiosmtpd python3-prometheus-client haproxy postfix chromium chromium-driver nodejs npm)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  case "$pkg" in
    # A Node.js from elsewhere (nodesource, nvm) is fine: only install Debian's when none is there.
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  # Postfix "No configuration" never listens on :25; a policy-rc.d keeps apt from starting daemons.
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$made_policy" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

# Azurite, pinned in package.json / package-lock.json.
if [ ! -x node_modules/.bin/azurite-blob ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing Azurite (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The Functions app references Microsoft.Azure.Functions.Worker.Extensions.ServiceBus. Where the
# NuGet feed does not serve it, build against our compile-time stand-in instead (README: ServiceBusOffline).
build_props=()
if [ -n "${ServiceBusOffline:-}" ]; then
  build_props+=("-p:ServiceBusOffline=$ServiceBusOffline")
elif [ -d functions/MailPipeline.Functions ] && ! dotnet restore functions/MailPipeline.Functions >/dev/null 2>&1; then
  echo "Microsoft.Azure.Functions.Worker.Extensions.ServiceBus is not available from the NuGet feed: building with ServiceBusOffline=true (compile-time stand-in)."
  build_props+=("-p:ServiceBusOffline=true")
fi

log "building"
# Warnings are shown (code warnings are errors already; what remains is NuGet's, e.g. a newer patch served than
# pinned), each once: MSBuild repeats a warning for every project that restores the same package.
set +e
dotnet build MailPipeline.sln -nologo -v:q -clp:NoSummary "${build_props[@]}" 2>&1 | awk '!seen[$0]++'
build_status=${PIPESTATUS[0]}
set -e
[ "$build_status" -eq 0 ] || { log "build failed"; echo "0 passed, 1 failed"; exit 1; }

results=.test-results
rm -rf "$results"
mkdir -p "$results"
log "running tests"
set +e
dotnet test MailPipeline.sln --no-build -nologo "${build_props[@]}" \
  --logger trx --results-directory "$results" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

read -r passed failed skipped < <(awk '
  /^(Passed|Failed)! *-/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1) + 0
      if ($i == "Passed:") p += $(i+1) + 0
      if ($i == "Skipped:") s += $(i+1) + 0
    }
  }
  /Test Run Aborted/ { aborted++ }
  END { print p + 0, f + aborted + 0, s + 0 }' "$results/console.log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the run itself failed (build or test host): never report green
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  log "no test ran"
  failed=1
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
