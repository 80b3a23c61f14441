#!/usr/bin/env bash
# Time the README's main command from a clone until /health says "ok" (model and index
# loaded), then stop the server. Run it twice on the same clone: first and second run.
#   bash benchmarks/main_command.sh /path/to/clone /tmp/main-run.log
set -u
dir=${1:?clone to run in}; log=${2:-/tmp/casecast-main-run.log}
cd "$dir"
start=$(date +%s)
setsid bash scripts/start > "$log" 2>&1 &
pid=$!
while sleep 5; do
  if curl -sf 127.0.0.1:8000/health 2>/dev/null | grep -q '"status":"ok"'; then
    echo "SERVING after $(( $(date +%s) - start ))s" | tee -a "$log"; break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "EXITED after $(( $(date +%s) - start ))s" | tee -a "$log"; break; }
  [ $(( $(date +%s) - start )) -gt 2400 ] && { echo "TIMEOUT" | tee -a "$log"; break; }
done
kill -- "-$pid" 2>/dev/null
wait "$pid" 2>/dev/null
true
