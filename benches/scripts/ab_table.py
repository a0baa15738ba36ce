"""The table of an interleaved A/B of the suite (`ab.sh`, `env-ab.sh`).

usage: ab_table.py DIR   where DIR holds the runs' JSON reports as r<round>_<side>.json,
side `base` or `new`. One row per ringloop figure: the medians over the rounds, new/base per
round, the ratio of the pooled samples' medians (every round's samples of a side together)
with a 95% bootstrap interval, and new/base divided by tokio's new/base in the same runs (the
same flavour), which cancels the drift of a shared machine.
"""
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
