//! The command loop both images run: board setup, the host's seed, then one run per command
//! frame, each measured (painted stack, timed steps) and answered with a report.

use ecdsa2pc_core::{Error, Result, abort_message, sign};
use ecdsa2pc_firmware_proto::{COMMAND_LEN, DIGEST_LEN, SIGNATURE_LEN, cmd};

use crate::board::{self, StandInRng, Timer, Uart};
use crate::link::{self, Link};

/// What a run hands back to the loop: a signature for a signing run, nothing otherwise.
pub type Outcome = Result<Option<[u8; SIGNATURE_LEN]>>;

/// Sets the board up (UART0, timer 0), waits for the host's seed, and then serves commands
/// for good: `run(link, rng, command, argument)` does one command's work.
///
/// Around each run the loop paints the free stack and reads its peak afterwards (then paints
/// again, which wipes most of what the run's frames left in freed stack), so the
/// report's RAM covers everything below this loop (the caller's frame, where the images
/// keep their share, is above it and counts too: the peak is measured from the stack top).
/// A failed protocol run ([`cmd::runs_protocol`]) sends the core's abort message first, so
/// that the host's protocol state reads the reason; [`cmd::QUIT`] ends the emulation.
pub fn serve(mut run: impl FnMut(&mut Link, &mut StandInRng, u8, &[u8]) -> Outcome) -> ! {
    let mut link = Link::new(Uart::init(), Timer::start());
    let mut rng = link::wait_for_seed(&mut link);
    loop {
        let mut frame = [0u8; COMMAND_LEN];
        let Ok(len) = link.recv(&mut frame) else {
            continue;
        };
        let Some((&command, argument)) = frame.get(..len).and_then(<[u8]>::split_first) else {
            continue;
        };
        if command == cmd::QUIT {
            board::exit(true);
        }
        board::paint_stack();
        link.begin_run();
        let outcome = run(&mut link, &mut rng, command, argument);
        if let Err(e) = &outcome
            && cmd::runs_protocol(command)
        {
            link.send(&abort_message(*e));
        }
        let stack_peak = board::stack_peak();
        // Painting again wipes most of what the run's frames left below this one (moves leave
        // copies of shares, nonces and decrypted values in freed stack, which no destructor
        // sees); the painter's own frame and margin, a few hundred bytes just below this
        // frame, stay as they were.
        board::paint_stack();
        let (result, signature) = match outcome {
            Ok(signature) => (Ok(()), signature),
            Err(e) => (Err(e), None),
        };
        link.report(result, board::static_ram(), stack_peak, signature);
    }
}

/// The digest a signing command carries.
///
/// # Errors
/// [`Error::Malformed`] unless the argument is exactly [`DIGEST_LEN`] bytes.
pub fn digest(argument: &[u8]) -> Result<sign::Digest> {
    <[u8; DIGEST_LEN]>::try_from(argument).map_err(|_| Error::Malformed)
}
