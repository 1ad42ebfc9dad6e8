#!/usr/bin/env bash
# Integration: the release build as users run it. Runs the README's main
# command and the deployment examples with real daemons, then the tests
# marked #[ignore] (those that need real servers; when run as root on
# Debian this script installs what they need).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the ignored tests need, from Debian's packages when run as root.
need=()
command -v sq >/dev/null || need+=(sq)
command -v gpg >/dev/null || need+=(gnupg)
command -v script >/dev/null || need+=(bsdutils)
command -v openssl >/dev/null || need+=(openssl)
command -v socat >/dev/null || need+=(socat)
python3 -c 'import jsonschema' 2>/dev/null || need+=(python3-jsonschema)
command -v postfix >/dev/null || need+=(postfix)
command -v dovecot >/dev/null || need+=(dovecot-core dovecot-imapd)
# The console's browser test: headless Chromium through ChromeDriver.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string example.test" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (run as root to install them)" >&2
    exit 1
  fi
fi

cargo build --release
export POSTERN=$PWD/target/release/postern

echo "== cargo run --release -- demo"
cargo run --release -q -- demo

for ex in examples/*.sh; do
  echo "== $ex"
  work=$(mktemp -d)
  bash "$ex" "$work"
  rm -rf "$work"
done

echo "== the Debian package (scripts/package.sh), installed and checked when root"
deb=$(bash scripts/package.sh)
if [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
  bash scripts/package-check.sh "$deb"
else
  echo "built $deb; not installed (needs root and dpkg)"
fi

echo "== real mail servers on loopback"
mail=$(mktemp -d)
export POSTERN_MAIL_DIR=$mail
export POSTERN_SMTP_PORT=$((20000 + RANDOM % 20000)) POSTERN_IMAP_PORT=$((40000 + RANDOM % 20000))
trap 'bash scripts/mail-servers.sh stop "$mail"; rm -rf "$mail"' EXIT
bash scripts/mail-servers.sh start "$mail" "$POSTERN_SMTP_PORT" "$POSTERN_IMAP_PORT"

echo "== a throw-away Redmine on loopback"
if [ "$(id -u)" = 0 ]; then bash scripts/redmine.sh install; fi
redmine=$(mktemp -d)
trap 'bash scripts/mail-servers.sh stop "$mail"; bash scripts/redmine.sh stop "$redmine"; rm -rf "$mail" "$redmine"' EXIT
bash scripts/redmine.sh start "$redmine" $((20000 + RANDOM % 20000)) >/dev/null
export POSTERN_REDMINE_ENV=$redmine/env

echo "== Atlassian's Jira specifications and Prism (the fake Jira's contract)"
export POSTERN_JIRA_CONTRACT=${XDG_CACHE_HOME:-$HOME/.cache}/postern/jira-contract
bash scripts/jira-contract.sh install "$POSTERN_JIRA_CONTRACT"

echo "== GitHub's OpenAPI descriptions and Prism (the fake GitHub's contract)"
export POSTERN_GITHUB_CONTRACT=${XDG_CACHE_HOME:-$HOME/.cache}/postern/github-contract
bash scripts/github-contract.sh install "$POSTERN_GITHUB_CONTRACT"

echo "== ignored tests (real servers, sq)"
# Every test group runs, so one failing file does not hide the others.
cargo test --release --no-fail-fast -- --ignored

echo "== the GitHub benchmark against the fake GitHub (figures)"
cargo run --release --quiet --example github_bench -- --bench --issues 50 --comments 3

echo "== postern bench against the Redmine (figures; docs/performance.md has a 1,000-issue run)"
./target/release/postern bench --redmine "$POSTERN_REDMINE_ENV" --issues 30 --comments 5 --latency-samples 2
