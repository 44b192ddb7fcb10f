//! Which of the two parties a value belongs to.

use core::{fmt, str::FromStr};

/// One of the two parties of the protocol.
///
/// Users number them 0 and 1; the protocol (Lindell'17, cb-mpc) calls them P1 and P2. Party 0
/// is P1: it owns the Paillier key, decrypts, finishes the signature and is the TLS server.
/// Party 1 is P2: it evaluates homomorphically on `c_key` and is the TLS client. Every other
/// role (the TLS role, the share-file role byte, which certificate files to load) is derived
/// from this value and never stored beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// Party 0: owns the Paillier key, decrypts, finishes the signature (TLS server).
    P1,
    /// Party 1: evaluates on the encrypted share (TLS client).
    P2,
}

impl Party {
    /// Both parties, party 0 first.
    pub const BOTH: [Self; 2] = [Self::P1, Self::P2];

    /// The user-facing number: 0 for P1, 1 for P2.
    #[must_use]
    pub const fn index(self) -> u8 {
        match self {
            Self::P1 => 0,
            Self::P2 => 1,
        }
    }

    /// The party numbered `index` (0 or 1); `None` for any other number.
    #[must_use]
    pub const fn from_index(index: u8) -> Option<Self> {
        match index {
            0 => Some(Self::P1),
            1 => Some(Self::P2),
            _ => None,
        }
    }

    /// The other party.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::P1 => Self::P2,
            Self::P2 => Self::P1,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "party {}", self.index())
    }
}

/// A string that names neither party.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownParty;

impl fmt::Display for UnknownParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a party is 0 (P1, the server) or 1 (P2, the client)")
    }
}

impl core::error::Error for UnknownParty {}

impl FromStr for Party {
    type Err = UnknownParty;

    /// Accepts `0`/`1` and, case-insensitively, `p1`/`p2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "0" => Ok(Self::P1),
            "1" => Ok(Self::P2),
            _ if s.eq_ignore_ascii_case("p1") => Ok(Self::P1),
            _ if s.eq_ignore_ascii_case("p2") => Ok(Self::P2),
            _ => Err(UnknownParty),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_peers_agree() {
        for party in Party::BOTH {
            assert_eq!(Party::from_index(party.index()), Some(party));
            assert_eq!(party.peer().peer(), party);
            assert_ne!(party.peer(), party);
        }
        assert_eq!("0".parse(), Ok(Party::P1));
        assert_eq!("P2".parse(), Ok(Party::P2));
        assert_eq!("2".parse::<Party>(), Err(UnknownParty));
        assert_eq!("".parse::<Party>(), Err(UnknownParty));
        assert_eq!(Party::from_index(2), None);
    }
}
