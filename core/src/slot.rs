//! Steps on states kept in the caller's storage: a firmware keeps one slot per state, message
//! and share, and each step works where they lie, because on a microcontroller's stack every
//! copy of a 31 KB state or a 10 KB share counts.

use crate::{Error, Result};

/// Runs a consuming step on the state in `slot`, where it lies: `check` (every check, and
/// any reply written into the caller's buffer) and, only once it has passed, `make`'s result
/// written into `out` in place of what `out` held. The slot is empty afterwards, its state
/// dropped (a state that wipes itself on drop is wiped) whatever the outcome, as a state
/// consumed by value is; after an error `out` holds what it held before.
///
/// # Errors
/// `check`'s error; [`Error::InvalidShare`] for an empty slot (no run started, or its state
/// already used).
pub(crate) fn consume<S, P, T>(
    slot: &mut Option<S>,
    out: &mut Option<T>,
    check: impl FnOnce(&S) -> Result<P>,
    make: impl FnOnce(&S, P) -> T,
) -> Result<()> {
    let outcome = slot.as_ref().map_or(Err(Error::InvalidShare), |state| {
        let parts = check(state)?;
        // The old value dropped first: the new one is then written straight into its place
        // rather than built beside it and copied.
        drop(out.take());
        *out = Some(make(state, parts));
        Ok(())
    });
    *slot = None;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_is_emptied_and_out_written_only_after_the_check() {
        let mut slot = Some(3);
        let mut out = Some(0);
        assert_eq!(
            consume(&mut slot, &mut out, |s| Ok(s * 2), |s, p| s + p),
            Ok(())
        );
        assert_eq!((slot, out), (None, Some(9)));

        let mut slot = Some(3);
        let refused = consume(
            &mut slot,
            &mut out,
            |_| Err::<u8, _>(Error::Malformed),
            |_, _| 1,
        );
        assert_eq!((refused, slot, out), (Err(Error::Malformed), None, Some(9)));

        let empty = consume(&mut slot, &mut out, |s: &u8| Ok(*s), |_, _| 1);
        assert_eq!((empty, out), (Err(Error::InvalidShare), Some(9)));
    }

    /// The state is dropped (so a state that wipes itself is wiped) on either outcome; the
    /// old `out` only when it is replaced.
    #[test]
    fn the_state_is_dropped_whatever_the_outcome_and_out_only_when_replaced() {
        use core::cell::Cell;
        struct Counted<'a>(&'a Cell<u32>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let (states, outs) = (Cell::new(0), Cell::new(0));
        let mut out = Some(Counted(&outs));
        let mut slot = Some(Counted(&states));
        let refused = consume(
            &mut slot,
            &mut out,
            |_| Err::<(), _>(Error::Malformed),
            |_, ()| Counted(&outs),
        );
        assert_eq!(
            (refused, states.get(), outs.get()),
            (Err(Error::Malformed), 1, 0)
        );
        let mut slot = Some(Counted(&states));
        assert_eq!(
            consume(&mut slot, &mut out, |_| Ok(()), |_, ()| Counted(&outs)),
            Ok(())
        );
        assert_eq!((states.get(), outs.get(), slot.is_none()), (2, 1, true));
    }
}
