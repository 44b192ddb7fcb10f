//! The health request: the service's status for a monitoring check, without a protocol run.

use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde_json::{Value, json};

use super::{KeyStore, PoolLevel};
use crate::Transport;
use crate::error::{NetError, ProtocolError};
#[cfg(doc)]
use crate::request::REQUEST_VERSION;
use crate::request::{self, Request};

/// Longest health reply party 1 accepts.
pub const MAX_HEALTH_LEN: usize = 4096;

/// How long a count of the keys answers health requests before the store is asked again.
const KEY_COUNT_TTL: Duration = Duration::from_secs(5);

/// The number of keys that health replies give: the store's count (a listing of the share
/// directory, which takes a while with many keys) made at most once per [`KEY_COUNT_TTL`],
/// and again after a keygen. Health is answered on the thread that opens every connection,
/// so a client that asks for it again and again must not hold that thread up with listings.
#[derive(Default)]
pub(super) struct KeyCount {
    counted: Mutex<Option<(Instant, usize)>>,
}

impl KeyCount {
    /// The count, from `store` if the last one is older than [`KEY_COUNT_TTL`] or stale.
    pub(super) fn get(&self, store: &dyn KeyStore) -> usize {
        let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
        match *counted {
            Some((at, n)) if at.elapsed() < KEY_COUNT_TTL => n,
            _ => {
                let n = store.count();
                *counted = Some((Instant::now(), n));
                n
            }
        }
    }

    /// A key was added: the next health request counts again.
    pub(super) fn stale(&self) {
        *self.counted.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// What a health request answers (one JSON object on the wire, these field names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// The ecdsa2pc release of the service (`version`).
    pub version: String,
    /// The request version it speaks (`protocol`, [`REQUEST_VERSION`]).
    pub protocol: u8,
    /// Keys in its store (`keys`).
    pub keys: u64,
    /// Seconds since it started (`uptime_secs`).
    pub uptime_secs: u64,
    /// Worker threads (`workers`).
    pub workers: u64,
    /// Workers serving a session right now (`busy_workers`; a health request is answered
    /// by the thread that opens connections, not by a worker, so it counts none).
    pub busy_workers: u64,
    /// Requests that ended well so far (`requests_ok`).
    pub ok: u64,
    /// Requests that were refused or failed so far, dropped connections included
    /// (`requests_failed`).
    pub failed: u64,
    /// Signatures made so far (`signatures`).
    pub signatures: u64,
    /// CPU time the service process used so far, user plus system, in milliseconds
    /// (`cpu_ms`; `null` where the system does not tell it: it is read from
    /// `/proc/self/stat`, in clock ticks of 10 ms).
    pub cpu_ms: Option<u64>,
    /// Paillier keys made ahead of time (`paillier_pool`: an object with the fields
    /// `ready`, `target`, `taken` and `inline` of [`PoolLevel`]).
    pub paillier_pool: PoolLevel,
}

impl Health {
    /// The JSON object sent on the wire.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "protocol": self.protocol,
            "keys": self.keys,
            "uptime_secs": self.uptime_secs,
            "workers": self.workers,
            "busy_workers": self.busy_workers,
            "requests_ok": self.ok,
            "requests_failed": self.failed,
            "signatures": self.signatures,
            "cpu_ms": self.cpu_ms,
            "paillier_pool": {
                "ready": self.paillier_pool.ready,
                "target": self.paillier_pool.target,
                "taken": self.paillier_pool.taken,
                "inline": self.paillier_pool.inline,
            },
        })
    }

    /// Reads the JSON object of [`Health::to_json`]; `None` if a field is missing or of
    /// another type.
    #[must_use]
    pub fn from_json(value: &Value) -> Option<Self> {
        let n = |field: &str| value.get(field).and_then(Value::as_u64);
        Some(Self {
            version: value.get("version")?.as_str()?.to_owned(),
            protocol: u8::try_from(n("protocol")?).ok()?,
            keys: n("keys")?,
            uptime_secs: n("uptime_secs")?,
            workers: n("workers")?,
            busy_workers: n("busy_workers")?,
            ok: n("requests_ok")?,
            failed: n("requests_failed")?,
            signatures: n("signatures")?,
            cpu_ms: match value.get("cpu_ms")? {
                Value::Null => None,
                other => Some(other.as_u64()?),
            },
            paillier_pool: {
                let pool = value.get("paillier_pool")?;
                let n = |field: &str| pool.get(field).and_then(Value::as_u64);
                PoolLevel {
                    ready: n("ready")?,
                    target: n("target")?,
                    taken: n("taken")?,
                    inline: n("inline")?,
                }
            },
        })
    }
}

/// CPU time (user + system) this process has used, in milliseconds, from `/proc/self/stat`;
/// `None` where there is no such file.
#[must_use]
pub fn process_cpu_ms() -> Option<u64> {
    cpu_ms_of("self")
}

/// CPU time (user + system) of process `pid` (or `self`), in milliseconds, from
/// `/proc/<pid>/stat` (Linux; clock ticks taken as 10 ms, the USER_HZ of every Linux
/// architecture ecdsa2pc runs on).
#[must_use]
pub fn cpu_ms_of(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
}

/// Party 1: asks the service for its status on a fresh connection.
///
/// # Errors
/// As [`request::ask`]; a reply that is not the JSON of a [`Health`] is
/// [`NetError::Protocol`].
pub fn fetch_health<T: Transport + ?Sized>(t: &mut T) -> Result<Health, NetError> {
    request::ask(t, &Request::health())?;
    let mut buf = vec![0u8; MAX_HEALTH_LEN];
    let bad = ProtocolError {
        error: ecdsa2pc_core::Error::Malformed,
        step: "health reply",
    };
    let value: Value = serde_json::from_slice(t.recv(&mut buf)?).map_err(|_| bad)?;
    Health::from_json(&value).ok_or_else(|| bad.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;
    use crate::key_id::KeyId;
    use crate::request::REQUEST_VERSION;
    use crate::service::KeyInUse;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// A store whose count says how often it was asked.
    #[derive(Debug, Default)]
    struct CountingStore(AtomicUsize);

    impl KeyStore for CountingStore {
        fn contains(&self, _: &KeyId) -> bool {
            false
        }
        fn count(&self) -> usize {
            self.0.fetch_add(1, Ordering::SeqCst) + 1
        }
        fn take(&self, _: &KeyId) -> Result<Box<dyn KeyInUse + '_>, StoreError> {
            Err(StoreError::Missing {
                path: "none".into(),
            })
        }
    }

    #[test]
    fn the_key_count_asks_the_store_once_until_it_is_old_or_a_key_is_added() {
        let store = CountingStore::default();
        let count = KeyCount::default();
        assert_eq!(count.get(&store), 1);
        assert_eq!(count.get(&store), 1, "answered from the last count");
        count.stale();
        assert_eq!(count.get(&store), 2, "counted again after a keygen");
        *count.counted.lock().unwrap() = Some((Instant::now() - KEY_COUNT_TTL, 2));
        assert_eq!(count.get(&store), 3, "counted again once old");
    }

    #[test]
    fn health_round_trips_and_a_missing_field_is_refused() {
        let h = Health {
            version: "0.1.0".into(),
            protocol: REQUEST_VERSION,
            keys: 3,
            uptime_secs: 9,
            workers: 4,
            busy_workers: 1,
            ok: 7,
            failed: 2,
            signatures: 5,
            cpu_ms: None,
            paillier_pool: PoolLevel {
                ready: 1,
                target: 2,
                taken: 3,
                inline: 4,
            },
        };
        assert_eq!(Health::from_json(&h.to_json()), Some(h.clone()));
        let with_cpu = Health {
            cpu_ms: Some(120),
            ..h
        };
        let mut value = with_cpu.to_json();
        assert_eq!(Health::from_json(&value), Some(with_cpu));
        let mut pool_field = value.clone();
        pool_field["paillier_pool"]["inline"] = json!(-1);
        assert_eq!(Health::from_json(&pool_field), None);
        pool_field["paillier_pool"] = json!(2);
        assert_eq!(Health::from_json(&pool_field), None);
        value["keys"] = json!("three");
        assert_eq!(Health::from_json(&value), None);
        value.as_object_mut().unwrap().remove("keys");
        assert_eq!(Health::from_json(&value), None);
    }

    #[test]
    fn a_reply_that_is_no_health_object_is_a_protocol_error() {
        use crate::{DEFAULT_MAX_FRAME_LEN, Framed};
        for reply in [&b"not json"[..], b"{\"version\":\"0.1.0\"}"] {
            let (a, b) = crate::memory_pipe();
            let (mut p0, mut p1) = (
                Framed::new(a, DEFAULT_MAX_FRAME_LEN),
                Framed::new(b, DEFAULT_MAX_FRAME_LEN),
            );
            let server = std::thread::spawn(move || {
                let req = request::receive(&mut p0).unwrap();
                assert_eq!(req, Request::health());
                request::accept(&mut p0).unwrap();
                p0.send(reply).unwrap();
            });
            let e = fetch_health(&mut p1).unwrap_err();
            assert!(
                matches!(e, NetError::Protocol(p) if p.step == "health reply"),
                "{e}"
            );
            server.join().unwrap();
        }
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        if std::path::Path::new("/proc/self/stat").exists() {
            // Busy until the kernel has counted a tick of CPU time (10 ms), at most 10 s.
            let start = Instant::now();
            let mut x = 0u64;
            while process_cpu_ms() == Some(0) && start.elapsed().as_secs() < 10 {
                for i in 0..1_000_000u64 {
                    x = core::hint::black_box(x ^ i.wrapping_mul(31));
                }
            }
            assert!(process_cpu_ms().is_some_and(|ms| ms > 0), "{x}");
        }
        assert_eq!(cpu_ms_of("no-such-process"), None);
    }
}
