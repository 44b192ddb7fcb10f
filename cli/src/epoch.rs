//! Epoch agreement as a reported phase: both parties settle on the newest share epoch they
//! both hold, promoting or discarding a pending share of an interrupted refresh.

use ecdsa2pc_core::KeyShare;
use ecdsa2pc_net::{
    Channel, epoch,
    store::{Held, ShareFiles},
};

use crate::error::CliError;
use crate::output::Log;

/// Runs the agreement and returns the share to use; prints the `epoch` phase.
pub(crate) fn agree<S: KeyShare>(
    ch: &mut Channel,
    files: &ShareFiles,
    held: Held<S>,
    log: &Log,
) -> Result<S, CliError> {
    let pending_epoch = held.pending.as_ref().map(KeyShare::epoch);
    log.phase(
        "epoch",
        || Ok(epoch::agree(ch, files, held)?),
        |share| {
            let settled = match pending_epoch {
                Some(e) if e == share.epoch() => {
                    "; the pending share of the interrupted refresh is now active"
                }
                Some(_) => "; the unconfirmed pending share was discarded",
                None => "",
            };
            format!("epoch {} (both parties){settled}", share.epoch())
        },
    )
}
