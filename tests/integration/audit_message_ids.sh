#!/bin/bash
# The MESSAGE_IDs printed in docs/audit.md are the ones the code sends:
# collectors are configured from that table.
source "$(dirname "$0")/lib.sh"

doc=$MG_SOURCE_DIR/docs/audit.md
rows=$(grep -E '^\| `[a-z0-9._-]+` \|.*\| `[0-9a-f]{32}` \|' "$doc")
[[ -n $rows ]] || fail "no event rows in $doc"
n=0
while IFS= read -r row; do
	event=$(sed -E 's/^\| `([^`]+)`.*/\1/' <<<"$row")
	documented=$(grep -oE '`[0-9a-f]{32}`' <<<"$row" | tr -d '`')
	actual=$(mynaguardctl audit message-id "$event" | cut -d' ' -f1)
	[[ $documented == "$actual" ]] || fail "$event: docs say $documented, the code sends $actual"
	n=$((n + 1))
done <<<"$rows"
ok "all $n MESSAGE_IDs in docs/audit.md match the code"
