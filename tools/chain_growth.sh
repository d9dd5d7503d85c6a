#!/usr/bin/env bash
# Growth check for long chain graphs (issue #13): PrimitiveInt chains of 10^3, 10^4, 10^5 nodes (each
# node's value linked to the previous one, a PreviewAny at the end; the same shape as
# tests/hardening/test_large_graph.cpp), timed through `vkflow validate` and `vkflow run`, with peak RSS
# from /usr/bin/time -v and the ratio to the previous size (10x more nodes: ~10x time means linear).
# Not a unit test: figures depend on the machine. Usage: tools/chain_growth.sh [vkflow binary] [sizes...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/vkflow}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000 100000)
[ -x "$bin" ] || { echo "no vkflow binary at $bin (build first)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export MESA_SHADER_CACHE_DIR="${MESA_SHADER_CACHE_DIR:-$PWD/build/mesa_cache}"

make_chain() {  # $1 nodes -> stdout
  python3 - "$1" <<'EOF'
import json, sys
n = int(sys.argv[1])
g = {"1": {"class_type": "PrimitiveInt", "inputs": {"value": 7}}}
for i in range(2, n + 1):
    g[str(i)] = {"class_type": "PrimitiveInt", "inputs": {"value": [str(i - 1), 0]}}
g["out"] = {"class_type": "PreviewAny", "inputs": {"source": [str(n), 0]}}
json.dump(g, sys.stdout)
EOF
}

measure() {  # command... -> "seconds kib"
  local log="$work/time.log"
  /usr/bin/time -v "$@" >"$work/out.txt" 2>"$log" || { echo "FAILED: $*" >&2; tail -5 "$log" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss"
}

printf "%-8s %-9s %9s %11s %8s %8s\n" nodes command seconds "peak RSS" "t ratio" "RSS ratio"
declare -A prev_t prev_r
for n in "${sizes[@]}"; do
  make_chain "$n" >"$work/chain_$n.json"
  for cmd in validate run; do
    args=("$cmd" "$work/chain_$n.json")
    [ "$cmd" = run ] && args+=(--quiet --output-dir "$work/o" --temp-dir "$work/t" --no-cache)
    read -r t r < <(measure "$bin" "${args[@]}")
    if [ "$cmd" = run ] && ! grep -q "#out: 7" "$work/out.txt"; then echo "run of $n nodes did not print 7" >&2; exit 1; fi
    tr="-" rr="-"
    if [ -n "${prev_t[$cmd]:-}" ]; then
      tr=$(awk -v a="$t" -v b="${prev_t[$cmd]}" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
      rr=$(awk -v a="$r" -v b="${prev_r[$cmd]}" 'BEGIN { printf "%.1fx", a / b }')
    fi
    printf "%-8s %-9s %9s %8.1f MiB %8s %8s\n" "$n" "$cmd" "$t" "$(awk -v k="$r" 'BEGIN { print k / 1024 }')" "$tr" "$rr"
    prev_t[$cmd]=$t prev_r[$cmd]=$r
  done
done
