#!/usr/bin/env bash
# End-to-end smoke test of a built MAS API image (issue 15), against the docker daemon `docker` reaches.
# Usage: test/container/smoke.sh IMAGE
# The container runs as the image says (tini, user mas, 0.0.0.0, its own tmux server with no socket
# directory prepared: the first POST /runs is a fresh machine's, contract A4) on the host network and a
# free port; the only additions are the fake agent (test/support/fake-agent, mounted read-only) and short
# startup delays. Prints one line per check, closes with "N passed, M failed", exits non-zero on a failure.
set -u
IMAGE="${1:?usage: smoke.sh IMAGE}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
NAME="mas-smoke-$$"
TMP="$(mktemp -d /tmp/mas-smoke.XXXXXX)"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"0.0.0.0",()=>{console.log(s.address().port);s.close()})')"
BASE="http://127.0.0.1:$PORT"
MAS_API_TOKEN="$(node -p 'require("crypto").randomBytes(24).toString("hex")')"
export MAS_API_TOKEN # docker run -e MAS_API_TOKEN takes it from here: never on a command line (A5)
pass=0; fail=0; BODY=""; CODE=""
cleanup() { docker rm -f -v "$NAME" "$NAME-notoken" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1${2:+ ($2)}"; }
call() { # call METHOD PATH [JSON] — with the token; NOAUTH=1 call … without it
  local out auth="header = \"Authorization: Bearer $MAS_API_TOKEN\""
  [ "${NOAUTH:-}" = 1 ] && auth=""
  if [ $# -ge 3 ]; then out=$(curl -s -m 20 -K - -w '\n%{http_code}' -X "$1" "$BASE$2" -H 'Content-Type: application/json' -d "$3" <<<"$auth")
  else out=$(curl -s -m 20 -K - -w '\n%{http_code}' -X "$1" "$BASE$2" <<<"$auth"); fi
  CODE="${out##*$'\n'}"; BODY="${out%$'\n'*}"
}
field() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{let v;try{v=JSON.parse(d)}catch{};for(const k of process.argv[1].split("."))v=v?.[k];process.stdout.write(v===undefined?"":typeof v==="object"?JSON.stringify(v):String(v))})' "$1" <<<"$BODY"; }
check() { # check NAME EXPECTED_STATUS [FIELD EXPECTED_VALUE]
  if [ "$CODE" = "$2" ] && { [ $# -lt 4 ] || [ "$(field "$3")" = "$4" ]; }; then ok "$1"; else bad "$1" "status $CODE, body ${BODY:0:300}"; fi
}
in_ctr() { docker exec "$NAME" "$@"; }
# pid ppid state uid comm of every process in the container, one per line
procs() { in_ctr node -e 'const fs=require("fs");for(const p of fs.readdirSync("/proc").filter(d=>/^\d+$/.test(d))){try{const s=fs.readFileSync(`/proc/${p}/stat`,"utf8"),c=s.slice(s.indexOf("(")+1,s.lastIndexOf(")")),f=s.slice(s.lastIndexOf(")")+2).split(" "),u=/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`,"utf8"))[1];console.log(p,f[1],f[0],u,c)}catch{}}'; }
wait_until() { # wait_until SECONDS COMMAND… — polls every 0.25 s
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.25; done
}

echo "smoke: image $IMAGE, container $NAME on port $PORT (host network), storage driver $(docker info -f '{{.Driver}}')"

# 1. Bound to 0.0.0.0 (the image's default) without a token, the service refuses to start.
# (not --rm: on a vfs daemon the removal alone can take a minute; cleanup removes it)
out="$(env -u MAS_API_TOKEN timeout 60 docker run --name "$NAME-notoken" --network host -e MAS_API_PORT="$PORT" "$IMAGE" 2>&1)"; rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'MAS_API_TOKEN is required' <<<"$out"; then ok "refuses to start on 0.0.0.0 without MAS_API_TOKEN (exit $rc)"
else bad "refuses to start on 0.0.0.0 without MAS_API_TOKEN" "exit $rc: ${out:0:300}"; fi
# That container's files are the image's (the service stopped at its configuration check): no tmux socket
# directory is prepared in the image, so the first create below is a fresh machine's (contract A4).
if ! docker inspect "$NAME-notoken" >/dev/null 2>&1; then bad "the image has no /tmp/tmux-10001" "no container to look into"
elif docker cp "$NAME-notoken:/tmp/tmux-10001" "$TMP/tmuxdir" >/dev/null 2>&1; then bad "the image has no /tmp/tmux-10001" "it has one"
else ok "the image has no /tmp/tmux-10001"; fi

# 2. The service, with the fake agent; --health-interval only shortens the wait for the image's own probe.
docker run -d --name "$NAME" --network host --health-interval 2s \
  -e MAS_API_PORT="$PORT" -e MAS_API_TOKEN \
  -e MAS_AGENT_COMMAND=/opt/mas-test/fake-agent -e MAS_AGENT_PROCESS_NAMES=cat \
  -e MAS_PROMPT_DELAY_MS=500 -e MAS_AGENT_LAUNCH_CHECK_MS=300 -e MAS_SUBMIT_DELAY_MS=50 -e MAS_STOP_GRACE_MS=1000 \
  -v "$REPO/test/support/fake-agent:/opt/mas-test/fake-agent:ro" \
  "$IMAGE" >/dev/null || { bad "docker run"; echo "$pass passed, $fail failed"; exit 1; }
up() { call GET /health; [ "$CODE" = 200 ]; }
if wait_until 60 up; then check "GET /health is 200" 200 status ok
  echo "     (in the container: $(in_ctr node --version), $(in_ctr tmux -V), $(in_ctr sh -c 'echo $SHELL'))"
else bad "GET /health is 200" "never answered; logs: $(docker logs "$NAME" 2>&1 | tail -5)"; fi
call GET /health/ready;                 check "GET /health/ready is 200 ready" 200 status ready
NOAUTH=1 call GET /sessions;            check "GET /sessions without the token is 401" 401 code UNAUTHORIZED
call GET /sessions;                     check "GET /sessions with the token is 200" 200

# 3. The first create of this fresh container (whatever the service did about /tmp/tmux-10001 since it
# started is its own doing, contract A4).
TEAM='{"agents":{"units":[{"unitId":1,"manager":{"id":"10","prompt":"Lead the container smoke test."},"workers":[{"id":"11","prompt":"Help."}]}]}}'
call POST /runs "$TEAM";                check "first POST /runs creates a session" 201 status starting
SID="$(field sessionId)"; TNAME="$(field tmuxSession)"
# Every later session step needs that session: without it they fail once each, naming the cause.
if [ -n "$SID" ]; then
  settled() { call GET "/sessions/$SID"; [ "$(field startup.state)" != starting ]; }
  wait_until 30 settled
  call GET "/sessions/$SID";            check "detail: startup ready" 200 startup.state ready
  [ "$(field agents.0.agentId):$(field agents.0.status)" = "10:running" ] && ok "detail: agent 10 is running (the fake agent, in the image's tmux)" || bad "detail: agent 10 is running" "${BODY:0:300}"

  # 4. A message arrives byte-exact: the fake agent appends what it receives to unit/10/received.bin.
  RECEIVED="/workspace/sessions/$SID/unit/10/received.bin"
  before="$(in_ctr stat -c %s "$RECEIVED" 2>/dev/null || echo 0)"
  MSG=$'ping; $(id) `uname` #{session_name} \'q\' "dq" \\ é 漢字 🎉 end'
  BODYJSON="$(MSG="$MSG" S="$TNAME" node -p 'JSON.stringify({session:process.env.S,target:"10",message:process.env.MSG})')"
  call POST /message "$BODYJSON";       check "POST /message to agent 10 is acknowledged" 200 status acknowledged
  printf '%s\r' "$MSG" >"$TMP/expected"
  arrived() { in_ctr tail -c +"$((before + 1))" "$RECEIVED" >"$TMP/got" 2>/dev/null && cmp -s "$TMP/expected" "$TMP/got"; }
  if wait_until 15 arrived; then ok "the message reached the pane byte-exact ($(wc -c <"$TMP/expected") bytes)"
  else bad "the message reached the pane byte-exact" "got: $(od -c "$TMP/got" | head -5)"; fi
else
  for c in "detail" "message byte-exact" "tmux server under tini" "stop" "no zombie after stop"; do bad "$c" "no session: the first create failed"; done
fi

# 5. Processes while a session runs: tini is PID 1, the tmux server was reparented to it, nobody is root.
procs >"$TMP/ps"
[ "$(awk '$1==1{print $5}' "$TMP/ps")" = tini ] && ok "tini is PID 1" || bad "tini is PID 1" "$(cat "$TMP/ps")"
[ -z "$SID" ] || { awk '$5 ~ /^tmux/ && $2==1' "$TMP/ps" | grep -q . && ok "the tmux server is a child of tini" || bad "the tmux server is a child of tini" "$(cat "$TMP/ps")"; }
[ "$(in_ctr id -u)" = 10001 ] && ok "docker exec runs as uid 10001" || bad "docker exec runs as uid 10001"
awk '$4==0 && $5 !~ /^runc/' "$TMP/ps" | grep -q . && bad "no process runs as root" "$(awk '$4==0 && $5 !~ /^runc/' "$TMP/ps")" || ok "no process runs as root ($(wc -l <"$TMP/ps") processes, all uid 10001)"
docker logs "$NAME" 2>&1 | grep -qi 'tini.*not running as PID 1\|subreaper' && bad "no nested-tini warning in the logs" || ok "no nested-tini warning in the logs"

# 6. Stop, then no zombie stays behind (tini reaps the panes and the tmux server).
if [ -n "$SID" ]; then
  call POST "/sessions/$SID/stop" '{}'; check "stop" 200 status stopped
  no_zombie() { procs >"$TMP/ps"; ! awk '$3=="Z"' "$TMP/ps" | grep -q .; }
  if wait_until 10 no_zombie; then ok "no zombie after stop ($(wc -l <"$TMP/ps") processes left)"; else bad "no zombie after stop" "$(awk '$3=="Z"' "$TMP/ps")"; fi
fi

# 7. The image's HEALTHCHECK (it follows MAS_API_PORT, here not 8765) reports healthy.
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME")" = healthy ]; }
if wait_until 30 healthy; then ok "HEALTHCHECK healthy on port $PORT"
else bad "HEALTHCHECK healthy" "$(docker inspect -f '{{json .State.Health}}' "$NAME" | head -c 400)"; fi

# 8. The curl smoke test, with the token.
if out="$("$REPO/test/sessions-api.sh" --token-file - "$BASE" <<<"$MAS_API_TOKEN" 2>&1)"; then ok "test/sessions-api.sh --token-file: $(tail -1 <<<"$out")"
else bad "test/sessions-api.sh --token-file" "$(grep -E '^FAIL' <<<"$out" | head -3 | cut -c1-300) … $(tail -1 <<<"$out")"; fi

# 9. docker stop with a live session (tmux server and agents running) ends within 10 s, cleanly: exit code 0,
# or 143 (Nest re-raises SIGTERM after its shutdown hooks), never 137 (SIGKILL after the 10 s).
call POST /runs "$TEAM";                check "POST /runs before docker stop" 201 status starting
t0=$(date +%s%N); docker stop -t 10 "$NAME" >/dev/null; ms=$((($(date +%s%N) - t0) / 1000000))
code="$(docker inspect -f '{{.State.ExitCode}}' "$NAME")"
if [ "$ms" -lt 10000 ] && { [ "$code" = 0 ] || [ "$code" = 143 ]; }; then ok "docker stop took ${ms} ms, exit code $code"
else bad "docker stop within 10 s, exit code 0 or 143" "${ms} ms, exit code $code"; fi

if [ "$fail" -ne 0 ]; then echo "--- container log (last 30 lines)"; docker logs "$NAME" 2>&1 | tail -30; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
