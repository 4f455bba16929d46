//! Link settings of the shared library (the cdylib) on ELF targets (Linux and the BSDs).
//!
//! - SONAME `libhoneyhive.so.<major>`: programs record the ABI they were linked against, and an
//!   installed library can sit beside another major version. `make install` installs
//!   `libhoneyhive.so.<version>` with the `.so.<major>` and `.so` symlinks (packaging/install.sh).
//! - `libhoneyhive.so.<major>` beside the built library (target/<profile>/), a symlink to
//!   `libhoneyhive.so`: programs linked against the build tree (`-L target/release -lhoneyhive`
//!   with an rpath, as the tests, examples and bindings are) now need that name at run time.
//!
//! Exported symbols: rustc already exports only the `#[no_mangle] extern "C"` items of a cdylib
//! (all `hh_*`), through a version script of its own. A second script from here
//! (`-Wl,--version-script=...`) cannot narrow or version that set: rust-lld (the default linker
//! of x86_64-unknown-linux-gnu since Rust 1.90) keeps rustc's assignment and leaves a named node
//! empty, and GNU ld (aarch64 Linux, Rust < 1.90; rust-version is 1.85) fails the link with
//! "anonymous version tag cannot be combined with other version tags". So none is passed; the
//! export list is checked instead (tests/install/check-symbols.sh: `nm -D` shows exactly the
//! functions of include/honeyhive.h).
//!
//! Nothing here touches the rlib or the staticlib, and nothing in `src/` depends on it.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");

    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let elf = matches!(
        target_os.as_str(),
        "linux"
            | "android"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "dragonfly"
            | "illumos"
            | "solaris"
    );
    if !elf {
        return;
    }
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    let soname = format!("libhoneyhive.so.{major}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");

    if let Some(dir) = profile_dir() {
        soname_link(&dir, &soname);
    }
}

/// target/<profile>/ (or target/<triple>/<profile>/): OUT_DIR is <that>/build/<pkg>-<hash>/out.
fn profile_dir() -> Option<PathBuf> {
    let out = PathBuf::from(env::var_os("OUT_DIR")?);
    Some(out.ancestors().nth(3)?.to_path_buf())
}

/// `<dir>/libhoneyhive.so.<major>` -> `libhoneyhive.so` (relative; dangling until the link step
/// writes the library). Best effort: a failure only costs build-tree users the symlink.
fn soname_link(dir: &Path, soname: &str) {
    #[cfg(unix)]
    {
        let link = dir.join(soname);
        match std::fs::read_link(&link) {
            Ok(target) if target == Path::new("libhoneyhive.so") => return,
            Ok(_) => {
                let _ = std::fs::remove_file(&link); // a symlink to something else: replace it
            }
            Err(_) if link.symlink_metadata().is_ok() => return, // a real file: leave it alone
            Err(_) => {}
        }
        if let Err(e) = std::os::unix::fs::symlink("libhoneyhive.so", &link) {
            println!("cargo:warning=could not create {}: {e}", link.display());
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, soname);
    }
}
