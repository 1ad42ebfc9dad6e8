#!/usr/bin/env bash
# The Debian package: the release binary, its systemd units (one home, and
# a template for one home per instance), man pages and completions made
# from the CLI itself. Installs cargo-deb once (skipped when present).
# Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-deb@3.8.0 >&2
fi
cargo build --release --quiet
bin=target/release/postern
assets=target/assets
rm -rf "$assets" && mkdir -p "$assets/man" "$assets/completions"
"$bin" generate man "$assets/man" >&2
gzip -9n "$assets"/man/*.1
"$bin" generate completions bash >"$assets/completions/postern"
"$bin" generate completions zsh >"$assets/completions/_postern"
"$bin" generate completions fish >"$assets/completions/postern.fish"
# The template unit: the same service, its home named by the instance.
sed -e 's|^# postern: the peer of one home (/var/lib/postern), as the package|# postern@NAME: the peer of home /var/lib/postern/NAME, one instance per|' \
    -e 's|^# installs it. Set the home up first, as the postern user:|# home (its own keys and settings). Set the home up first:|' \
    -e 's|--home /var/lib/postern sync accept|--home /var/lib/postern/NAME sync accept|' \
    -e 's|systemctl enable --now postern$|systemctl enable --now postern@NAME|' \
    -e 's|(systemctl edit postern)|(systemctl edit postern@NAME)|' \
    -e 's|^Description=.*|Description=postern issue sync peer (home /var/lib/postern/%i)|' \
    -e 's|^Environment=POSTERN_HOME=.*|Environment=POSTERN_HOME=/var/lib/postern/%i|' \
    -e 's|^StateDirectory=postern$|StateDirectory=postern/%i|' \
    -e 's|^EnvironmentFile=-/etc/postern/postern.env$|EnvironmentFile=-/etc/postern/%i.env|' \
    debian/postern.service >"$assets/postern@.service"
grep -q 'POSTERN_HOME=/var/lib/postern/%i' "$assets/postern@.service"
# cargo-deb prints the package's path.
cargo deb --no-build --strip --quiet | tail -1
