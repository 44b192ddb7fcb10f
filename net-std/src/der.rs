//! A minimal, bounds-checked DER reader: just enough to find the subject and the
//! SubjectPublicKeyInfo of an X.509 certificate (see [`crate::identity`]).

/// One DER element: tag, contents, and the whole encoding (tag + length + contents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    /// The (single-byte) tag.
    pub(crate) tag: u8,
    /// The contents octets.
    pub(crate) content: &'a [u8],
    /// The complete encoding of the element.
    pub(crate) raw: &'a [u8],
}

/// Tag of SEQUENCE.
pub(crate) const SEQUENCE: u8 = 0x30;
/// Tag of SET.
pub(crate) const SET: u8 = 0x31;
/// Tag of OBJECT IDENTIFIER.
pub(crate) const OID: u8 = 0x06;

/// Reads one element from the front of `input`; returns it and the rest.
/// Refuses multi-byte tags, indefinite lengths, non-minimal lengths and lengths
/// beyond the input.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(n)?;
        rest = after;
        if bytes.first() == Some(&0) {
            return None;
        }
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return None;
        }
        len
    };
    let header_len = input.len() - rest.len();
    let (content, rest) = rest.split_at_checked(len)?;
    let raw = input.get(..header_len + len)?;
    Some((Tlv { tag, content, raw }, rest))
}

/// Reads one element that must have tag `tag`.
pub(crate) fn expect(input: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    let (tlv, rest) = read_tlv(input)?;
    (tlv.tag == tag).then_some((tlv, rest))
}

/// Iterates over the elements of `content` (the contents of a SEQUENCE or SET);
/// stops at the first malformed element.
pub(crate) fn elements(mut content: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    core::iter::from_fn(move || {
        let (tlv, rest) = read_tlv(content)?;
        content = rest;
        Some(tlv)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let (t, rest) = read_tlv(&[0x04, 0x02, 0xaa, 0xbb, 0xcc]).unwrap();
        assert_eq!(
            (t.tag, t.content, rest),
            (0x04, &[0xaa, 0xbb][..], &[0xcc][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend_from_slice(&[0u8; 0x80]);
        let (t, rest) = read_tlv(&long).unwrap();
        assert_eq!((t.content.len(), t.raw.len(), rest.len()), (0x80, 0x83, 0));
    }

    #[test]
    fn malformed_is_refused() {
        assert!(read_tlv(&[]).is_none());
        assert!(read_tlv(&[0x30]).is_none());
        assert!(
            read_tlv(&[0x30, 0x05, 0x00]).is_none(),
            "length beyond input"
        );
        assert!(
            read_tlv(&[0x30, 0x80, 0x00, 0x00]).is_none(),
            "indefinite length"
        );
        assert!(
            read_tlv(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).is_none(),
            "non-minimal length"
        );
        assert!(
            read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none(),
            "length too long"
        );
        assert!(read_tlv(&[0x1f, 0x01, 0x00]).is_none(), "multi-byte tag");
    }
}
