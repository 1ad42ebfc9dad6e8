#!/usr/bin/env bash
# The customer side of an email sync through the company's mail relay:
# SMTP with STARTTLS and authentication on port 587, its own IMAP mailbox
# over TLS on port 993, settings in /etc/postern/mail.toml. Run once as
# the postern user; then `systemctl enable --now postern` (the package's
# unit; docs/service.md).
#
#   setup-customer.sh HANDSHAKE_FILE PASSPHRASE_FILE [MAIL_CONFIG [ACCEPT FLAGS...]]
#
# `sync accept` shows the master's fingerprint and asks before accepting;
# add --yes after MAIL_CONFIG only once the fingerprint was compared.
set -euo pipefail
export POSTERN_HOME=${POSTERN_HOME:-/var/lib/postern}
CONFIG=${3:-/etc/postern/mail.toml}

# 1. Check both accounts before anything is saved.
postern mail test --mail-config "$CONFIG"

# 2. The project the vendor's issues land in.
postern project create SP2 --name "Vendor issues" 2>/dev/null || true

# 3. Upload the vendor's handshake file; the passphrase came by phone.
#    Messages stay under the relay's size limit (larger changes and
#    attachments are split and put back together on the other side).
postern sync accept --file "${1:?handshake file}" --passphrase-file "${2:?passphrase file}" \
  --project SP2 --sync-user sync-customer --max-message-size 10MB --mail-config "$CONFIG" "${@:4}"

echo "Now: systemctl enable --now postern.service; postern status"
