//! rustls configurations of the two parties (ring provider, mutual TLS, TLS 1.3 and 1.2).
//!
//! - Party 0 (server) requires a client certificate chaining to the CA file
//!   ([`WebPkiClientVerifier`], no anonymous clients) and presents its own certificate.
//! - Party 1 (client) verifies party 0's certificate against the CA file and the server
//!   name (host part of the address: a DNS name or an IP address), and presents its own.
//!
//! Session resumption is disabled (every connection verifies certificates afresh) and the
//! extended master secret is required with TLS 1.2, so that the exported channel binding
//! is unique to the connection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::cert_paths::CertPaths;
use crate::error::{CertProblem, ConfigError, NetError, TransportError};
use crate::identity::{Pid, pid_of_cert, subject_of_cert};
use crate::pem::{load_certs, load_key, load_roots};
use crate::tls_error::TlsError;
use ecdsa2pc_core::Party;

/// The protocol versions we accept, preferred first.
const VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The crypto provider used everywhere: rustls' `ring` provider.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Our own identity, read from our certificate.
#[derive(Clone, Debug)]
pub(crate) struct OwnIdentity {
    pub(crate) pid: Pid,
    pub(crate) subject: String,
}

/// A loaded server configuration with what the channel needs to report.
pub(crate) struct ServerSetup {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) own: OwnIdentity,
    pub(crate) ca_file: PathBuf,
}

/// A loaded client configuration with what the channel needs to report.
pub(crate) struct ClientSetup {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) own: OwnIdentity,
    pub(crate) ca_file: PathBuf,
}

fn own_identity(path: &Path, chain: &[CertificateDer<'_>]) -> Result<OwnIdentity, ConfigError> {
    let unparsable = || ConfigError::CertFile {
        path: path.to_path_buf(),
        problem: CertProblem::Unparsable,
    };
    let leaf = chain.first().ok_or_else(unparsable)?;
    Ok(OwnIdentity {
        pid: pid_of_cert(leaf).ok_or_else(unparsable)?,
        subject: subject_of_cert(leaf).ok_or_else(unparsable)?,
    })
}

/// Maps an error of installing our certificate and key into a config.
fn key_error(paths: &CertPaths, party: Party, err: rustls::Error) -> NetError {
    let problem = match &err {
        rustls::Error::InconsistentKeys(_) => CertProblem::KeyMismatch {
            cert: paths.cert.clone(),
        },
        rustls::Error::General(msg) => CertProblem::UnusableKey(msg.clone()),
        _ => {
            return TlsError::new(err).with_context(party, &paths.ca).into();
        }
    };
    ConfigError::CertFile {
        path: paths.key.clone(),
        problem,
    }
    .into()
}

fn loaded(
    paths: &CertPaths,
) -> Result<
    (
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
        OwnIdentity,
    ),
    NetError,
> {
    let chain = load_certs(&paths.cert)?;
    let key = load_key(&paths.key)?;
    let own = own_identity(&paths.cert, &chain)?;
    Ok((chain, key, own))
}

pub(crate) fn server_setup(paths: &CertPaths) -> Result<ServerSetup, NetError> {
    let roots = Arc::new(load_roots(&paths.ca)?);
    let (chain, key, own) = loaded(paths)?;
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(roots, Arc::clone(&provider))
        .build()
        .map_err(|e| ConfigError::CertFile {
            path: paths.ca.clone(),
            problem: CertProblem::UnusableVerifier(e.to_string()),
        })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(|e| key_error(paths, Party::P1, e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| key_error(paths, Party::P1, e))?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    config.require_ems = true;
    Ok(ServerSetup {
        config: Arc::new(config),
        own,
        ca_file: paths.ca.clone(),
    })
}

pub(crate) fn client_setup(paths: &CertPaths) -> Result<ClientSetup, NetError> {
    let roots = load_roots(&paths.ca)?;
    let (chain, key, own) = loaded(paths)?;
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| key_error(paths, Party::P2, e))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| key_error(paths, Party::P2, e))?;
    config.resumption = Resumption::disabled();
    config.require_ems = true;
    Ok(ClientSetup {
        config: Arc::new(config),
        own,
        ca_file: paths.ca.clone(),
    })
}

/// The server (party 0) configuration: requires a client certificate chaining to
/// `paths.ca`, presents `paths.cert` with `paths.key`.
pub fn server_config(paths: &CertPaths) -> Result<Arc<ServerConfig>, NetError> {
    server_setup(paths).map(|s| s.config)
}

/// The client (party 1) configuration: verifies the server against `paths.ca`, presents
/// `paths.cert` with `paths.key`.
pub fn client_config(paths: &CertPaths) -> Result<Arc<ClientConfig>, NetError> {
    client_setup(paths).map(|s| s.config)
}

/// Splits `host:port` (or `[v6]:port`) and returns the host, without brackets.
pub(crate) fn host_of(addr: &str) -> Result<&str, TransportError> {
    let bad = |reason: &str| TransportError::BadAddress {
        addr: addr.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    if port.parse::<u16>().is_err() {
        return Err(bad("the port is not a number from 0 to 65535"));
    }
    let host = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .ok_or_else(|| bad("unbalanced '['"))?,
        None => host,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(host)
}

/// The name party 1 expects in party 0's certificate: the host part of `addr`, as an IP
/// address if it is one, else as a DNS name.
pub fn server_name_for(addr: &str) -> Result<ServerName<'static>, TransportError> {
    let host = host_of(addr)?;
    ServerName::try_from(host.to_owned()).map_err(|_| TransportError::BadAddress {
        addr: addr.to_owned(),
        reason: format!("'{host}' is neither a valid DNS name nor an IP address"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        assert!(
            matches!(server_name_for("localhost:7000").unwrap(), ServerName::DnsName(d) if d.as_ref() == "localhost")
        );
        assert!(matches!(
            server_name_for("127.0.0.1:7000").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name_for("[::1]:7000").unwrap(),
            ServerName::IpAddress(_)
        ));
        for bad in ["localhost", "localhost:x", ":7000", "[::1:7000", "a b:1"] {
            assert!(
                matches!(server_name_for(bad), Err(TransportError::BadAddress { .. })),
                "{bad}"
            );
        }
    }
}
