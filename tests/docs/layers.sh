#!/bin/bash
# libcpm's layers include only downward (ARCHITECTURE.md). For every file under
# libcpm/include/cpm/<layer>/ and libcpm/src/<layer>/, each #include "cpm/<other>/..." must
# name its own layer or one the table below lets it use; <re.h> only through cpm/rt/re.hpp,
# and cpm/rt/re.hpp never from a header; a tool includes libcpm and its own files, never
# another tool's (tools/<a>/ including "cpm-<b>/..." fails).
set -u -o pipefail
: "${CPM_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
self=$(realpath "$0")
# LAYERS_ROOT: check another tree (the self-test below uses it).
cd "${LAYERS_ROOT:-$CPM_SOURCE_DIR}" || exit 1

# layer -> the layers it may include besides itself (a DAG; the order of ARCHITECTURE.md).
declare -A allowed=(
  [base]=""
  [grammar]="base"
  [codec]="base grammar"
  [config]="base grammar"
  [store]="base"
  [smpp]="base"
  [media]="base"
  [rt]="base grammar codec config smpp media"
  [proxy]="base grammar config rt"
  [core]="base grammar codec config store"
  [ua]="base grammar codec config rt media proxy"
  [ladder]="base grammar"
  [sms]="base"
  [iw]="base grammar codec config store sms smpp"
)

failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# layer_of FILE: the layer directory a libcpm file is in.
layer_of() { sed -E 's#^libcpm/(include/cpm|src)/([^/]+)/.*#\2#' <<<"$1"; }

mapfile -t files < <(find libcpm/include/cpm libcpm/src -name '*.hpp' -o -name '*.cpp' | sort)
((${#files[@]})) || { bad "no libcpm sources found"; exit 1; }
for f in "${files[@]}"; do
  layer=$(layer_of "$f")
  if [[ $layer == "$f" || -z ${allowed[$layer]+set} ]]; then
    bad "$f is in no known layer (libcpm/{include/cpm,src}/<layer>/)"
    continue
  fi
  while IFS= read -r inc; do
    to=${inc%%/*}
    [[ $to == "$layer" ]] && continue
    if [[ -z ${allowed[$to]+set} ]]; then
      bad "$f includes cpm/$inc: no such layer"
    elif [[ " ${allowed[$layer]} " != *" $to "* ]]; then
      bad "$f ($layer) includes cpm/$inc: $to is not below $layer"
    fi
  done < <(grep -oE '^#include "cpm/[^"]+"' "$f" | sed -E 's/^#include "cpm\/(.*)"/\1/')
  if [[ $f != */rt/re.hpp ]] && grep -qE '^#include <re\.h>' "$f"; then
    bad "$f includes <re.h> directly (use cpm/rt/re.hpp)"
  fi
  if [[ $f == *.hpp && $f != */rt/re.hpp ]] && grep -qE '^#include "cpm/rt/re\.hpp"' "$f"; then
    bad "$f: a header includes cpm/rt/re.hpp (libre's macros would leak)"
  fi
  if grep -qE '^#include "cpm-' "$f"; then
    bad "$f includes a program's header"
  fi
done

# Tools: only their own headers (and libcpm's).
for dir in tools/*/; do
  tool=$(basename "$dir")
  while IFS=: read -r file inc; do
    [[ $inc == "$tool/"* ]] || bad "$file includes $inc (another program's header)"
  done < <(grep -oE '^#include "cpm-[^"]+"' "$dir"*.cpp "$dir"*.hpp 2>/dev/null |
    sed -E 's/:#include "(.*)"/:\1/')
  if grep -lE '^#include <re\.h>' "$dir"*.cpp "$dir"*.hpp 2>/dev/null; then
    bad "$dir: includes <re.h> directly (use cpm/rt/re.hpp)"
  fi
done

# A check that cannot fail is no check: a copy with one upward include must fail.
if [[ -z ${LAYERS_ROOT:-} ]]; then
  probe=$(mktemp -d)
  trap 'rm -rf "$probe"' EXIT
  mkdir -p "$probe/libcpm/src/base" "$probe/libcpm/include/cpm" "$probe/tools"
  printf '#include "cpm/core/route.hpp"\n' >"$probe/libcpm/src/base/upward.cpp"
  if LAYERS_ROOT=$probe bash "$self" >/dev/null; then
    bad "self-test: an upward include (base -> core) was not caught"
  fi
fi

if ((failures)); then
  echo "layers: $failures problem(s)"
  exit 1
fi
echo "layers: ${#files[@]} libcpm files include only downward"
