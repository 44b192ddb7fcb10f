//! The options of every command that runs a session with the peer (`keygen`, `sign`,
//! `refresh`, `demo`), declared once.
//!
//! argh has no `flatten` (google/argh#48), so one struct cannot lend its fields to another:
//! `peer_command!` writes them into each command's struct instead, with the accessors that
//! turn them into the shared pieces ([`crate::network::Net`], [`crate::output::Style`],
//! [`crate::secret::SecretOptions`]). A command's own options come between `--party` and the
//! shared ones.

/// Declares a command's argument struct: `--party` first, then the command's own fields, then
/// the connection and output options every peer command shares, and `net()` and `style()`
/// for them. With a leading `sealed`, also `--passphrase-file` and `--key-file`, and
/// `secret()`: the commands that read or write a key share.
macro_rules! peer_command {
    (sealed $(#[$attr:meta])* $vis:vis struct $name:ident { $($own:tt)* }) => {
        peer_command! {
            $(#[$attr])*
            $vis struct $name {
                $($own)*
                /// file whose first line is the passphrase that encrypts the key share (or set
                /// ECDSA2PC_PASSPHRASE; on a terminal it is asked for)
                #[argh(option)]
                passphrase_file: Option<std::path::PathBuf>,
                /// file holding a 32-byte key (raw, or 64 hex digits) that encrypts the key
                /// share, instead of a passphrase
                #[argh(option)]
                key_file: Option<std::path::PathBuf>,
            }
        }

        impl $name {
            /// `--passphrase-file` and `--key-file`.
            fn secret(&self) -> $crate::secret::SecretOptions<'_> {
                $crate::secret::SecretOptions {
                    passphrase_file: self.passphrase_file.as_deref(),
                    key_file: self.key_file.as_deref(),
                }
            }
        }
    };
    ($(#[$attr:meta])* $vis:vis struct $name:ident { $($own:tt)* }) => {
        $(#[$attr])*
        $vis struct $name {
            /// which party this process is: 0 (listens, owns the Paillier key) or 1 (connects)
            #[argh(option)]
            party: ecdsa2pc_core::Party,
            $($own)*
            /// address party 0 listens on and party 1 connects to (default: $ECDSA2PC_SERVER,
            /// else localhost:8443)
            #[argh(option, default = "crate::network::default_server()")]
            server: String,
            /// directory holding ca-cert.pem and this party's certificate and key (default:
            /// $ECDSA2PC_CERTS, else ./certs)
            #[argh(option, default = "crate::network::default_certs()")]
            certs: std::path::PathBuf,
            /// CA certificate file (PEM) to use instead of ca-cert.pem in --certs
            #[argh(option)]
            ca: Option<std::path::PathBuf>,
            /// this party's certificate file (PEM) to use instead of the one in --certs
            #[argh(option)]
            cert: Option<std::path::PathBuf>,
            /// this party's private key file (PEM) to use instead of the one in --certs
            #[argh(option)]
            key: Option<std::path::PathBuf>,
            /// seconds to wait for the peer: to connect, and for each message (default: 60)
            #[argh(option, default = "crate::network::DEFAULT_TIMEOUT_SECS")]
            timeout: u64,
            /// also print TLS details, party ids and the causes of an error
            #[argh(switch, short = 'v')]
            verbose: bool,
            /// print the result as one JSON object on stdout
            #[argh(switch)]
            json: bool,
            /// print nothing on stderr but errors
            #[argh(switch, short = 'q')]
            quiet: bool,
        }

        impl $name {
            /// The connection options.
            fn net(&self) -> $crate::network::Net<'_> {
                $crate::network::Net {
                    party: self.party,
                    server: &self.server,
                    certs: &self.certs,
                    files: $crate::network::CertFiles {
                        ca: self.ca.as_deref(),
                        cert: self.cert.as_deref(),
                        key: self.key.as_deref(),
                    },
                    timeout_secs: self.timeout,
                }
            }

            /// The output options.
            fn style(&self) -> $crate::output::Style {
                $crate::output::Style {
                    json: self.json,
                    quiet: self.quiet,
                    verbose: self.verbose,
                }
            }
        }
    };
}
