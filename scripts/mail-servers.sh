#!/usr/bin/env bash
# Real Postfix (SMTP) and Dovecot (IMAP) on loopback for the mail tests,
# all configuration and state in one folder, nothing leaving the machine.
#
#   scripts/mail-servers.sh start DIR SMTP_PORT IMAP_PORT
#   scripts/mail-servers.sh stop DIR
#   scripts/mail-servers.sh stop-imap DIR | start-imap DIR   (Dovecot only)
#   scripts/mail-servers.sh stop-smtp DIR | start-smtp DIR   (Postfix only)
#
# Mailboxes (password "pw-NAME"): master, slave, other @example.test.
# Both servers offer STARTTLS, and implicit TLS on SMTP_PORT+1 and
# IMAP_PORT+1, with a certificate for localhost/127.0.0.1
# from a throw-away private CA: DIR/tls/ca.pem (plain login stays allowed).
# Dovecot on 127.0.0.2 (same port) does not announce IDLE; on 127.0.0.3
# both servers present a self-signed CA:TRUE certificate (DIR/tls/selfsigned.pem).
# Each SMTP login may send only as its own address (as on a company
# relay). Postfix takes mails up to 1 MiB (message_size_limit), so a test can show
# that larger changes are split to fit.
# Run as root (Postfix and Dovecot start as root and drop privileges).
set -euo pipefail
cmd=${1:?start|stop}; DIR=$(realpath -m "${2:?folder}")
UID_MAIL=5000

stop() {
  [ -f "$DIR/postfix/main.cf" ] && postfix -c "$DIR/postfix" stop >/dev/null 2>&1 || true
  [ -f "$DIR/dovecot.conf" ] && doveadm -c "$DIR/dovecot.conf" stop >/dev/null 2>&1 || true
  for p in $(cat "$DIR"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 0.5
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
if [ "$cmd" = stop-imap ]; then
  doveadm -c "$DIR/dovecot.conf" stop >/dev/null 2>&1 || true
  port=$(awk '/port = [1-9]/ {print $3; exit}' "$DIR/dovecot.conf")
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || exit 0; sleep 0.05; done
  echo "Dovecot did not stop" >&2; exit 1
fi
if [ "$cmd" = start-imap ]; then
  dovecot -c "$DIR/dovecot.conf"
  port=$(awk '/port = [1-9]/ {print $3; exit}' "$DIR/dovecot.conf")
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 0; sleep 0.05; done
  echo "Dovecot did not start" >&2; exit 1
fi
if [ "$cmd" = stop-smtp ]; then postfix -c "$DIR/postfix" stop >/dev/null 2>&1; exit 0; fi
if [ "$cmd" = start-smtp ]; then
  postfix -c "$DIR/postfix" start >/dev/null 2>&1
  port=$(sed -nE 's/^127\.0\.0\.1:([0-9]+)[[:space:]]+inet.*smtpd$/\1/p' "$DIR/postfix/master.cf" | head -1)
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 0; sleep 0.05; done
  echo "Postfix did not start" >&2; exit 1
fi
SMTP=${3:?smtp port}; IMAP=${4:?imap port}
mkdir -p "$DIR"/{postfix,spool,data,mail,dovecot-base,dovecot-state}
# The servers' own users must reach their folders (mktemp makes 0700).
chmod 755 "$DIR"
trap 'echo "mail servers failed to start; logs in $DIR:" >&2; tail -20 "$DIR/postfix.log" "$DIR/dovecot.log" >&2 2>/dev/null || true' ERR
chown postfix "$DIR/data"

# --- A private CA and a server certificate signed by it
mkdir -p "$DIR/tls"
if [ ! -f "$DIR/tls/server.pem" ]; then
  ( cd "$DIR/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=postern test CA" -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile ext.cnf -out server.pem 2>/dev/null )
  chmod 644 "$DIR/tls/server.key"
fi
# A self-signed server certificate made the usual way (`req -x509` marks it
# CA:TRUE), served on 127.0.0.3, as by many small servers and appliances.
if [ ! -f "$DIR/tls/selfsigned.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=127.0.0.3" \
    -addext "subjectAltName=IP:127.0.0.3" -keyout "$DIR/tls/selfsigned.key" -out "$DIR/tls/selfsigned.pem" 2>/dev/null
  chmod 644 "$DIR/tls/selfsigned.key"
fi

# --- Postfix
cat > "$DIR/postfix/main.cf" <<CF
compatibility_level = 3.6
config_directory = $DIR/postfix
queue_directory = $DIR/spool
data_directory = $DIR/data
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/postfix.log
maillog_file_prefixes = $DIR
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.example.test
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = $DIR/mail
virtual_mailbox_maps = texthash:$DIR/postfix/vmailbox
virtual_uid_maps = static:$UID_MAIL
virtual_gid_maps = static:$UID_MAIL
virtual_minimum_uid = $UID_MAIL
default_transport = error:nothing leaves this machine
relay_transport = error:nothing leaves this machine
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sender_login_maps = texthash:$DIR/postfix/senders
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_tls_security_level = may
smtpd_tls_cert_file = $DIR/tls/server.pem
smtpd_tls_key_file = $DIR/tls/server.key
message_size_limit = 1048576
virtual_mailbox_limit = 0
CF
sed -E 's/^(([a-z]+)[[:space:]]+(inet|unix|fifo|pass|unix-dgram)[[:space:]]+[-ny][[:space:]]+[-ny][[:space:]]+)[-ny]/\1n/' \
  /etc/postfix/master.cf.proto \
  | sed -E "s/^smtp([[:space:]]+inet)/127.0.0.1:$SMTP\1/" > "$DIR/postfix/master.cf"
# Implicit TLS ("smtps", RFC 8314) on the next port.
echo "127.0.0.1:$((SMTP + 1)) inet n - n - - smtpd -o smtpd_tls_wrappermode=yes" >> "$DIR/postfix/master.cf"
# STARTTLS with the self-signed certificate on 127.0.0.3.
echo "127.0.0.3:$SMTP inet n - n - - smtpd -o smtpd_tls_cert_file=$DIR/tls/selfsigned.pem -o smtpd_tls_key_file=$DIR/tls/selfsigned.key" >> "$DIR/postfix/master.cf"
: > "$DIR/postfix/vmailbox"
: > "$DIR/postfix/senders"
for u in master slave other; do
  echo "$u@example.test example.test/$u/Maildir/" >> "$DIR/postfix/vmailbox"
  # Like a company relay: each login sends only as its own address.
  echo "$u@example.test $u@example.test" >> "$DIR/postfix/senders"
done
mkdir -p "$DIR/mail/example.test"
chown -R $UID_MAIL:$UID_MAIL "$DIR/mail"

# --- Dovecot
: > "$DIR/passwd"
for u in master slave other; do echo "$u@example.test:{PLAIN}pw-$u" >> "$DIR/passwd"; done
cat > "$DIR/dovecot.conf" <<CF
base_dir = $DIR/dovecot-base
state_dir = $DIR/dovecot-state
log_path = $DIR/dovecot.log
protocols = imap
listen = 127.0.0.1, 127.0.0.2, 127.0.0.3
ssl = yes
ssl_cert = <$DIR/tls/server.pem
ssl_key = <$DIR/tls/server.key
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
first_valid_uid = $UID_MAIL
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/passwd
}
userdb {
  driver = static
  args = uid=$UID_MAIL gid=$UID_MAIL home=$DIR/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2, 127.0.0.3
    port = $IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $((IMAP + 1))
  }
}
service auth {
  unix_listener $DIR/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
# On 127.0.0.2 the same server plays one without IDLE (RFC 2177).
local 127.0.0.2 {
  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS MOVE
}
# On 127.0.0.3 it presents the self-signed CA:TRUE certificate.
local 127.0.0.3 {
  ssl_cert = <$DIR/tls/selfsigned.pem
  ssl_key = <$DIR/tls/selfsigned.key
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CF

stop
postfix -c "$DIR/postfix" start
dovecot -c "$DIR/dovecot.conf"
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/$SMTP) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/$IMAP) 2>/dev/null; then
    echo "mail servers up: SMTP 127.0.0.1:$SMTP, IMAP 127.0.0.1:$IMAP ($DIR)"
    exit 0
  fi
  sleep 0.1
done
echo "mail servers did not come up; logs in $DIR" >&2
tail -20 "$DIR/postfix.log" "$DIR/dovecot.log" >&2 || true
exit 1
