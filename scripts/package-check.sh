#!/usr/bin/env bash
# The Debian package as an admin meets it (run as root, by the
# integration script): installed with dpkg, its user and state folder
# made, its units accepted by systemd-analyze verify and rated by
# systemd-analyze security, man pages and completions in place, the demo
# and a two-home sync run with the installed binary as the postern user,
# and the package removed and purged again.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:?usage: scripts/package-check.sh PACKAGE.deb}
fail() { echo "package-check: $*" >&2; exit 1; }

dpkg -i "$deb" >/dev/null
dpkg -i "$deb" >/dev/null # a reinstall (an upgrade to the same version) is quiet and keeps the user
getent passwd postern >/dev/null || fail "no postern user"
[ "$(stat -c '%U %a' /var/lib/postern)" = "postern 700" ] || fail "/var/lib/postern: $(stat -c '%U %a' /var/lib/postern)"

# The units: verified as systemd loads them (the template as an instance).
units=$(mktemp -d)
trap 'rm -rf "$units"' EXIT
cp /usr/lib/systemd/system/postern.service "$units/"
cp /usr/lib/systemd/system/postern@.service "$units/postern@acme.service"
systemd-analyze verify "$units/postern.service" "$units/postern@acme.service"
grep -q '^Environment=POSTERN_HOME=/var/lib/postern/%i$' /usr/lib/systemd/system/postern@.service || fail "template home"
exposure=$(systemd-analyze security --offline=yes "$units/postern.service" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $exposure (0 is best, below 2 is rated OK)"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 2.0) }' || fail "exposure $exposure is not below 2.0"

# Man pages and completions.
zcat /usr/share/man/man1/postern-sync-create.1.gz | grep -q 'sync create' || fail "man page of sync create"
[ "$(ls /usr/share/man/man1/postern*.1.gz | wc -l)" -gt 40 ] || fail "man pages missing"
bash -c 'source /usr/share/bash-completion/completions/postern && complete -p postern' >/dev/null || fail "bash completion"

# The installed binary: the demo, and a two-home sync as the postern user.
work=$(runuser -u postern -- mktemp -d /var/lib/postern/check.XXXXXX)
(cd "$work" && runuser -u postern -- /usr/bin/postern demo >"$work/demo.log" 2>&1) || { cat "$work/demo.log" >&2; fail "demo"; }
cp examples/network-folder.sh "$work/" && chown postern "$work/network-folder.sh"
runuser -u postern -- env POSTERN=/usr/bin/postern bash "$work/network-folder.sh" "$work/pair" >"$work/log" 2>&1 \
  || { cat "$work/log" >&2; fail "two-home sync as the postern user"; }
rm -rf "$work"

# Removed, the homes stay; purged, they and the user go.
touch /var/lib/postern/kept
dpkg -r postern >/dev/null
[ -e /var/lib/postern/kept ] || fail "remove took the homes"
dpkg -P postern >/dev/null
[ ! -e /var/lib/postern ] || fail "purge left /var/lib/postern"
! getent passwd postern >/dev/null || fail "purge left the user"
echo "package-check: installed, verified, ran, removed and purged"
