//! OpenPGP/MIME (RFC 3156) framing of one sealed message, so that an
//! auditor's mail client or GnuPG can open it. The subject and headers say
//! nothing about issue content; `X-Postern-Sync` names the sync so postern
//! can pick its mails out of a shared mailbox, `X-Postern-Name` carries the
//! message's file name (sync, number, nonce).

/// Header naming the sync.
pub const SYNC_HEADER: &str = "X-Postern-Sync";
/// Header carrying the message name.
pub const NAME_HEADER: &str = "X-Postern-Name";

/// Builds the mail: `armored` must be an ASCII-armored OpenPGP message.
pub fn encode(from: &str, to: &str, sync: &str, name: &str, armored: &[u8], date: &str) -> Vec<u8> {
    let boundary = format!("postern-{}", &name.rsplit('-').next().unwrap_or("b").trim_end_matches(".pgp"));
    let mut m = String::new();
    m.push_str(&format!("From: <{from}>\r\nTo: <{to}>\r\nDate: {date}\r\n"));
    m.push_str("Subject: postern message\r\n");
    m.push_str(&format!("Message-ID: <{name}@postern>\r\n"));
    m.push_str(&format!("{SYNC_HEADER}: {sync}\r\n{NAME_HEADER}: {name}\r\n"));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n");
    m.push_str(&format!("--{boundary}\r\nContent-Type: application/pgp-encrypted\r\n"));
    m.push_str("Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n");
    m.push_str(&format!("--{boundary}\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"));
    m.push_str("Content-Description: OpenPGP encrypted message\r\n");
    m.push_str("Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n");
    for line in String::from_utf8_lossy(armored).lines() {
        m.push_str(line);
        m.push_str("\r\n");
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

/// Value of a header in the mail's header block (case-insensitive name).
pub fn header(mail: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(mail);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let head = head.split("\n\n").next().unwrap_or("");
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The armored OpenPGP message inside, if the mail carries one.
pub fn armored_part(mail: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(mail);
    let start = text.find("-----BEGIN PGP MESSAGE-----")?;
    let end_marker = "-----END PGP MESSAGE-----";
    let end = text[start..].find(end_marker)? + start + end_marker.len();
    let body: String = text[start..end].lines().map(|l| format!("{}\n", l.trim_end_matches('\r'))).collect();
    Some(body.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARMORED: &str = "-----BEGIN PGP MESSAGE-----\n\nwcBMA1234\n=abcd\n-----END PGP MESSAGE-----\n";

    #[test]
    fn round_trip_and_rfc3156_shape() {
        let mail = encode(
            "a@example.test",
            "b@example.test",
            "S1",
            "postern-S1-000000000001-ab12.pgp",
            ARMORED.as_bytes(),
            "Sun, 22 Nov 2026 00:00:00 +0000",
        );
        let text = String::from_utf8(mail.clone()).unwrap();
        assert!(text.contains("multipart/encrypted; protocol=\"application/pgp-encrypted\""));
        assert!(text.contains("Content-Type: application/pgp-encrypted\r\n"));
        assert!(text.contains("Version: 1"));
        assert!(text.contains("Subject: postern message\r\n"));
        assert_eq!(header(&mail, "x-postern-sync").as_deref(), Some("S1"));
        assert_eq!(header(&mail, NAME_HEADER).as_deref(), Some("postern-S1-000000000001-ab12.pgp"));
        assert_eq!(armored_part(&mail).unwrap(), ARMORED.as_bytes());
    }

    #[test]
    fn mail_without_a_message_has_no_part() {
        assert_eq!(armored_part(b"Subject: hi\r\n\r\nhello\r\n"), None);
        assert_eq!(header(b"Subject: hi\r\n\r\nX-Postern-Sync: body\r\n", SYNC_HEADER), None);
    }
}
