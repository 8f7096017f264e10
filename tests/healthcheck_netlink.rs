//! `exabgp healthcheck --ip-setup` in a network namespace the test creates
//! (`unshare -n`): the service addresses appear on `lo` with the label and leave on
//! exit, an address that was there before is left alone, --dynamic-ip-setup takes
//! them away while DOWN and back when UP, and without CAP_NET_ADMIN the helper
//! exits 77 naming the capability. Checked with `ip -o addr show dev lo`, a
//! separate implementation. Needs root (to create the namespace): skipped with a
//! printed reason otherwise.

mod support;

use std::process::Command;
use std::time::Duration;

use support::binary::{exabgp_bin, run};
use support::TestDir;

fn root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    let ok = unsafe { libc::geteuid() } == 0;
    if !ok {
        eprintln!("skipped: creating a network namespace needs root");
    }
    ok
}

/// Runs `script` with /bin/sh in a new network namespace, $EXE the binary.
fn in_netns(script: &str) -> (i32, String) {
    let mut cmd = Command::new("unshare");
    cmd.args(["-n", "/bin/sh", "-c", script])
        .env("EXE", exabgp_bin());
    let out = run(cmd, Duration::from_secs(60));
    (
        out.code,
        format!("{}\n--- stderr\n{}", out.stdout, out.stderr),
    )
}

/// The part of `text` between the `== NAME` line and the next `==` line.
fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("== {name}\n"))
        .unwrap_or_else(|| panic!("no section {name} in:\n{text}"));
    let rest = &text[start + name.len() + 4..];
    &rest[..rest.find("==").unwrap_or(rest.len())]
}

/// Waits (at most 10 s) until `ip -o addr show dev lo` matches / stops matching.
const WAIT_FN: &str = r#"
present() { i=0; while [ $i -lt 100 ]; do ip -o addr show dev lo | grep -q "$1" && return 0; i=$((i+1)); sleep 0.1; done; return 1; }
absent()  { i=0; while [ $i -lt 100 ]; do ip -o addr show dev lo | grep -q "$1" || return 0; i=$((i+1)); sleep 0.1; done; return 1; }
"#;

#[test]
fn addresses_added_with_label_and_removed_on_exit() {
    if !root() {
        return;
    }
    let dir = TestDir::new("hc-netns");
    let script = format!(
        r#"{WAIT_FN}
ip addr add 192.0.2.20/32 dev lo
"$EXE" healthcheck --name t --ip 192.0.2.10/32 --ip 192.0.2.20/32 --ip 2001:db8::10/128 \
  --ip 198.51.100.0/31 --label svc --cmd true --interval 0.1 --rise 1 \
  > {d}/out 2> {d}/err &
pid=$!
present 'inet6 2001:db8::10/128' || echo "never appeared"
echo "== during"; ip -o addr show dev lo
kill -TERM $pid; wait $pid; echo "rc=$?"
echo "== after"; ip -o addr show dev lo
echo "== stdout"; cat {d}/out
echo "== stderr"; cat {d}/err
"#,
        d = dir.path.display()
    );
    let (code, out) = in_netns(&script);
    assert_eq!(code, 0, "{out}");
    let during = section(&out, "during");
    for want in [
        "inet 192.0.2.10/32 scope global lo:svc",
        "inet 198.51.100.0/32 scope global lo:svc",
        "inet 198.51.100.1/32 scope global lo:svc",
        "inet6 2001:db8::10/128 scope global",
        "inet 192.0.2.20/32 scope global lo",
    ] {
        assert!(during.contains(want), "{want:?} not in:\n{out}");
    }
    assert!(out.contains("rc=0"), "{out}");
    let after = section(&out, "after");
    for gone in ["192.0.2.10", "198.51.100.", "2001:db8::10"] {
        assert!(!after.contains(gone), "{gone} still on lo:\n{out}");
    }
    // It was there before us: not ours to remove.
    assert!(after.contains("inet 192.0.2.20/32"), "{out}");
    let stdout = section(&out, "stdout");
    assert!(
        stdout.contains("announce route 192.0.2.10/32 next-hop self med 100"),
        "{out}"
    );
    assert!(
        stdout.contains("withdraw route 198.51.100.0/31 next-hop self"),
        "{out}"
    );
}

#[test]
fn dynamic_setup_follows_the_state() {
    if !root() {
        return;
    }
    let dir = TestDir::new("hc-netns-dyn");
    let script = format!(
        r#"{WAIT_FN}
touch {d}/healthy
"$EXE" healthcheck --ip 192.0.2.30/32 --label dyn --dynamic-ip-setup --cmd 'test -e {d}/healthy' \
  --interval 0.1 --fast-interval 0.1 --rise 1 --fall 1 > {d}/out 2> {d}/err &
pid=$!
present 192.0.2.30 && echo "up: present"
rm {d}/healthy
absent 192.0.2.30 && echo "down: absent"
touch {d}/healthy
present 192.0.2.30 && echo "up again: present"
kill -TERM $pid; wait $pid; echo "rc=$?"
absent 192.0.2.30 && echo "exit: absent"
echo "== stderr"; cat {d}/err
"#,
        d = dir.path.display()
    );
    let (code, out) = in_netns(&script);
    assert_eq!(code, 0, "{out}");
    for want in [
        "up: present",
        "down: absent",
        "up again: present",
        "rc=0",
        "exit: absent",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
}

#[test]
fn without_cap_net_admin_it_exits_77_naming_the_capability() {
    if !root() {
        return;
    }
    let script = r#"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
  "$EXE" healthcheck --ip 192.0.2.40/32 --cmd true --interval 0.1
echo "rc=$?"
echo "== addr"; ip -o addr show dev lo
echo "=="
"#;
    let (code, out) = in_netns(script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rc=77"), "{out}");
    assert!(out.contains("CAP_NET_ADMIN"), "{out}");
    assert!(!out.contains("announce"), "{out}");
    assert!(!section(&out, "addr").contains("192.0.2.40"), "{out}");
}

/// ExaBGP's default --ip-setup with the addresses pre-provisioned (as a helper
/// of `exabgp server` must have them): nothing to add, so no CAP_NET_ADMIN
/// needed; the helper announces instead of exiting 77.
#[test]
fn pre_provisioned_addresses_need_no_cap_net_admin() {
    if !root() {
        return;
    }
    let script = r#"
ip addr add 192.0.2.50/32 dev lo
setpriv --inh-caps=-all --bounding-set=-net_admin --ambient-caps=-all \
  sh -c 'capsh --has-p=cap_net_admin 2>/dev/null && echo "still has net_admin"; exec "$EXE" healthcheck --ip 192.0.2.50/32 --cmd true --interval 0'
echo "rc=$?"
echo "== addr"; ip -o addr show dev lo
echo "=="
"#;
    let (code, out) = in_netns(script);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("still has net_admin"), "{out}");
    assert!(out.contains("rc=0"), "{out}");
    assert!(
        out.contains("announce route 192.0.2.50/32 next-hop self"),
        "{out}"
    );
    // Not ours: left on lo.
    assert!(section(&out, "addr").contains("192.0.2.50/32"), "{out}");
}

/// A helper killed without cleaning up left 192.0.2.30 on lo with its label;
/// the restarted one knows it by the label as its own, and removes it when DOWN
/// (--dynamic-ip-setup), as ExaBGP does. An unlabelled address stays.
#[test]
fn a_leftover_address_with_our_label_is_ours() {
    if !root() {
        return;
    }
    let dir = TestDir::new("hc-netns-leftover");
    let script = format!(
        r#"{WAIT_FN}
ip addr add 192.0.2.30/32 dev lo label lo:dyn
ip addr add 192.0.2.31/32 dev lo
"$EXE" healthcheck --ip 192.0.2.30/32 --ip 192.0.2.31/32 --label dyn --dynamic-ip-setup \
  --cmd false --interval 0.1 --fast-interval 0.1 --fall 1 > {d}/out 2> {d}/err &
pid=$!
absent 192.0.2.30 && echo "down: absent"
kill -TERM $pid; wait $pid; echo "rc=$?"
echo "== addr"; ip -o addr show dev lo
echo "== stderr"; cat {d}/err
"#,
        d = dir.path.display()
    );
    let (code, out) = in_netns(&script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("down: absent"), "{out}");
    assert!(out.contains("rc=0"), "{out}");
    let addr = section(&out, "addr");
    assert!(!addr.contains("192.0.2.30"), "{out}");
    assert!(addr.contains("inet 192.0.2.31/32"), "{out}");
}
