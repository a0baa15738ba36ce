#!/usr/bin/env bash
# Where the CPU time goes while a TCP echo workload runs: for each runtime named, one bench
# run of that runtime alone, sampled by `perf record -a` for a few seconds in its steady state,
# then split into the load generator's time, the server's time (each into kernel and user
# space) and idle time, in percent of all CPUs. Shows which side saturates: a server with idle
# time left next to a client at 100% means the client sets the pace.
#
#   benches/scripts/echo-cpu-split.sh ringloop-single monoio tokio-current
#   WORKLOAD=tcp_echo_4k benches/scripts/echo-cpu-split.sh ringloop-multi
#
# Needs perf (Debian: `apt-get install linux-perf`) and permission to sample the whole system
# (root, or kernel.perf_event_paranoid <= 0). Only for workloads whose server runs in the bench
# process (tcp_echo_64, tcp_echo_4k): every thread of that process but the load generator
# (`bench-load`) counts as the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
  echo "usage: echo-cpu-split.sh RUNTIME... (ringloop-multi, ringloop-single, tokio-multi, tokio-current, monoio)" >&2
  exit 2
fi
if ! command -v perf >/dev/null; then
  echo "echo-cpu-split.sh needs perf: apt-get install linux-perf" >&2
  exit 1
fi
workload=${WORKLOAD:-tcp_echo_64}
settle=${SETTLE_SECS:-3}
window=${WINDOW_SECS:-3}
cargo build --release -p ringloop-bench
target_dir="${CARGO_TARGET_DIR:-target}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '%-16s %8s %8s %8s %8s %8s %8s   %s\n' runtime client-k client-u server-k server-u idle other msg/s
for runtime in "$@"; do
  # Enough repetitions (about 1.2 s each) to outlast the settling time and the window.
  reps=$(( (settle + window) * 10 / 12 + 3 ))
  "$target_dir/release/ringloop-bench" --reps "$reps" --runtimes "$runtime" "$workload" \
    --out "$scratch/report-$runtime" >"$scratch/bench-$runtime.log" 2>&1 &
  bench=$!
  sleep "$settle"
  perf record -q -a -o "$scratch/perf-$runtime.data" -- sleep "$window" >/dev/null
  if ! wait "$bench"; then
    echo "the bench run for $runtime failed:" >&2
    cat "$scratch/bench-$runtime.log" >&2
    exit 1
  fi
  msgs=$( (grep -E "^\| $workload +\| msg/s" "$scratch/report-$runtime/report.md" || true) |
    awk -F'|' '{print $5}' | xargs)
  perf script -i "$scratch/perf-$runtime.data" -F comm,pid,ip,dso 2>/dev/null |
    awk -v bench="$bench" -v rt="$runtime" -v msgs="$msgs" '
      {
        # Each line: COMM PID IP (DSO); a thread name may hold spaces, so read from the end.
        pid = $(NF - 2); kernel = ($NF ~ /kernel\.kallsyms/)
        if (pid == 0) idle++
        else if (pid == bench && $1 == "bench-load") { if (kernel) ck++; else cu++ }
        else if (pid == bench) { if (kernel) sk++; else su++ }
        else other++
        total++
      }
      END {
        if (total == 0) { print rt ": no samples"; exit 1 }
        printf "%-16s %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7.1f%%   %s\n", rt,
          100*ck/total, 100*cu/total, 100*sk/total, 100*su/total, 100*idle/total,
          100*other/total, msgs
      }'
done
echo "(percent of all $(nproc) CPUs over a ${window} s window, ${settle} s into the run; k = kernel, u = user space)"
