//! The console exporter writes one readable line per span to stderr. The test re-runs its own
//! binary as a child process whose stderr it reads.

mod common;
use common::{spans, tracers};
use std::process::Command;

const CHILD: &str = "HH_CONSOLE_TEST_CHILD";

#[test]
fn console_exporter_prints_each_span() {
    if std::env::var_os(CHILD).is_some() {
        let t = honeyhive::registry::create_tracer(common::config(
            r#"{"exporter":"console","project":"p"}"#,
            &[],
        ))
        .unwrap();
        let root = spans::start(t, "console-root", Some("chain"), 0, None, vec![]).unwrap();
        let child = spans::start(t, "console-child", Some("model"), root, None, vec![]).unwrap();
        spans::record_error(child, Some("Boom"), "bad").unwrap();
        // Text from outside (a model's output) with a forged line and a terminal escape.
        spans::set_attributes(
            child,
            vec![opentelemetry::KeyValue::new(
                "model.output",
                "ok\n[honeyhive] span \"forged\"\x1b[2J",
            )],
        )
        .unwrap();
        spans::end(child, false).unwrap();
        spans::end(root, false).unwrap();
        tracers::close(t, common::WAIT).unwrap();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "console_exporter_prints_each_span",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[honeyhive] span "))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines
        .iter()
        .any(|l| l.contains("\"console-root\"") && l.contains("honeyhive_event_type=chain")));
    let child = lines
        .iter()
        .find(|l| l.contains("\"console-child\""))
        .unwrap();
    assert!(
        child.contains("ERROR=\"Boom: bad\"") && child.contains("honeyhive.project=p"),
        "{child}"
    );
    assert!(
        child.contains(r#"model.output=ok\n[honeyhive] span "forged"\x1b[2J"#),
        "{child}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr}");
}
