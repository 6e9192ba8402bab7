#!/usr/bin/env bash
# The whole suite: install, bring the real services up, build, then typecheck, lint, audit and every test group.
# Prints each step's result and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
log_dir="${TMPDIR:-/tmp}/logproc-test-$$"
mkdir -p "$log_dir"

step() { # step NAME COMMAND...: a check that counts as one test
  local name="$1"; shift
  if "$@" >"$log_dir/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"; tail -40 "$log_dir/$name.log"
  fi
}

bun_group() { # bun_group NAME PATH...: a bun:test run whose pass/fail counts are added up
  local name="$1"; shift
  local out="$log_dir/$name.log"
  node_modules/.bin/bun test --timeout 120000 "$@" >"$out" 2>&1
  local rc=$?
  local p f
  p=$(grep -E '^ *[0-9]+ pass$' "$out" | tail -1 | grep -oE '[0-9]+' || true)
  f=$(grep -E '^ *[0-9]+ fail$' "$out" | tail -1 | grep -oE '[0-9]+' || true)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # a crash or load error counts as a failure
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ]; then
    failures+=("$name"); echo "FAIL $name: $p passed, $f failed"
    grep -E '^\(fail\)|error:|Error:' "$out" | head -40
  else
    echo "ok   $name: $p passed"
  fi
}

echo "== install"
if ! npm ci --no-audit --no-fund >"$log_dir/install.log" 2>&1; then
  tail -30 "$log_dir/install.log"; echo "0 passed, 1 failed"; exit 1
fi
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== services"
if ! services_env=$(bash scripts/services.sh up 2>"$log_dir/services.log"); then
  tail -30 "$log_dir/services.log"; echo "0 passed, 1 failed"; exit 1
fi
eval "$services_env"
export TEST_POSTGRES_URL="${POSTGRES_URL}" TEST_KAFKA_BROKERS="${KAFKA_BOOTSTRAP_SERVERS}"
export TEST_REDIS_URL="redis://${REDIS_HOST}:${REDIS_PORT}"
unset POSTGRES_URL KAFKA_BOOTSTRAP_SERVERS REDIS_HOST REDIS_PORT # tests pass them explicitly

echo "== checks"
step build npm run build
step typecheck npm run typecheck
step lint biome check src test bench scripts
# npm audit needs the registry's advisory endpoint; where the registry refuses it (a mirror), say so rather
# than pretend: the check is reported as not run, and counted neither way.
if npm audit --omit=dev --audit-level=high >"$log_dir/audit.log" 2>&1; then
  passed=$((passed + 1)); echo "ok   audit"
elif grep -q "audit endpoint returned an error" "$log_dir/audit.log"; then
  echo "note audit: the registry's advisory endpoint is unavailable here; dependency audit not run"
else
  failed=$((failed + 1)); failures+=(audit); echo "FAIL audit"; tail -40 "$log_dir/audit.log"
fi

echo "== tests"
groups=(unit contract integration e2e deploy ui hostile security bench faults)
for g in "${groups[@]}"; do
  [ -d "test/$g" ] || continue
  files=$(find "./test/$g" -name '*.test.ts' | sort)
  [ -n "$files" ] || continue
  # shellcheck disable=SC2086
  bun_group "$g" $files
done

rm -rf "$log_dir"
if [ "${#failures[@]}" -gt 0 ]; then echo "failed groups: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
