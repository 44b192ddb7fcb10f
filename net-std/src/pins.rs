//! Party 1's pins of party 0's commitment parameters (issue 10): the hash of the ring-Pedersen
//! parameters each party-0 identity proved at its first keygen, so that the proof is checked
//! once per party 0 and a changed parameter set is noticed.
//!
//! A pin is a file `<hex pid of party 0>.pin` in a per-user state directory
//! ([`PinStore::default_dir`]: `$XDG_STATE_HOME/ecdsa2pc/pins`, else
//! `$HOME/.local/state/ecdsa2pc/pins`, or a directory the caller names). It holds three
//! lines of text: a header, party 0's pid and the parameters' hash. It is written atomically
//! and synced like a share file (mode 0600, directory 0700) before keygen goes on, and read
//! with the same permission check.
//!
//! At keygen party 1 ([`PinStore::check`]): no pin → verify the parameter proof, pin, go on;
//! the same hash as the pin → go on without checking the proof again; another hash → refuse
//! ([`StoreError::ParamsPinned`]). If party 0 replaced its parameters on purpose (a rotation),
//! deleting the pin file is the way to accept the new ones.

use core::fmt;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::{ParamsMsg, RingPedersenParams};

use crate::NetError;
use crate::error::{ProtocolError, StoreError};
use crate::identity::{Pid, hex};
use crate::store;

/// First line of a pin file.
const HEADER: &str = "ecdsa2pc commitment-parameter pin v1";
/// Suffix of a pin file's name.
pub const PIN_SUFFIX: &str = "pin";

/// What a [`PinStore::check`] did, for a progress line (never secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinEvent {
    /// No pin for this party 0 yet: checking the parameter proof (about half a second).
    Verifying {
        /// The pin file that will be written.
        pin: PathBuf,
    },
    /// The proof was valid; the parameters' hash is now pinned.
    Pinned {
        /// The pin file written.
        pin: PathBuf,
        /// The parameters' hash.
        hash: [u8; 32],
    },
    /// The parameters are the pinned ones: the proof was not checked again.
    Known {
        /// The pin file read.
        pin: PathBuf,
        /// The parameters' hash.
        hash: [u8; 32],
    },
}

impl fmt::Display for PinEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verifying { .. } => f.write_str(
                "checking party 0's commitment-parameter proof (first keygen with this party 0, \
                 about half a second)",
            ),
            Self::Pinned { pin, hash } => write!(
                f,
                "party 0's commitment parameters {}… verified and pinned in {}",
                short(hash),
                pin.display()
            ),
            Self::Known { pin, hash } => write!(
                f,
                "party 0's commitment parameters {}… are the ones pinned in {}: proof not \
                 checked again",
                short(hash),
                pin.display()
            ),
        }
    }
}

/// The directory of party 1's parameter pins.
#[derive(Clone, Debug)]
pub struct PinStore {
    dir: PathBuf,
}

impl PinStore {
    /// The pins in `dir` (created, mode 0700, at the first pin).
    #[must_use]
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The per-user pin directory: `$XDG_STATE_HOME/ecdsa2pc/pins` if that variable holds an
    /// absolute path, else `$HOME/.local/state/ecdsa2pc/pins`, else none (the same state
    /// directory as the lock registry's, [`crate::lock_registry::LockRegistry::default_state_dir`]).
    #[must_use]
    pub fn default_dir() -> Option<PathBuf> {
        crate::lock_registry::state_dir().map(|d| d.join("pins"))
    }

    /// The directory of the pins.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pin file of the party 0 with pid `owner`.
    #[must_use]
    pub fn path_of(&self, owner: &Pid) -> PathBuf {
        self.dir.join(format!("{}.{PIN_SUFFIX}", hex(owner)))
    }

    /// The parameters' hash pinned for `owner`, if any.
    ///
    /// # Errors
    /// [`StoreError::LoosePermissions`] or [`StoreError::Unreadable`] for a pin file that
    /// cannot be trusted or read, [`StoreError::PinDamaged`] for one that does not parse (or
    /// names another party 0).
    pub fn pinned(&self, owner: &Pid) -> Result<Option<[u8; 32]>, StoreError> {
        let path = self.path_of(owner);
        let bytes = match store::read_bytes(&path) {
            Ok(bytes) => bytes,
            Err(StoreError::Missing { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        parse(&bytes, owner)
            .map(Some)
            .ok_or(StoreError::PinDamaged { pin: path })
    }

    /// Pins `hash` for `owner`, durably (creating the directory, mode 0700, if needed, and
    /// syncing its new name).
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn pin(&self, owner: &Pid, hash: &[u8; 32]) -> Result<(), StoreError> {
        store::create_private_dir(&self.dir, "cannot create the pin directory")?;
        store::write_atomic(&self.path_of(owner), render(owner, hash).as_bytes())
    }

    /// Party 1's decision on party 0's parameter message at keygen (`owner` is party 0's
    /// pid, from the TLS session): a pinned hash skips the proof, a different one is refused,
    /// none means the proof is checked and the hash pinned before this returns. `progress`
    /// hears what was done.
    ///
    /// # Errors
    /// [`StoreError::ParamsPinned`] for parameters other than the pinned ones; a
    /// [`ProtocolError`] (step "keygen, parameters") if the parameters or their proof are
    /// invalid; the errors of [`PinStore::pinned`] and [`PinStore::pin`].
    pub fn check(
        &self,
        msg: &ParamsMsg,
        owner: &Pid,
        progress: &mut dyn FnMut(PinEvent),
    ) -> Result<RingPedersenParams, NetError> {
        let offered = msg.params().hash();
        let pin = self.path_of(owner);
        match self.pinned(owner)? {
            Some(pinned) if pinned == offered => {
                progress(PinEvent::Known { pin, hash: offered });
                Ok(*msg.params())
            }
            Some(pinned) => Err(StoreError::ParamsPinned {
                pin,
                pinned,
                offered,
            }
            .into()),
            None => {
                progress(PinEvent::Verifying { pin: pin.clone() });
                let params = verify(msg, owner)?;
                self.pin(owner, &offered)?;
                progress(PinEvent::Pinned { pin, hash: offered });
                Ok(params)
            }
        }
    }
}

/// Checks party 0's parameter message without any pin (the demo, tests): the proof every
/// time.
///
/// # Errors
/// A [`ProtocolError`] (step "keygen, parameters") if the parameters or their proof are
/// invalid.
pub fn verify(msg: &ParamsMsg, owner: &Pid) -> Result<RingPedersenParams, NetError> {
    msg.verify(owner).map_err(|error| {
        ProtocolError {
            error,
            step: PARAMS_STEP,
        }
        .into()
    })
}

/// The step name of the parameter message in errors.
pub const PARAMS_STEP: &str = "keygen, parameters";

fn render(owner: &Pid, hash: &[u8; 32]) -> String {
    format!(
        "{HEADER}\nparty 0 pid: {}\nparameters hash: {}\n",
        hex(owner),
        hex(hash)
    )
}

/// The hash in a pin file's bytes, if they are a pin of `owner`.
fn parse(bytes: &[u8], owner: &Pid) -> Option<[u8; 32]> {
    let text = core::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER || lines.next()? != format!("party 0 pid: {}", hex(owner)) {
        return None;
    }
    let digits = lines.next()?.strip_prefix("parameters hash: ")?.as_bytes();
    if lines.next().is_some() || digits.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (out, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        let pair = core::str::from_utf8(pair).ok()?;
        *out = u8::from_str_radix(pair, 16).ok()?;
    }
    // Only the canonical form: what `render` writes.
    (render(owner, &hash) == text).then_some(hash)
}

/// The first 8 bytes of a hash, hex: enough to tell parameter sets apart in a message.
pub(crate) fn short(hash: &[u8; 32]) -> String {
    hex(&hash[..8])
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ecdsa2pc-pins-{tag}-{}-{}",
            std::process::id(),
            hex(&rand_id())
        ));
        fs::create_dir(&dir).unwrap();
        dir
    }

    fn rand_id() -> [u8; 8] {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        b
    }

    #[test]
    fn a_pin_round_trips_privately_and_names_its_party_0() {
        let dir = scratch("round");
        let pins = PinStore::new(&dir.join("pins"));
        let (owner, other) = ([7u8; 32], [8u8; 32]);
        assert_eq!(pins.pinned(&owner).unwrap(), None);
        pins.pin(&owner, &[0xab; 32]).unwrap();
        assert_eq!(pins.pinned(&owner).unwrap(), Some([0xab; 32]));
        assert_eq!(pins.pinned(&other).unwrap(), None);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&pins.path_of(&owner)), 0o600);
        assert_eq!(mode(pins.dir()), 0o700);
        // A pin copied to another party 0's name does not count for it.
        fs::copy(pins.path_of(&owner), pins.path_of(&other)).unwrap();
        let err = pins.pinned(&other).unwrap_err();
        assert!(
            matches!(err, StoreError::PinDamaged { ref pin } if *pin == pins.path_of(&other)),
            "{err}"
        );
        // Deleting a pin (a rotation on purpose) forgets it.
        fs::remove_file(pins.path_of(&other)).unwrap();
        assert_eq!(pins.pinned(&other).unwrap(), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_or_loose_pin_is_refused() {
        let dir = scratch("damaged");
        let pins = PinStore::new(&dir);
        let owner = [3u8; 32];
        pins.pin(&owner, &[1; 32]).unwrap();
        let path = pins.path_of(&owner);
        let good = fs::read_to_string(&path).unwrap();
        for bad in [
            good.replace("01", "0g"),
            good.replace("0101\n", "01\n"),
            format!("{good}extra\n"),
            good.replace(HEADER, "something else"),
            good.to_uppercase(),
        ] {
            fs::write(&path, bad.as_bytes()).unwrap();
            let err = pins.pinned(&owner).unwrap_err();
            assert!(
                matches!(err, StoreError::PinDamaged { .. }),
                "{bad:?}: {err}"
            );
            let text = err.to_string();
            assert!(text.contains("delete it"), "{text}");
        }
        fs::write(&path, good.as_bytes()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let err = pins.pinned(&owner).unwrap_err();
        assert!(matches!(err, StoreError::LoosePermissions { .. }), "{err}");
        assert!(err.to_string().starts_with("parameter pin "), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
