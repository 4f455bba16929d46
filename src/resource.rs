//! The OTLP resource of a tracer, by OpenTelemetry's conventions: what service and process
//! the spans come from, and which SDK made them.

use crate::config::Config;
use opentelemetry::{Key, KeyValue, Value};

/// `telemetry.sdk.name`: this library.
pub const SDK_NAME: &str = "libhoneyhive";
/// `telemetry.sdk.language`: the language this library is written in (the application's is
/// `process.runtime.name`).
pub const SDK_LANGUAGE: &str = "rust";
/// `process.runtime.name` unless the configuration says otherwise (each binding sets its own).
pub const DEFAULT_RUNTIME: &str = "c";

const PID_KEY: &str = "process.pid";

/// The resource of a new tracer: the defaults below, then `config.resource_attributes` (from
/// `OTEL_RESOURCE_ATTRIBUTES` and the config), each key once, the latter winning.
/// `service.instance.id` is new for every tracer.
pub fn build(c: &Config) -> Vec<KeyValue> {
    let mut out = vec![
        KeyValue::new("service.name", c.service_name.clone()),
        KeyValue::new(
            "service.instance.id",
            uuid::Uuid::new_v4().hyphenated().to_string(),
        ),
        KeyValue::new(PID_KEY, i64::from(std::process::id())),
        KeyValue::new("process.runtime.name", DEFAULT_RUNTIME),
        KeyValue::new("host.arch", host_arch()),
        KeyValue::new("os.type", os_type()),
        KeyValue::new("telemetry.sdk.name", SDK_NAME),
        KeyValue::new("telemetry.sdk.language", SDK_LANGUAGE),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    for (k, v) in &c.resource_attributes {
        let Some(value) = value_of(v) else { continue };
        match out.iter_mut().find(|kv| kv.key.as_str() == k) {
            Some(held) => held.value = value,
            None => out.push(KeyValue::new(Key::new(k.clone()), value)),
        }
    }
    out
}

/// `resource` as this process must send it: `process.pid` is the pid of the process that
/// exports (a forked child's own, not its parent's).
pub fn in_this_process(resource: &[KeyValue]) -> Vec<KeyValue> {
    let pid = i64::from(std::process::id());
    resource
        .iter()
        .map(|kv| {
            if kv.key.as_str() == PID_KEY {
                KeyValue::new(PID_KEY, pid)
            } else {
                kv.clone()
            }
        })
        .collect()
}

fn value_of(v: &serde_json::Value) -> Option<Value> {
    Some(match v {
        serde_json::Value::String(s) => Value::from(s.clone()),
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::I64(i),
            None => Value::F64(n.as_f64()?),
        },
        _ => return None,
    })
}

/// `host.arch` by OpenTelemetry's names.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// `os.type` by OpenTelemetry's names.
fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "dragonfly" => "dragonflybsd",
        "illumos" | "solaris" => "solaris",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str, env: &[(&str, &str)]) -> Config {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(Some(json), &move |n| {
            env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        })
        .expect("valid config")
    }

    fn get<'a>(r: &'a [KeyValue], k: &str) -> Option<&'a Value> {
        r.iter().find(|kv| kv.key.as_str() == k).map(|kv| &kv.value)
    }

    #[test]
    fn defaults_then_env_then_config() {
        let c = config(
            r#"{"test_mode":true,"resource_attributes":{"deployment.environment":"prod","n":3,"process.runtime.name":"go"}}"#,
            &[(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=staging, team=a%20b%2Cc,bad,=x,k=%zz,service.name=from-env",
            )],
        );
        assert_eq!(c.service_name, "from-env");
        assert_eq!(c.notices.len(), 1, "{:?}", c.notices);
        assert!(
            c.notices[0].contains("3 entries skipped"),
            "{:?}",
            c.notices
        );
        let r = build(&c);
        assert_eq!(
            get(&r, "deployment.environment"),
            Some(&Value::from("prod"))
        );
        assert_eq!(get(&r, "team"), Some(&Value::from("a b,c")));
        assert_eq!(get(&r, "n"), Some(&Value::I64(3)));
        assert_eq!(get(&r, "process.runtime.name"), Some(&Value::from("go")));
        assert_eq!(get(&r, "telemetry.sdk.name"), Some(&Value::from(SDK_NAME)));
        assert_eq!(
            get(&r, "process.pid"),
            Some(&Value::I64(i64::from(std::process::id())))
        );
        assert_eq!(
            r.iter()
                .filter(|kv| kv.key.as_str() == "service.name")
                .count(),
            1
        );
    }

    #[test]
    fn service_name_precedence() {
        let env = [
            ("OTEL_SERVICE_NAME", "env-name"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr-env"),
        ];
        assert_eq!(
            config(r#"{"test_mode":true}"#, &env).service_name,
            "env-name"
        );
        let c = config(
            r#"{"test_mode":true,"resource_attributes":{"service.name":"attr-cfg"}}"#,
            &env,
        );
        assert_eq!(c.service_name, "attr-cfg");
        let c = config(
            r#"{"test_mode":true,"service_name":"cfg","resource_attributes":{"service.name":"attr-cfg"}}"#,
            &env,
        );
        assert_eq!(c.service_name, "cfg");
        assert!(config(r#"{"test_mode":true}"#, &[])
            .service_name
            .starts_with("unknown_service:"));
    }

    #[test]
    fn bad_config_values_fail_and_pid_belongs_to_the_library() {
        for json in [
            r#"{"test_mode":true,"resource_attributes":{"a":[1]}}"#,
            r#"{"test_mode":true,"resource_attributes":{"process.pid":1}}"#,
            r#"{"test_mode":true,"resource_attributes":"a=b"}"#,
        ] {
            let e = Config::resolve(Some(json), &|_| None).unwrap_err();
            assert!(e.message.contains("resource_attributes"), "{}", e.message);
        }
        let c = config(
            r#"{"test_mode":true}"#,
            &[("OTEL_RESOURCE_ATTRIBUTES", "process.pid=1")],
        );
        assert!(c.resource_attributes.is_empty());
        let pid = i64::from(std::process::id());
        let stale = vec![KeyValue::new("process.pid", pid + 1), KeyValue::new("a", 1)];
        let fresh = in_this_process(&stale);
        assert_eq!(get(&fresh, "process.pid"), Some(&Value::I64(pid)));
        assert_eq!(get(&fresh, "a"), Some(&Value::I64(1)));
    }

    #[test]
    fn env_is_bounded() {
        let many: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
        let mut notices = Vec::new();
        let parsed = crate::config::parse_resource_env(&many.join(","), &mut notices);
        assert_eq!(parsed.len(), crate::config::MAX_RESOURCE_ATTRIBUTES);
        assert!(notices[0].contains("72 entries skipped"), "{notices:?}");
        let mut notices = Vec::new();
        let huge = format!("k={}", "x".repeat(100_000));
        assert!(crate::config::parse_resource_env(&huge, &mut notices).is_empty());
        assert_eq!(notices.len(), 1);
    }
}
