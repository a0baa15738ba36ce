#!/usr/bin/env bash
# Samples which CPU each thread of a running process last ran on (field 39 of
# /proc/<pid>/task/<tid>/stat), every INTERVAL seconds, COUNT times, one line per sample:
# `name@cpu ...`. Used to see whether the server of a benchmark shares the load generator's
# CPU, e.g. while `ringloop-bench --runtimes ringloop-single tcp_echo_64` runs:
#
#   benches/scripts/thread-cpus.sh ringloop-bench 40 0.25 | grep -o 'bench-[a-z-]*@[0-9]*'
set -euo pipefail
pattern=${1:?usage: thread-cpus.sh PROCESS-PATTERN [COUNT] [INTERVAL]}
count=${2:-20}
interval=${3:-0.25}
for _ in $(seq "$count"); do
  sleep "$interval"
  pid=$(pgrep -f "$pattern" | head -1) || continue
  line=""
  for task in /proc/"$pid"/task/*; do
    name=$(cat "$task/comm" 2>/dev/null) || continue
    cpu=$(awk '{print $39}' "$task/stat" 2>/dev/null) || continue
    line+="$name@$cpu "
  done
  echo "$line"
done
