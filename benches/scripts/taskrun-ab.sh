#!/usr/bin/env bash
# Interleaved A/B of the rings' task-work modes on the echo benchmark: deferred (the
# default), cooperative and plain, ROUNDS rounds (default 6) of
#   --reps 3 --runtimes ringloop-multi,ringloop-single,monoio tcp_echo_64
# with monoio in every run as the yardstick. Prints, per mode, the medians over the rounds
# of ringloop's msg/s and server CPU per message relative to monoio's (DESIGN.md, "Stuck
# workers"). Usage: benches/scripts/taskrun-ab.sh [ROUNDS] (from the repository's root).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-6}
cargo build --release -p ringloop-bench
target=${CARGO_TARGET_DIR:-target}
bench="$target/release/ringloop-bench"
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  for mode in deferred cooperative plain; do
    case $mode in
      deferred) env=(RINGLOOP_BENCH_DEFER_TASKRUN=1) ;;
      cooperative) env=(RINGLOOP_BENCH_DEFER_TASKRUN=0 RINGLOOP_BENCH_COOP_TASKRUN=1) ;;
      plain) env=(RINGLOOP_BENCH_DEFER_TASKRUN=0 RINGLOOP_BENCH_COOP_TASKRUN=0) ;;
    esac
    env "${env[@]}" "$bench" --reps 3 --runtimes ringloop-multi,ringloop-single,monoio \
      --json "$out/${round}_$mode.json" --out "$out/report_${round}_$mode" tcp_echo_64 \
      >"$out/${round}_$mode.log" 2>&1
    echo "round $round $mode done"
  done
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
rows = {}
for path in sorted(glob.glob(sys.argv[1] + "/*_*.json")):
    mode = path.rsplit("_", 1)[1][:-5]
    results = json.load(open(path))["workloads"][0]["results"]
    mono = results["monoio"]
    def ratio(rt, key=None):
        if key is None:
            return results[rt]["median"] / mono["median"]
        return results[rt]["extras"][key] / mono["extras"][key]
    rows.setdefault(mode, []).append((
        ratio("ringloop-multi"), ratio("ringloop-single"),
        ratio("ringloop-multi", "server_cpu_us_per_msg"),
        ratio("ringloop-single", "server_cpu_us_per_msg")))
print("| task work | rounds | msg/s multi | msg/s single | CPU/msg multi | CPU/msg single |")
print("|---|---|---|---|---|---|")
for mode in ("deferred", "cooperative", "plain"):
    v = rows.get(mode, [])
    if v:
        med = [statistics.median(x[i] for x in v) for i in range(4)]
        print(f"| {mode} | {len(v)} | " + " | ".join(f"{m:.3f}" for m in med) + " |")
PY
echo "raw results: $out"
