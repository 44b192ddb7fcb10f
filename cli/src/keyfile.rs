//! Public keys as files other tools read: SubjectPublicKeyInfo PEM (what `openssl dgst
//! -verify` takes) and DER; input files; atomic output files. Signatures are read by
//! [`crate::wallet::signature::parse_signature`].
//!
//! The SPKI of a secp256k1 key is a fixed 23-byte DER prefix followed by the SEC1 point,
//! so it is written and read here directly instead of pulling in a DER/PEM stack.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use k256::ecdsa::VerifyingKey;

use crate::digest::parse_hex;
use crate::error::CliError;
use ecdsa2pc_net::input_file;

/// `SEQUENCE { SEQUENCE { id-ecPublicKey, secp256k1 }, BIT STRING (0 unused bits) ... }`
/// for a 65-byte uncompressed point.
const SPKI_PREFIX_UNCOMPRESSED: [u8; 23] = [
    0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
];

/// The same prefix for a 33-byte compressed point.
const SPKI_PREFIX_COMPRESSED: [u8; 23] = [
    0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00,
];

const PEM_BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const PEM_END: &str = "-----END PUBLIC KEY-----";

/// The DER SubjectPublicKeyInfo of `key`, with the uncompressed point (accepted by every
/// OpenSSL version).
pub(crate) fn spki_der(key: &VerifyingKey) -> Vec<u8> {
    let point = key.to_sec1_point(false);
    let mut der = SPKI_PREFIX_UNCOMPRESSED.to_vec();
    der.extend_from_slice(point.as_bytes());
    der
}

/// The PEM `PUBLIC KEY` block of `key`.
pub(crate) fn spki_pem(key: &VerifyingKey) -> String {
    let b64 = BASE64.encode(spki_der(key));
    let mut pem = String::from(PEM_BEGIN);
    pem.push('\n');
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

/// The SEC1 point inside a secp256k1 SubjectPublicKeyInfo.
fn sec1_from_spki(der: &[u8]) -> Option<&[u8]> {
    [SPKI_PREFIX_UNCOMPRESSED, SPKI_PREFIX_COMPRESSED]
        .iter()
        .find_map(|prefix| der.strip_prefix(prefix.as_slice()))
        .filter(|point| {
            matches!(
                (point.len(), point.first()),
                (65, Some(0x04)) | (33, Some(0x02 | 0x03))
            )
        })
}

/// Reads a public key file: SPKI PEM (`openssl` style), SPKI DER, or the SEC1 point in hex
/// (as `ecdsa2pc demo` prints it).
pub(crate) fn read_public_key(path: &Path) -> Result<VerifyingKey, CliError> {
    let bytes = read(path)?;
    let bad = |reason: &str| CliError::BadInput {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let sec1 = if let Some(der) = pem_body(&bytes) {
        let der = der.map_err(|e| bad(&format!("bad PEM: {e}")))?;
        sec1_from_spki(&der)
            .ok_or_else(|| bad("not a secp256k1 public key (SubjectPublicKeyInfo)"))?
            .to_vec()
    } else if let Some(text) = hex_text(&bytes) {
        parse_hex(text).map_err(|e| bad(&format!("not a hex SEC1 point: {e}")))?
    } else {
        sec1_from_spki(&bytes)
            .ok_or_else(|| bad("neither a secp256k1 public key (SubjectPublicKeyInfo PEM or DER) nor a hex SEC1 point"))?
            .to_vec()
    };
    VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| bad("the point is not on secp256k1 (or is malformed)"))
}

/// The file as text if it is nothing but hex digits (and surrounding whitespace). Binary
/// DER never is, although it starts with 0x30 = `'0'`: the tags inside it (0x02 INTEGER,
/// 0x03 BIT STRING, 0x06 OID) are not hex digits.
fn hex_text(bytes: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(bytes).ok()?.trim();
    (!text.is_empty() && text.bytes().all(|c| c.is_ascii_hexdigit())).then_some(text)
}

/// The decoded body of a `PUBLIC KEY` PEM block, if the input is PEM.
fn pem_body(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let text = core::str::from_utf8(bytes).ok()?;
    let start = text.find(PEM_BEGIN)? + PEM_BEGIN.len();
    let rest = text.get(start..)?;
    let Some(end) = rest.find(PEM_END) else {
        return Some(Err(format!("no '{PEM_END}' line")));
    };
    let body: String = rest
        .get(..end)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some(BASE64.decode(body).map_err(|e| e.to_string()))
}

/// The largest public-key or signature file `verify` reads (PEM, DER, hex or base64: a few
/// hundred bytes).
const MAX_INPUT_LEN: u64 = 64 * 1024;

/// The bytes of an input file (a regular file of at most 64 KiB), or a [`CliError::File`]
/// naming it.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = input_file::read(path, MAX_INPUT_LEN);
    bytes.map(|b| b.to_vec()).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        action: "read",
        source,
    })
}

/// Refuses an output file (`option` gives `path`) whose directory `dir` is missing or is no
/// directory, naming which.
pub(crate) fn check_output_dir(option: &str, path: &Path, dir: &Path) -> Result<(), CliError> {
    if dir.is_dir() {
        return Ok(());
    }
    let exists = dir.exists();
    let (path, dir) = (path.display(), dir.display());
    Err(CliError::Usage(if exists {
        format!("{option} {path}: {dir} is not a directory (a file of that name exists)")
    } else {
        format!("{option} {path}: the directory {dir} does not exist; create it first")
    }))
}

/// Writes `contents` to `dir/name` atomically: a temporary file in `dir`, then a rename,
/// so that a reader (or the other party writing the same file) never sees half a file.
pub(crate) fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, CliError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let fail = |source| CliError::File {
        path: path.clone(),
        action: "write",
        source,
    };
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(contents).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_text_is_told_from_der() {
        assert_eq!(hex_text(b"02ab\n"), Some("02ab"));
        assert_eq!(hex_text(b"  \n"), None);
        assert_eq!(hex_text(&[0x30, 0x44, 0x02, 0x20]), None);
        let der = spki_der(&VerifyingKey::from_affine(k256::AffinePoint::GENERATOR).unwrap());
        assert_eq!(hex_text(&der), None);
    }

    #[test]
    fn spki_round_trip() {
        let g = k256::AffinePoint::GENERATOR;
        let key = VerifyingKey::from_affine(g).unwrap();
        let pem = spki_pem(&key);
        assert!(pem.starts_with(PEM_BEGIN));
        let der = pem_body(pem.as_bytes()).unwrap().unwrap();
        assert_eq!(der.len(), 88);
        let sec1 = sec1_from_spki(&der).unwrap();
        assert_eq!(VerifyingKey::from_sec1_bytes(sec1).unwrap(), key);
        let compressed = key.to_sec1_point(true);
        let mut der_c = SPKI_PREFIX_COMPRESSED.to_vec();
        der_c.extend_from_slice(compressed.as_bytes());
        assert_eq!(sec1_from_spki(&der_c), Some(compressed.as_bytes()));
        assert_eq!(sec1_from_spki(&der_c[..40]), None);
    }
}
