//! BIP32 public (non-hardened) derivation of child keys from the joint public key.
//!
//! A two-party key has no single private key, so only BIP32's *public* rule (CKDpub) can be
//! run: both parties compute, from the joint key Q, the agreed chain code and the path, the
//! child key `Q_child = Q + t·G` and the tweak `t` (the sum of the per-step `I_L`). P2 adds
//! `t` to its share for one signature; P1's share and `c_key` stay as they are, so a refresh
//! keeps every child key. Hardened steps need the private key inside the HMAC, which would
//! take a two-party HMAC; they are refused.
//!
//! Everything here is public data: Q, the chain code (it is part of every xpub) and the path
//! are public, so the tweak is too (anyone holding the xpub computes it). No secret enters
//! this module, so it needs no constant-time care and nothing to zeroize.
//!
//! Fingerprints (`HASH160` of the parent key) and the 78-byte xpub serialization are left to
//! the caller, which keeps this crate free of RIPEMD-160; [`Derived::parent_key`] gives what
//! they need.

use core::fmt;
use core::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, elliptic_curve::ff::PrimeField};
use sha2::Sha512;

use crate::curve::{encode_point, is_identity};

/// A BIP32 chain code: the 32 bytes that, with the public key, make an extended public key.
pub type ChainCode = [u8; 32];

/// The most steps a path may have: BIP32 serializes the depth in one byte.
pub const MAX_DEPTH: usize = 255;

/// The first hardened child index (2^31); every index at or above it is hardened.
pub const FIRST_HARDENED: u32 = 0x8000_0000;

/// Why a path was refused or a derivation failed.
///
/// Step numbers count from 1 for the first index after `m`; step 0 is the leading `m`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeriveError {
    /// A hardened step (`0'`, `0h`, `0H` or an index ≥ 2^31): it needs the private key.
    HardenedStep {
        /// Which step of the path is hardened.
        step: u8,
    },
    /// The path text is not `m` followed by `/`-separated decimal indexes below 2^32.
    MalformedPath {
        /// Which step could not be read (0: the path does not start with `m`).
        step: u8,
    },
    /// The path has more than [`MAX_DEPTH`] steps.
    TooDeep,
    /// BIP32's invalid child (`I_L ≥ n` or the child is the point at infinity).
    ///
    /// BIP32 tells a wallet to skip to the next index; this library refuses instead, because
    /// a silent skip would give the user a key for another path than the one asked for (and
    /// both parties must agree on the path). The odds are below 2^-127 per step.
    InvalidChild {
        /// Depth of the child that could not be derived (1 for the first step).
        depth: u8,
        /// Its child index.
        index: u32,
    },
    /// The parent public key is the point at infinity, which has no BIP32 serialization.
    IdentityKey,
}

impl fmt::Display for DeriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HardenedStep { step } => write!(
                f,
                "step {step} of the path is hardened: two-party hardened derivation is not \
                 supported (it needs the whole private key); use non-hardened indexes below \
                 2147483648 without ', h or H"
            ),
            Self::MalformedPath { step: 0 } => {
                f.write_str("a derivation path starts with \"m\", as in m/0/7")
            }
            Self::MalformedPath { step } => write!(
                f,
                "step {step} of the path is not a decimal child index: write paths as \
                 m/0/7 (digits only, no empty steps, each below 2^32)"
            ),
            Self::TooDeep => write!(
                f,
                "the path has more than {MAX_DEPTH} steps, the most BIP32 can serialize"
            ),
            Self::InvalidChild { depth, index } => write!(
                f,
                "BIP32 child {index} at depth {depth} is invalid (I_L ≥ n or the point at \
                 infinity, odds below 2^-127): use the next index instead"
            ),
            Self::IdentityKey => {
                f.write_str("the parent public key is the point at infinity, not a valid key")
            }
        }
    }
}

impl core::error::Error for DeriveError {}

/// A non-hardened BIP32 path such as `m/0/7`: at most [`MAX_DEPTH`] indexes, each below
/// [`FIRST_HARDENED`].
///
/// Held without heap as a fixed array and a length; unused slots stay zero.
#[derive(Clone, Copy)]
pub struct DerivationPath {
    steps: [u32; MAX_DEPTH],
    depth: u8,
}

impl DerivationPath {
    /// The empty path `m`: the key itself.
    pub const MASTER: Self = Self {
        steps: [0; MAX_DEPTH],
        depth: 0,
    };

    /// Parses `m`, `m/0`, `m/0/7`, …: decimal indexes only. Leading zeros are read as
    /// decimal (`m/007` is `m/7`): a path means its indexes, and those are what two parties
    /// compare, never the text.
    ///
    /// # Errors
    /// [`DeriveError::HardenedStep`] for `'`, `h`, `H` suffixes and indexes ≥ 2^31;
    /// [`DeriveError::MalformedPath`] for anything else that is not such a path;
    /// [`DeriveError::TooDeep`] past [`MAX_DEPTH`] steps.
    pub fn parse(text: &str) -> Result<Self, DeriveError> {
        let mut parts = text.split('/');
        if parts.next() != Some("m") {
            return Err(DeriveError::MalformedPath { step: 0 });
        }
        let mut path = Self::MASTER;
        for part in parts {
            let step =
                u8::try_from(usize::from(path.depth) + 1).map_err(|_| DeriveError::TooDeep)?;
            let index = parse_index(part, step)?;
            path.push(index)?;
        }
        Ok(path)
    }

    /// A path from its indexes (as decoded from a message).
    ///
    /// # Errors
    /// [`DeriveError::HardenedStep`] for an index ≥ 2^31; [`DeriveError::TooDeep`] for more
    /// than [`MAX_DEPTH`] indexes.
    pub fn from_steps(indexes: &[u32]) -> Result<Self, DeriveError> {
        let mut path = Self::MASTER;
        for &index in indexes {
            path.push(index)?;
        }
        Ok(path)
    }

    /// Appends one non-hardened index.
    fn push(&mut self, index: u32) -> Result<(), DeriveError> {
        let step = u8::try_from(usize::from(self.depth) + 1).map_err(|_| DeriveError::TooDeep)?;
        if index >= FIRST_HARDENED {
            return Err(DeriveError::HardenedStep { step });
        }
        let slot = self
            .steps
            .get_mut(usize::from(self.depth))
            .ok_or(DeriveError::TooDeep)?;
        *slot = index;
        self.depth = step;
        Ok(())
    }

    /// The child indexes, first step first (empty for `m`).
    #[must_use]
    pub fn steps(&self) -> &[u32] {
        self.steps
            .get(..usize::from(self.depth))
            .unwrap_or_default()
    }

    /// The number of steps (0 for `m`).
    #[must_use]
    pub const fn depth(&self) -> u8 {
        self.depth
    }
}

/// One step's text: digits only (so no sign, spaces or hex), below 2^32; a hardened marker
/// or an index ≥ 2^31 is told apart from a typo so the user learns why it is refused.
fn parse_index(part: &str, step: u8) -> Result<u32, DeriveError> {
    let malformed = DeriveError::MalformedPath { step };
    if let Some(digits) = part
        .strip_suffix('\'')
        .or_else(|| part.strip_suffix('h'))
        .or_else(|| part.strip_suffix('H'))
    {
        return if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            Err(DeriveError::HardenedStep { step })
        } else {
            Err(malformed)
        };
    }
    if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
        return Err(malformed);
    }
    part.parse::<u32>().map_err(|_| malformed)
}

impl FromStr for DerivationPath {
    type Err = DeriveError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for index in self.steps() {
            write!(f, "/{index}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DerivationPath({self})")
    }
}

impl PartialEq for DerivationPath {
    fn eq(&self, other: &Self) -> bool {
        self.steps() == other.steps()
    }
}

impl Eq for DerivationPath {}

/// A public key with its chain code: what an xpub carries besides depth and fingerprints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtendedPublicKey {
    key: AffinePoint,
    chain_code: ChainCode,
}

impl ExtendedPublicKey {
    /// Pairs a public key with its chain code.
    ///
    /// # Errors
    /// [`DeriveError::IdentityKey`] for the point at infinity.
    pub fn new(key: AffinePoint, chain_code: ChainCode) -> Result<Self, DeriveError> {
        if is_identity(&key) {
            return Err(DeriveError::IdentityKey);
        }
        Ok(Self { key, chain_code })
    }

    /// The public key (never the identity).
    #[must_use]
    pub const fn key(&self) -> &AffinePoint {
        &self.key
    }

    /// The chain code.
    #[must_use]
    pub const fn chain_code(&self) -> &ChainCode {
        &self.chain_code
    }
}

/// The result of deriving along a path: the child, the tweak P2 adds, and what an xpub of
/// the child needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Derived {
    /// The child extended public key.
    pub key: ExtendedPublicKey,
    /// `t = Σ I_L mod n` along the path, so that child key = parent key + t·G. Public: anyone
    /// with the parent xpub computes it.
    pub tweak: Scalar,
    /// Steps below the starting key (the path's depth).
    pub depth: u8,
    /// The last step's index (0 for the path `m`, as BIP32 serializes a master key).
    pub child_number: u32,
    /// The key one step above the child (its fingerprint goes into the child's xpub); `None`
    /// for the path `m`.
    pub parent_key: Option<AffinePoint>,
}

/// Derives the extended public key at `path` below `start` by BIP32's CKDpub, summing the
/// tweaks.
///
/// # Errors
/// [`DeriveError::InvalidChild`] if a step hits BIP32's invalid child (see there why this is
/// an error and not a skip).
pub fn derive_path(
    start: &ExtendedPublicKey,
    path: &DerivationPath,
) -> Result<Derived, DeriveError> {
    derive_path_by(start, path, ckd_hmac)
}

/// [`derive_path`] with each step's HMAC-SHA512 output from `hmac`: BIP32's `ckd_hmac` in
/// every build, a chosen output in the test that reaches the invalid child (which no real
/// key does but with odds below 2^-127).
fn derive_path_by(
    start: &ExtendedPublicKey,
    path: &DerivationPath,
    hmac: impl Fn(&ExtendedPublicKey, u32) -> Result<(FieldBytes, ChainCode), DeriveError>,
) -> Result<Derived, DeriveError> {
    let mut derived = Derived {
        key: *start,
        tweak: Scalar::ZERO,
        depth: 0,
        child_number: 0,
        parent_key: None,
    };
    for &index in path.steps() {
        let depth = derived.depth.checked_add(1).ok_or(DeriveError::TooDeep)?;
        let (i_l, i_r) = hmac(&derived.key, index)?;
        let (child, t) = child_from_hmac(&derived.key, &i_l, i_r)
            .ok_or(DeriveError::InvalidChild { depth, index })?;
        derived = Derived {
            key: child,
            tweak: derived.tweak + t,
            depth,
            child_number: index,
            parent_key: Some(derived.key.key),
        };
    }
    Ok(derived)
}

/// `I = HMAC-SHA512(Key = c_par, Data = ser_P(K_par) ‖ ser_32(i))`, split into `(I_L, I_R)`.
fn ckd_hmac(
    parent: &ExtendedPublicKey,
    index: u32,
) -> Result<(FieldBytes, ChainCode), DeriveError> {
    let point = encode_point(&parent.key).map_err(|_| DeriveError::IdentityKey)?;
    // HMAC pads a key shorter than the hash block with zeros: the 32-byte chain code placed
    // at the start of a zeroed 128-byte block is the same key, and `new` on a full block
    // cannot fail.
    let mut block = [0u8; 128];
    for (dst, src) in block.iter_mut().zip(parent.chain_code) {
        *dst = src;
    }
    let mut mac = <Hmac<Sha512> as KeyInit>::new(&block.into());
    mac.update(&point);
    mac.update(&index.to_be_bytes());
    let out = mac.finalize().into_bytes();
    let mut i_l = [0u8; 32];
    let mut i_r = [0u8; 32];
    for (dst, src) in i_l.iter_mut().chain(i_r.iter_mut()).zip(out.iter()) {
        *dst = *src;
    }
    Ok((FieldBytes::from(i_l), i_r))
}

/// The child from the HMAC halves: `K_par + parse256(I_L)·G`, chain code `I_R`; `None` for
/// BIP32's invalid child (`I_L ≥ n`, or the point at infinity).
fn child_from_hmac(
    parent: &ExtendedPublicKey,
    i_l: &FieldBytes,
    i_r: ChainCode,
) -> Option<(ExtendedPublicKey, Scalar)> {
    let t = Option::<Scalar>::from(Scalar::from_repr(*i_l))?;
    let child = (ProjectivePoint::from(parent.key) + ProjectivePoint::GENERATOR * t).to_affine();
    let key = ExtendedPublicKey::new(child, i_r).ok()?;
    Some((key, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{decode_point, mul_g};

    /// The key and chain code of a published BIP32 xpub, from its 78-byte serialization:
    /// `version(4) depth(1) parent_fp(4) child(4) chain_code(32) key(33)`. The hex strings
    /// below were decoded once from the base58check xpubs of BIP32's test vectors 1 and 2
    /// (the xpub text is beside each); the CLI's tests check the same vectors from the base58
    /// strings themselves, fingerprints and depth included.
    fn xpub(chain_code: &str, key: &str) -> ExtendedPublicKey {
        ExtendedPublicKey::new(decode_point(&bytes(key)).unwrap(), bytes(chain_code)).unwrap()
    }

    /// Exactly `N` bytes from hex (tests only; the crate has no `alloc`).
    fn bytes<const N: usize>(text: &str) -> [u8; N] {
        assert_eq!(text.len(), 2 * N);
        let mut out = [0u8; N];
        for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap();
        }
        out
    }

    fn check(start: &ExtendedPublicKey, path: &str, want: &ExtendedPublicKey, last: u32) {
        let path = DerivationPath::parse(path).unwrap();
        let derived = derive_path(start, &path).unwrap();
        assert_eq!(derived.key, *want, "{path}");
        assert_eq!(derived.child_number, last);
        assert_eq!(usize::from(derived.depth), path.steps().len());
        // The tweak P2 adds is exactly the offset of the child key.
        let shifted = (ProjectivePoint::from(*start.key()) + mul_g(&derived.tweak)).to_affine();
        assert_eq!(shifted, *derived.key.key());
    }

    #[test]
    fn bip32_vector_1_public_steps() {
        // xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw (m/0H)
        let m_0h = xpub(
            "47fdacbd0f1097043b78c63c20c34ef4ed9a111d980047ad16282c7ae6236141",
            "035a784662a4a20a65bf6aab9ae98a6c068a81c52e4b032c0fb5400c706cfccc56",
        );
        // xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ (m/0H/1)
        let m_0h_1 = xpub(
            "2a7857631386ba23dacac34180dd1983734e444fdbf774041578e9b6adb37c19",
            "03501e454bf00751f24b1b489aa925215d66af2234e3891c3b21a52bedb3cd711c",
        );
        // xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5 (m/0H/1/2H)
        let m_0h_1_2h = xpub(
            "04466b9cc8e161e966409ca52986c584f07e9dc81f735db683c3ff6ec7b1503f",
            "0357bfe1e341d01c69fe5654309956cbea516822fba8a601743a012a7896ee8dc2",
        );
        // xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV (m/0H/1/2H/2)
        let m_0h_1_2h_2 = xpub(
            "cfb71883f01676f587d023cc53a35bc7f88f724b1f8c2892ac1275ac822a3edd",
            "02e8445082a72f29b75ca48748a914df60622a609cacfce8ed0e35804560741d29",
        );
        // xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy (m/0H/1/2H/2/1000000000)
        let m_0h_1_2h_2_1e9 = xpub(
            "c783e67b921d2beb8f6b389cc646d7263b4145701dadd2161548a8b078e65e9e",
            "022a471424da5e657499d1ff51cb43c47481a03b1e77f951fe64cec9f5a48f7011",
        );
        check(&m_0h, "m/1", &m_0h_1, 1);
        check(&m_0h_1_2h, "m/2", &m_0h_1_2h_2, 2);
        check(
            &m_0h_1_2h_2,
            "m/1000000000",
            &m_0h_1_2h_2_1e9,
            1_000_000_000,
        );
        // Two steps at once: the tweaks add up.
        check(
            &m_0h_1_2h,
            "m/2/1000000000",
            &m_0h_1_2h_2_1e9,
            1_000_000_000,
        );
    }

    #[test]
    fn bip32_vector_2_public_steps() {
        // xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB (m)
        let m = xpub(
            "60499f801b896d83179a4374aeb7822aaeaceaa0db1f85ee3e904c4defbd9689",
            "03cbcaa9c98c877a26977d00825c956a238e8dddfbd322cce4f74b0b5bd6ace4a7",
        );
        // xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH (m/0)
        let m_0 = xpub(
            "f0909affaa7ee7abe5dd4e100598d4dc53cd709d5a5c2cac40e7412f232f7c9c",
            "02fc9e5af0ac8d9b3cecfe2a888e2117ba3d089d8585886c9c826b6b22a98d12ea",
        );
        // xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a (m/0/2147483647H)
        let m_0_max_h = xpub(
            "be17a268474a6bb9c61e1d720cf6215e2a88c5406c4aee7b38547f585c9a37d9",
            "03c01e7425647bdefa82b12d9bad5e3e6865bee0502694b94ca58b666abc0a5c3b",
        );
        // xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon (m/0/2147483647H/1)
        let m_0_max_h_1 = xpub(
            "f366f48f1ea9f2d1d3fe958c95ca84ea18e4c4ddb9366c336c927eb246fb38cb",
            "03a7d1d856deb74c508e05031f9895dab54626251b3806e16b4bd12e781a7df5b9",
        );
        // xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL (m/0/2147483647H/1/2147483646H)
        let m_0_max_h_1_h = xpub(
            "637807030d55d01f9a0cb3a7839515d796bd07706386a6eddf06cc29a65a0e29",
            "02d2b36900396c9282fa14628566582f206a5dd0bcc8d5e892611806cafb0301f0",
        );
        // xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt (m/0/2147483647H/1/2147483646H/2)
        let m_0_max_h_1_h_2 = xpub(
            "9452b549be8cea3ecb7a84bec10dcfd94afe4d129ebfd3b3cb58eedf394ed271",
            "024d902e1a2fc7a8755ab5b694c575fce742c48d9ff192e63df5193e4c7afe1f9c",
        );
        check(&m, "m/0", &m_0, 0);
        check(&m_0_max_h, "m/1", &m_0_max_h_1, 1);
        check(&m_0_max_h_1_h, "m/2", &m_0_max_h_1_h_2, 2);
        // The path m keeps the key, with a zero tweak.
        let same = derive_path(&m, &DerivationPath::MASTER).unwrap();
        assert_eq!(same.key, m);
        assert_eq!(same.tweak, Scalar::ZERO);
        assert_eq!(same.parent_key, None);
        assert_eq!(
            derive_path(&m, &"m/0".parse().unwrap()).unwrap().parent_key,
            Some(*m.key())
        );
    }

    #[test]
    fn parses_and_prints_paths() {
        assert_eq!(DerivationPath::parse("m").unwrap(), DerivationPath::MASTER);
        let path = DerivationPath::parse("m/0/7/2147483647").unwrap();
        assert_eq!(path.steps(), &[0, 7, 0x7fff_ffff]);
        assert_eq!(path.depth(), 3);
        let mut text = heapless_text::Text::default();
        fmt::write(&mut text, format_args!("{path}")).unwrap();
        assert_eq!(text.as_str(), "m/0/7/2147483647");
        assert_eq!(
            DerivationPath::from_steps(&[0, 7, 0x7fff_ffff]).unwrap(),
            path
        );
    }

    /// A fixed-capacity (256-byte) `fmt::Write` sink (the crate has no `alloc`).
    mod heapless_text {
        pub(super) struct Text {
            buf: [u8; 256],
            len: usize,
        }
        impl Default for Text {
            fn default() -> Self {
                Self {
                    buf: [0; 256],
                    len: 0,
                }
            }
        }
        impl Text {
            pub(super) fn as_str(&self) -> &str {
                core::str::from_utf8(&self.buf[..self.len]).unwrap()
            }
        }
        impl core::fmt::Write for Text {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                let end = self.len + s.len();
                self.buf
                    .get_mut(self.len..end)
                    .ok_or(core::fmt::Error)?
                    .copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
        }
    }

    #[test]
    fn refuses_hardened_steps() {
        for (text, step) in [
            ("m/0'", 1),
            ("m/0h", 1),
            ("m/0H", 1),
            ("m/1/44'", 2),
            ("m/0/2147483648", 2),
            ("m/4294967295", 1),
        ] {
            assert_eq!(
                DerivationPath::parse(text),
                Err(DeriveError::HardenedStep { step }),
                "{text}"
            );
        }
        assert_eq!(
            DerivationPath::from_steps(&[1, FIRST_HARDENED]),
            Err(DeriveError::HardenedStep { step: 2 })
        );
        let mut text = heapless_text::Text::default();
        fmt::write(
            &mut text,
            format_args!("{}", DeriveError::HardenedStep { step: 1 }),
        )
        .unwrap();
        assert!(text.as_str().contains("step 1 of the path is hardened"));
        assert!(
            text.as_str()
                .contains("two-party hardened derivation is not supported")
        );
    }

    #[test]
    fn refuses_malformed_paths() {
        for (text, step) in [
            ("", 0),
            ("M/0", 0),
            ("0/1", 0),
            ("/0", 0),
            ("m/", 1),
            ("m//1", 1),
            ("m/1/", 2),
            ("m/-1", 1),
            ("m/+1", 1),
            ("m/ 1", 1),
            ("m/0x10", 1),
            ("m/1a", 1),
            ("m/'", 1),
            ("m/h", 1),
            ("m/1''", 1),
            ("m/4294967296", 1),
            ("m/99999999999999999999", 1),
            ("m/1/2/x", 3),
        ] {
            assert_eq!(
                DerivationPath::parse(text),
                Err(DeriveError::MalformedPath { step }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bounds_the_depth() {
        let deepest = [3u32; MAX_DEPTH];
        let path = DerivationPath::from_steps(&deepest).unwrap();
        assert_eq!(usize::from(path.depth()), MAX_DEPTH);
        assert_eq!(
            DerivationPath::from_steps(&[3u32; MAX_DEPTH + 1]),
            Err(DeriveError::TooDeep)
        );
        // The same bound through the text form: "m" + 255 × "/3" parses, one more step does not.
        let mut text = [0u8; 1 + 2 * (MAX_DEPTH + 1)];
        text[0] = b'm';
        for pair in text[1..].chunks_mut(2) {
            pair.copy_from_slice(b"/3");
        }
        let ok = core::str::from_utf8(&text[..1 + 2 * MAX_DEPTH]).unwrap();
        assert_eq!(DerivationPath::parse(ok).unwrap(), path);
        let too_deep = core::str::from_utf8(&text).unwrap();
        assert_eq!(DerivationPath::parse(too_deep), Err(DeriveError::TooDeep));
        // A full-depth derivation runs and keeps the tweak relation.
        let start = ExtendedPublicKey::new(AffinePoint::GENERATOR, [7; 32]).unwrap();
        let derived = derive_path(&start, &path).unwrap();
        assert_eq!(usize::from(derived.depth), MAX_DEPTH);
        assert_eq!(mul_g(&(Scalar::ONE + derived.tweak)), *derived.key.key());
    }

    #[test]
    fn invalid_child_is_an_error() {
        let start = ExtendedPublicKey::new(AffinePoint::GENERATOR, [1; 32]).unwrap();
        // I_L = n is not a scalar.
        let n = FieldBytes::from(bytes::<32>(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        ));
        assert_eq!(child_from_hmac(&start, &n, [0; 32]), None);
        // Parent −G plus 1·G is the point at infinity.
        let minus_g = ExtendedPublicKey::new(mul_g(&-Scalar::ONE), [1; 32]).unwrap();
        let one = Scalar::ONE.to_repr();
        assert_eq!(child_from_hmac(&minus_g, &one, [0; 32]), None);
        // A path whose second step hits it is refused there, naming its depth and index,
        // not skipped to the next index.
        let path: DerivationPath = "m/4/9/1".parse().unwrap();
        let n_at_index_9 = |key: &ExtendedPublicKey, index: u32| match index {
            9 => Ok((n, [0; 32])),
            _ => ckd_hmac(key, index),
        };
        let err = derive_path_by(&start, &path, n_at_index_9).unwrap_err();
        assert_eq!(err, DeriveError::InvalidChild { depth: 2, index: 9 });
        assert!(derive_path_by(&start, &path, ckd_hmac).is_ok());
        let mut text = heapless_text::Text::default();
        fmt::write(&mut text, format_args!("{err}")).unwrap();
        assert!(text.as_str().starts_with("BIP32 child 9 at depth 2"));
    }

    #[test]
    fn refuses_the_identity_as_a_key() {
        assert_eq!(
            ExtendedPublicKey::new(AffinePoint::IDENTITY, [0; 32]),
            Err(DeriveError::IdentityKey)
        );
    }
}
