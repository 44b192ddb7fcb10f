//! The file descriptors a service needs, against the process's limit (`ulimit -n`).
//!
//! Every socket the service holds is a file descriptor: each connection being opened, each
//! request waiting for a worker, each session (its socket, the clone kept to close it at a
//! stop, its share and lock files, the approval hook's pipes). A common soft limit is 1024,
//! exactly the default number of connections opened at once: a crowd of slow clients would
//! then leave no descriptor for a worker to open a share with, and a signature would fail
//! for want of a file. So [`Service::bind`] raises the soft limit as far as the hard limit
//! allows, up to what the configuration needs, and if that is not enough, opens fewer
//! connections at once (said in the log) rather than run short; it refuses to start only
//! if not even the workers and the waiting requests fit. The budget counts the descriptors
//! open at bind and assumes one service per process: services bound in one process share
//! its limit, and each budgets as if the rest were its own.

#[cfg(doc)]
use super::Service;
use super::ServiceConfig;
use super::busy::MAX_REFUSING;
use crate::error::SystemError;

/// Descriptors of the process beside the connections: standard streams, the listener, the
/// log, the entropy source, certificates and the parameter files being read, one socket
/// accepted over the cap before it is dropped, a health request's directory listing.
const BASE: u64 = 64;
/// Descriptors of one worker's session: its socket and the clone kept to close it at a
/// stop, the share file and its temporary copy, the share lock, the lock registry's entry,
/// directory and its lock, and the approval hook's three pipes, with room to spare.
const PER_WORKER: u64 = 16;
/// Descriptors of one request waiting for a worker: its socket and the clone kept to
/// close it at a stop.
const PER_WAITING: u64 = 2;
/// The fewest connections being opened at once that still serve anyone: below it the
/// service refuses to start.
const MIN_OPENINGS: u64 = 8;

/// How many connections the service opens at once, and what to say about the limit.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fit {
    /// Connections being opened (or lingering after a TLS error) at once.
    pub(super) openings: usize,
    /// Lines for the log: that the limit was raised, that the openings were lowered.
    pub(super) notes: Vec<String>,
}

/// The process's open-file limit, soft and hard (`None`: no limit, or none known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Limit {
    pub(super) soft: Option<u64>,
    pub(super) hard: Option<u64>,
}

/// Raises the process's soft open-file limit as far as `config` needs and the hard limit
/// allows, and says how many connections fit under it.
///
/// # Errors
/// [`SystemError::TooFewFiles`] if not even the workers and waiting requests fit.
pub(super) fn fit(config: &ServiceConfig) -> Result<Fit, SystemError> {
    let open_now = open_descriptors();
    let want = needed(config, open_now, config.max_openings as u64);
    let before = current_limit();
    let after = raise(before, want);
    plan(config, open_now, before, after)
}

/// Descriptors the process needs with `openings` connections being opened at once, when
/// `open_now` are open already.
fn needed(config: &ServiceConfig, open_now: u64, openings: u64) -> u64 {
    open_now
        .saturating_add(BASE)
        .saturating_add(PER_WORKER.saturating_mul(config.workers as u64))
        .saturating_add(PER_WAITING.saturating_mul(config.max_waiting as u64))
        .saturating_add(MAX_REFUSING as u64 + 1)
        .saturating_add(openings)
}

/// The openings that fit under `after` (the limit once raised from `before`), and what to
/// log about it.
fn plan(
    config: &ServiceConfig,
    open_now: u64,
    before: Limit,
    after: Limit,
) -> Result<Fit, SystemError> {
    let asked = config.max_openings as u64;
    let want = needed(config, open_now, asked);
    let mut notes: Vec<String> = (after.soft != before.soft)
        .then(|| {
            format!(
                "file descriptors: raised the soft limit (ulimit -n) from {} to {}",
                shown(before.soft),
                shown(after.soft)
            )
        })
        .into_iter()
        .collect();
    let limit = match after.soft {
        Some(limit) if limit < want => limit,
        _ => {
            return Ok(Fit {
                openings: config.max_openings,
                notes,
            });
        }
    };
    let besides = needed(config, open_now, 0);
    let room = limit.saturating_sub(besides);
    if room < MIN_OPENINGS.min(asked) {
        return Err(SystemError::TooFewFiles {
            limit,
            needed: besides.saturating_add(MIN_OPENINGS.min(asked)),
        });
    }
    let openings = usize::try_from(room).unwrap_or(config.max_openings);
    notes.push(format!(
        "file descriptors: the limit (ulimit -n) is {limit}{hard}, room for {openings} \
             connections being opened at once, not the {asked} asked for; to open them all, \
             raise the limit to {want} (ulimit -Hn, or LimitNOFILE= under systemd)",
        hard = if after.hard == after.soft {
            ", the hard limit too"
        } else {
            ""
        },
    ));
    Ok(Fit { openings, notes })
}

fn shown(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

/// Descriptors the process has open now (a guess of [`BASE`] where it cannot tell).
fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(BASE, |dir| dir.count() as u64)
}

#[cfg(unix)]
fn current_limit() -> Limit {
    use rustix::process::{Resource, getrlimit};
    let now = getrlimit(Resource::Nofile);
    Limit {
        soft: now.current,
        hard: now.maximum,
    }
}

#[cfg(not(unix))]
fn current_limit() -> Limit {
    Limit {
        soft: None,
        hard: None,
    }
}

/// Raises the soft limit `now` towards `want`, no further than the hard limit; the limit
/// as it then is.
#[cfg(unix)]
fn raise(now: Limit, want: u64) -> Limit {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let Some(soft) = now.soft else { return now };
    if soft >= want {
        return now;
    }
    let target = now.hard.map_or(want, |hard| hard.min(want));
    if target <= soft {
        return now;
    }
    let new = Rlimit {
        current: Some(target),
        maximum: now.hard,
    };
    match setrlimit(Resource::Nofile, new) {
        Ok(()) => current_limit(),
        Err(_) => now,
    }
}

#[cfg(not(unix))]
fn raise(now: Limit, _want: u64) -> Limit {
    now
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(openings: usize) -> ServiceConfig {
        let mut c = ServiceConfig::new(Path::new("/nonexistent"));
        c.max_openings = openings;
        c
    }

    fn limit(soft: u64, hard: u64) -> Limit {
        Limit {
            soft: Some(soft),
            hard: Some(hard),
        }
    }

    #[test]
    fn a_limit_with_room_keeps_every_opening_and_says_nothing() {
        let c = config(1024);
        let l = limit(100_000, 100_000);
        let fit = plan(&c, 10, l, l).unwrap();
        assert_eq!(
            fit,
            Fit {
                openings: 1024,
                notes: vec![]
            }
        );
        let none = Limit {
            soft: None,
            hard: None,
        };
        assert_eq!(plan(&c, 10, none, none).unwrap().openings, 1024);
    }

    #[test]
    fn a_raised_limit_is_said() {
        let c = config(1024);
        let fit = plan(&c, 10, limit(1024, 4096), limit(4096, 4096)).unwrap();
        assert_eq!(fit.openings, 1024);
        assert_eq!(fit.notes.len(), 1, "{:?}", fit.notes);
        assert!(
            fit.notes[0].contains("from 1024 to 4096"),
            "{:?}",
            fit.notes
        );
    }

    #[test]
    fn a_low_hard_limit_lowers_the_openings_and_names_the_limit_to_set() {
        let c = config(1024);
        // The defaults besides the openings: 10 open + 64 + 4 × 16 + 64 × 2 + 5 = 271.
        let besides = needed(&c, 10, 0);
        assert_eq!(besides, 271);
        let fit = plan(&c, 10, limit(1024, 1024), limit(1024, 1024)).unwrap();
        assert_eq!(fit.openings, 1024 - 271);
        let [note] = &fit.notes[..] else {
            panic!("{:?}", fit.notes)
        };
        assert!(note.contains("room for 753 connections"), "{note}");
        assert!(note.contains("the hard limit too"), "{note}");
        assert!(note.contains("raise the limit to 1295"), "{note}");
    }

    #[test]
    fn a_limit_raised_but_still_short_says_both() {
        let c = config(1024);
        let fit = plan(&c, 10, limit(300, 800), limit(800, 800)).unwrap();
        assert_eq!(fit.openings, 800 - 271);
        assert_eq!(fit.notes.len(), 2, "{:?}", fit.notes);
        assert!(fit.notes[0].contains("from 300 to 800"), "{:?}", fit.notes);
        assert!(
            fit.notes[1].contains("room for 529 connections"),
            "{:?}",
            fit.notes
        );
    }

    #[test]
    fn no_room_for_the_workers_refuses_to_start() {
        let c = config(1024);
        let err = plan(&c, 10, limit(200, 200), limit(200, 200)).unwrap_err();
        assert!(
            matches!(
                err,
                SystemError::TooFewFiles {
                    limit: 200,
                    needed: 279
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("200") && text.contains("279"), "{text}");
        // Just enough for the minimum: started, with the minimum.
        let fit = plan(&c, 10, limit(279, 279), limit(279, 279)).unwrap();
        assert_eq!(fit.openings, 8);
        // Fewer asked for than the minimum: those suffice.
        let fit = plan(&config(2), 10, limit(273, 273), limit(273, 273)).unwrap();
        assert_eq!(fit.openings, 2);
    }
}
