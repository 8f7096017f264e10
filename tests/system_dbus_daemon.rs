//! The D-Bus client (src/system/dbus.rs) against a real `dbus-daemon` started on a
//! private socket by each test (killed when the test ends; `timeout` bounds its life
//! even if the test process dies), and against scripted bus stand-ins on real Unix
//! sockets for what a healthy bus never sends (silence, refusal, garbage).

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use exabgp::system::dbus::{Connection, DbusError, Value};
use exabgp::system::restart_job::{self, RestartJobError};
use support::{wait_for, Proc, TestDir};

const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
const T: Duration = Duration::from_secs(10);

/// A dbus-daemon with an allow-all policy listening on DIR/bus.
fn start_bus(dir: &Path) -> (Proc, String) {
    let socket = dir.join("bus");
    let conf = dir.join("bus.conf");
    std::fs::write(
        &conf,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .expect("write bus config");
    let mut cmd = Command::new("timeout");
    cmd.args(["120", "dbus-daemon", "--nofork", "--nopidfile"])
        .arg(format!("--config-file={}", conf.display()));
    let bus = Proc::spawn("dbus-daemon", cmd, dir.join("dbus-daemon.log"));
    wait_for(T, || socket.exists().then_some(()))
        .unwrap_or_else(|| panic!("dbus-daemon did not listen: {}", bus.log_text()));
    (bus, format!("unix:path={}", socket.display()))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array { element, items } if element == "s" => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        other => panic!("not an array of strings: {other:?}"),
    }
}

#[test]
fn system_dbus_calls_and_properties_on_a_real_bus() {
    let dir = TestDir::new("dbus-calls");
    let (_bus, address) = start_bus(&dir.path);
    let mut conn = Connection::open(&address, T).expect("connect, authenticate, Hello");
    let me = conn.unique_name().to_string();
    assert!(me.starts_with(':'), "unique name {me:?}");

    let id = conn.call(BUS, BUS_PATH, BUS, "GetId", &[]).expect("GetId");
    match id.as_slice() {
        [Value::String(s)] => {
            assert_eq!(s.len(), 32, "{s}");
            assert!(s.bytes().all(|b| b.is_ascii_hexdigit()), "{s}");
        }
        other => panic!("GetId returned {other:?}"),
    }

    let names = conn
        .call(BUS, BUS_PATH, BUS, "ListNames", &[])
        .expect("ListNames");
    let names = strings(names.first().expect("one array"));
    assert!(names.contains(&BUS.to_string()), "{names:?}");
    assert!(names.contains(&me), "{names:?}");

    // A string argument, and the answer is the bus itself.
    let owner = conn
        .call(
            BUS,
            BUS_PATH,
            BUS,
            "GetNameOwner",
            &[Value::String(me.clone())],
        )
        .expect("GetNameOwner");
    assert_eq!(owner, vec![Value::String(me.clone())]);

    // A uint32 answer to a call with a string argument: our own uid.
    let uid = conn
        .call(
            BUS,
            BUS_PATH,
            BUS,
            "GetConnectionUnixUser",
            &[Value::String(me)],
        )
        .expect("GetConnectionUnixUser");
    // SAFETY: geteuid has no preconditions.
    assert_eq!(uid, vec![Value::Uint32(unsafe { libc::geteuid() })]);

    // Properties.Get of the bus's own properties: variants holding arrays.
    let features = conn
        .get_property(BUS, BUS_PATH, BUS, "Interfaces")
        .expect("Properties.Get Interfaces");
    let ifaces = strings(&features);
    assert!(
        ifaces
            .iter()
            .any(|i| i == "org.freedesktop.DBus.Monitoring"),
        "{ifaces:?}"
    );
    let features = conn
        .get_property(BUS, BUS_PATH, BUS, "Features")
        .expect("Properties.Get Features");
    strings(&features);
}

#[test]
fn system_dbus_error_replies_are_errors_and_the_connection_goes_on() {
    let dir = TestDir::new("dbus-errors");
    let (_bus, address) = start_bus(&dir.path);
    let mut conn = Connection::open(&address, T).expect("connect");
    let nobody = Value::String("com.example.Nobody".into());
    match conn.call(BUS, BUS_PATH, BUS, "GetNameOwner", &[nobody]) {
        Err(DbusError::Remote { name, message }) => {
            assert_eq!(name, "org.freedesktop.DBus.Error.NameHasNoOwner");
            assert!(message.contains("com.example.Nobody"), "{message}");
        }
        other => panic!("GetNameOwner of nobody: {other:?}"),
    }
    match conn.call(BUS, BUS_PATH, BUS, "NoSuchMethod", &[]) {
        Err(DbusError::Remote { name, .. }) => {
            assert_eq!(name, "org.freedesktop.DBus.Error.UnknownMethod")
        }
        other => panic!("NoSuchMethod: {other:?}"),
    }
    match conn.get_property(BUS, BUS_PATH, BUS, "NoSuchProperty") {
        Err(DbusError::Remote { name, .. }) => {
            assert!(name.starts_with("org.freedesktop.DBus.Error."), "{name}")
        }
        other => panic!("Get NoSuchProperty: {other:?}"),
    }
    // The next call still gets its own answer (serials matched, not order).
    assert!(conn.call(BUS, BUS_PATH, BUS, "GetId", &[]).is_ok());

    // No systemd on this bus: the restart question fails, which callers read as a stop.
    match restart_job::pending_job_on(&mut conn, std::process::id()) {
        Err(RestartJobError::Bus(DbusError::Remote { name, .. })) => {
            assert_eq!(name, "org.freedesktop.DBus.Error.ServiceUnknown")
        }
        other => panic!("GetUnitByPID without systemd: {other:?}"),
    }
}

/// A stand-in bus on DIR/fake: runs `script` on the first connection.
fn fake_bus(
    dir: &Path,
    script: impl FnOnce(std::os::unix::net::UnixStream) + Send + 'static,
) -> (String, std::thread::JoinHandle<()>) {
    let path = dir.join("fake");
    let listener = UnixListener::bind(&path).expect("bind");
    let h = std::thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            s.set_read_timeout(Some(Duration::from_secs(20))).ok();
            script(s);
        }
    });
    (format!("unix:path={}", path.display()), h)
}

/// Reads the client's auth (NUL + AUTH line), up to CR LF.
fn read_line(s: &mut std::os::unix::net::UnixStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") && line.len() < 1000 {
        match s.read(&mut b) {
            Ok(1) => line.push(b[0]),
            _ => break,
        }
    }
    line
}

#[test]
fn system_dbus_silent_bus_times_out() {
    let dir = TestDir::new("dbus-silent");
    let (address, h) = fake_bus(&dir.path, |mut s| {
        // Take the auth line, then say nothing until the client gives up.
        let _ = read_line(&mut s);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    let r = Connection::open(&address, Duration::from_millis(500));
    assert!(matches!(r, Err(DbusError::Timeout(_))), "{r:?}");
    drop(r);
    h.join().expect("fake bus thread");
}

#[test]
fn system_dbus_refused_auth_is_an_error() {
    let dir = TestDir::new("dbus-refused");
    let (address, h) = fake_bus(&dir.path, |mut s| {
        let line = read_line(&mut s);
        assert!(line.starts_with(b"\0AUTH EXTERNAL "), "{line:?}");
        let _ = s.write_all(b"REJECTED DBUS_COOKIE_SHA1\r\n");
    });
    let r = Connection::open(&address, T);
    assert!(
        matches!(&r, Err(DbusError::Auth(m)) if m.contains("REJECTED")),
        "{r:?}"
    );
    h.join().expect("fake bus thread");
}

#[test]
fn system_dbus_garbage_after_auth_is_malformed() {
    let dir = TestDir::new("dbus-garbage");
    let (address, h) = fake_bus(&dir.path, |mut s| {
        let line = read_line(&mut s);
        // Our uid, decimal, hex-encoded (the spec's EXTERNAL initial response).
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() }.to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(line, format!("\0AUTH EXTERNAL {hex}\r\n").into_bytes());
        let _ = s.write_all(b"OK 0123456789abcdef0123456789abcdef\r\n");
        assert_eq!(read_line(&mut s), b"BEGIN\r\n");
        // The Hello call (128 bytes, see the unit tests), then the answer:
        let mut hello = [0u8; 128];
        let _ = s.read_exact(&mut hello);
        // a header claiming a 200-byte body, with an unknown byte order.
        let mut junk = vec![b'X', 2, 0, 1];
        junk.extend(200u32.to_le_bytes());
        junk.extend([0xff; 200]);
        let _ = s.write_all(&junk);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    let r = Connection::open(&address, T);
    assert!(matches!(r, Err(DbusError::Malformed(_))), "{r:?}");
    h.join().expect("fake bus thread");
}

#[test]
fn system_dbus_nobody_listening_is_a_connect_error() {
    let dir = TestDir::new("dbus-none");
    let address = format!("unix:path={}", dir.path.join("nothing").display());
    let r = Connection::open(&address, T);
    assert!(matches!(r, Err(DbusError::Connect { .. })), "{r:?}");
}
