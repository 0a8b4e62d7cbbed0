#!/usr/bin/env bash
# Levelization check (as rippled's): every #include in daemon/ and connectors/ must respect the
# layers below; a violation prints file:line, the include and the rule it breaks, and the script
# exits 1. tests/ and bench/ are not checked (they may reach into any layer).
#
#   layer                 rank  may include
#   daemon/util            0    util only
#   daemon/http            1a   util, http            (http never includes auth: auth is an
#   daemon/auth            1b   util, http, auth       HTTP client of the token endpoints)
#   daemon/store           2    util .. store, but no http/auth/connectors, no Asio/Beast
#   connectors             3    util .. connectors, but no daemon/store (no SQL, no sqlite3.h);
#                               connectors/<x>/ never includes connectors/<y>/ (siblings), and
#                               the shared connectors/*.hpp include no connectors/<x>/
#   daemon/mapping         4    util .. mapping; domain code, no sockets: never
#                               connectors/connector.hpp, connectors/*/*_connector.hpp,
#                               daemon/http, daemon/auth, <boost/asio...>, <boost/beast...>
#   daemon/engine          5    util .. engine
#   daemon/rules           6    util .. rules; domain code, no sockets (as mapping)
#   daemon/cli             7    everything
#
# A quoted include must name a file of a layer by its path from the repository root.
#
# Usage: scripts/levelization.sh [root]   (root: the repository, default this script's)
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

mapfile -t files < <(find daemon connectors -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "levelization: no sources under $(pwd)/daemon or connectors" >&2
  exit 2
fi

# grep prints file:line:text; it exits 1 when no file has an include, which is no error here.
{ grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' -- "${files[@]}" || true; } |
  awk -v nfiles="${#files[@]}" '
    # Rank of a path (x10 so that http/auth fit between 0 and 2), -1 when it is in no layer.
    function rank(p) {
      if (p ~ /^daemon\/util\//) return 0
      if (p ~ /^daemon\/http\//) return 10
      if (p ~ /^daemon\/auth\//) return 11
      if (p ~ /^daemon\/store\//) return 20
      if (p ~ /^connectors\//) return 30
      if (p ~ /^daemon\/mapping\//) return 40
      if (p ~ /^daemon\/engine\//) return 50
      if (p ~ /^daemon\/rules\//) return 60
      if (p ~ /^daemon\/cli\//) return 70
      return -1
    }
    function layer(p) {
      if (p ~ /^connectors\//) return "connectors"
      split(p, parts, "/")
      return parts[1] "/" parts[2]
    }
    # The connector a path belongs to (connectors/salesforce/x.hpp -> salesforce), "" when shared.
    function connector(p,   parts) {
      return (split(p, parts, "/") >= 3 && parts[1] == "connectors") ? parts[2] : ""
    }
    function domain(p) { return p ~ /^daemon\/(mapping|rules)\// }
    function fail(rule) {
      printf "%s:%s: #include %s: %s\n", file, line, shown, rule
      violations++
    }
    {
      file = $0; sub(/:.*/, "", file)
      rest = substr($0, length(file) + 2)
      line = rest; sub(/:.*/, "", line)
      text = substr(rest, length(line) + 2)
      if (!match(text, /["<][^">]+[">]/)) next
      shown = substr(text, RSTART, RLENGTH)
      inc = substr(text, RSTART + 1, RLENGTH - 2)
      quoted = substr(text, RSTART, 1) == "\""
      includes++
      from = rank(file)
      if (from < 0) { fail("this file is in no layer: add its directory to the table"); next }
      if (!quoted) {
        if (domain(file) && inc ~ /^boost\/(asio|beast)/)
          fail("domain code (" layer(file) ") touches no sockets: no Asio/Beast")
        if (file ~ /^connectors\// && inc ~ /^sqlite3/)
          fail("connectors hold no SQL: the store is the engine'"'"'s")
        if (file ~ /^daemon\/store\// && inc ~ /^boost\/(asio|beast)/)
          fail("the store does no network I/O: no Asio/Beast")
        next
      }
      to = rank(inc)
      if (to < 0) { fail("not a layered path from the repository root (daemon/<layer>/... or connectors/...)"); next }
      if (to > from)
        fail("upward: " layer(file) " includes the higher layer " layer(inc))
      if (connector(file) != "" && connector(inc) != "" && connector(file) != connector(inc))
        fail("connector " connector(file) " includes its sibling connector " connector(inc))
      if (file ~ /^connectors\/[^\/]+$/ && connector(inc) != "")
        fail("shared connector code includes the " connector(inc) " connector")
      if (domain(file) && (inc == "connectors/connector.hpp" || inc ~ /^connectors\/[^\/]+\/[^\/]*_connector\.hpp$/ ||
                           inc ~ /^daemon\/(http|auth)\//))
        fail("domain code (" layer(file) ") touches no sockets: include connectors/records.hpp or a contract header")
      if (file ~ /^connectors\// && inc ~ /^daemon\/store\//)
        fail("connectors hold no SQL: the store is the engine'"'"'s")
      if (file ~ /^daemon\/store\// && inc ~ /^(connectors|daemon\/http|daemon\/auth)\//)
        fail("the store does no network I/O: no connectors, http or auth")
    }
    END {
      if (violations) {
        printf "levelization: %d violation(s) (%d files, %d includes)\n", violations, nfiles, includes
        exit 1
      }
      printf "levelization: OK (%d files, %d includes)\n", nfiles, includes
    }'
