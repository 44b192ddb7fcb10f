//! TLS errors: a rustls error classified into a problem a user can fix ([`TlsProblem`]),
//! with our party (which fixes our TLS role: party 0 is the server) and CA file.

use core::fmt;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::Party;
use rustls::{AlertDescription, CertificateError, Error as RustlsError};

/// What went wrong in TLS, classified so that the message can say how to fix it.
///
/// Whether we detected the problem ourselves or the peer reported it (with a TLS alert)
/// is told by [`TlsError::reported_by_peer`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// A certificate is not signed by the CA of the party verifying it (rustls
    /// `UnknownIssuer`, or `BadSignature` when the other CA has the same name; the alerts
    /// `unknown_ca` or `decrypt_error`).
    UnknownCa,
    /// Party 1 presented no client certificate, but party 0 requires one
    /// (rustls `NoCertificatesPresented`, or the alert `certificate_required`).
    NoClientCertificate,
    /// A certificate is not valid for its role: e.g. the server certificate used as the
    /// client certificate (rustls `InvalidPurpose`, or the alert `unsupported_certificate`).
    WrongPurpose,
    /// Party 0's certificate does not name the host party 1 connected to.
    NameMismatch {
        /// The name party 1 expected (the host part of the server address).
        expected: String,
        /// The names the certificate holds.
        presented: Vec<String>,
    },
    /// A certificate has expired or is not valid yet (check the clocks).
    Expired,
    /// The peer rejected our certificate for another reason (alerts `bad_certificate`,
    /// `certificate_unknown`, `access_denied`, ...).
    CertificateRejected,
    /// No common TLS version or cipher suite.
    Incompatible,
    /// The peer's bytes are not TLS records at all (rustls `InvalidMessage`): a plain TCP
    /// or HTTP client, a port scanner, or a connection corrupted on the way.
    NotTls,
    /// Anything else: corrupted records, protocol violations, ...
    Other,
}

/// A classified TLS error: the [`TlsProblem`], our party and CA file when known, and the
/// rustls error itself (its `source()`).
#[derive(Debug)]
pub struct TlsError {
    problem: TlsProblem,
    party: Option<Party>,
    ca_file: Option<PathBuf>,
    error: RustlsError,
}

impl TlsError {
    /// Classifies a rustls error.
    pub(crate) fn new(error: RustlsError) -> Self {
        Self {
            problem: classify(&error),
            party: None,
            ca_file: None,
            error,
        }
    }

    /// Adds our party and CA file (used in the message) where not known yet.
    pub(crate) fn with_context(mut self, party: Party, ca_file: &Path) -> Self {
        self.party.get_or_insert(party);
        if self.ca_file.is_none() {
            self.ca_file = Some(ca_file.to_path_buf());
        }
        self
    }

    /// The classified problem.
    pub fn problem(&self) -> &TlsProblem {
        &self.problem
    }

    /// Our party, when known: party 0 is the TLS server, party 1 the client.
    pub fn party(&self) -> Option<Party> {
        self.party
    }

    /// `true` if the peer reported the problem with a TLS alert, `false` if we found it.
    pub fn reported_by_peer(&self) -> bool {
        matches!(self.error, RustlsError::AlertReceived(_))
    }

    /// The underlying rustls error.
    pub fn rustls_error(&self) -> &RustlsError {
        &self.error
    }
}

/// Maps a rustls error to the problem it reveals.
pub(crate) fn classify(error: &RustlsError) -> TlsProblem {
    use CertificateError as C;
    match error {
        RustlsError::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => TlsProblem::UnknownCa,
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => TlsProblem::WrongPurpose,
            C::NotValidForNameContext {
                expected,
                presented,
            } => TlsProblem::NameMismatch {
                expected: expected.to_str().into_owned(),
                presented: presented.clone(),
            },
            C::NotValidForName => TlsProblem::NameMismatch {
                expected: String::new(),
                presented: Vec::new(),
            },
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => TlsProblem::Expired,
            _ => TlsProblem::Other,
        },
        RustlsError::NoCertificatesPresented => TlsProblem::NoClientCertificate,
        RustlsError::PeerIncompatible(_) => TlsProblem::Incompatible,
        RustlsError::InvalidMessage(_) => TlsProblem::NotTls,
        RustlsError::AlertReceived(alert) => match alert {
            // rustls sends `decrypt_error` for a certificate whose signature does not
            // verify: with two CAs of the same name (e.g. two runs of
            // generate_certs.sh) that is what a certificate from the other CA gives.
            AlertDescription::UnknownCA | AlertDescription::DecryptError => TlsProblem::UnknownCa,
            AlertDescription::CertificateRequired => TlsProblem::NoClientCertificate,
            AlertDescription::UnsupportedCertificate => TlsProblem::WrongPurpose,
            AlertDescription::CertificateExpired => TlsProblem::Expired,
            AlertDescription::BadCertificate
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateRevoked
            | AlertDescription::AccessDenied => TlsProblem::CertificateRejected,
            AlertDescription::HandshakeFailure
            | AlertDescription::ProtocolVersion
            | AlertDescription::InsufficientSecurity => TlsProblem::Incompatible,
            _ => TlsProblem::Other,
        },
        _ => TlsProblem::Other,
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ca = self
            .ca_file
            .as_deref()
            .map(|p| format!(" (ca file {})", p.display()))
            .unwrap_or_default();
        let by_peer = self.reported_by_peer();
        let peer = self
            .party
            .map_or_else(|| "the peer".to_owned(), |ours| ours.peer().to_string());
        match (&self.problem, by_peer) {
            (TlsProblem::UnknownCa, false) => write!(
                f,
                "TLS: the peer's certificate is not signed by our CA{ca}: both parties must \
                 use certificates from the same CA"
            ),
            // Our CA file says nothing about the peer's: compare the two parties' files.
            (TlsProblem::UnknownCa, true) => write!(
                f,
                "TLS: {peer} rejected our certificate as not signed by its CA: both \
                 parties must use certificates from the same CA (compare the two \
                 parties' CA files)"
            ),
            (TlsProblem::NoClientCertificate, false) => write!(
                f,
                "TLS: party 1 connected without a client certificate, but party 0 requires \
                 one: party 1 must present its client certificate (client1-cert.pem, \
                 signed by the same CA)"
            ),
            (TlsProblem::NoClientCertificate, true) => write!(
                f,
                "TLS: party 0 requires a client certificate and we presented none: party 1 \
                 needs client1-cert.pem and client1-key.pem in its certificate directory"
            ),
            (TlsProblem::WrongPurpose, _) => {
                // Whose certificate is wrong: the peer's if we found it, ours if reported.
                let wrong_is_client = match (self.party, by_peer) {
                    (Some(Party::P1), false) | (Some(Party::P2), true) => Some(true),
                    (Some(Party::P2), false) | (Some(Party::P1), true) => Some(false),
                    (None, _) => None,
                };
                match wrong_is_client {
                    Some(true) => write!(
                        f,
                        "TLS: party 1's certificate is not valid for client authentication \
                         (is it the server certificate?): party 1 must use a client \
                         certificate (client1-cert.pem)"
                    ),
                    Some(false) => write!(
                        f,
                        "TLS: party 0's certificate is not valid for server authentication \
                         (is it a client certificate?): party 0 must use the server \
                         certificate (server-cert.pem)"
                    ),
                    None => write!(
                        f,
                        "TLS: a certificate is used for the wrong purpose: party 0 must use \
                         server-cert.pem and party 1 client1-cert.pem"
                    ),
                }
            }
            (
                TlsProblem::NameMismatch {
                    expected,
                    presented,
                },
                _,
            ) => write!(
                f,
                "TLS: party 0's certificate is not valid for the name '{expected}' party 1 \
                 connected to (it names: {}): connect to a host name the certificate names \
                 (e.g. localhost or 127.0.0.1), or issue a certificate for '{expected}'",
                if presented.is_empty() {
                    "nothing usable".to_owned()
                } else {
                    presented.join(", ")
                }
            ),
            (TlsProblem::Expired, false) => write!(
                f,
                "TLS: the peer's certificate has expired or is not valid yet: check both \
                 clocks, or renew the certificates over their keys (certs/generate_certs.sh \
                 DIR --renew; the key shares keep working)"
            ),
            (TlsProblem::Expired, true) => write!(
                f,
                "TLS: {peer} says our certificate has expired or is not valid yet: check \
                 both clocks, or renew the certificates over their keys \
                 (certs/generate_certs.sh DIR --renew; the key shares keep working)"
            ),
            (TlsProblem::CertificateRejected, _) => write!(
                f,
                "TLS: {peer} rejected our certificate ({}): both parties must use \
                 certificates from the same CA, and party 0's certificate must \
                 name the host party 1 connects to; see {peer}'s log",
                self.error
            ),
            (TlsProblem::Incompatible, _) => write!(
                f,
                "TLS: no common TLS version or cipher suite with {peer} ({}): both parties \
                 need TLS 1.3 or 1.2 with ECDHE",
                self.error
            ),
            // Whoever sent it did not speak TLS: it need not be the party we expect.
            (TlsProblem::NotTls, _) => match self.party {
                Some(Party::P2) => write!(
                    f,
                    "TLS: the server answered with data that is not TLS ({}): is this \
                     address party 0's, not another service's?",
                    self.error
                ),
                _ => write!(
                    f,
                    "TLS: a client sent data that is not TLS ({}): a plain TCP or HTTP \
                     client, a port scanner, or a corrupted connection, not an ecdsa2pc \
                     party",
                    self.error
                ),
            },
            (TlsProblem::Other, _) => write!(f, "TLS error with {peer}: {}", self.error),
        }
    }
}

impl core::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;

    #[test]
    fn local_certificate_errors_are_classified() {
        let e = RustlsError::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(classify(&e), TlsProblem::UnknownCa);
        let e = RustlsError::InvalidCertificate(CertificateError::InvalidPurpose);
        assert_eq!(classify(&e), TlsProblem::WrongPurpose);
        assert_eq!(
            classify(&RustlsError::NoCertificatesPresented),
            TlsProblem::NoClientCertificate
        );
    }

    #[test]
    fn name_mismatch_keeps_expected_name() {
        let expected = ServerName::try_from("party0.example").map(|n| n.to_owned());
        let Ok(expected) = expected else {
            panic!("valid name")
        };
        let e = RustlsError::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected,
            presented: vec!["DnsName(\"localhost\")".to_owned()],
        });
        let failure = TlsError::new(e).with_context(Party::P2, Path::new("ca.pem"));
        assert!(
            matches!(failure.problem(), TlsProblem::NameMismatch { expected, .. }
            if expected == "party0.example")
        );
        assert!(failure.to_string().contains("'party0.example'"));
    }

    /// Bytes that are not TLS read as such, for either role, and do not blame a party.
    #[test]
    fn non_tls_bytes_are_named_for_what_they_are() {
        let error = || RustlsError::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(classify(&error()), TlsProblem::NotTls);
        let server = TlsError::new(error())
            .with_context(Party::P1, Path::new("ca.pem"))
            .to_string();
        assert!(
            server.contains("a client sent data that is not TLS"),
            "{server}"
        );
        assert!(!server.contains("party 1"), "{server}");
        let client = TlsError::new(error())
            .with_context(Party::P2, Path::new("ca.pem"))
            .to_string();
        assert!(client.contains("is this address party 0's"), "{client}");
    }

    /// An expired certificate names --renew, which keeps the keys (and so the party ids the
    /// key shares are bound to), never a regeneration that would make new keys.
    #[test]
    fn an_expired_certificate_names_renewal_over_the_same_keys() {
        let ours = RustlsError::InvalidCertificate(CertificateError::Expired);
        let theirs = RustlsError::AlertReceived(AlertDescription::CertificateExpired);
        for error in [ours, theirs] {
            let text = TlsError::new(error)
                .with_context(Party::P2, Path::new("ca.pem"))
                .to_string();
            assert!(text.contains("--renew"), "{text}");
            assert!(!text.contains("--force"), "{text}");
        }
    }

    /// A peer's "not our CA" does not point at our own CA file.
    #[test]
    fn a_rejection_by_the_peer_does_not_name_our_ca_file() {
        let error = RustlsError::AlertReceived(AlertDescription::UnknownCA);
        let text = TlsError::new(error)
            .with_context(Party::P1, Path::new("/ours/ca-cert.pem"))
            .to_string();
        assert!(
            text.contains("rejected our certificate as not signed by its CA"),
            "{text}"
        );
        assert!(!text.contains("/ours/ca-cert.pem"), "{text}");
    }

    #[test]
    fn alerts_are_classified_as_reported_by_peer() {
        for (alert, want) in [
            (AlertDescription::UnknownCA, TlsProblem::UnknownCa),
            (AlertDescription::DecryptError, TlsProblem::UnknownCa),
            (
                AlertDescription::CertificateRequired,
                TlsProblem::NoClientCertificate,
            ),
            (
                AlertDescription::UnsupportedCertificate,
                TlsProblem::WrongPurpose,
            ),
            (
                AlertDescription::BadCertificate,
                TlsProblem::CertificateRejected,
            ),
        ] {
            let failure = TlsError::new(RustlsError::AlertReceived(alert));
            assert_eq!(failure.problem(), &want);
            assert!(failure.reported_by_peer());
        }
    }

    /// No common version or suite, ours or reported by the peer, reads as such and says
    /// what both parties need; anything unclassified is named with rustls' own words.
    #[test]
    fn incompatible_peers_and_other_errors_are_classified() {
        for error in [
            RustlsError::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon),
            RustlsError::AlertReceived(AlertDescription::HandshakeFailure),
            RustlsError::AlertReceived(AlertDescription::ProtocolVersion),
            RustlsError::AlertReceived(AlertDescription::InsufficientSecurity),
        ] {
            let failure = TlsError::new(error).with_context(Party::P2, Path::new("ca.pem"));
            assert_eq!(failure.problem(), &TlsProblem::Incompatible, "{failure}");
            assert!(
                failure
                    .to_string()
                    .contains("no common TLS version or cipher suite with party 0"),
                "{failure}"
            );
        }
        for error in [
            RustlsError::DecryptError,
            RustlsError::AlertReceived(AlertDescription::InternalError),
            RustlsError::InvalidCertificate(CertificateError::Revoked),
        ] {
            let failure = TlsError::new(error).with_context(Party::P1, Path::new("ca.pem"));
            assert_eq!(failure.problem(), &TlsProblem::Other, "{failure}");
            assert!(
                failure.to_string().starts_with("TLS error with party 1: "),
                "{failure}"
            );
        }
    }

    #[test]
    fn wrong_purpose_message_names_the_party_to_fix() {
        let local = TlsError::new(RustlsError::InvalidCertificate(
            CertificateError::InvalidPurpose,
        ))
        .with_context(Party::P1, Path::new("ca.pem"));
        assert!(
            local
                .to_string()
                .contains("party 1 must use a client certificate (client1-cert.pem)")
        );
        let reported = TlsError::new(RustlsError::AlertReceived(
            AlertDescription::UnsupportedCertificate,
        ))
        .with_context(Party::P1, Path::new("ca.pem"));
        assert!(
            reported
                .to_string()
                .contains("party 0 must use the server certificate")
        );
    }
}
