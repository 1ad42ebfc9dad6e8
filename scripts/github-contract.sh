#!/usr/bin/env bash
# GitHub's own OpenAPI descriptions and Stoplight Prism, for the contract
# tests of the GitHub backend (tests/github.rs, ignored in `cargo test`):
# Prism runs in proxy mode in front of the fake GitHub and fails any
# request or answer the description does not allow.
#
#   scripts/github-contract.sh install DIR   fetch once (skipped when present)
#
# DIR then holds api.github.com.json and ghes.json (the newest Enterprise
# Server's, ghes-3.19) from the npm package @octokit/openapi, which GitHub
# publishes from its REST API description, and Prism 5.14 (5.16 needs
# Node >= 24). See scripts/github-spec.py for what is adjusted.
set -euo pipefail
cmd=${1:?usage: github-contract.sh install DIR}
dir=${2:?usage: github-contract.sh install DIR}
here="$(cd "$(dirname "$0")" && pwd)"
version=23.0.2
ghes=3.19

[ "$cmd" = install ] || { echo "unknown command $cmd" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
if [ -x node_modules/.bin/prism ] && [ -s api.github.com.json ] && [ -s ghes.json ]; then
  echo "GitHub descriptions and Prism already in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed for the GitHub contract tests" >&2; exit 1; }
[ -f package.json ] || echo '{"name":"postern-github-contract","private":true}' > package.json
npm install --silent --no-audit --no-fund @stoplight/prism-cli@5.14.2 >/dev/null
tmp=$(mktemp -d)
( cd "$tmp" && npm pack --silent "@octokit/openapi@$version" >/dev/null \
    && tar xzf "octokit-openapi-$version.tgz" package/generated/api.github.com.json "package/generated/ghes-$ghes.json" )
python3 "$here/github-spec.py" "$tmp/package/generated/api.github.com.json" api.github.com.json
python3 "$here/github-spec.py" "$tmp/package/generated/ghes-$ghes.json" ghes.json
rm -rf "$tmp"
echo "GitHub descriptions ($version, GHES $ghes) and Prism in $dir"
