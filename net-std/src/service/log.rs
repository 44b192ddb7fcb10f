//! The service's log: one line per request (client, key id, operation, result, duration) and
//! one per event (a dropped connection, stopping), as text for people or JSON lines for
//! machines. Never a secret: ids, names, digests and durations only.

use crate::session::SessionInfo;
use core::net::SocketAddr;
use core::time::Duration;

use serde_json::{Value, json};

use crate::error::NetError;
use crate::identity::hex;
use crate::key_id::{KeyId, key_id_hex};
use crate::request::{Operation, Request};

/// Where the service writes its log lines (one call per line, no newline).
pub type LogSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// How the log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Text for people: `ADDR client "CN=…" pid 0123…: sign key ab…: ok, signed … (12 ms)`.
    #[default]
    Text,
    /// One JSON object per line: `{"event":"request","peer":…,"client":…,"client_pid":…,
    /// "key_id":…,"operation":…,"result":"ok"|"refused"|"failed",…,"duration_ms":…}`; other
    /// events have `"event"` `serving`, `warning`, `dropped`, `policy`, `hook`, `error`,
    /// `params`, `limits`, `stopping` or `stopped`.
    Json,
}

/// The service's log: the sink and the format. Public so that a program running the
/// service writes its own lines (a warning before it starts) in the same format.
pub struct Logger {
    pub(crate) sink: LogSink,
    pub(crate) format: LogFormat,
}

impl core::fmt::Debug for Logger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Logger")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// Who sent a request.
pub(crate) struct Client<'a> {
    pub(crate) peer: SocketAddr,
    pub(crate) subject: &'a str,
    pub(crate) pid: &'a [u8; 32],
}

impl<'a> Client<'a> {
    /// The client of a connection from `peer` whose handshake gave `info`.
    pub(crate) fn of(peer: SocketAddr, info: &'a SessionInfo) -> Self {
        Self {
            peer,
            subject: &info.peer_subject,
            pid: &info.peer_pid,
        }
    }

    fn text(&self) -> String {
        format!(
            "{} client {:?} pid {}…",
            self.peer,
            self.subject,
            hex(self.pid.get(..8).unwrap_or_default())
        )
    }
}

impl Logger {
    /// A log that writes `format` lines to `sink`.
    #[must_use]
    pub fn new(sink: LogSink, format: LogFormat) -> Self {
        Self { sink, format }
    }

    fn emit(&self, text: &str, value: &Value) {
        match self.format {
            LogFormat::Text => (self.sink)(text),
            LogFormat::Json => (self.sink)(&value.to_string()),
        }
    }

    /// An event of the service as a whole (`stopping`, `stopped`, `error`; a program's own,
    /// e.g. `warning`, `serving`): `text` as it is, or `{"event": event, "detail": text}`.
    pub fn event(&self, event: &str, text: &str) {
        self.emit(text, &json!({ "event": event, "detail": text }));
    }

    /// A connection dropped before it became a request (junk, a failed handshake, no or a
    /// malformed request), with the peer address and, if known, its certificate.
    pub(crate) fn dropped(&self, peer: SocketAddr, client: Option<&Client<'_>>, why: &str) {
        let who = client.map_or_else(|| peer.to_string(), Client::text);
        self.emit(
            &format!("{who}: dropped: {why}"),
            &json!({
                "event": "dropped",
                "peer": peer.to_string(),
                "client": client.map(|c| c.subject),
                "client_pid": client.map(|c| hex(c.pid)),
                "detail": why,
            }),
        );
    }

    /// What the approval hook wrote on its standard error while deciding `req` (not empty):
    /// one line whatever it wrote. As text its control characters and line breaks are
    /// escaped, so that it cannot end the line or forge another; as JSON it is the `stderr`
    /// field as it is (JSON escapes it), beside the request's client, key and operation.
    pub(crate) fn hook(&self, client: &Client<'_>, req: &Request, stderr: &str) {
        let key = req.key.as_ref().map(key_id_hex);
        let op = req.operation.name();
        let key_text = key
            .as_ref()
            .map_or_else(String::new, |k| format!(" key {k}"));
        self.emit(
            &format!(
                "{}: {op}{key_text}: the approval hook's standard error: {}",
                client.text(),
                stderr.escape_debug()
            ),
            &json!({
                "event": "hook",
                "peer": client.peer.to_string(),
                "client": client.subject,
                "client_pid": hex(client.pid),
                "key_id": key,
                "operation": op,
                "stderr": stderr,
            }),
        );
    }

    /// The one line of a request: `outcome` is what to log on success, or the error.
    pub(crate) fn request(
        &self,
        client: &Client<'_>,
        req: &Request,
        outcome: &Result<String, NetError>,
        elapsed: Duration,
    ) {
        let ms = elapsed.as_millis();
        let key = req.key.as_ref().map(key_id_hex);
        let key_text = match (&key, req.operation) {
            (Some(k), _) => format!(" key {k}"),
            (None, Operation::Keygen) => " new key".to_owned(),
            (None, _) => String::new(),
        };
        let op = req.operation.name();
        let (result, detail, refusal) = match outcome {
            Ok(done) => ("ok", done.clone(), None),
            Err(e @ NetError::Refused(r)) => ("refused", e.to_string(), Some(r.code.name())),
            Err(e) => ("failed", e.to_string(), None),
        };
        let text = match outcome {
            Ok(done) => format!("{}: {op}{key_text}: ok, {done} ({ms} ms)", client.text()),
            Err(e) => format!("{}: {op}{key_text}: failed: {e} ({ms} ms)", client.text()),
        };
        let (digest, path) = match req.operation {
            Operation::Sign(d) => (Some(hex(&d)), Some(req.path.to_string())),
            _ => (None, None),
        };
        self.emit(
            &text,
            &json!({
                "event": "request",
                "peer": client.peer.to_string(),
                "client": client.subject,
                "client_pid": hex(client.pid),
                "key_id": key,
                "operation": op,
                "digest": digest,
                "path": path,
                "result": result,
                "refusal": refusal,
                "detail": detail,
                "duration_ms": u64::try_from(ms).unwrap_or(u64::MAX),
            }),
        );
    }
}

/// The key id of a request, for a hook or a log: `null` for none.
pub(crate) fn key_json(key: Option<&KeyId>) -> Value {
    key.map_or(Value::Null, |k| Value::String(key_id_hex(k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Refusal, RefusalCode};
    use std::sync::{Arc, Mutex};

    #[test]
    fn json_lines_name_the_request_and_never_more() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let log = Logger {
            sink: Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned())),
            format: LogFormat::Json,
        };
        let client = Client {
            peer: "127.0.0.1:9".parse().unwrap(),
            subject: "CN=client1",
            pid: &[0xab; 32],
        };
        let req = Request::on_key(Operation::Sign([1; 32]), [2; 32]);
        log.request(
            &client,
            &req,
            &Ok("signed".into()),
            Duration::from_millis(12),
        );
        let refused = Err(NetError::Refused(Refusal::new(RefusalCode::Busy, "wait")));
        log.request(&client, &req, &refused, Duration::ZERO);
        log.dropped(client.peer, None, "plain TCP");
        let lines = lines.lock().unwrap();
        let v: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(v[0]["result"], "ok");
        assert_eq!(v[0]["key_id"], key_id_hex(&[2; 32]));
        assert_eq!(v[0]["client_pid"], hex(&[0xab; 32]));
        assert_eq!(v[0]["duration_ms"], 12);
        assert_eq!(v[0]["operation"], "sign");
        assert_eq!(v[1]["result"], "refused");
        assert_eq!(v[1]["refusal"], "busy");
        assert_eq!(v[2]["event"], "dropped");
        assert_eq!(v[2]["peer"], "127.0.0.1:9");
    }

    /// A hook's standard error is one line in either format: escaped in text, so that it
    /// cannot end the line or forge another; as it is in the JSON `stderr` field.
    #[test]
    fn a_hooks_standard_error_is_one_line_in_either_format() {
        let stderr = "checked\n127.0.0.1:9 client \"CN=x\": sign: ok, signed\r\u{1b}[2K";
        let client = Client {
            peer: "127.0.0.1:9".parse().unwrap(),
            subject: "CN=client1",
            pid: &[0xab; 32],
        };
        let req = Request::on_key(Operation::Sign([1; 32]), [2; 32]);
        for format in [LogFormat::Text, LogFormat::Json] {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            let log = Logger {
                sink: Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned())),
                format,
            };
            log.hook(&client, &req, stderr);
            let lines = lines.lock().unwrap();
            assert_eq!(lines.len(), 1);
            let line = &lines[0];
            assert!(!line.contains(['\n', '\r', '\u{1b}']), "{line:?}");
            match format {
                LogFormat::Text => assert!(
                    line.starts_with("127.0.0.1:9 client \"CN=client1\"")
                        && line.contains(&format!("sign key {}", key_id_hex(&[2; 32])))
                        && line.ends_with(
                            "standard error: checked\\n127.0.0.1:9 client \\\"CN=x\\\": \
                             sign: ok, signed\\r\\u{1b}[2K"
                        ),
                    "{line}"
                ),
                LogFormat::Json => {
                    let v: Value = serde_json::from_str(line).unwrap();
                    assert_eq!(v["event"], "hook");
                    assert_eq!(v["stderr"], stderr);
                    assert_eq!(v["key_id"], key_id_hex(&[2; 32]));
                    assert_eq!(v["operation"], "sign");
                    assert_eq!(v["client"], "CN=client1");
                }
            }
        }
    }
}
