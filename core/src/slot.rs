//! Steps on states kept in the caller's storage: a firmware keeps one slot per state, message
//! and share, and each step works where they lie, because on a microcontroller's stack every
//! copy of a 31 KB state or a 10 KB share counts.

use crate::{Error, Result};

/// Runs a consuming step on the state in `slot`, where it lies: `check` (every check, and
/// any reply written into the caller's buffer) and, only once it has passed, `make`'s result
/// written into `out` in place of what `out` held. The slot is empty afterwards, its state
/// dropped (and so wiped) whatever the outcome, as a state consumed by value is; after an
/// error `out` holds what it held before.
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
}
