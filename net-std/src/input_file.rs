//! Files an operator names as input (certificates, keys, shares, secrets, messages,
//! signatures), read only if they are regular files within a size bound.
//!
//! A path given by mistake can name a device that never ends (`/dev/zero`, `/dev/urandom`),
//! a FIFO that blocks until someone writes to it, or a file far larger than anything we read:
//! each is refused with an error naming the problem instead of exhausting memory or hanging.
//! A directory is left to the read itself, which fails with the system's own "Is a
//! directory".

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

use crate::StoreError;
use crate::sealed::{self, Content};
use crate::store::ShareFiles;

/// The largest share file or parameter secret we read (both are about 2 KB, sealed or not).
pub const MAX_SECRET_FILE_LEN: u64 = 64 * 1024;
/// The largest PEM file (certificate chain, CA bundle or private key) we read.
pub const MAX_PEM_FILE_LEN: u64 = 1024 * 1024;

/// The bytes of the regular file at `path`, at most `max_len` of them, in a buffer wiped on
/// drop (a secret may be among them).
///
/// # Errors
/// The system's error; [`io::ErrorKind::InvalidInput`] for a device, FIFO or socket,
/// [`io::ErrorKind::FileTooLarge`] for a file longer than `max_len`.
pub fn read(path: &Path, max_len: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    read_with_metadata(path, max_len).map(|(bytes, _)| bytes)
}

/// [`read`], with the metadata of the file that was read (fstat: its mode is that file's,
/// not that of whatever the path names a moment later).
///
/// # Errors
/// As [`read`].
pub fn read_with_metadata(
    path: &Path,
    max_len: u64,
) -> io::Result<(Zeroizing<Vec<u8>>, fs::Metadata)> {
    // The path's type before opening it: opening a FIFO for reading blocks.
    let len = regular_len(&fs::metadata(path)?)?;
    if len > max_len {
        return Err(too_long(max_len));
    }
    let mut file = File::open(path)?;
    // The file's own type too, in case the path changed between the two.
    let meta = file.metadata()?;
    regular_len(&meta)?;
    Ok((read_bounded(&mut file, len, max_len)?, meta))
}

/// At most `max_len` bytes of `reader` (standard input), in a buffer wiped on drop.
///
/// # Errors
/// The reader's error; [`io::ErrorKind::FileTooLarge`] once more than `max_len` bytes come.
pub fn read_stream(reader: &mut dyn Read, max_len: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    read_bounded(reader, 0, max_len)
}

/// The ecdsa2pc secret an existing file holds (a key share or party 0's parameter secret,
/// sealed or not), judged from its first bytes; `None` for anything else or a file that
/// cannot be read. Commands that write a file an operator names check it first, so that a
/// mistyped output path cannot overwrite a share.
#[must_use]
pub fn secret_content(path: &Path) -> Option<Content> {
    let meta = fs::metadata(path).ok()?;
    regular_len(&meta).ok()?;
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(sealed::HEADER_LEN as u64)
        .read_to_end(&mut head)
        .ok()?;
    // The store owns the header formats: it tells a share from the parameter secret.
    match ShareFiles::party_of(path, &head) {
        Ok(_) => Some(Content::Share),
        Err(StoreError::ParamsNotShare { .. }) => Some(Content::ParamsSecret),
        Err(_) => None,
    }
}

fn read_bounded(
    reader: &mut dyn Read,
    expected: u64,
    max_len: u64,
) -> io::Result<Zeroizing<Vec<u8>>> {
    // Sized up front so that the buffer is not reallocated (leaving unwiped copies) as it fills.
    let capacity = usize::try_from(expected.min(max_len)).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    reader
        .take(max_len.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_len {
        return Err(too_long(max_len));
    }
    Ok(bytes)
}

fn regular_len(meta: &fs::Metadata) -> io::Result<u64> {
    if meta.is_file() || meta.is_dir() {
        Ok(meta.len())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a device, FIFO or socket): give the path of a file",
        ))
    }
}

fn too_long(max_len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("it is longer than {max_len} bytes, the most this input may be"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::scratch;

    #[test]
    fn a_regular_file_within_the_bound_is_read_whole() {
        let path = scratch("input").join("f");
        fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read(&path, 10).unwrap().as_slice(), b"0123456789");
    }

    #[test]
    fn a_file_longer_than_the_bound_is_refused() {
        let path = scratch("input").join("f");
        fs::write(&path, b"0123456789").unwrap();
        let e = read(&path, 9).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("longer than 9 bytes"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_without_reading_it() {
        // /dev/zero never ends: reading it would fill memory.
        let e = read(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let fifo = scratch("input-fifo").join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here: nothing to test against
        }
        let e = read(&fifo, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert_eq!(secret_content(&fifo), None);
    }

    #[test]
    fn a_stream_longer_than_the_bound_is_refused() {
        let mut endless = io::repeat(0);
        let e = read_stream(&mut endless, 1000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("longer than 1000 bytes"), "{e}");
        assert_eq!(read_stream(&mut &b"abc"[..], 3).unwrap().as_slice(), b"abc");
    }

    #[test]
    fn secret_content_names_parameter_secrets_and_nothing_else() {
        let dir = scratch("input-kind");
        let params = dir.join("ring-pedersen.secret");
        let mut bytes = ecdsa2pc_core::RingPedersenSecret::FILE_MAGIC.to_vec();
        bytes.extend_from_slice(&[0; 100]);
        fs::write(&params, &bytes).unwrap();
        assert_eq!(secret_content(&params), Some(Content::ParamsSecret));
        let other = dir.join("sig.der");
        fs::write(&other, b"0E\x02\x21").unwrap();
        assert_eq!(secret_content(&other), None);
        assert_eq!(secret_content(&dir.join("missing")), None);
        assert_eq!(secret_content(&dir), None);

        // Sealed files are judged by their authenticated header's content.
        let sealer = sealed::Sealer::new(sealed::Secret::Key(Zeroizing::new([7; sealed::KEY_LEN])));
        let label = |content| sealed::Label {
            content,
            party: ecdsa2pc_core::Party::P1,
            key_id: [3; crate::KEY_ID_LEN],
            epoch: 0,
        };
        for content in [Content::ParamsSecret, Content::Share] {
            let path = dir.join("sealed");
            let bytes = sealer
                .seal_labelled(&path, label(content), b"plaintext")
                .unwrap();
            fs::write(&path, &bytes).unwrap();
            assert_eq!(secret_content(&path), Some(content));
            // A damaged header is no longer recognised as anything.
            let mut damaged = bytes.to_vec();
            damaged[sealed::HEADER_LEN - 1] ^= 1;
            fs::write(&path, &damaged).unwrap();
            assert_eq!(secret_content(&path), None, "{content:?}");
        }
    }
}
