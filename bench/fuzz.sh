#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that sees attacker bytes (tests/MailPipeline.Fuzz): builds the harness,
# instruments our assemblies and the parsers we depend on with SharpFuzz, and runs each target under AFL++ for
# --seconds (default 60) from its committed seed corpus. Crashes and hangs are replayed in-process so the log shows
# the exception. Ends with exactly: fuzz: N targets, M executions, C crashes, H hangs   (exit 1 if C + H > 0).
#
#   bench/fuzz.sh [--seconds N] [--timeout MS] [TARGET...]      targets: dotnet <harness> list
#
# Findings stay under $FUZZ_OUT (default /tmp/fuzz-$USER-<pid>): <target>/default/{crashes,hangs}, <target>.afl.log,
# exceptions.log (what each crashing input raised) and replay.log (the saved inputs replayed in-process).
# A crash found becomes a fix plus a regression input in tests/MailPipeline.Fuzz/regressions/<target>/ (replayed by
# the test suite) and a named test in the project that owns the fix.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

seconds=60
timeout_ms=60000
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --timeout) timeout_ms="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

log() { printf '[fuzz.sh] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v afl-fuzz >/dev/null 2>&1; then
  log "installing afl++ (Debian)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends afl++ >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null   # sharpfuzz (SharpFuzz.CommandLine, pinned in .config/dotnet-tools.json)

out="${FUZZ_OUT:-/tmp/fuzz-${USER:-root}-$$}"
bin="$out/bin"
rm -rf "$bin"
mkdir -p "$out"
log "building the harness into $bin"
dotnet build tests/MailPipeline.Fuzz -c Release -nologo -v:q -clp:NoSummary -o "$bin" >"$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; exit 1; }

# Instrument the code that parses attacker bytes: ours, and the libraries whose parsers sit in front of ours
# (SmtpServer's command parser, MimeKit's address parser). The harness itself and the runtime stay as they are.
for assembly in MailPipeline.Core.dll MailPipeline.Pipeline.dll mailpipeline-edge.dll SmtpServer.dll MimeKit.dll; do
  dotnet tool run sharpfuzz "$bin/$assembly" >>"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
done

harness=(dotnet "$bin/MailPipeline.Fuzz.dll")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("${harness[@]}" list | cut -f1)
fi

# afl-fuzz drives a managed process: no compile-time instrumentation for it to find, no core dumps to wait for, and
# a shared machine (no CPU pinning, no frequency checks).
export FUZZ_EXCEPTION_LOG="$out/exceptions.log"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
  AFL_FAST_CAL=1 AFL_IGNORE_UNKNOWN_ENVS=1 AFL_MAP_SIZE=65536

total_execs=0 total_crashes=0 total_hangs=0 ran=0
for target in "${targets[@]}"; do
  corpus="tests/MailPipeline.Fuzz/corpus/$target"
  [ -d "$corpus" ] || { log "no corpus for target '$target'"; exit 2; }
  findings="$out/$target"
  rm -rf "$findings"
  log "$target: ${seconds}s from $(ls "$corpus" | wc -l) seeds"
  # -V: stop after N seconds; -t: a run longer than this is a hang. A fixed limit, not AFL's auto-scaled one ("N+"
  # scales it from the seeds' speed: tens of milliseconds, which a shared, loaded machine exceeds by stalling alone).
  # The smtp target fails a session that does not end within 30 s by itself.
  set +e
  timeout $((seconds + 600)) afl-fuzz -i "$corpus" -o "$findings" -V "$seconds" -t "$timeout_ms" -m none \
    -- "${harness[@]}" afl "$target" >"$out/$target.afl.log" 2>&1
  status=$?
  set -e
  stats="$findings/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    tail -30 "$out/$target.afl.log" >&2
    log "$target: afl-fuzz did not start (exit $status)"
    exit 1
  fi
  stat() { awk -F: -v k="$1" '{gsub(/ /, "", $1); gsub(/ /, "", $2)} $1 == k {print $2}' "$stats"; }
  execs=$(stat execs_done) crashes=$(stat saved_crashes) hangs=$(stat saved_hangs)
  crashes=${crashes:-$(stat unique_crashes)} hangs=${hangs:-$(stat unique_hangs)}
  # The harness is AFL's fork server itself (in process): a crash .NET cannot catch, or a run past the time limit
  # (AFL kills it), ends afl-fuzz early. The input that was running is the finding; keep it and count it.
  if [ "$status" -ne 0 ] && grep -q "fork server" "$out/$target.afl.log"; then
    kind=crashes
    grep -qi "timeout\|timed out\|hang" "$out/$target.afl.log" && kind=hangs
    mkdir -p "$findings/default/$kind"
    cp "$findings/default/.cur_input" "$findings/default/$kind/id:died,after:$execs" 2>/dev/null || true
    if [ "$kind" = crashes ]; then crashes=$((crashes + 1)); else hangs=$((hangs + 1)); fi
    log "$target: afl-fuzz stopped early, the harness died ($kind); see $out/$target.afl.log"
  fi
  printf '%s: %s executions, %s crashes, %s hangs, %s paths, %s/s\n' "$target" "$execs" "$crashes" "$hangs" \
    "$(stat corpus_count)" "$(stat execs_per_sec)"
  for kind in crashes hangs; do
    if compgen -G "$findings/default/$kind/id:*" >/dev/null; then
      "${harness[@]}" run "$target" "$findings/default/$kind" >>"$out/replay.log" 2>&1 || true
      log "$target: $kind saved in $findings/default/$kind (replayed in $out/replay.log)"
    fi
  done
  total_execs=$((total_execs + execs)) total_crashes=$((total_crashes + crashes)) total_hangs=$((total_hangs + hangs))
  ran=$((ran + 1))
done

echo "fuzz: $ran targets, $total_execs executions, $total_crashes crashes, $total_hangs hangs"
[ $((total_crashes + total_hangs)) -eq 0 ]
