//! `hh-receiver`: the loopback test receiver as a process, for the Go, C, C++
//! and Ruby test suites.
//!
//! ```text
//! hh-receiver [--port N] [--record FILE] [--exit-on-stdin-eof]
//! ```
//!
//! Prints exactly one line, `HH_RECEIVER_URL=http://127.0.0.1:PORT`, to stdout
//! once it listens, then serves until killed, until `POST /__hh/shutdown`, or
//! (with `--exit-on-stdin-eof`) until its stdin closes.
//!
//! Control endpoints (never recorded, never faulted; any method unless noted):
//! - `GET /__hh/requests` → JSON array of recorded requests
//! - `GET /__hh/spans` → JSON array of normalized spans
//! - `GET /__hh/wait?spans=N&timeout_ms=T` → waits for N spans (default 1; T default
//!   10000), returns the spans array; `?requests=N` instead waits for N requests
//!   and returns the requests array
//! - `POST /__hh/reset` → forget recorded requests
//! - `POST /__hh/fault` with a Fault as JSON, e.g. `{"mode":"status","status":503,"retry_after":"1","times":2}`
//!   (status mode also takes `headers`, `body`, `content_type`, `body_bytes`, `chunked`: see the README)
//!   (`GET /__hh/fault` → the active fault or `null`)
//! - `POST /__hh/clear_fault`
//! - `POST /__hh/pause?ms=N` → answers, then goes down for N ms (default 1000) and comes back
//! - `POST /__hh/shutdown` → answers, then exits
//! - `GET /__hh/health` → `{"ok":true,"port":PORT}`

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use hh_test_receiver::{Receiver, ReceiverOptions};

const USAGE: &str = "usage: hh-receiver [--port N] [--record FILE] [--exit-on-stdin-eof]";

struct Args {
    opts: ReceiverOptions,
    exit_on_stdin_eof: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        opts: ReceiverOptions::default(),
        exit_on_stdin_eof: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                args.opts.port = v.parse().map_err(|_| format!("bad --port: {v:?}"))?;
            }
            "--record" => args.opts.record_file = Some(PathBuf::from(value("--record")?)),
            "--exit-on-stdin-eof" => args.exit_on_stdin_eof = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hh-receiver: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let port = args.opts.port;
    let receiver = match Receiver::start_with(args.opts) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!("hh-receiver: cannot start on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "HH_RECEIVER_URL={}", receiver.url());
        let _ = out.flush();
    }
    if args.exit_on_stdin_eof {
        let r = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name("stdin-watch".into())
            .spawn(move || {
                let mut stdin = std::io::stdin().lock();
                let mut buf = [0u8; 1024];
                while let Ok(n) = stdin.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
                r.shutdown();
            });
        if let Err(e) = spawned {
            eprintln!("hh-receiver: cannot watch stdin: {e}");
        }
    }
    receiver.wait();
    ExitCode::SUCCESS
}
