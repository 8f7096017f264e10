//! Build script: one link option for the `exabgpcli` binary only.
//!
//! Rust programs on glibc load libgcc_s.so.1 for the unwinder; loading it costs
//! a CLI call about a fifth of its CPU time (its constructor probes the CPU with
//! `cpuid`, which traps in a virtual machine; docs/performance.md, "The CLI
//! process"). exabgpcli links the same unwinder statically from libgcc_eh.a,
//! which is what gcc's `-static-libgcc` does: a directory with a `libgcc_s.so`
//! linker script reading `INPUT(-lgcc_eh)`, searched before the system's. The
//! daemon and the other binaries link as before. Where the C compiler has no
//! libgcc_eh.a, or on another target, nothing changes (a warning says so).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        // Cross-compiling: the host's `cc` would be probed for the target's
        // libgcc_eh.a; unless the linker is named, leave the link as it is.
        || (var("HOST") != var("TARGET") && std::env::var_os("RUSTC_LINKER").is_none())
        // A static build links the unwinder statically already.
        || var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
    {
        return;
    }
    // The linker rustc calls: `cc` unless one is configured.
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_string());
    let found = Command::new(&linker)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_absolute() && p.is_file());
    if found.is_none() {
        println!("cargo:warning=no libgcc_eh.a from {linker}: exabgpcli loads libgcc_s.so.1 (slower start)");
        return;
    }
    let Some(out) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let dir = PathBuf::from(out).join("exabgpcli-link");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n"));
    if let Err(e) = written {
        println!("cargo:warning=cannot write {}: {e}", dir.display());
        return;
    }
    println!("cargo:rustc-link-arg-bin=exabgpcli=-L{}", dir.display());
}
