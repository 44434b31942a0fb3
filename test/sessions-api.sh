#!/usr/bin/env bash
# Smoke test of a running MAS API with curl (the seed's tests/test_sessions_api.sh).
# Usage: test/sessions-api.sh [--token-file FILE] [BASE_URL]   (default: $MAS_API_URL, else http://127.0.0.1:8765)
# A protected service (MAS_API_TOKEN set on it): --token-file names a file holding the token ("-" reads it
# from stdin: test/sessions-api.sh --token-file - URL <<<"$MAS_API_TOKEN"). The token then goes with every
# request, through curl's config on stdin rather than its argv (contract A5: no secret on a command line),
# and one more check proves that a request without it is 401.
# Prints one line per check and closes with "N passed, M failed"; exits non-zero on any failure.
# It creates one small session with POST /runs, and stops it again at the end.
set -u
TOKEN=""
if [ "${1:-}" = "--token-file" ]; then
  f="${2:?--token-file needs a file (- for stdin)}"; [ "$f" = - ] && f=/dev/stdin
  TOKEN="$(tr -d '\r\n' <"$f")" || exit 2
  [ -n "$TOKEN" ] || { echo "sessions-api.sh: the token file is empty" >&2; exit 2; }
  shift 2
fi
BASE="${1:-${MAS_API_URL:-http://127.0.0.1:8765}}"
pass=0; fail=0; BODY=""; CODE=""

call() { # call METHOD PATH [JSON]
  local out auth=""
  [ -n "$TOKEN" ] && auth="header = \"Authorization: Bearer $TOKEN\""
  if [ $# -ge 3 ]; then out=$(curl -s -K - -w '\n%{http_code}' -X "$1" "$BASE$2" -H 'Content-Type: application/json' -d "$3" <<<"$auth")
  else out=$(curl -s -K - -w '\n%{http_code}' -X "$1" "$BASE$2" <<<"$auth"); fi
  CODE="${out##*$'\n'}"; BODY="${out%$'\n'*}"
}
field() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{let v=JSON.parse(d);for(const k of process.argv[1].split("."))v=v?.[k];process.stdout.write(v===undefined?"":String(v))})' "$1" <<<"$BODY"; }
check() { # check NAME EXPECTED_STATUS [FIELD EXPECTED_VALUE]
  local ok=1
  [ "$CODE" = "$2" ] || ok=0
  if [ $ok = 1 ] && [ $# -ge 4 ] && [ "$(field "$3")" != "$4" ]; then ok=0; fi
  if [ $ok = 1 ]; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1 (status $CODE, body ${BODY:0:200})"; fi
}

call GET /;                                   check "GET / identifies the service" 200 name "MAS API Server"
call GET /health;                             check "GET /health is up" 200 status ok
if [ -n "$TOKEN" ]; then
  saved="$TOKEN"; TOKEN=""
  call GET /sessions;                         check "GET /sessions without the token is 401" 401 code UNAUTHORIZED
  TOKEN="$saved"
fi
for s in active inactive terminated restoring all; do
  call GET "/sessions?status=$s";             check "GET /sessions?status=$s" 200
done
call GET "/sessions?status=bogus";            check "GET /sessions?status=bogus is 400" 400 code VALIDATION_FAILED
call GET "/sessions?limit=0";                 check "GET /sessions?limit=0 is 400" 400 code VALIDATION_FAILED

TEAM='{"agents":{"units":[{"unitId":1,"manager":{"id":"10","prompt":"Lead the smoke test."},"workers":[{"id":"11","prompt":"Help."}]}]}}'
call POST /runs "$TEAM";                      check "POST /runs creates a session" 201 status starting
SID=$(field sessionId); SHORT=$(field shortId); NAME=$(field tmuxSession)
call POST /runs '{"agents":{"units":[{"unitId":1,"manager":{"id":"10","prompt":"x"},"workers":[{"id":"16","prompt":"x"}]}]}}'
check "POST /runs with an unhostable worker is 400" 400 code VALIDATION_FAILED

call GET "/sessions/$SID";                    check "detail by full id" 200 sessionId "$SID"
call GET "/sessions/$SHORT";                  check "detail by short id" 200 sessionId "$SID"
call GET "/sessions/$NAME";                   check "detail by tmux name" 200 sessionId "$SID"
call GET "/session/$SHORT";                   check "detail under the /session alias" 200 sessionId "$SID"
call GET "/sessions/deadbeef";                check "unknown id is 404" 404 code SESSION_NOT_FOUND
call GET "/sessions/MAS-${SHORT}";            check "malformed id is 400" 400 code VALIDATION_FAILED
call GET "/sessions/${SHORT:0:4}";            check "a prefix is 400, never a match" 400 code VALIDATION_FAILED
call GET "/sessions/$SID/agents";             check "agents of the session" 200 tmuxSession "$NAME"
call POST "/sessions/$SID/connect" '{}';      check "connect" 200 status connected
call POST "/sessions/$SID/connect" '{"window":"nope"}'; check "connect to a missing window is 400" 400 code VALIDATION_FAILED

for _ in $(seq 1 100); do # the initial prompts are typed in the background
  call GET "/sessions/$SID"; [ "$(field startup.state)" = starting ] || break; sleep 0.2
done
call POST /message "{\"session\":\"$NAME\",\"target\":\"managers\",\"message\":\"ping; \$(id) #{session_name}\"}"
check "message to the managers" 200 status acknowledged
call POST /message "{\"session\":\"$NAME\",\"target\":\"bogus\",\"message\":\"x\"}"; check "message to a bad target is 400" 400 code VALIDATION_FAILED
call POST /message "{\"session\":\"$NAME\",\"target\":\"45\",\"message\":\"x\"}";    check "message outside the roster is 404" 404 code TARGET_NOT_FOUND
call GET "/status?sessionId=$NAME";           check "GET /status of the session" 200 session "$NAME"

call POST "/sessions/$SID/stop" '{}';         check "stop" 200 alreadyStopped false
call POST "/sessions/$SID/stop";              check "stop again is 200 (idempotent)" 200 alreadyStopped true
call POST "/sessions/$SID/connect" '{}';      check "connect to a stopped session is 409" 409 code SESSION_TERMINATED
call POST /message "{\"session\":\"$NAME\",\"target\":\"all\",\"message\":\"x\"}"; check "message to a stopped session is 409" 409 code SESSION_TERMINATED
call POST "/sessions/$SID/restore" '{"startAgents":true}'; check "restore with agents" 200 status restored
call POST "/sessions/$SID/restore" '{}';      check "restore of a live session is 409" 409 code SESSION_EXISTS
call POST "/sessions/$SID/stop" '{"force":true}'; check "forced stop" 200 status stopped
call GET /nope;                               check "unknown route is a JSON 404" 404 code ROUTE_NOT_FOUND

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
