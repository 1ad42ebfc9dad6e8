#!/usr/bin/env bash
# The customer side of an email sync through the company's mail relay:
# SMTP with STARTTLS and authentication on port 587, its own IMAP mailbox
# over TLS on port 993. Run once as the postern user; then enable
# postern.service. Host names and addresses are examples.
set -euo pipefail
export POSTERN_HOME=${POSTERN_HOME:-/var/lib/postern}
MAIL=(
  --mail-address postern-sync@customer.example
  --imap-host imap.customer.example --imap-port 993 --imap-security tls
  --imap-user postern-sync@customer.example --imap-password-file /etc/postern/imap-password
  --smtp-host relay.customer.example --smtp-port 587 --smtp-security starttls
  --same-credentials
  --done-folder postern-done --quarantine-folder postern-quarantine
)

# 1. Check both accounts before anything is saved.
postern mail test "${MAIL[@]}"

# 2. The project the vendor's issues land in.
postern project create SP2 --name "Vendor issues" 2>/dev/null || true

# 3. Upload the vendor's handshake file; the passphrase came by phone.
postern sync accept --file "${1:?handshake file}" --passphrase-file "${2:?passphrase file}" \
  --project SP2 --sync-user sync-vendor "${MAIL[@]}"

echo "Now: systemctl enable --now postern.service; postern status"
