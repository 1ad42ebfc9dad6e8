#!/usr/bin/env python3
"""GitHub's REST API description (npm @octokit/openapi) as Prism checks it.

    github-spec.py IN OUT

What is adjusted, and why:

- `servers` becomes one loopback entry without a path: Prism, in proxy
  mode, matches a request's path against the description's paths after
  the server's path; the tests speak to Prism at its root, as postern
  speaks to https://api.github.com, whereas the Enterprise Server's
  description has its `{protocol}://{hostname}/api/v3` template.

Nothing else changes: every request postern sends and every answer the
fake gives is checked against GitHub's description as published.
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    spec = json.load(f)
spec["servers"] = [{"url": "http://127.0.0.1"}]
with open(dst, "w") as f:
    json.dump(spec, f)
