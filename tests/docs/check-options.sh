#!/bin/bash
# Options agree everywhere (after curl's tests/manpage-scan.pl): for every built program in
# $CPM_BIN, the long options of `--help` must be those of man/<prog>.1 (`Fl -option`) and of
# its bash, zsh and fish completions. Also lints every man page with mandoc and checks the
# completions' syntax with bash -n, zsh -n and fish -n.
set -u -o pipefail
: "${CPM_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${CPM_BIN:=$CPM_SOURCE_DIR/build/default/tools}"
src=$CPM_SOURCE_DIR
programs=(cpm-send cpm-invite cpm-groupd cpm-iwf cpm-core-route cpm-ladder cpm-smsc)
failures=0
checked=0

bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Long options, one per line, sorted.
from_help() { "$1" --help 2>&1 | grep -oE '^[[:space:]]+(-[[:alnum:]],)?--[[:alnum:]][[:alnum:]-]*' | grep -oE -- '--[[:alnum:]-]+$' | sort -u; }
from_man() { grep -oE 'Fl -[[:alnum:]][[:alnum:]-]*' "$1" | sed 's/^Fl /-/' | sort -u; }
from_bash() { grep -oE -- '--[[:alnum:]][[:alnum:]-]*' "$1" | sort -u; }
from_zsh() { grep -oE -- '--[[:alnum:]][[:alnum:]-]*' "$1" | sort -u; }
from_fish() { grep -E '^[[:space:]]*complete[[:space:]]' "$1" | grep -oE -- '[[:space:]]-l[[:space:]]+[[:alnum:]][[:alnum:]-]*' | sed -E 's/^[[:space:]]*-l[[:space:]]+/--/' | sort -u; }

# compare PROG WHERE EXPECTED-LIST ACTUAL-LIST
compare()
{
  local prog=$1 where=$2 missing extra
  missing=$(comm -23 <(printf '%s\n' "$3") <(printf '%s\n' "$4") | grep . | tr '\n' ' ')
  extra=$(comm -13 <(printf '%s\n' "$3") <(printf '%s\n' "$4") | grep . | tr '\n' ' ')
  [[ -z $missing ]] || bad "$prog: missing in $where: $missing"
  [[ -z $extra ]] || bad "$prog: in $where but not in --help: $extra"
}

for prog in "${programs[@]}"; do
  bin=$CPM_BIN/$prog
  [[ -x $bin ]] || continue
  checked=$((checked + 1))
  help=$(from_help "$bin")
  if [[ -z $help ]]; then
    bad "$prog: --help lists no long option"
    continue
  fi
  man=$src/man/$prog.1
  if [[ -r $man ]]; then compare "$prog" "man/$prog.1" "$help" "$(from_man "$man")"
  else bad "$prog: no man page man/$prog.1"; fi
  f=$src/completions/bash/$prog
  if [[ -r $f ]]; then compare "$prog" "completions/bash/$prog" "$help" "$(from_bash "$f")"
  else bad "$prog: no bash completion completions/bash/$prog"; fi
  f=$src/completions/zsh/_$prog
  if [[ -r $f ]]; then compare "$prog" "completions/zsh/_$prog" "$help" "$(from_zsh "$f")"
  else bad "$prog: no zsh completion completions/zsh/_$prog"; fi
  f=$src/completions/fish/$prog.fish
  if [[ -r $f ]]; then compare "$prog" "completions/fish/$prog.fish" "$help" "$(from_fish "$f")"
  else bad "$prog: no fish completion completions/fish/$prog.fish"; fi
done
((checked > 0)) || bad "no program found in CPM_BIN=$CPM_BIN"

# A tool this check needs: missing is a skip on a developer's machine, a failure in CI.
have()
{
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ ${CI:-} == true ]]; then bad "$1 is not installed"; else echo "note: $1 not installed, its check skipped"; fi
  return 1
}

if have mandoc; then
  for page in "$src"/man/*.[15]; do
    [[ -e $page ]] || continue
    out=$(mandoc -Tlint -Wwarning "$page" 2>&1) || bad "mandoc -Tlint: $out"
  done
fi
for f in "$src"/completions/bash/*; do
  [[ -e $f ]] || continue
  out=$(bash -n "$f" 2>&1) || bad "bash -n $f: $out"
done
if have zsh; then
  for f in "$src"/completions/zsh/*; do
    [[ -e $f ]] || continue
    out=$(zsh -n "$f" 2>&1) || bad "zsh -n $f: $out"
  done
fi
if have fish; then
  for f in "$src"/completions/fish/*; do
    [[ -e $f ]] || continue
    out=$(fish -n "$f" 2>&1) || bad "fish -n $f: $out"
  done
fi

if ((failures)); then
  echo "check-options: $failures problem(s) in $checked program(s)"
  exit 1
fi
echo "check-options: $checked program(s): options agree in --help, man pages and completions"
