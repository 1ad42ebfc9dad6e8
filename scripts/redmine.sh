#!/usr/bin/env bash
# A throw-away real Redmine (Debian's 5.0.4 with SQLite) on loopback for
# the Redmine tests; each instance lives in one folder.
#
#   scripts/redmine.sh install          as root: Debian's redmine + redmine-sqlite
#                                       (nothing to do when already installed)
#   scripts/redmine.sh start DIR PORT   a fresh instance in DIR on 127.0.0.1:PORT
#   scripts/redmine.sh stop DIR
#
# `start` stops a server left in DIR, replaces its instance files, turns on
# REST and then, through REST, makes private projects `alpha` and `beta`
# (issue tracking, all trackers) and the non-admin users `syncbot` and
# `alice`, each a Developer (plus "edit own notes") in both projects.
# Developers may set any status on every tracker but the last (Support,
# REDMINE_STRICT_TRACKER_ID), which keeps Debian's workflow: a status it
# does not allow (e.g. reopening, or any status on creation) is ignored
# with 204/201 and no error.
# Everything a test needs is in DIR/env, lines NAME='value' (source it, or
# strip the quotes): REDMINE_URL, REDMINE_ADMIN_KEY, REDMINE_SYNC_USER,
# REDMINE_SYNC_PASSWORD, REDMINE_SYNC_KEY, REDMINE_SYNC_USER_ID, REDMINE_ALICE_*,
# REDMINE_ALPHA_ID, REDMINE_BETA_ID, REDMINE_TRACKER_ID (default), REDMINE_TRACKERS,
# REDMINE_STRICT_TRACKER_ID,
# REDMINE_STATUSES, REDMINE_PRIORITIES ("Name=id,Name=id"),
# REDMINE_DEFAULT_STATUS_ID, REDMINE_CLOSED_STATUS_IDS, REDMINE_DEFAULT_PRIORITY_ID.
# The server answers one request at a time (Rack::Lock: SQLite and
# WEBrick's threads do not mix); its log is DIR/log/.
set -euo pipefail
cmd=${1:?install|start|stop}
SHARE=/usr/share/redmine
SEED=/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default
ADMIN_KEY=0123456789abcdef0123456789abcdef0a0a0a0a

# Installed and configured (postinst done); the seeded database exists then,
# though only root and www-data may read it.
installed() {
  [ "$(dpkg-query -W -f='${Status}\n' redmine redmine-sqlite 2>/dev/null | grep -c '^install ok installed$')" = 2 ]
}

# Bundler >= 2.3.27 (a default gem since ruby3.1 3.1.7-1~deb12u2) ignores
# Debian's packaged gems, so redmine's postinst and Rails fail; Debian's own
# ruby-bundler works when asked for by version.
bundler_version() {
  local v
  v=$(dpkg-query -W -f='${Version}' ruby-bundler 2>/dev/null || true)
  [ -n "$v" ] || v=$(apt-cache policy ruby-bundler | awk '/Candidate:/ {print $2}')
  v=${v#*:}; echo "${v%%-*}"
}

install() {
  if installed && { [ "$(id -u)" != 0 ] || [ -f "$SEED" ]; }; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "redmine is not installed; run 'scripts/redmine.sh install' as root" >&2
    exit 1
  fi
  debconf-set-selections <<'SEL'
redmine redmine/current-instances string default
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
SEL
  [ -n "$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null)" ] || apt-get update -qq
  local bv; bv=$(bundler_version)
  # If the postinst still fails, the second configure (with ruby-bundler's
  # exact version now known) finishes the job.
  BUNDLER_VERSION=$bv DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends redmine redmine-sqlite >/dev/null 2>&1 || true
  BUNDLER_VERSION=$(bundler_version) DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1 || true
  if ! installed || [ ! -f "$SEED" ]; then
    echo "installing redmine failed; see: apt-get install redmine redmine-sqlite" >&2
    exit 1
  fi
}

if [ "$cmd" = install ]; then install; exit 0; fi

DIR=$(realpath -m "${2:?folder}")

# Alive and not a zombie (a container's pid 1 may never reap it).
alive() {
  local s
  s=$(sed -E 's/.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$s" ] && [ "$s" != Z ]
}

stop() {
  local pid
  for f in "$DIR/redmine.pid" "$DIR/tmp/pids/server.pid"; do
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    # Only ours: a stale pid may belong to someone else by now.
    grep -qaF "$DIR/config.ru" "/proc/$pid/cmdline" 2>/dev/null || continue
    # The server runs in its own session, led by the process started here;
    # rackup shuts down cleanly on SIGINT (~1.5 s).
    for sig in INT TERM KILL; do
      alive "$pid" || break
      kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    done
  done
  # A pid file left by a killed rackup blocks the next start.
  rm -f "$DIR/redmine.pid" "$DIR/tmp/pids/server.pid"
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
case $cmd in
  start) ;;
  # The same instance again, its data kept (a test stopping Redmine mid-sync).
  restart) [ -f "$DIR/db.sqlite3" ] || { echo "redmine: no instance in $DIR to restart" >&2; exit 1; } ;;
  *) echo "usage: $0 install | start DIR PORT | restart DIR PORT | stop DIR" >&2; exit 2 ;;
esac
PORT=${3:?port}
URL=http://127.0.0.1:$PORT
if ! installed; then
  echo "redmine is not installed; run 'scripts/redmine.sh install' as root" >&2
  exit 1
fi
if [ ! -r "$SEED" ]; then
  echo "cannot read $SEED: run as root, or as a member of the www-data group" >&2
  exit 1
fi
BUNDLER_VERSION=$(bundler_version)

INSTANCE=../../../../../../../../..$DIR
stop
if [ "$cmd" = start ]; then
rm -rf "$DIR"/{config,config.ru,db.sqlite3,env,files,log,public,tmp}
mkdir -p "$DIR"/{config,log,tmp/cache,tmp/pids,files,public/plugin_assets}
# Redmine finds an instance under $SHARE/instances (/var/lib/redmine) by
# name; "../" runs up to "/" both lexically and through that symlink.
cp "$SEED" "$DIR/db.sqlite3"
printf 'production:\n  adapter: sqlite3\n  database: %s/db.sqlite3\n  encoding: utf8\n  timeout: 10000\n' \
  "$DIR" > "$DIR/config/database.yml"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$DIR/config/secret_key.txt"
cat > "$DIR/config.ru" <<RU
require '$SHARE/config/environment'
# One request at a time: parallel SQLite writers under WEBrick's threads
# end in "database is locked".
use Rack::Lock
run Rails.application
RU

sql() { sqlite3 -batch "$DIR/db.sqlite3" "$@"; }
q() { sql "$@" | head -1; }

# Debian seeds the default data (trackers, statuses, priorities, roles,
# workflows); load it when a seeded database lacks it.
if [ "$(q 'SELECT count(*) FROM trackers')" = 0 ]; then
  ( cd "$SHARE" && REDMINE_INSTANCE=$INSTANCE RAILS_ENV=production REDMINE_LANG=en \
      BUNDLER_VERSION=$BUNDLER_VERSION rake redmine:load_default_data >"$DIR/log/load_default_data.log" 2>&1 ) || true
  if [ "$(q 'SELECT count(*) FROM trackers')" = 0 ]; then
    echo "redmine: loading the default data failed:" >&2; tail -20 "$DIR/log/load_default_data.log" >&2; exit 1
  fi
fi
now="strftime('%Y-%m-%d %H:%M:%f','now','localtime')"
sql <<SQL
DELETE FROM settings WHERE name IN ('rest_api_enabled','login_required');
INSERT INTO settings(name,value,updated_on) VALUES ('rest_api_enabled','1',$now), ('login_required','0',$now);
UPDATE users SET must_change_passwd=0 WHERE login='admin';
DELETE FROM tokens WHERE user_id=(SELECT id FROM users WHERE login='admin') AND action='api';
INSERT INTO tokens(user_id,action,value,created_on,updated_on)
  SELECT id,'api','$ADMIN_KEY',$now,$now FROM users WHERE login='admin';
-- A text field for labels (docs/redmine.md, --redmine-labels-field).
INSERT INTO custom_fields (type, name, field_format, is_for_all, position, editable, visible, format_store)
  SELECT 'IssueCustomField', 'Labels', 'string', 1, 1, 1, 1, '--- {}'
  WHERE NOT EXISTS (SELECT 1 FROM custom_fields WHERE name = 'Labels');
INSERT OR IGNORE INTO custom_fields_trackers (custom_field_id, tracker_id)
  SELECT cf.id, t.id FROM custom_fields cf, trackers t WHERE cf.name = 'Labels';
UPDATE roles SET permissions = permissions || '- :edit_own_issue_notes' || char(10)
  WHERE name='Developer' AND permissions NOT LIKE '%:edit_own_issue_notes%';
-- People correct others' notes too (the sync user's among them).
UPDATE roles SET permissions = permissions || '- :edit_issue_notes' || char(10)
  WHERE name='Developer' AND permissions NOT LIKE '%:edit_issue_notes%';
-- A second text field, for custom fields mapped by name.
INSERT INTO custom_fields (type, name, field_format, is_for_all, position, editable, visible, format_store)
  SELECT 'IssueCustomField', 'Ticket ref', 'string', 1, 2, 1, 1, '--- {}'
  WHERE NOT EXISTS (SELECT 1 FROM custom_fields WHERE name = 'Ticket ref');
INSERT OR IGNORE INTO custom_fields_trackers (custom_field_id, tracker_id)
  SELECT cf.id, t.id FROM custom_fields cf, trackers t WHERE cf.name = 'Ticket ref';
-- Labels as customers usually keep them: a list with several values
-- ("multiple"), whose values the admin chose, enabled per project.
INSERT INTO custom_fields (type, name, field_format, possible_values, multiple, is_for_all, position, editable,
    visible, format_store)
  SELECT 'IssueCustomField', 'Tags', 'list',
    '---' || char(10) || '- customer' || char(10) || '- backend' || char(10) || '- sso' || char(10),
    1, 0, 3, 1, 1, '--- {}'
  WHERE NOT EXISTS (SELECT 1 FROM custom_fields WHERE name = 'Tags');
INSERT OR IGNORE INTO custom_fields_trackers (custom_field_id, tracker_id)
  SELECT cf.id, t.id FROM custom_fields cf, trackers t WHERE cf.name = 'Tags';
-- Custom fields of the formats that hold ids: a user, a version and a
-- key/value list (Severity: High, Low), enabled per project.
INSERT INTO custom_fields (type, name, field_format, is_for_all, position, editable, visible, multiple, format_store)
  SELECT 'IssueCustomField', n, f, 0, p, 1, 1, 0, '--- {}'
  FROM (SELECT 'Contact' AS n, 'user' AS f, 4 AS p UNION SELECT 'Target', 'version', 5
        UNION SELECT 'Severity', 'enumeration', 6)
  WHERE NOT EXISTS (SELECT 1 FROM custom_fields WHERE name = n);
INSERT INTO custom_field_enumerations (custom_field_id, name, active, position)
  SELECT cf.id, e.n, 1, e.p FROM custom_fields cf, (SELECT 'High' AS n, 1 AS p UNION SELECT 'Low', 2) e
  WHERE cf.name = 'Severity'
    AND NOT EXISTS (SELECT 1 FROM custom_field_enumerations x WHERE x.custom_field_id = cf.id AND x.name = e.n);
INSERT OR IGNORE INTO custom_fields_trackers (custom_field_id, tracker_id)
  SELECT cf.id, t.id FROM custom_fields cf, trackers t WHERE cf.name IN ('Contact', 'Target', 'Severity');
-- A role as a careful customer gives its sync user: issues, notes and its
-- own time entries, but not time for others nor others' notes.
INSERT INTO roles (name, position, assignable, builtin, issues_visibility, users_visibility,
    time_entries_visibility, all_roles_managed, permissions)
  SELECT 'Sync', 6, 1, 0, 'default', 'all', 'all', 1,
    '---' || char(10) || '- :view_issues' || char(10) || '- :add_issues' || char(10) || '- :edit_issues' || char(10)
    || '- :add_issue_notes' || char(10) || '- :edit_own_issue_notes' || char(10) || '- :log_time' || char(10)
    || '- :view_time_entries' || char(10) || '- :edit_own_time_entries' || char(10)
  WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = 'Sync');
-- Statuses a customer names for itself, after Debian's.
INSERT INTO issue_statuses (name, is_closed, position)
  SELECT n, 0, (SELECT max(position) FROM issue_statuses) + p
  FROM (SELECT 'Triage' AS n, 1 AS p UNION SELECT 'Waiting for customer', 2)
  WHERE NOT EXISTS (SELECT 1 FROM issue_statuses WHERE name = n);
-- The Sync role's workflow, as a customer's: New → Triage → In Progress
-- ⇄ Waiting for customer, In Progress → Resolved → Closed, Closed → New
-- (reopen), and New → In Progress; new issues start New.
INSERT INTO workflows(tracker_id,old_status_id,new_status_id,role_id,assignee,author,type)
  SELECT t.id, COALESCE(o.id, 0), n.id, r.id, 0, 0, 'WorkflowTransition'
  FROM trackers t, roles r,
    (SELECT 'New' AS a, 'In Progress' AS b UNION SELECT 'In Progress', 'Resolved' UNION SELECT 'Resolved', 'Closed'
     UNION SELECT 'Closed', 'New' UNION SELECT NULL, 'New' UNION SELECT 'New', 'Triage'
     UNION SELECT 'Triage', 'In Progress' UNION SELECT 'In Progress', 'Waiting for customer'
     UNION SELECT 'Waiting for customer', 'In Progress') p
  LEFT JOIN issue_statuses o ON o.name = p.a
  JOIN issue_statuses n ON n.name = p.b
  WHERE r.name = 'Sync'
    AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.type='WorkflowTransition' AND w.role_id=r.id
      AND w.tracker_id=t.id AND w.old_status_id=COALESCE(o.id, 0) AND w.new_status_id=n.id);
-- Worklogs: developers log and change time for others (the sync user logs
-- a partner's time for the user a mapping names).
UPDATE roles SET permissions = permissions || '- :log_time_for_other_users' || char(10) || '- :edit_time_entries' || char(10)
  WHERE name='Developer' AND permissions NOT LIKE '%:log_time_for_other_users%';
-- Developers may set any status (also on creation, "0") on every tracker
-- but the last (Support), which keeps Debian's stricter workflow, where a
-- disallowed status is ignored without an error.
INSERT INTO workflows(tracker_id,old_status_id,new_status_id,role_id,assignee,author,type)
  SELECT t.id, o.id, n.id, r.id, 0, 0, 'WorkflowTransition'
  FROM trackers t, (SELECT id FROM issue_statuses UNION SELECT 0) o, issue_statuses n, roles r
  WHERE r.name='Developer' AND o.id <> n.id
    AND t.id <> (SELECT id FROM trackers ORDER BY position DESC LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.type='WorkflowTransition' AND w.role_id=r.id
      AND w.tracker_id=t.id AND w.old_status_id=o.id AND w.new_status_id=n.id AND w.assignee=0 AND w.author=0);
SQL
ROLE=$(q "SELECT id FROM roles WHERE name='Developer'")
list() { sql -separator = "$1" | paste -sd, -; }
TRACKERS=$(list 'SELECT name,id FROM trackers ORDER BY position')
STATUSES=$(list 'SELECT name,id FROM issue_statuses ORDER BY position')
PRIORITIES=$(list "SELECT name,id FROM enumerations WHERE type='IssuePriority' AND active=1 ORDER BY position")
TRACKER=$(q 'SELECT id FROM trackers ORDER BY position LIMIT 1')
STRICT_TRACKER=$(q 'SELECT id FROM trackers ORDER BY position DESC LIMIT 1')
DEFAULT_STATUS=$(q "SELECT default_status_id FROM trackers WHERE id=$TRACKER")
CLOSED=$(sql 'SELECT id FROM issue_statuses WHERE is_closed=1 ORDER BY position' | paste -sd, -)
DEFAULT_PRIORITY=$(q "SELECT id FROM enumerations WHERE type='IssuePriority' AND is_default=1")
TRACKER_IDS=$(sql 'SELECT id FROM trackers ORDER BY position' | paste -sd, -)
fi

chmod 755 "$DIR"
run=()
if [ "$(id -u)" = 0 ]; then
  chown -R www-data:www-data "$DIR"
  if ! setpriv --reuid www-data --regid www-data --init-groups test -w "$DIR/db.sqlite3"; then
    echo "www-data cannot reach $DIR (a parent folder is closed?)" >&2; exit 1
  fi
  run=(setpriv --reuid www-data --regid www-data --init-groups)
fi

fail() {
  echo "redmine: $*; log tail ($DIR/log):" >&2
  tail -n 30 "$DIR/log/server.log" "$DIR/log/production.log" >&2 2>/dev/null || true
  stop
  exit 1
}

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "redmine: port $PORT is already in use on 127.0.0.1" >&2
  exit 1
fi
# Detached: its own session, no inherited stdin/stdout/stderr.
( cd "$SHARE" && exec setsid env REDMINE_INSTANCE="$INSTANCE" RAILS_ENV=production \
    BUNDLER_VERSION="$BUNDLER_VERSION" "${run[@]}" \
    ruby -rwebrick /usr/bin/rackup -E production -o 127.0.0.1 -p "$PORT" \
    -P "$DIR/tmp/pids/server.pid" "$DIR/config.ru" \
    </dev/null >"$DIR/log/server.log" 2>&1 ) &
echo $! > "$DIR/redmine.pid"

OUT=$DIR/tmp/api.json
api() { # METHOD PATH [JSON]: the answer in $OUT; fails unless 2xx
  local code
  code=$(curl -sS --max-time 30 -o "$OUT" -w '%{http_code}' -X "$1" -H "X-Redmine-API-Key: $ADMIN_KEY" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$URL$2") || code=000
  case $code in 2??) ;; *) fail "$1 $2 answered $code: $(head -c 500 "$OUT" 2>/dev/null)" ;; esac
}
json() { # KEY.KEY... of $OUT
  ruby -rjson -e 'v = JSON.parse(File.read(ARGV[0])); ARGV[1].split(".").each { |k| v = v[k] }; puts v' "$OUT" "$1"
}

deadline=$((SECONDS + 60))
until [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "X-Redmine-API-Key: $ADMIN_KEY" \
         "$URL/projects.json" 2>/dev/null)" = 200 ]; do
  alive "$(cat "$DIR/redmine.pid")" || fail "the server exited"
  [ $SECONDS -lt $deadline ] || fail "no answer on $URL/projects.json within 60 s"
  sleep 0.1
done
if [ "$cmd" = restart ]; then echo "redmine up again: $URL"; exit 0; fi

project() { # IDENTIFIER NAME
  api POST /projects.json "{\"project\":{\"name\":\"$2\",\"identifier\":\"$1\",\"is_public\":false,
    \"enabled_module_names\":[\"issue_tracking\",\"time_tracking\"],\"tracker_ids\":[$TRACKER_IDS]}}"
}
project alpha Alpha; ALPHA=$(json project.id)
project beta Beta; BETA=$(json project.id)
user() { # LOGIN FIRST LAST PASSWORD; POST /users.json answers with the api_key
  api POST /users.json "{\"user\":{\"login\":\"$1\",\"firstname\":\"$2\",\"lastname\":\"$3\",
    \"mail\":\"$1@example.test\",\"password\":\"$4\",\"mail_notification\":\"none\"}}"
}
SYNC_PASSWORD=syncbot-password
user syncbot Sync Bot "$SYNC_PASSWORD"; SYNC_ID=$(json user.id); SYNC_KEY=$(json user.api_key)
ALICE_PASSWORD=alice-password
user alice Alice Example "$ALICE_PASSWORD"; ALICE_ID=$(json user.id); ALICE_KEY=$(json user.api_key)
[ -n "$SYNC_KEY" ] && [ -n "$ALICE_KEY" ] || fail "POST /users.json gave no api_key"
# Alice shows her address to other users (mappings by e-mail read it).
api PUT "/users/$ALICE_ID.json" '{"user":{},"pref":{"hide_mail":"0"}}'

for p in alpha beta; do
  for u in "$SYNC_ID" "$ALICE_ID"; do
    api POST "/projects/$p/memberships.json" "{\"membership\":{\"user_id\":$u,\"role_ids\":[$ROLE]}}"
  done
done

cat > "$DIR/env" <<ENV
REDMINE_URL='$URL'
REDMINE_ADMIN_KEY='$ADMIN_KEY'
REDMINE_SYNC_USER='syncbot'
REDMINE_SYNC_PASSWORD='$SYNC_PASSWORD'
REDMINE_SYNC_KEY='$SYNC_KEY'
REDMINE_SYNC_USER_ID='$SYNC_ID'
REDMINE_ALICE_USER='alice'
REDMINE_ALICE_PASSWORD='$ALICE_PASSWORD'
REDMINE_ALICE_KEY='$ALICE_KEY'
REDMINE_ALICE_USER_ID='$ALICE_ID'
REDMINE_ALPHA_ID='$ALPHA'
REDMINE_BETA_ID='$BETA'
REDMINE_TRACKER_ID='$TRACKER'
REDMINE_TRACKERS='$TRACKERS'
REDMINE_STRICT_TRACKER_ID='$STRICT_TRACKER'
REDMINE_STATUSES='$STATUSES'
REDMINE_DEFAULT_STATUS_ID='$DEFAULT_STATUS'
REDMINE_CLOSED_STATUS_IDS='$CLOSED'
REDMINE_PRIORITIES='$PRIORITIES'
REDMINE_DEFAULT_PRIORITY_ID='$DEFAULT_PRIORITY'
REDMINE_LABELS_FIELD_ID='$(q "SELECT id FROM custom_fields WHERE name='Labels'")'
REDMINE_TAGS_FIELD_ID='$(q "SELECT id FROM custom_fields WHERE name='Tags'")'
REDMINE_ID_FIELD_IDS='$(q "SELECT group_concat(id) FROM custom_fields WHERE name IN ('Contact','Target','Severity')")'
ENV
rm -f "$OUT"
echo "redmine up: $URL ($DIR/env)"
