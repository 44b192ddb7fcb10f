//! What both parties learn about a connection: [`SessionInfo`].

use core::net::SocketAddr;

use ecdsa2pc_core::Party;

use crate::identity::Pid;

/// Label of the TLS exporter (RFC 5705 / RFC 8446 §7.5) that yields
/// [`SessionInfo::channel_binding`]; the context is absent.
pub const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-ecdsa2pc-v1";

/// Facts about an established, authenticated connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// Our party; it fixes our TLS role (party 0 is the server, party 1 the client).
    pub party: Party,
    /// Our pid: SHA-256 of our certificate's DER SubjectPublicKeyInfo.
    pub own_pid: Pid,
    /// The peer's pid: SHA-256 of its (verified) certificate's DER SubjectPublicKeyInfo.
    pub peer_pid: Pid,
    /// 32 bytes exported from the TLS session with label [`CHANNEL_BINDING_LABEL`] and no
    /// context; identical on both ends of one connection, different for every connection.
    pub channel_binding: [u8; 32],
    /// The negotiated TLS version, e.g. `"TLSv1.3"`.
    pub tls_version: &'static str,
    /// The negotiated cipher suite, e.g. `"TLS13_AES_256_GCM_SHA384"`.
    pub cipher_suite: &'static str,
    /// Our certificate's subject, e.g. `"CN=localhost"`.
    pub own_subject: String,
    /// The peer certificate's subject, e.g. `"CN=client1"`.
    pub peer_subject: String,
    /// The peer's socket address.
    pub peer_addr: SocketAddr,
}
