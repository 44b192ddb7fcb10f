//! A connection over the service's cap gets a "busy" refusal it can print, within a small
//! bounded budget, or is dropped.
//!
//! When [`ServiceConfig::max_openings`] connections are being opened, the opening thread
//! opens up to [`MAX_REFUSING`] more alongside them, each with [`REFUSAL_DEADLINE`] (or the
//! handshake timeout, if shorter) for its TLS handshake and request, and answers each
//! request [`RefusalCode::Busy`] instead of serving it. A connection beyond those is dropped
//! at once, as is one whose handshake or request misses that deadline; each is logged. So
//! the cap costs [`MAX_REFUSING`] sockets more, and a flood of slow clients over the cap
//! delays nobody being served.

#[cfg(doc)]
use super::ServiceConfig;
use super::Shared;
#[cfg(doc)]
use crate::request::RefusalCode;
use core::time::Duration;

/// Connections over the cap opened at once to be refused as busy; one more is dropped.
pub const MAX_REFUSING: usize = 4;
/// Longest time a connection over the cap has for its handshake and request.
pub const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);

/// Why a connection over the cap is not served, for the log and the refusal.
pub(super) fn over_cap(shared: &Shared) -> String {
    format!(
        "over the connection cap: {} workers busy and {} requests waiting, or {} connections \
         being opened",
        shared.config.workers, shared.config.max_waiting, shared.config.max_openings
    )
}
