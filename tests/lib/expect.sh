# shellcheck shell=bash
# The flow harness's checks (sourced by flow.sh): waiting for output, expect_* (each fails
# the test with what it saw), and queries of --trace files.
# It uses $t of proc.sh, which flow.sh sources first:
# shellcheck disable=SC2154

# poll_for FILE TEXT SECONDS [NAME]: a bounded poll until FILE (written by another process)
# contains TEXT (a fixed string); returns 1 after SECONDS, or as soon as the recorded
# program NAME has ended without writing it.
poll_for()
{
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -F -- "$2" "$1" >/dev/null 2>&1 && return 0
    [[ -z ${4:-} ]] || alive "$4" || break
    sleep 0.1 # bounded poll of a file another process writes; the caller checks the outcome
  done
  grep -F -- "$2" "$1" >/dev/null 2>&1
}

# wait_for FILE TEXT [SECONDS]: poll_for that fails after SECONDS (default 20).
wait_for()
{
  poll_for "$1" "$2" "${3:-20}" || fail "$1 never contained '$2'"
}

# wait_count FILE TEXT N [SECONDS]: a bounded poll until FILE has N lines (at least) that
# contain TEXT (a fixed string); fails after SECONDS (default 20).
wait_count()
{
  local i n
  for ((i = 0; i < ${4:-20} * 10; i++)); do
    n=$(grep -cF -- "$2" "$1" 2>/dev/null) || true
    ((${n:-0} >= $3)) && return 0
    sleep 0.1 # bounded poll of a file another process writes; fails below
  done
  fail "$1 never had $3 lines with '$2' (it has ${n:-0})"
}

# quiet_grep GREP-ARGS...: grep with no output that reads all of its input, for the end of
# a pipeline: flow.sh sets pipefail, and grep -q, which exits at the first match, can make
# the command before it die of SIGPIPE (status 141) when its output takes two writes
# (a trace's lines, over 4 KiB), failing a check that matched.
quiet_grep()
{
  grep "$@" >/dev/null
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq()
{
  [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}

# expect_exit NAME STATUS [WHAT]: the recorded program NAME ends by itself within 20 s with
# exit status STATUS.
expect_exit()
{
  local rc=0 what="$1's exit status"
  wait_exit "$1" 20 || rc=$?
  expect_eq "$rc" "$2" "${3:-$what}"
}

# expect_contains FILE TEXT: FILE contains TEXT (a fixed string).
expect_contains()
{
  [[ -r $1 ]] || fail "expect_contains: no file $1"
  grep -qF -- "$2" "$1" || {
    _flow_log "---- $1 ----"
    head -c 4000 "$1" >&2
    fail "$1 does not contain '$2'"
  }
}

# expect_json FILE PATH VALUE [PATH VALUE...]: some line of FILE (JSON Lines, or one JSON
# document) has every PATH equal to its VALUE. PATH is the jq subset .key.key[N]; a string
# compares as is, anything else as compact JSON (true, 200, null).
expect_json()
{
  local file=$1
  shift
  [[ -r $file ]] || fail "expect_json: no file $file"
  (($# >= 2 && $# % 2 == 0)) || fail "expect_json: FILE PATH VALUE [PATH VALUE...]"
  python3 - "$file" "$@" <<'EOF' || fail "expect_json: no line of $file has $*"
import json, re, sys
path, pairs = sys.argv[1], sys.argv[2:]
def get(doc, expr):
    if expr == ".":
        return doc
    for key, idx in re.findall(r'\.([A-Za-z_][\w-]*)|\[(\d+)\]', expr):
        if key:
            if not isinstance(doc, dict) or key not in doc:
                raise KeyError(expr)
            doc = doc[key]
        else:
            if not isinstance(doc, list) or int(idx) >= len(doc):
                raise KeyError(expr)
            doc = doc[int(idx)]
    return doc
def text(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
raw = open(path, encoding="utf-8", errors="replace").read()
docs = []
try:
    docs = [json.loads(raw)]
except ValueError:
    for line in raw.splitlines():
        if line.strip():
            try:
                docs.append(json.loads(line))
            except ValueError:
                print(f"expect_json: not JSON: {line[:200]}", file=sys.stderr)
for d in docs:
    try:
        if all(text(get(d, pairs[i])) == pairs[i + 1] for i in range(0, len(pairs), 2)):
            sys.exit(0)
    except KeyError:
        pass
print(f"---- {path} ----", file=sys.stderr)
print(raw[:4000], file=sys.stderr)
sys.exit(1)
EOF
}

# expect_json_values FILE VALUE...: some JSON line of FILE holds every VALUE as a value
# (a string, or a number/boolean as JSON), at any key and depth.
expect_json_values()
{
  local file=$1
  shift
  [[ -r $file ]] || fail "expect_json_values: no file $file"
  python3 - "$file" "$@" <<'EOF' || fail "expect_json_values: no line of $file holds all of: $*"
import json, sys
path, want = sys.argv[1], set(sys.argv[2:])
def values(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from values(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from values(v)
    else:
        yield doc if isinstance(doc, str) else json.dumps(doc)
raw = open(path, encoding="utf-8", errors="replace").read()
for line in raw.splitlines():
    try:
        doc = json.loads(line)
    except ValueError:
        continue
    if want <= set(values(doc)):
        sys.exit(0)
print(f"---- {path} ----", file=sys.stderr)
print(raw[:4000], file=sys.stderr)
sys.exit(1)
EOF
}

# expect_ladder EXPECTED TRACE...: cpm-ladder --check (FLOWS.md comparison); on a mismatch
# print its diff and fail.
expect_ladder()
{
  local expected=$1 rc=0
  shift
  cpm-ladder --check "$expected" "$@" >"$t/ladder.check" 2>&1 || rc=$?
  if ((rc != 0)); then
    cat "$t/ladder.check" >&2
    fail "expect_ladder: the run does not match $(basename "$expected") (cpm-ladder exit $rc)"
  fi
}

# trace_message_id TRACE: the CPIM imdn.Message-ID of the first MESSAGE a --trace file
# shows sent (empty when there is none).
trace_message_id()
{
  python3 - "$1" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["dir"] == "tx" and e["first_line"].startswith("MESSAGE "):
        m = re.search(r"(?im)^[\w-]+\.Message-ID:[ \t]*(\S+)", e["message"])
        if m:
            print(m.group(1))
            break
PY
}

# only_call FIRST TRACE...: copy FIRST and each TRACE to $t/only/ (same file names),
# keeping only the events of the Call-ID of the first MESSAGE FIRST shows sent: one
# message's ladder out of traces of a longer run.
only_call()
{
  mkdir -p "$t/only"
  python3 - "$t/only" "$@" <<'PY' || fail "only_call: no MESSAGE sent in $2"
import json, os, sys
out, first, traces = sys.argv[1], sys.argv[2], sys.argv[2:]
call = next((e["call_id"] for l in open(first) if (e := json.loads(l))["dir"] == "tx"
             and e["first_line"].startswith("MESSAGE ")), None)
if call is None:
    sys.exit(1)
for path in dict.fromkeys(traces):
    with open(os.path.join(out, os.path.basename(path)), "w") as f:
        for line in open(path):
            if json.loads(line).get("call_id") == call:
                f.write(line)
PY
}

# trace_pai TRACE DIR START [TEXT]: the P-Asserted-Identity values, one per line ("none"
# when there are none), of the first request in TRACE (dir DIR, "rx" or "tx") whose first
# line starts with START ("MESSAGE ") and whose text has TEXT; exit 1 when there is none.
trace_pai()
{
  python3 - "$@" <<'PY'
import json, re, sys
path, d, start = sys.argv[1:4]
text = sys.argv[4] if len(sys.argv) > 4 else ""
for line in open(path):
    e = json.loads(line)
    if e["dir"] == d and e["first_line"].startswith(start) and text in e["message"]:
        print("\n".join(re.findall(r"(?im)^P-Asserted-Identity:[ \t]*(.*?)\r?$", e["message"])) or "none")
        sys.exit(0)
sys.exit(f"{path}: no {start.strip()} with {text!r}")
PY
}

# sent TRACE PREFIX: how many messages the traced node sent whose first line starts so.
sent()
{
  python3 - "$1" "$2" <<'PY'
import json, sys
print(sum(1 for line in open(sys.argv[1])
          if (e := json.loads(line))["dir"] == "tx" and e["first_line"].startswith(sys.argv[2])))
PY
}
