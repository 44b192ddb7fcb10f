//! Party identities from certificates: the pid (SHA-256 of the SubjectPublicKeyInfo) and
//! a printable subject name.

use core::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::der::{self, OID, SEQUENCE, SET};

/// A party id: SHA-256 of the DER SubjectPublicKeyInfo of its certificate. It stays the
/// same when the certificate is renewed for the same key.
pub type Pid = [u8; 32];

/// The `subject` and `subjectPublicKeyInfo` elements of a DER certificate.
fn subject_and_spki(cert_der: &[u8]) -> Option<(der::Tlv<'_>, der::Tlv<'_>)> {
    let (cert, _) = der::expect(cert_der, SEQUENCE)?;
    let (tbs, _) = der::expect(cert.content, SEQUENCE)?;
    let mut fields = der::elements(tbs.content).peekable();
    // version [0] EXPLICIT, optional
    if fields.peek()?.tag == 0xa0 {
        fields.next();
    }
    let serial = fields.next()?;
    let signature = fields.next()?;
    let issuer = fields.next()?;
    let validity = fields.next()?;
    let subject = fields.next()?;
    let spki = fields.next()?;
    let tags_ok = serial.tag == 0x02
        && [
            signature.tag,
            issuer.tag,
            validity.tag,
            subject.tag,
            spki.tag,
        ]
        .iter()
        .all(|&t| t == SEQUENCE);
    tags_ok.then_some((subject, spki))
}

/// The pid of a DER certificate: SHA-256 over its DER SubjectPublicKeyInfo.
/// `None` if the certificate cannot be parsed.
pub fn pid_of_cert(cert_der: &[u8]) -> Option<Pid> {
    let (_, spki) = subject_and_spki(cert_der)?;
    Some(Sha256::digest(spki.raw).into())
}

/// The subject of a DER certificate in a readable one-line form such as
/// `"CN=client1"` or `"O=Example, CN=party0"` (attributes in certificate order; control
/// characters escaped). `None` if the certificate cannot be parsed.
pub fn subject_of_cert(cert_der: &[u8]) -> Option<String> {
    let (subject, _) = subject_and_spki(cert_der)?;
    let mut out = String::new();
    for rdn in der::elements(subject.content) {
        if rdn.tag != SET {
            return None;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        for (i, atv) in der::elements(rdn.content).enumerate() {
            if atv.tag != SEQUENCE {
                return None;
            }
            let (oid, rest) = der::expect(atv.content, OID)?;
            let (value, _) = der::read_tlv(rest)?;
            if i > 0 {
                out.push('+');
            }
            out.push_str(&attribute_name(oid.content));
            out.push('=');
            push_value(&mut out, value);
        }
    }
    if out.is_empty() {
        out.push_str("(empty subject)");
    }
    Some(out)
}

fn attribute_name(oid: &[u8]) -> String {
    let short = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        _ => return dotted(oid).unwrap_or_else(|| format!("#{}", hex(oid))),
    };
    short.to_owned()
}

/// Dotted-decimal form of OID contents.
fn dotted(oid: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in oid {
        acc = acc.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    if oid.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        let _ = write!(out, ".{arc}");
    }
    Some(out)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Appends a directory-string value, escaping control characters.
fn push_value(out: &mut String, value: der::Tlv<'_>) {
    let text: Option<String> = match value.tag {
        // UTF8String, PrintableString, IA5String, NumericString, VisibleString
        0x0c | 0x13 | 0x16 | 0x12 | 0x1a => {
            core::str::from_utf8(value.content).ok().map(str::to_owned)
        }
        // TeletexString: treated as Latin-1, as most software does
        0x14 => Some(value.content.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE
        0x1e if value.content.len().is_multiple_of(2) => char::decode_utf16(
            value
                .content
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]])),
        )
        .collect::<Result<String, _>>()
        .ok(),
        _ => None,
    };
    match text {
        Some(text) => {
            for c in text.chars() {
                if c.is_control() {
                    out.extend(c.escape_default());
                } else {
                    out.push(c);
                }
            }
        }
        None => {
            out.push('#');
            out.push_str(&hex(value.raw));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled certificate skeleton: only the fields the parser walks.
    fn fake_cert(subject: &[u8], spki: &[u8]) -> Vec<u8> {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            assert!(content.len() < 0x80);
            let mut v = vec![tag, u8::try_from(content.len()).unwrap()];
            v.extend_from_slice(content);
            v
        }
        let mut tbs = tlv(0xa0, &tlv(0x02, &[2]));
        tbs.extend(tlv(0x02, &[1]));
        tbs.extend(tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x03])));
        tbs.extend(tlv(SEQUENCE, b""));
        tbs.extend(tlv(SEQUENCE, b""));
        tbs.extend_from_slice(subject);
        tbs.extend_from_slice(spki);
        let mut cert = tlv(SEQUENCE, &tbs);
        cert.extend(tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x03])));
        tlv(SEQUENCE, &cert)
    }

    #[test]
    fn subject_and_pid_of_skeleton() {
        // SEQ { SET { SEQ { OID 2.5.4.10, PrintableString "Acme" } },
        //       SET { SEQ { OID 2.5.4.3, UTF8String "p\n0" } } }
        let subject = [
            0x30, 0x1a, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x13, 0x02, b'A',
            b'c', 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, b'p', b'\n',
        ];
        let spki = [0x30, 0x03, 0x03, 0x01, 0x00];
        let cert = fake_cert(&subject, &spki);
        assert_eq!(subject_of_cert(&cert).unwrap(), "O=Ac, CN=p\\n");
        let want: Pid = Sha256::digest(spki).into();
        assert_eq!(pid_of_cert(&cert).unwrap(), want);
    }

    #[test]
    fn garbage_is_none() {
        assert!(pid_of_cert(b"").is_none());
        assert!(pid_of_cert(&[0x30, 0x02, 0x30, 0x00]).is_none());
        assert!(subject_of_cert(&[0x30, 0x82, 0xff]).is_none());
    }

    #[test]
    fn unknown_oid_is_dotted() {
        assert_eq!(
            attribute_name(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(attribute_name(&[0x55, 0x04, 0x2a]), "2.5.4.42");
    }
}
