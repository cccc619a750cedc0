#!/usr/bin/env bash
# Fuzzes one parser target with AFL++ + SharpFuzz for a bounded time and reports the result.
#
#   tests/fuzz/run.sh <target> <seconds> [out-dir]      (out-dir: artifacts/fuzz/<target>)
#
# Installs what is missing (afl++ from apt, the sharpfuzz dotnet tool into artifacts/fuzz/tools),
# publishes tests/PeftNative.Fuzz (Release) into a plain folder (for replay) and a copy whose
# PeftNative.dll is instrumented, replays the seed corpus, runs afl-fuzz for <seconds>, prints execs_done,
# execs_per_sec, crashes and hangs, copies crash/hang inputs to <out-dir>/findings and replays
# them with the uninstrumented build to show the exception. Exit status: 0 when the seeds replay
# clean and AFL saved no crash and no hang; 1 otherwise; 2 on a usage error.
set -euo pipefail

usage() { echo "usage: $0 <target> <seconds> [out-dir]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
target=$1
seconds=$2
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then usage; fi

root=$(cd "$(dirname "$0")/../.." && pwd)
seeds="$root/tests/fuzz/corpus/$target"
[ -d "$seeds" ] || { echo "[fuzz] no seed corpus for target '$target' at $seeds" >&2; exit 2; }
out=${3:-"$root/artifacts/fuzz/$target"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log() { printf '[fuzz %s] %s\n' "$target" "$*"; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# ---- tools -------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  log "installing afl++ (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq afl++; } >"$out/apt.log" 2>&1; then
    log "could not install afl++ (see $out/apt.log)"; exit 1
  fi
fi
tools="$root/artifacts/fuzz/tools"
if [ ! -x "$tools/sharpfuzz" ]; then
  log "installing SharpFuzz.CommandLine 2.3.0 into $tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >"$out/tool.log" 2>&1 \
    || { log "could not install the sharpfuzz tool (see $out/tool.log)"; exit 1; }
fi

# ---- build: plain publish, then an instrumented copy -------------------------------------------
# Fresh folders every time: sharpfuzz refuses a dll it already instrumented, and publish may keep
# an old instrumented copy. The header/config parsers need no native kernels, so skip CMake.
build="$out/build"
rm -rf "$build"
log "publishing tests/PeftNative.Fuzz (Release)"
if ! dotnet publish "$root/tests/PeftNative.Fuzz/PeftNative.Fuzz.csproj" -c Release -o "$build/plain" \
      -p:PeftNativeSkipNativeBuild=true >"$out/publish.log" 2>&1; then
  tail -n 30 "$out/publish.log"; log "publish failed"; exit 1
fi
cp -r "$build/plain" "$build/afl"
# Only the library under test is instrumented: coverage of the driver or the BCL would be noise.
"$tools/sharpfuzz" "$build/afl/PeftNative.dll" || { log "sharpfuzz failed to instrument PeftNative.dll"; exit 1; }
plain=(dotnet "$build/plain/PeftNative.Fuzz.dll" "$target")

# ---- seed replay (uninstrumented) --------------------------------------------------------------
# A seed that already fails makes afl-fuzz give up in its dry run; report it plainly first.
seed_status=0
"${plain[@]}" --replay "$seeds" >"$out/seed-replay.log" 2>&1 || seed_status=$?
tail -n 1 "$out/seed-replay.log" | sed "s/^/[fuzz $target] seeds: /"
if [ "$seed_status" != 0 ]; then
  grep -m 2 -A 3 '^FINDING' "$out/seed-replay.log" || tail -n 20 "$out/seed-replay.log"
fi

# ---- afl-fuzz ----------------------------------------------------------------------------------
# Container settings: no CPU-governor check, no core_pattern check (crashes are seen through the
# fork server either way), no CPU binding (shared 2-core machines), plain log lines instead of the
# UI, and no ELF check (the target is the dotnet host, not an instrumented binary).
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 \
       AFL_SKIP_BIN_CHECK=1
# .NET start-up with an instrumented assembly is slow next to AFL's default 10 s handshake.
export AFL_FORKSRV_INIT_TMOUT=${AFL_FORKSRV_INIT_TMOUT:-60000}
# Timeouts: an exec over FUZZ_EXEC_TIMEOUT_MS is re-run with FUZZ_HANG_TIMEOUT_MS and saved as a
# hang only if it exceeds that too. A fixed -t, not "-t N+": with '+' AFL++ 4.04c scales the exec
# timeout down to ~20 ms from calibration, and drops inputs that first-time JIT makes that slow.
exec_timeout=${FUZZ_EXEC_TIMEOUT_MS:-500}
export AFL_HANG_TMOUT=${FUZZ_HANG_TIMEOUT_MS:-5000}
# The target's dictionary (JSON tokens, field names): the BCL's JSON code is not instrumented,
# so AFL cannot learn those words from coverage.
dict_args=()
if [ -f "$root/tests/fuzz/dict/$target.dict" ]; then dict_args=(-x "$root/tests/fuzz/dict/$target.dict"); fi
rm -rf "$out/afl" "$out/findings"
log "afl-fuzz for ${seconds}s (log: $out/afl.log)"
afl_status=0
afl-fuzz -i "$seeds" -o "$out/afl" "${dict_args[@]}" -V "$seconds" -t "$exec_timeout" -m none \
  -- dotnet "$build/afl/PeftNative.Fuzz.dll" "$target" >"$out/afl.log" 2>&1 || afl_status=$?

stats="$out/afl/default/fuzzer_stats"
stat() { sed -nE "s/^$1 *: *([^ ]+).*/\1/p" "$stats" | head -n 1; }
if [ ! -f "$stats" ]; then
  # afl-fuzz stopped before fuzzing (typically: every seed crashes, as a parser stub does).
  sed 's/\x1b\[[0-9;]*m//g' "$out/afl.log" | grep -m 3 -E 'PROGRAM ABORT|FATAL' || tail -n 15 "$out/afl.log"
  log "afl-fuzz exited $afl_status without fuzzer_stats"
  echo "execs_done=0 execs_per_sec=0 crashes=? hangs=? seed_findings=$([ "$seed_status" = 0 ] && echo 0 || echo yes)"
  exit 1
fi
execs=$(stat execs_done)
rate=$(stat execs_per_sec)
crashes=$(stat saved_crashes); crashes=${crashes:-$(stat unique_crashes)}
hangs=$(stat saved_hangs); hangs=${hangs:-$(stat unique_hangs)}
crashes=${crashes:-0}; hangs=${hangs:-0}
corpus=$(stat corpus_count); corpus=${corpus:-$(stat paths_total)}

# ---- findings: copy out and replay uninstrumented ----------------------------------------------
mkdir -p "$out/findings"
for kind in crashes hangs; do
  for f in "$out/afl/default/$kind"/id:*; do
    [ -e "$f" ] || continue
    # AFL's names hold ':' and ','; keep the id and the kind only.
    id=$(basename "$f" | sed -E 's/^id:([0-9]+).*/\1/')
    cp "$f" "$out/findings/$kind-$id"
  done
done
# Replay each finding alone with the uninstrumented build (the instrumented one faults outside
# AFL), bounded in time since a hang may really hang, and one stack overflow ends its process.
for f in "$out"/findings/*; do
  [ -e "$f" ] || continue
  case $f in *.log) continue ;; esac
  replay_status=0
  # (The trailing exit keeps the shell's "Aborted" note for a stack overflow in the log.)
  (timeout 20 "${plain[@]}" --replay "$f"; exit $?) >"$f.log" 2>&1 || replay_status=$?
  if [ "$replay_status" = 124 ]; then
    log "$f: still running after 20 s uninstrumented (hang reproduced)"
  else
    log "$f: uninstrumented replay exited $replay_status:"
    grep -v '^replay ' "$f.log" | head -n 15 || true
  fi
done
log "summary: execs_done=$execs execs_per_sec=$rate corpus=$corpus crashes=$crashes hangs=$hangs (afl-fuzz exit $afl_status)"
[ "$seed_status" = 0 ] && [ "$crashes" = 0 ] && [ "$hangs" = 0 ] && [ "$afl_status" = 0 ]
