#!/usr/bin/env bash
# Interleaved A/B of the suite: the release bench of BASE (any git revision) against the
# working tree's, run alternately ROUNDS times with the same arguments, the first side
# alternating too (base new, new base, base new, ...: a fixed order biased one run, where
# tokio, the same code on both sides, ran 2-9% slower on the second side). Then one row per
# ringloop figure: the medians over the rounds, new/base per round, the ratio of the pooled
# samples' medians (every round's samples of a side together) with a 95% bootstrap
# interval, and new/base divided by tokio's new/base in the same runs (the same flavour),
# which cancels the drift of a shared machine.
#
# usage: benches/scripts/ab.sh BASE [ROUNDS] [-- bench args...]   (from the repository root)
#   e.g. benches/scripts/ab.sh 8180f01 3
#        benches/scripts/ab.sh 8180f01 4 -- --runtimes ringloop-single,tokio-current timers
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: ab.sh BASE [ROUNDS] [-- bench args...]}
shift
rounds=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  rounds=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true; rm -rf "$work/base-target"' EXIT
git worktree add --detach "$work/base-tree" "$base" >/dev/null
(cd "$work/base-tree" && CARGO_TARGET_DIR="$work/base-target" cargo build --release -p ringloop-bench)
cp "$work/base-target/release/ringloop-bench" "$work/bench-base"
cargo build --release -p ringloop-bench
cp "$target/release/ringloop-bench" "$work/bench-new"
for round in $(seq 1 "$rounds"); do
  order="base new"
  [ $((round % 2)) -eq 0 ] && order="new base"
  for side in $order; do
    "$work/bench-$side" "$@" --json "$work/r${round}_$side.json" --out "$work/report_${round}_$side" \
      >"$work/r${round}_$side.log" 2>&1
    echo "round $round $side done ($(date +%T))"
  done
done
python3 - "$work" <<'PY'
import collections, glob, json, random, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(dict))
pooled = collections.defaultdict(lambda: collections.defaultdict(list))
lower = {}
for path in glob.glob(sys.argv[1] + "/r*_*.json"):
    name = path.rsplit("/", 1)[1][1:-5]
    rnd, side = name.split("_")
    for w in json.load(open(path))["workloads"]:
        lower[w["name"]] = w["lower_is_better"]
        for rt, r in w["results"].items():
            if r.get("median") is not None:
                runs[(w["name"], rt)][side][int(rnd)] = r["median"]
                pooled[(w["name"], rt)][side] += r.get("samples") or []

def interval(new, base, resamples=2000):
    rng = random.Random(1)
    def med(xs):
        return statistics.median([xs[rng.randrange(len(xs))] for _ in xs])
    ratios = sorted(med(new) / med(base) for _ in range(resamples))
    return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]
print("| workload | runtime | base | new | new/base | per round | pooled [95%] | vs tokio | better |")
print("|---|---|---|---|---|---|---|---|---|")
for (wl, rt), v in sorted(runs.items()):
    if not rt.startswith("ringloop"):
        continue
    b, n = v["base"], v["new"]
    rounds = sorted(r for r in set(b) & set(n) if b[r])
    if not rounds:
        continue
    per = [n[r] / b[r] for r in rounds]
    ref = runs[(wl, "tokio-multi" if rt == "ringloop-multi" else "tokio-current")]
    norm = [per[i] / (ref["new"][r] / ref["base"][r]) for i, r in enumerate(rounds)
            if ref["base"].get(r) and ref["new"].get(r)]
    bm = statistics.median(b[r] for r in rounds)
    nm = statistics.median(n[r] for r in rounds)
    ratio_tokio = f"{statistics.median(norm):.3f}" if norm else "-"
    pb, pn = pooled[(wl, rt)]["base"], pooled[(wl, rt)]["new"]
    pooled_text = "-"
    if pb and pn and statistics.median(pb):
        lo, hi = interval(pn, pb)
        pooled_text = f"{statistics.median(pn) / statistics.median(pb):.3f} [{lo:.3f}, {hi:.3f}]"
    print(f"| {wl} | {rt} | {bm:.4g} | {nm:.4g} | {statistics.median(per):.3f} | "
          f"{' '.join(f'{x:.2f}' for x in per)} | {pooled_text} | {ratio_tokio} | "
          f"{'lower' if lower[wl] else 'higher'} |")
PY
echo "raw results: $work"
