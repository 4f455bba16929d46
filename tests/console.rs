//! The console exporter writes one readable line per span to stderr. The test re-runs its own
//! binary as a child process whose stderr it reads.

mod common;
use std::process::Command;

const CHILD: &str = "HH_CONSOLE_TEST_CHILD";

#[test]
fn console_exporter_prints_each_span() {
    if std::env::var_os(CHILD).is_some() {
        let t = honeyhive::Tracer::new(common::config(
            r#"{"exporter":"console","project":"p"}"#,
            &[],
        ))
        .unwrap();
        let root = t
            .start_span("console-root", Some("chain"), None, None, vec![])
            .unwrap();
        let mut child = t
            .start_span(
                "console-child",
                Some("model"),
                Some(root.reference()),
                None,
                vec![],
            )
            .unwrap();
        child.record_error(Some("Boom"), "bad").unwrap();
        // Text from outside (a model's output) with a forged line and a terminal escape.
        child
            .set_attribute(opentelemetry::KeyValue::new(
                "model.output",
                "ok\n[honeyhive] span \"forged\"\x1b[2J",
            ))
            .unwrap();
        child.end().unwrap();
        root.end().unwrap();
        t.close(common::WAIT).unwrap();
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
