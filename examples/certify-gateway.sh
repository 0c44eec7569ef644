#!/usr/bin/env bash
# Certify a LiteLLM proxy: start its upstream, start the gateway, run the harness through it,
# and exit with the harness's exit code (0 conformant, 1 a MUST requirement failed,
# 2 usage or spec error, 3 not assessed) so a CI job can gate on it.
#
# The upstream here is the embedded reference router (`conformance serve`); in your pipeline
# point UPSTREAM_BASE at the provider your gateway fronts and drop the `serve` step.
# Needs `conformance` and `litellm` on PATH, and curl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PROFILE="${PROFILE:-openai}"                # the contract the gateway must keep
MODELS="${MODELS:-}"                        # e.g. gpt-image-2 (default: every model of the profile)
REPORT_DIR="${REPORT_DIR:-reports}"
UPSTREAM_PORT="${UPSTREAM_PORT:-8001}"
GATEWAY_PORT="${GATEWAY_PORT:-4000}"
export UPSTREAM_KEY="${UPSTREAM_KEY:-sk-upstream-example}"
export GATEWAY_KEY="${GATEWAY_KEY:-sk-gateway-example}"
export UPSTREAM_BASE="${UPSTREAM_BASE:-http://127.0.0.1:$UPSTREAM_PORT/v1}"
export LITELLM_LOCAL_MODEL_COST_MAP=True    # start without fetching the cost map from the internet

mkdir -p "$REPORT_DIR"
conformance serve --profile "$PROFILE" --host 127.0.0.1 --port "$UPSTREAM_PORT" --api-key "$UPSTREAM_KEY" \
  >"$REPORT_DIR/upstream.log" 2>&1 &
upstream=$!
litellm --config "$here/litellm.yaml" --host 127.0.0.1 --port "$GATEWAY_PORT" >"$REPORT_DIR/gateway.log" 2>&1 &
gateway=$!
trap 'kill "$upstream" "$gateway" 2>/dev/null || true' EXIT

# wait until the upstream serves (its input image) and the gateway answers its liveness probe
wait_for() {  # name pid url
  for _ in $(seq 180); do
    if curl -fsS -o /dev/null "$3" 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "$1 exited; see $REPORT_DIR/$1.log" >&2; exit 3; }
    sleep 1
  done
  echo "$1 did not answer $3 within 180 s; see $REPORT_DIR/$1.log" >&2
  exit 3
}
wait_for upstream "$upstream" "http://127.0.0.1:$UPSTREAM_PORT/v1/_inputs/input.png"
wait_for gateway "$gateway" "http://127.0.0.1:$GATEWAY_PORT/health/liveliness"

set +e
ROUTER_API_KEY="$GATEWAY_KEY" conformance run --profile "$PROFILE" ${MODELS:+--models "$MODELS"} \
  --router-url "http://127.0.0.1:$GATEWAY_PORT/v1" --report-dir "$REPORT_DIR" --timeout 60
status=$?
set -e
echo "conformance exit code: $status (reports in $REPORT_DIR/index.html; server logs beside them)"
exit "$status"
