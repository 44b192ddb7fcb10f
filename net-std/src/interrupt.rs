//! Ctrl-C and SIGTERM held off while party 0 decides a signature.
//!
//! Between recording that it is about to decrypt (the lock registry's `.deciding` entry) and
//! recording the outcome, a party 0 that is stopped leaves its key refused for good: nothing
//! tells a later run whether the signature verified ([`crate::lock_registry`]). That window
//! takes milliseconds, and an operator's Ctrl-C landing in it should not cost the key. A
//! command that wants this asks [`termination_allowed`] for the process-wide flag and gives it
//! to `signal_hook::flag::register_conditional_shutdown` for SIGINT and SIGTERM (with a second
//! flag of its own that records the signal): the signal then ends the process at once,
//! except while a decision is in progress, when it is left to the command to act on once the
//! run returns. A process that registers nothing (the service, which stops gracefully on its
//! own) is unaffected.

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// How many decisions are in progress, and the flag that says whether there are none.
#[derive(Debug)]
struct State {
    in_progress: Mutex<usize>,
    allowed: Arc<AtomicBool>,
}

impl State {
    fn new() -> Self {
        Self {
            in_progress: Mutex::new(0),
            allowed: Arc::new(AtomicBool::new(true)),
        }
    }

    fn begin(&'static self) -> Deciding {
        // A poisoned count is still a count: no panic can leave it inconsistent.
        let mut n = self.in_progress.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        self.allowed.store(false, Ordering::SeqCst);
        Deciding(self)
    }

    fn end(&self) {
        let mut n = self.in_progress.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.allowed.store(true, Ordering::SeqCst);
        }
    }
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(State::new)
}

/// The process-wide flag that is `true` unless party 0 is deciding a signature: the condition
/// for `signal_hook::flag::register_conditional_shutdown`.
#[must_use]
pub fn termination_allowed() -> Arc<AtomicBool> {
    Arc::clone(&state().allowed)
}

/// A decision in progress: termination is held off from its creation to its drop.
#[derive(Debug)]
pub(crate) struct Deciding(&'static State);

impl Deciding {
    /// Holds termination off until the returned value is dropped.
    pub(crate) fn begin() -> Self {
        state().begin()
    }
}

impl Clone for Deciding {
    fn clone(&self) -> Self {
        self.0.begin()
    }
}

impl Drop for Deciding {
    fn drop(&mut self) {
        self.0.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_is_held_off_while_any_decision_is_in_progress() {
        // A state of its own: the process-wide one is shared with other tests' sessions.
        let s: &'static State = Box::leak(Box::new(State::new()));
        let allowed = Arc::clone(&s.allowed);
        let first = s.begin();
        assert!(!allowed.load(Ordering::SeqCst));
        let second = s.begin();
        drop(first);
        assert!(
            !allowed.load(Ordering::SeqCst),
            "one decision is still in progress"
        );
        drop(second);
        assert!(allowed.load(Ordering::SeqCst));
    }
}
