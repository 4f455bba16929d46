//! The `hh-receiver` binary, as the Go/C/C++/Ruby suites use it.

mod common;

use std::io::{BufRead, BufReader, ErrorKind};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{get, post_json, request};
use serde_json::json;

struct Proc {
    child: Child,
    port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hh-receiver"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn hh-receiver");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read URL line");
    let url = line
        .trim_end()
        .strip_prefix("HH_RECEIVER_URL=")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected URL: {url:?}"));
    Proc { child, port }
}

fn wait_exit(p: &mut Proc, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = p.child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn binary_records_serves_control_endpoints_and_shuts_down() {
    let record = std::env::temp_dir().join(format!("hh-receiver-bin-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&record);
    let record_arg = record.to_string_lossy().to_string();
    let mut p = spawn(&["--port", "0", "--record", &record_arg]);
    let port = p.port;

    let sid = post_json(
        port,
        "/session/start",
        &json!({"session": {"session_id": "abc"}}),
    )
    .expect("req")
    .json();
    assert_eq!(sid["session_id"], json!("abc"));

    let poster = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        post_json(
            port,
            "/opentelemetry/v1/traces",
            &json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
                "traceId": "fce26d957658d08deac8754265b49f64", "spanId": "d1bd47d0e552aa18",
                "name": "n", "kind": "SPAN_KIND_INTERNAL",
                "attributes": [{"key": "i", "value": {"intValue": "1"}},
                               {"key": "d", "value": {"doubleValue": 1.0}}]}]}]}]}),
        )
        .map(|r| r.status)
    });
    let spans = get(port, "/__hh/wait?spans=1&timeout_ms=5000")
        .expect("wait")
        .json();
    assert_eq!(poster.join().expect("thread").expect("req"), 200);
    assert_eq!(spans.as_array().map(Vec::len), Some(1));
    assert_eq!(spans[0]["attributes"]["i"].as_i64(), Some(1));
    assert_eq!(spans[0]["attributes"]["d"].as_i64(), None);
    assert_eq!(spans[0]["attributes"]["d"].as_f64(), Some(1.0));

    let reqs = get(port, "/__hh/wait?requests=2&timeout_ms=100")
        .expect("wait")
        .json();
    assert_eq!(reqs.as_array().map(Vec::len), Some(2));

    // Fault via JSON.
    let f = request(
        port,
        "POST",
        "/__hh/fault",
        &[("Content-Type", "application/json")],
        br#"{"mode":"status","status":503,"retry_after":"1","times":1}"#,
    )
    .expect("req");
    assert_eq!(f.status, 200);
    let r = post_json(port, "/v1/traces", &json!({})).expect("req");
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
    assert_eq!(
        post_json(port, "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );

    // Pause for a while, then it comes back on the same port.
    let paused = request(port, "POST", "/__hh/pause?ms=1500", &[], b"").expect("req");
    assert_eq!(paused.status, 200);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
                break;
            }
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(_) => panic!("still listening after /__hh/pause"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match get(port, "/__hh/health") {
            Ok(r) => {
                assert_eq!(r.status, 200);
                break;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("did not come back: {e}"),
        }
    }

    let all = get(port, "/__hh/requests").expect("req").json();
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    assert_eq!(
        request(port, "POST", "/__hh/reset", &[], b"")
            .expect("req")
            .status,
        200
    );
    assert_eq!(get(port, "/__hh/spans").expect("req").json(), json!([]));

    assert_eq!(
        request(port, "POST", "/__hh/shutdown", &[], b"")
            .expect("req")
            .status,
        200
    );
    assert!(wait_exit(&mut p, Duration::from_secs(5)), "did not exit");

    let lines = std::fs::read_to_string(&record).expect("record file");
    assert_eq!(lines.lines().count(), 4);
    let _ = std::fs::remove_file(&record);
}

#[test]
fn binary_exits_when_stdin_closes() {
    let mut p = spawn(&["--exit-on-stdin-eof"]);
    assert_eq!(get(p.port, "/__hh/health").expect("req").status, 200);
    drop(p.child.stdin.take());
    assert!(
        wait_exit(&mut p, Duration::from_secs(5)),
        "did not exit on stdin EOF"
    );
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_hh-receiver"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
