#!/bin/sh
# Runs the native safety fixtures (bad-input catalog, seeded fuzz, churn) against
# an instrumented build of the addon.
#
#   scripts/sanitize.sh asan       ASan + UBSan build, node run with the ASan
#                                  runtime preloaded (node itself is not
#                                  instrumented; its own leaks are not checked)
#   scripts/sanitize.sh valgrind   -O1 -g build under valgrind memcheck; fails on
#                                  any error or definite leak whose stack passes
#                                  through the addon
#
# Builds into build/sanitized/<mode>/ (a copy of dist/ + package.json + the
# instrumented build/Release/tcp_vitals.node), which the fixtures load through
# TV_PACKAGE_DIR. First proves the set-up catches a planted bug
# (test/asan/canary.c). Env: SANITIZE_FUZZ_CALLS (default 200000 for asan,
# 3000 for valgrind), SANITIZE_CHURN (connections, default 2000 / 200),
# SANITIZE_SRC (a src-native directory to build instead of this checkout's),
# SANITIZE_FIXTURES (names to run; default catalog fuzz churn workers, and
# workers-exit workers-unref workers-deaths under asan).
set -eu
MODE=${1:-asan}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/sanitized/$MODE"
CXX=${CXX:-g++}
CC=${CC:-gcc}
NODE=${NODE:-node}
SRC=${SANITIZE_SRC:-$ROOT/src-native} # another checkout of src-native, e.g. to try a fix before rebuilding prebuilds

node_include() {
  prefix=$(dirname "$(dirname "$($NODE -p process.execPath)")")
  for d in "$prefix/include/node" "$HOME/.cache/node-gyp/$($NODE -p 'process.versions.node')/include/node"; do
    if [ -f "$d/node_api.h" ]; then echo "$d"; return; fi
  done
  echo "node headers not found (looked in $prefix/include/node and ~/.cache/node-gyp)" >&2
  exit 2
}
INC="-I$(node_include) -I$ROOT/node_modules/node-addon-api"
DEFS="-DNAPI_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=tcp_vitals"

case "$MODE" in
  asan)
    SAN="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined"
    FLAGS="-O1 -g -fno-omit-frame-pointer $SAN"
    RUNTIME=$($CXX -print-file-name=libasan.so)
    if [ ! -f "$RUNTIME" ]; then echo "libasan.so not found for $CXX" >&2; exit 2; fi
    FUZZ_CALLS=${SANITIZE_FUZZ_CALLS:-200000}
    CHURN=${SANITIZE_CHURN:-2000}
    WORKER_CASES=""  # every case
    ;;
  valgrind)
    command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
    FLAGS="-O1 -g -fno-omit-frame-pointer"
    FUZZ_CALLS=${SANITIZE_FUZZ_CALLS:-3000}
    CHURN=${SANITIZE_CHURN:-200}
    WORKER_CASES="return-none-nomain throw-sockets-nomain terminate-sockets-main exit-sockets-main"
    ;;
  *) echo "usage: $0 asan|valgrind" >&2; exit 2 ;;
esac

echo "== build ($MODE) into $OUT"
rm -rf "$OUT"
mkdir -p "$OUT/build/Release" "$OUT/obj"
for src in "$SRC"/*.cc; do
  $CXX -std=c++17 -fPIC -fexceptions -Wall -Wextra $FLAGS $DEFS $INC -c "$src" -o "$OUT/obj/$(basename "$src" .cc).o"
done
$CXX -shared $FLAGS -o "$OUT/build/Release/tcp_vitals.node" "$OUT"/obj/*.o
$CC -std=c11 -fPIC -shared $FLAGS -DNODE_GYP_MODULE_NAME=canary $INC -o "$OUT/canary.node" "$ROOT/test/asan/canary.c"
cp -r "$ROOT/dist" "$OUT/dist"
cp "$ROOT/package.json" "$OUT/package.json"

# run LOG CMD...: runs node under the mode's tool, output to LOG; returns node's status.
run() {
  log=$1; shift
  case "$MODE" in
    asan)
      env LD_PRELOAD="$RUNTIME" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:exitcode=86:detect_stack_use_after_return=0" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87" TV_PACKAGE_DIR="$OUT" \
        $NODE "$@" >"$log.out" 2>"$log" ;;
    valgrind)
      env TV_PACKAGE_DIR="$OUT" valgrind --tool=memcheck --error-exitcode=0 --leak-check=full \
        --show-leak-kinds=definite --num-callers=30 --trace-children=no \
        --suppressions="$ROOT/test/asan/valgrind.supp" \
        $NODE "$@" >"$log.out" 2>"$log" ;;
  esac
}

# Errors/leaks in a valgrind log whose stack passes through one of our modules.
attributable() {
  awk -v pat="$2" '
    /^==[0-9]+== [A-Z]/ { if (block != "" && block ~ pat) n++; block = $0; next }
    /^==[0-9]+== +(at|by) / { block = block "\n" $0; next }
    /^==[0-9]+== *$/ { if (block != "" && block ~ pat) n++; block = ""; next }
    END { if (block != "" && block ~ pat) n++; print n + 0 }' "$1"
}

fail=0
check_canary() {
  what=$1 expect=$2
  set +e
  run "$OUT/canary-$what.log" -e "require('$OUT/canary.node').$what()"
  set -e
  if grep -q "$expect" "$OUT/canary-$what.log"; then
    echo "ok   planted bug '$what' reported ($expect)"
  else
    echo "FAIL planted bug '$what' NOT reported: the set-up does not catch bugs; see $OUT/canary-$what.log"
    fail=1
  fi
}

echo "== prove the set-up catches planted bugs"
case "$MODE" in
  asan)
    check_canary overflow 'heap-buffer-overflow'
    check_canary shift 'signed integer overflow' ;;
  valgrind)
    check_canary overflow 'Invalid write of size 1'
    check_canary leak 'definitely lost' ;;
esac

# valgrind runs a worker's isolate ~30x slower: the process-exit cases run under ASan only (CI time).
ALL="catalog fuzz churn workers workers-exit workers-unref workers-deaths"
[ "$MODE" = valgrind ] && ALL="catalog fuzz churn workers"
ONLY=${SANITIZE_FIXTURES:-$ALL}
fixture() {
  name=$1; shift
  case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
  start=$(date +%s)
  set +e
  run "$OUT/$name.log" "$@"
  status=$?
  set -e
  secs=$(( $(date +%s) - start ))
  verdict=ok
  if [ "$status" -ne 0 ]; then verdict="FAIL (exit $status)"; fi
  if ! $NODE -e "const l=require('fs').readFileSync(process.argv[1],'utf8').trim().split('\n').pop();const r=JSON.parse(l);const bad=(r.failures||[]).length+(r.violations||[]).length+(r.results||[]).filter(x=>!x.ok).length;process.exit(bad?1:0)" "$OUT/$name.log.out" 2>/dev/null; then
    verdict="FAIL (checks failed or no report)"
  fi
  if grep -q "ERROR: AddressSanitizer\|runtime error:" "$OUT/$name.log"; then verdict="FAIL (sanitizer report)"; fi
  if [ "$MODE" = valgrind ]; then
    n=$(attributable "$OUT/$name.log" 'tcp_vitals.node|src-native|tv::|Napi::')
    total=$(grep -c '^==[0-9]*== \(Invalid\|Conditional\|Use of uninit\|Syscall param\|Mismatched\)' "$OUT/$name.log" || true)
    lost=$(grep 'definitely lost:' "$OUT/$name.log" | tail -1 | sed 's/^==[0-9]*== *//')
    echo "     valgrind: $n error/leak record(s) through the addon; $total error record(s) in all; ${lost:-no leak summary}"
    if [ "$n" -ne 0 ]; then verdict="FAIL (valgrind errors in the addon)"; fi
  fi
  case "$verdict" in ok) ;; *) fail=1 ;; esac
  echo "$verdict $name (${secs}s) log: $OUT/$name.log"
}

echo "== fixtures under $MODE"
fixture catalog "$ROOT/test/fixtures/catalog-bad-inputs.js"
FUZZ_CALLS=$FUZZ_CALLS fixture fuzz "$ROOT/test/fixtures/fuzz-native.js"
if [ -f "$ROOT/test/fixtures/churn-watch.js" ]; then
  CHURN_CONNECTIONS=$CHURN fixture churn --expose-gc "$ROOT/test/fixtures/churn-watch.js"
fi
# Worker threads that protect() and end every way (return, throw, terminate(), process.exit):
# each one's deathwatch is torn down with its env, the addon unloaded after it.
# shellcheck disable=SC2086 # WORKER_CASES is a list
fixture workers "$ROOT/test/fixtures/worker-teardown.js" $WORKER_CASES
# The process ending under a running worker: process.exit() in the main thread, or an unref'd worker.
fixture workers-exit "$ROOT/test/fixtures/worker-teardown.js" process-exit
fixture workers-unref "$ROOT/test/fixtures/worker-teardown.js" unref
# terminate() while the worker's deathwatch is delivering deaths.
fixture workers-deaths "$ROOT/test/fixtures/worker-teardown.js" deaths

if [ "$fail" -ne 0 ]; then echo "sanitize ($MODE): FAILED"; exit 1; fi
echo "sanitize ($MODE): all clean"
