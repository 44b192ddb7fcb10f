//! Blocking mutual-TLS transport of ecdsa2pc.
//!
//! Party 0 is the TLS server (it listens), party 1 the TLS client (it connects). Both
//! present a certificate from one CA and verify the peer's against it (rustls with the
//! `ring` provider, TLS 1.3 preferred, 1.2 allowed). Messages travel as frames: a 4-byte
//! big-endian length, then the payload, capped at a maximum length.
//!
//! # API
//!
//! - Connecting: [`listen_and_accept`] (or [`listen`] + [`Listener::local_addr`] +
//!   [`Listener::accept`]) for party 0, [`connect`] for party 1 (it retries while party 0
//!   is not up yet, so start order does not matter), or [`establish`] for either
//!   [`Party`](ecdsa2pc_core::Party): the TLS role follows from the party. They return a
//!   [`Channel`] once the handshake is complete, so certificate problems surface there, as
//!   [`NetError::Tls`] with a [`TlsProblem`] that says what to fix.
//! - [`Channel`] implements [`Transport`] (`send` / `recv` of whole messages) and tells
//!   the [`SessionInfo`]: own and peer pid (SHA-256 of the certificate's
//!   SubjectPublicKeyInfo), a 32-byte channel binding exported from TLS (equal on both
//!   ends), TLS version, cipher suite and subjects. [`Channel::close`] sends
//!   `close_notify`.
//! - Every blocking call ends within the timeout given to `connect` / `accept`
//!   ([`Channel::set_timeout`] changes it later): a stalled peer gives
//!   [`TransportError::Timeout`], a vanished one [`TransportError::PeerClosed`].
//! - Framing: [`write_frame`], [`read_frame`] (never allocates; an announced length
//!   above the buffer gives [`TransportError::FrameTooLarge`] without reading the body),
//!   [`Framed`] (a [`Transport`] over any `Read + Write`), and [`memory_pipe`], an
//!   in-memory duplex stream for testing protocol drivers without sockets.
//! - Certificates: [`CertPaths::for_party`] names the files `certs/generate_certs.sh`
//!   writes; [`pem`] loads them with `rustls-pki-types`' `PemObject`; [`tls`] builds the
//!   rustls configurations.
//! - Protocols: [`driver`] runs keygen, sign and refresh over a [`Transport`]; [`store`]
//!   keeps key shares on disk, [`sealed`] encrypted at rest; [`params_secret`] keeps party 0's
//!   commitment-parameter secret beside them, [`params_msg`] the message that proves its
//!   parameters (made once per identity), and [`pins`] party 1's pins of party 0's
//!   parameters; [`epoch`] settles which share
//!   epoch both parties use; [`rng::os_rng`] seeds the randomness; [`request`] is the request
//!   every connection starts with; [`service`] runs party 0 as a long-running co-signer.
//! - Errors: [`NetError`] has one variant per category, each its own type:
//!   [`ConfigError`], [`TlsError`], [`TransportError`], [`ProtocolError`], [`PeerAbort`],
//!   [`StoreError`], [`SystemError`].
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::Duration;
//! use ecdsa2pc_core::Party;
//! use ecdsa2pc_net::{connect, CertPaths, Transport};
//!
//! let paths = CertPaths::for_party(Path::new("certs"), Party::P2);
//! let mut ch = connect("localhost:7000", &paths, Duration::from_secs(30))?;
//! println!("peer {} over {}", ch.info().peer_subject, ch.info().tls_version);
//! ch.send(b"hello")?;
//! let mut buf = [0u8; 1024];
//! let reply = ch.recv(&mut buf)?;
//! # let _ = reply;
//! ch.close()?;
//! # Ok::<(), ecdsa2pc_net::NetError>(())
//! ```
//!
//! # Wire details
//!
//! Right after the handshake party 0 sends one frame `"ecdsa2pc-net ready v1"`, and
//! [`connect`] returns only after receiving it: with TLS 1.3 this is how party 1 learns
//! at connect time that party 0 accepted its certificate. The channel binding is the TLS
//! exporter with label [`CHANNEL_BINDING_LABEL`] and no context. Session resumption is
//! disabled and TLS 1.2 requires the extended master secret.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cert_paths;
mod channel;
mod connect;
mod der;
pub mod driver;
pub mod epoch;
mod error;
mod framing;
mod handshake;
pub mod identity;
pub mod input_file;
pub mod interrupt;
pub mod key_id;
pub mod lock_registry;
mod memory;
pub mod paillier;
pub mod params_msg;
pub mod params_secret;
pub mod pem;
pub mod pins;
pub mod pool;
mod readiness;
pub mod request;
pub mod rng;
pub mod sealed;
pub mod service;
mod session;
pub mod store;
pub mod tables;
pub mod tls;
mod tls_error;
mod transport;
pub mod work;

pub use cert_paths::CertPaths;
pub use channel::Channel;
pub use connect::{Listener, connect, establish, listen, listen_and_accept};
pub use error::{
    CertProblem, ConfigError, NetError, PeerAbort, Phase, ProtocolError, SealPart, StoreError,
    SystemError, TransportError,
};
pub use framing::{FRAME_HEADER_LEN, read_frame, write_frame};
pub use identity::Pid;
pub use key_id::{KEY_ID_LEN, KeyId, key_id, key_id_hex};
pub use memory::{DEFAULT_PIPE_TIMEOUT, MemoryEnd, memory_pipe};
pub use session::{CHANNEL_BINDING_LABEL, SessionInfo};
pub use tls_error::{TlsError, TlsProblem};
pub use transport::{DEFAULT_MAX_FRAME_LEN, Framed, Transport};
