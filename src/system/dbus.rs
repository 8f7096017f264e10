//! A minimal, synchronous D-Bus client: enough to ask systemd one question over the
//! system bus (which job is pending for our unit, see [`super::restart_job`]), and
//! nothing more. Written from the D-Bus specification, not from another library.
//!
//! What it does, in the order of a connection's life:
//! 1. [`Connection::system`]: the address from `DBUS_SYSTEM_BUS_ADDRESS`, else
//!    `unix:path=/run/dbus/system_bus_socket`; `unix:path=` and `unix:abstract=`
//!    transports (the only ones a system bus uses), `;`-separated lists tried in
//!    order, `%XX` escapes decoded.
//! 2. SASL: a NUL byte, `AUTH EXTERNAL <our euid as decimal, hex-encoded>`, `OK <guid>`,
//!    `BEGIN`. The bus checks the uid against the socket's peer credentials.
//! 3. `Hello` (the bus gives us a unique name), then method calls: each with a fresh
//!    non-zero serial; the answer is the METHOD_RETURN or ERROR whose REPLY_SERIAL is
//!    that serial (signals such as NameAcquired are skipped, a bounded number of them).
//!    An ERROR becomes [`DbusError::Remote`] with its name and message.
//!
//! Marshalling (spec, "Message Protocol"): little-endian out ('l'), either byte order
//! in; every value aligned to its type's alignment counted from the start of the
//! message (the body starts on an 8-byte boundary, so aligning from the body's start
//! is the same); padding bytes must be zero. Types: every basic type, arrays, structs,
//! dict entries and variants, nested at most [`MAX_DEPTH`] deep.
//!
//! Bounds, because the answer arrives while the daemon is being stopped: every read
//! and write has a socket timeout no longer than what is left of one total deadline
//! given at connect time; a message larger than [`MAX_MESSAGE`] is refused before its
//! body is read; an auth line longer than 512 bytes is refused. Whatever the bus
//! sends, a malformed message is [`DbusError::Malformed`], never a panic.

use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::time::{Duration, Instant};

/// Where the system bus listens when DBUS_SYSTEM_BUS_ADDRESS is not set.
pub const SYSTEM_BUS_DEFAULT: &str = "unix:path=/run/dbus/system_bus_socket";
/// The largest message we accept. Our answers are a few hundred bytes; the spec
/// allows 128 MiB, which we never want to buffer (or expand into values) while
/// stopping.
pub const MAX_MESSAGE: usize = 64 << 10;
/// Containers nested deeper than this are refused (the spec allows 32 arrays plus
/// 32 structs; variants count here as well).
pub const MAX_DEPTH: usize = 64;
/// Messages that are not our answer (signals) read before giving up on a call.
const MAX_SKIPPED: usize = 64;
/// The longest SASL line we read.
const MAX_AUTH_LINE: usize = 512;

const BUS_NAME: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

#[derive(Debug, thiserror::Error)]
pub enum DbusError {
    #[error("bad D-Bus address {address:?}: {why}")]
    Address { address: String, why: &'static str },
    #[error("cannot connect to the bus at {address}: {source}")]
    Connect { address: String, source: io::Error },
    #[error("D-Bus i/o: {0}")]
    Io(#[from] io::Error),
    #[error("no answer from the bus within {0:?}")]
    Timeout(Duration),
    #[error("the bus closed the connection")]
    Closed,
    #[error("the bus refused our authentication: {0}")]
    Auth(String),
    #[error("malformed D-Bus message: {0}")]
    Malformed(&'static str),
    #[error("D-Bus message of {0} bytes is over our limit")]
    TooLarge(usize),
    #[error("cannot send {0}")]
    Invalid(&'static str),
    #[error("{name}: {message}")]
    Remote { name: String, message: String },
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

type Result<T> = std::result::Result<T, DbusError>;

/// One D-Bus value. Arrays carry their element signature so that an empty array
/// still has a type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    Int16(i16),
    Uint16(u16),
    Int32(i32),
    Uint32(u32),
    Int64(i64),
    Uint64(u64),
    Double(f64),
    String(String),
    ObjectPath(String),
    Signature(String),
    /// An index into the message's out-of-band fds; we never negotiate fd passing.
    UnixFd(u32),
    Variant(Box<Value>),
    Array {
        element: String,
        items: Vec<Value>,
    },
    Struct(Vec<Value>),
    DictEntry(Box<Value>, Box<Value>),
}

impl Value {
    /// This value's type signature.
    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::Int16(_) => "n".into(),
            Value::Uint16(_) => "q".into(),
            Value::Int32(_) => "i".into(),
            Value::Uint32(_) => "u".into(),
            Value::Int64(_) => "x".into(),
            Value::Uint64(_) => "t".into(),
            Value::Double(_) => "d".into(),
            Value::String(_) => "s".into(),
            Value::ObjectPath(_) => "o".into(),
            Value::Signature(_) => "g".into(),
            Value::UnixFd(_) => "h".into(),
            Value::Variant(_) => "v".into(),
            Value::Array { element, .. } => format!("a{element}"),
            Value::Struct(fields) => {
                let inner: String = fields.iter().map(Value::signature).collect();
                format!("({inner})")
            }
            Value::DictEntry(k, v) => format!("{{{}{}}}", k.signature(), v.signature()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::ObjectPath(s) | Value::Signature(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u32(&self) -> Option<u32> {
        match self {
            Value::Uint32(n) => Some(*n),
            _ => None,
        }
    }

    /// The value inside a variant (other values as they are).
    pub fn into_inner(self) -> Value {
        match self {
            Value::Variant(v) => *v,
            other => other,
        }
    }
}

/// The four message types of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    MethodCall = 1,
    MethodReturn = 2,
    Error = 3,
    Signal = 4,
}

/// A whole message, header fields decoded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub kind: Option<MessageType>,
    pub flags: u8,
    pub serial: u32,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub reply_serial: Option<u32>,
    pub destination: Option<String>,
    pub sender: Option<String>,
    pub body: Vec<Value>,
}

// Header field codes (spec, "Header Fields").
const F_PATH: u8 = 1;
const F_INTERFACE: u8 = 2;
const F_MEMBER: u8 = 3;
const F_ERROR_NAME: u8 = 4;
const F_REPLY_SERIAL: u8 = 5;
const F_DESTINATION: u8 = 6;
const F_SENDER: u8 = 7;
const F_SIGNATURE: u8 = 8;

// ------------------------------------------------------------------ signatures

/// The end (exclusive) of the single complete type starting at `at` in `sig`.
fn complete_type_end(sig: &[u8], at: usize, depth: usize) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(DbusError::Malformed("signature nested too deep"));
    }
    match sig.get(at) {
        None => Err(DbusError::Malformed("signature ends inside a type")),
        Some(b'y' | b'b' | b'n' | b'q' | b'i' | b'u' | b'x' | b't' | b'd' | b's' | b'o')
        | Some(b'g' | b'h' | b'v') => Ok(at + 1),
        Some(b'a') => {
            if sig.get(at + 1) == Some(&b'{') {
                // A dict entry: a basic key type, one complete value type, '}'.
                let key = sig
                    .get(at + 2)
                    .ok_or(DbusError::Malformed("signature ends inside a dict entry"))?;
                if !b"ybnqiuxtdsogh".contains(key) {
                    return Err(DbusError::Malformed("dict entry key is not a basic type"));
                }
                let end = complete_type_end(sig, at + 3, depth + 1)?;
                if sig.get(end) != Some(&b'}') {
                    return Err(DbusError::Malformed("dict entry does not close"));
                }
                Ok(end + 1)
            } else {
                complete_type_end(sig, at + 1, depth + 1)
            }
        }
        Some(b'(') => {
            let mut p = at + 1;
            if sig.get(p) == Some(&b')') {
                return Err(DbusError::Malformed("empty struct"));
            }
            while sig.get(p) != Some(&b')') {
                p = complete_type_end(sig, p, depth + 1)?;
            }
            Ok(p + 1)
        }
        Some(_) => Err(DbusError::Malformed("unknown type code in signature")),
    }
}

/// Splits a signature into its complete types, refusing anything malformed.
fn split_signature(sig: &str) -> Result<Vec<&str>> {
    if sig.len() > 255 {
        return Err(DbusError::Malformed("signature longer than 255 bytes"));
    }
    let bytes = sig.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = complete_type_end(bytes, at, 0)?;
        out.push(&sig[at..end]);
        at = end;
    }
    Ok(out)
}

fn alignment(code: u8) -> usize {
    match code {
        b'y' | b'g' | b'v' => 1,
        b'n' | b'q' => 2,
        b'b' | b'i' | b'u' | b's' | b'o' | b'h' | b'a' => 4,
        // x t d ( {
        _ => 8,
    }
}

/// The spec's object path grammar: "/" or "/" separated non-empty [A-Za-z0-9_]
/// elements, no trailing "/".
pub fn valid_object_path(p: &str) -> bool {
    if p == "/" {
        return true;
    }
    let Some(rest) = p.strip_prefix('/') else {
        return false;
    };
    rest.split('/')
        .all(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

// ------------------------------------------------------------------ reading

/// Reads values out of one message, offsets counted from the message's start.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big: bool,
}

impl<'a> Reader<'a> {
    fn align(&mut self, n: usize) -> Result<()> {
        let pad = (n - self.pos % n) % n;
        let bytes = self.take(pad)?;
        if bytes.iter().any(|&b| b != 0) {
            return Err(DbusError::Malformed("non-zero padding"));
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DbusError::Malformed(
                "value runs past the end of the message",
            ))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.align(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        if self.big {
            a.reverse();
        }
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.fixed::<4>()?))
    }

    /// The bytes of a string-like value of `len` bytes, then its NUL.
    fn text(&mut self, len: usize) -> Result<String> {
        let bytes = self.take(len)?;
        if self.take(1)?[0] != 0 {
            return Err(DbusError::Malformed("string not NUL-terminated"));
        }
        if bytes.contains(&0) {
            return Err(DbusError::Malformed("NUL inside a string"));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| DbusError::Malformed("string is not UTF-8"))
    }

    fn signature(&mut self) -> Result<String> {
        let len = self.take(1)?[0] as usize;
        let s = self.text(len)?;
        split_signature(&s)?;
        Ok(s)
    }

    /// One value of the single complete type `sig`.
    fn value(&mut self, sig: &[u8], depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(DbusError::Malformed("values nested too deep"));
        }
        let code = *sig.first().ok_or(DbusError::Malformed("empty type"))?;
        Ok(match code {
            b'y' => Value::Byte(self.take(1)?[0]),
            b'b' => match self.u32()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(DbusError::Malformed("boolean other than 0 or 1")),
            },
            b'n' => Value::Int16(i16::from_le_bytes(self.fixed::<2>()?)),
            b'q' => Value::Uint16(u16::from_le_bytes(self.fixed::<2>()?)),
            b'i' => Value::Int32(i32::from_le_bytes(self.fixed::<4>()?)),
            b'u' => Value::Uint32(self.u32()?),
            b'h' => Value::UnixFd(self.u32()?),
            b'x' => Value::Int64(i64::from_le_bytes(self.fixed::<8>()?)),
            b't' => Value::Uint64(u64::from_le_bytes(self.fixed::<8>()?)),
            b'd' => Value::Double(f64::from_le_bytes(self.fixed::<8>()?)),
            b's' | b'o' => {
                let len = self.u32()? as usize;
                let s = self.text(len)?;
                if code == b'o' {
                    if !valid_object_path(&s) {
                        return Err(DbusError::Malformed("invalid object path"));
                    }
                    Value::ObjectPath(s)
                } else {
                    Value::String(s)
                }
            }
            b'g' => Value::Signature(self.signature()?),
            b'v' => {
                let inner = self.signature()?;
                let types = split_signature(&inner)?;
                if types.len() != 1 {
                    return Err(DbusError::Malformed("variant holds not exactly one type"));
                }
                Value::Variant(Box::new(self.value(inner.as_bytes(), depth + 1)?))
            }
            b'a' => {
                let element = &sig[1..];
                let len = self.u32()? as usize;
                if len > MAX_MESSAGE {
                    return Err(DbusError::Malformed("array longer than the message"));
                }
                let first = *element
                    .first()
                    .ok_or(DbusError::Malformed("array without an element type"))?;
                self.align(alignment(first))?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or(DbusError::Malformed(
                        "array runs past the end of the message",
                    ))?;
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(element, depth + 1)?);
                }
                if self.pos != end {
                    return Err(DbusError::Malformed(
                        "array element crosses the array's end",
                    ));
                }
                let element = String::from_utf8_lossy(element).into_owned();
                Value::Array { element, items }
            }
            b'(' => {
                self.align(8)?;
                let inner = sig
                    .get(1..sig.len().saturating_sub(1))
                    .filter(|i| !i.is_empty() && sig.last() == Some(&b')'))
                    .ok_or(DbusError::Malformed("struct type cut short"))?;
                let mut fields = Vec::new();
                let mut at = 0;
                while at < inner.len() {
                    let end = complete_type_end(inner, at, depth + 1)?;
                    fields.push(self.value(&inner[at..end], depth + 1)?);
                    at = end;
                }
                Value::Struct(fields)
            }
            b'{' => {
                self.align(8)?;
                let key_end = complete_type_end(sig, 1, depth + 1)?;
                let (Some(key_sig), Some(val_sig)) = (
                    sig.get(1..key_end),
                    sig.get(key_end..sig.len().saturating_sub(1)),
                ) else {
                    return Err(DbusError::Malformed("dict entry type too short"));
                };
                let key = self.value(key_sig, depth + 1)?;
                let val = self.value(val_sig, depth + 1)?;
                Value::DictEntry(Box::new(key), Box::new(val))
            }
            _ => return Err(DbusError::Malformed("unknown type code")),
        })
    }
}

/// The fixed part of a header: endianness, type, flags, version, body length, serial,
/// header-field array length. Returns (total message length, big-endian).
fn header_lengths(fixed: &[u8; 16]) -> Result<(usize, bool)> {
    let big = match fixed[0] {
        b'l' => false,
        b'B' => true,
        _ => return Err(DbusError::Malformed("unknown byte order")),
    };
    if fixed[3] != 1 {
        return Err(DbusError::Malformed("protocol version is not 1"));
    }
    let word = |at: usize| {
        let mut a = [fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]];
        if big {
            a.reverse();
        }
        u32::from_le_bytes(a) as usize
    };
    let body = word(4);
    let fields = word(12);
    if body > MAX_MESSAGE || fields > MAX_MESSAGE {
        return Err(DbusError::TooLarge(body.max(fields)));
    }
    let header = (16 + fields).div_ceil(8) * 8;
    let total = header + body;
    if total > MAX_MESSAGE {
        return Err(DbusError::TooLarge(total));
    }
    Ok((total, big))
}

/// Decodes one whole message (exactly `buf`).
pub fn decode(buf: &[u8]) -> Result<Message> {
    let fixed: &[u8; 16] = buf
        .get(..16)
        .and_then(|b| b.try_into().ok())
        .ok_or(DbusError::Malformed("shorter than a header"))?;
    let (total, big) = header_lengths(fixed)?;
    if total != buf.len() {
        return Err(DbusError::Malformed("length does not match the header"));
    }
    let mut r = Reader { buf, pos: 4, big };
    let body_len = r.u32()? as usize;
    let serial = r.u32()?;
    if serial == 0 {
        return Err(DbusError::Malformed("serial 0"));
    }
    let mut msg = Message {
        kind: match buf[1] {
            1 => Some(MessageType::MethodCall),
            2 => Some(MessageType::MethodReturn),
            3 => Some(MessageType::Error),
            4 => Some(MessageType::Signal),
            // The spec: unknown types must be ignored, not refused.
            _ => None,
        },
        flags: buf[2],
        serial,
        ..Message::default()
    };
    let mut signature = String::new();
    let Value::Array { items, .. } = r.value(b"a(yv)", 0)? else {
        return Err(DbusError::Malformed("header fields"));
    };
    for field in items {
        let Value::Struct(mut pair) = field else {
            return Err(DbusError::Malformed("header field"));
        };
        let (Some(v), Some(Value::Byte(code))) = (pair.pop(), pair.pop()) else {
            return Err(DbusError::Malformed("header field"));
        };
        let v = v.into_inner();
        let text = |v: &Value, want: &str| match v {
            Value::String(s) if want == "s" => Ok(s.clone()),
            Value::ObjectPath(s) if want == "o" => Ok(s.clone()),
            Value::Signature(s) if want == "g" => Ok(s.clone()),
            _ => Err(DbusError::Malformed("header field of the wrong type")),
        };
        match code {
            F_PATH => msg.path = Some(text(&v, "o")?),
            F_INTERFACE => msg.interface = Some(text(&v, "s")?),
            F_MEMBER => msg.member = Some(text(&v, "s")?),
            F_ERROR_NAME => msg.error_name = Some(text(&v, "s")?),
            F_REPLY_SERIAL => {
                msg.reply_serial = Some(
                    v.as_u32()
                        .ok_or(DbusError::Malformed("reply serial is not a uint32"))?,
                )
            }
            F_DESTINATION => msg.destination = Some(text(&v, "s")?),
            F_SENDER => msg.sender = Some(text(&v, "s")?),
            F_SIGNATURE => signature = text(&v, "g")?,
            // Unknown fields (and UNIX_FDS, which we never negotiate) are ignored.
            _ => {}
        }
    }
    r.align(8)?;
    let body_start = r.pos;
    if body_start + body_len != buf.len() {
        return Err(DbusError::Malformed("body length does not match"));
    }
    for t in split_signature(&signature)? {
        msg.body.push(r.value(t.as_bytes(), 0)?);
    }
    if r.pos != buf.len() {
        return Err(DbusError::Malformed("body longer than its signature"));
    }
    match msg.kind {
        Some(MessageType::MethodReturn) if msg.reply_serial.is_none() => {
            return Err(DbusError::Malformed("method return without a reply serial"))
        }
        Some(MessageType::Error) if msg.reply_serial.is_none() || msg.error_name.is_none() => {
            return Err(DbusError::Malformed("error without a name or reply serial"))
        }
        _ => {}
    }
    Ok(msg)
}

// ------------------------------------------------------------------ writing

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, n: usize) {
        while self.buf.len() % n != 0 {
            self.buf.push(0);
        }
    }

    fn u32(&mut self, n: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn text(&mut self, s: &str) -> Result<()> {
        if s.contains('\0') {
            return Err(DbusError::Invalid("a string with a NUL byte"));
        }
        let len = u32::try_from(s.len()).map_err(|_| DbusError::Invalid("a huge string"))?;
        self.u32(len);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        Ok(())
    }

    fn signature(&mut self, s: &str) -> Result<()> {
        split_signature(s).map_err(|_| DbusError::Invalid("a malformed signature"))?;
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        Ok(())
    }

    fn value(&mut self, v: &Value) -> Result<()> {
        match v {
            Value::Byte(b) => self.buf.push(*b),
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::Int16(n) => self.fixed(&n.to_le_bytes()),
            Value::Uint16(n) => self.fixed(&n.to_le_bytes()),
            Value::Int32(n) => self.fixed(&n.to_le_bytes()),
            Value::Uint32(n) | Value::UnixFd(n) => self.u32(*n),
            Value::Int64(n) => self.fixed(&n.to_le_bytes()),
            Value::Uint64(n) => self.fixed(&n.to_le_bytes()),
            Value::Double(n) => self.fixed(&n.to_le_bytes()),
            Value::String(s) => self.text(s)?,
            Value::ObjectPath(p) => {
                if !valid_object_path(p) {
                    return Err(DbusError::Invalid("an invalid object path"));
                }
                self.text(p)?
            }
            Value::Signature(s) => self.signature(s)?,
            Value::Variant(inner) => {
                self.signature(&inner.signature())?;
                self.value(inner)?;
            }
            Value::Array { element, items } => {
                let first = *element
                    .as_bytes()
                    .first()
                    .ok_or(DbusError::Invalid("an array without an element type"))?;
                if items.iter().any(|i| i.signature() != *element) {
                    return Err(DbusError::Invalid("an array of mixed types"));
                }
                self.u32(0);
                let len_at = self.buf.len() - 4;
                self.pad(alignment(first));
                let start = self.buf.len();
                for i in items {
                    self.value(i)?;
                }
                let len = u32::try_from(self.buf.len() - start)
                    .map_err(|_| DbusError::Invalid("a huge array"))?;
                self.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            }
            Value::Struct(fields) => {
                if fields.is_empty() {
                    return Err(DbusError::Invalid("an empty struct"));
                }
                self.pad(8);
                for f in fields {
                    self.value(f)?;
                }
            }
            Value::DictEntry(k, val) => {
                self.pad(8);
                self.value(k)?;
                self.value(val)?;
            }
        }
        Ok(())
    }

    fn fixed(&mut self, bytes: &[u8]) {
        self.pad(bytes.len());
        self.buf.extend_from_slice(bytes);
    }
}

/// Encodes a METHOD_CALL (little-endian, no flags).
pub fn encode_call(
    serial: u32,
    destination: &str,
    path: &str,
    interface: &str,
    member: &str,
    args: &[Value],
) -> Result<Vec<u8>> {
    if serial == 0 {
        return Err(DbusError::Invalid("serial 0"));
    }
    let mut body = Writer { buf: Vec::new() };
    for a in args {
        body.value(a)?;
    }
    let signature: String = args.iter().map(Value::signature).collect();
    let field =
        |code: u8, v: Value| Value::Struct(vec![Value::Byte(code), Value::Variant(Box::new(v))]);
    let mut fields = vec![
        field(F_PATH, Value::ObjectPath(path.to_string())),
        field(F_INTERFACE, Value::String(interface.to_string())),
        field(F_MEMBER, Value::String(member.to_string())),
        field(F_DESTINATION, Value::String(destination.to_string())),
    ];
    if !signature.is_empty() {
        fields.push(field(F_SIGNATURE, Value::Signature(signature)));
    }
    let body_len = u32::try_from(body.buf.len()).map_err(|_| DbusError::Invalid("a huge body"))?;
    let mut w = Writer {
        buf: vec![b'l', MessageType::MethodCall as u8, 0, 1],
    };
    w.u32(body_len);
    w.u32(serial);
    w.value(&Value::Array {
        element: "(yv)".into(),
        items: fields,
    })?;
    w.pad(8);
    w.buf.extend_from_slice(&body.buf);
    if w.buf.len() > MAX_MESSAGE {
        return Err(DbusError::Invalid("a message over our size limit"));
    }
    Ok(w.buf)
}

// ------------------------------------------------------------------ addresses

/// Decodes the `%XX` escapes of an address value.
fn unescape(v: &str) -> Option<Vec<u8>> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The socket addresses of a D-Bus address string, in order (unsupported
/// transports skipped; none usable is an error).
pub fn parse_address(address: &str) -> Result<Vec<SocketAddr>> {
    let bad = |why| DbusError::Address {
        address: address.to_string(),
        why,
    };
    let mut out = Vec::new();
    for entry in address.split(';').filter(|e| !e.is_empty()) {
        let Some(("unix", keys)) = entry.split_once(':') else {
            continue;
        };
        for kv in keys.split(',') {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(bad("a key without a value"));
            };
            let v = unescape(v).ok_or(bad("a bad %-escape"))?;
            match k {
                "path" => {
                    let p = std::ffi::OsStr::new(
                        std::str::from_utf8(&v).map_err(|_| bad("a path that is not UTF-8"))?,
                    );
                    out.push(SocketAddr::from_pathname(p).map_err(|_| bad("an unusable path"))?);
                }
                "abstract" => out
                    .push(SocketAddr::from_abstract_name(&v).map_err(|_| bad("an unusable name"))?),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        return Err(bad("no unix:path= or unix:abstract= transport"));
    }
    Ok(out)
}

// ------------------------------------------------------------------ connection

/// An authenticated connection to a bus, with one total deadline.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    next_serial: u32,
    deadline: Instant,
    budget: Duration,
    unique_name: String,
}

impl Connection {
    /// The system bus, everything (connect, auth, Hello, later calls) within `timeout`.
    pub fn system(timeout: Duration) -> Result<Connection> {
        let address = std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
            .ok()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| SYSTEM_BUS_DEFAULT.to_string());
        Connection::open(&address, timeout)
    }

    /// The bus at `address`, everything within `timeout`.
    pub fn open(address: &str, timeout: Duration) -> Result<Connection> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        let mut stream = None;
        for addr in parse_address(address)? {
            match UnixStream::connect_addr(&addr) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = stream.ok_or_else(|| DbusError::Connect {
            address: address.to_string(),
            source: last.unwrap_or_else(|| io::Error::other("no address")),
        })?;
        let mut conn = Connection {
            stream,
            next_serial: 1,
            deadline,
            budget: timeout,
            unique_name: String::new(),
        };
        conn.authenticate()?;
        let reply = conn.call(BUS_NAME, BUS_PATH, BUS_NAME, "Hello", &[])?;
        conn.unique_name = match reply.first() {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(DbusError::Unexpected("Hello did not return a name".into())),
        };
        Ok(conn)
    }

    /// The name the bus gave us at Hello (":1.42").
    pub fn unique_name(&self) -> &str {
        &self.unique_name
    }

    /// What is left of the deadline, or Timeout; also sets the socket timeouts to it.
    fn arm(&mut self) -> Result<()> {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(DbusError::Timeout(self.budget))?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.set_write_timeout(Some(left))?;
        Ok(())
    }

    fn io_err(&self, e: io::Error) -> DbusError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => DbusError::Timeout(self.budget),
            io::ErrorKind::UnexpectedEof => DbusError::Closed,
            _ => DbusError::Io(e),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let mut done = 0;
        while done < bytes.len() {
            self.arm()?;
            match self.stream.write(&bytes[done..]) {
                Ok(0) => return Err(DbusError::Closed),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(e)),
            }
        }
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            self.arm()?;
            match self.stream.read(&mut buf[done..]) {
                Ok(0) => return Err(DbusError::Closed),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(e)),
            }
        }
        Ok(())
    }

    /// One SASL line, without its CR LF. Read a byte at a time: nothing may be read
    /// past the line (the bus sends nothing more before BEGIN anyway).
    fn auth_line(&mut self) -> Result<String> {
        let mut line = Vec::new();
        loop {
            let mut b = [0u8; 1];
            self.read_exact(&mut b)?;
            line.push(b[0]);
            if line.ends_with(b"\r\n") {
                line.truncate(line.len() - 2);
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if line.len() > MAX_AUTH_LINE {
                return Err(DbusError::Auth("an authentication line too long".into()));
            }
        }
    }

    fn authenticate(&mut self) -> Result<()> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        let hex: String = uid
            .to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
        let line = self.auth_line()?;
        if !line.starts_with("OK ") {
            let shown: String = line.chars().filter(|c| !c.is_control()).take(80).collect();
            return Err(DbusError::Auth(shown));
        }
        self.write_all(b"BEGIN\r\n")
    }

    /// Reads one whole message (bounded by MAX_MESSAGE and the deadline).
    fn read_message(&mut self) -> Result<Message> {
        let mut fixed = [0u8; 16];
        self.read_exact(&mut fixed)?;
        let (total, _) = header_lengths(&fixed)?;
        let mut buf = vec![0u8; total];
        buf[..16].copy_from_slice(&fixed);
        self.read_exact(&mut buf[16..])?;
        decode(&buf)
    }

    /// Calls `member` and returns the reply's body; an ERROR reply is
    /// [`DbusError::Remote`].
    pub fn call(
        &mut self,
        destination: &str,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Value],
    ) -> Result<Vec<Value>> {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.checked_add(1).unwrap_or(1);
        let bytes = encode_call(serial, destination, path, interface, member, args)?;
        self.write_all(&bytes)?;
        for _ in 0..MAX_SKIPPED {
            let msg = self.read_message()?;
            if msg.reply_serial != Some(serial) {
                continue;
            }
            match msg.kind {
                Some(MessageType::MethodReturn) => return Ok(msg.body),
                Some(MessageType::Error) => {
                    let message = match msg.body.first() {
                        Some(Value::String(s)) => s.clone(),
                        _ => String::new(),
                    };
                    return Err(DbusError::Remote {
                        name: msg.error_name.unwrap_or_default(),
                        message,
                    });
                }
                _ => continue,
            }
        }
        Err(DbusError::Unexpected(format!(
            "no reply to {member} among {MAX_SKIPPED} messages"
        )))
    }

    /// org.freedesktop.DBus.Properties.Get: the property's value, out of its variant.
    pub fn get_property(
        &mut self,
        destination: &str,
        path: &str,
        interface: &str,
        property: &str,
    ) -> Result<Value> {
        let args = [
            Value::String(interface.to_string()),
            Value::String(property.to_string()),
        ];
        let mut body = self.call(destination, path, PROPERTIES, "Get", &args)?;
        match (body.pop(), body.is_empty()) {
            (Some(v @ Value::Variant(_)), true) => Ok(v.into_inner()),
            _ => Err(DbusError::Unexpected(format!(
                "Properties.Get {interface}.{property} did not return one variant"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Byte fixtures written by hand from the specification's "Message Protocol"
    //! section: the fixed header (endianness 'l', type, flags, version 1, body
    //! length, serial), the header-field array a(yv) starting at offset 12 with its
    //! elements 8-aligned, the body on the next 8-byte boundary.
    use super::*;

    /// Little-endian u32.
    fn le(n: u32) -> [u8; 4] {
        n.to_le_bytes()
    }

    /// A string-like value as marshalled: length, bytes, NUL (alignment by caller).
    fn s(text: &str) -> Vec<u8> {
        let mut v = le(text.len() as u32).to_vec();
        v.extend_from_slice(text.as_bytes());
        v.push(0);
        v
    }

    #[test]
    fn hello_call_is_marshalled_as_the_spec_says() {
        let mut want: Vec<u8> = vec![b'l', 1, 0, 1];
        want.extend(le(0)); // no body
        want.extend(le(1)); // serial
        want.extend(le(109)); // header fields: bytes 16..125
                              // offset 16: PATH, variant signature "o", then the path (len 21) at 20.
        want.extend([1, 1, b'o', 0]);
        want.extend(s("/org/freedesktop/DBus")); // 20..46
        want.extend([0, 0]); // pad to 48
        want.extend([2, 1, b's', 0]);
        want.extend(s("org.freedesktop.DBus")); // 52..77
        want.extend([0, 0, 0]); // pad to 80
        want.extend([3, 1, b's', 0]);
        want.extend(s("Hello")); // 84..94
        want.extend([0, 0]); // pad to 96
        want.extend([6, 1, b's', 0]);
        want.extend(s("org.freedesktop.DBus")); // 100..125
        want.extend([0, 0, 0]); // header padded to 128, no body
        assert_eq!(want.len(), 128);
        let got = encode_call(
            1,
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "Hello",
            &[],
        )
        .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn call_with_args_pads_the_body_and_states_its_signature() {
        // Properties.Get("org.freedesktop.systemd1.Unit", "Job"): body "ss".
        let got = encode_call(
            5,
            "org.freedesktop.systemd1",
            "/org/freedesktop/systemd1/unit/exabgp_40a_2eservice",
            "org.freedesktop.DBus.Properties",
            "Get",
            &[
                Value::String("org.freedesktop.systemd1.Unit".into()),
                Value::String("Job".into()),
            ],
        )
        .unwrap();
        let mut body = s("org.freedesktop.systemd1.Unit"); // 4 + 29 + 1 = 34
        body.extend([0, 0]); // the next string is 4-aligned: 36
        body.extend(s("Job"));
        assert_eq!(got[4..8], le(body.len() as u32));
        assert_eq!(got[8..12], le(5));
        assert_eq!(got.len() % 8, body.len() % 8);
        assert!(got.ends_with(&body));
        // The SIGNATURE field: code 8, variant of type "g", the signature "ss".
        let sig_field = [8, 1, b'g', 0, 2, b's', b's', 0];
        assert!(got.windows(8).any(|w| w == sig_field));
        // And it reads back as what was sent.
        let m = decode(&got).unwrap();
        assert_eq!(m.kind, Some(MessageType::MethodCall));
        assert_eq!(m.member.as_deref(), Some("Get"));
        assert_eq!(
            m.interface.as_deref(),
            Some("org.freedesktop.DBus.Properties")
        );
        assert_eq!(
            m.body,
            vec![
                Value::String("org.freedesktop.systemd1.Unit".into()),
                Value::String("Job".into())
            ]
        );
    }

    /// A METHOD_RETURN as a bus sends it: reply serial 3, signature "o".
    fn unit_reply() -> Vec<u8> {
        let mut m: Vec<u8> = vec![b'l', 2, 1, 1];
        m.extend(le(12)); // body
        m.extend(le(7)); // serial
        m.extend(le(15)); // fields: 16..31
        m.extend([5, 1, b'u', 0]);
        m.extend(le(3));
        m.extend([8, 1, b'g', 0, 1, b'o', 0]);
        m.push(0); // pad to 32
        m.extend(s("/unit/a")); // 4 + 7 + 1
        m
    }

    #[test]
    fn method_return_decodes() {
        let m = decode(&unit_reply()).unwrap();
        assert_eq!(m.kind, Some(MessageType::MethodReturn));
        assert_eq!(m.flags, 1);
        assert_eq!(m.serial, 7);
        assert_eq!(m.reply_serial, Some(3));
        assert_eq!(m.body, vec![Value::ObjectPath("/unit/a".into())]);
    }

    #[test]
    fn big_endian_messages_decode_too() {
        let mut m: Vec<u8> = vec![b'B', 2, 0, 1];
        m.extend(6u32.to_be_bytes()); // body: a uint32 and a uint16
        m.extend(9u32.to_be_bytes()); // serial
        m.extend(16u32.to_be_bytes()); // fields: 16..32
        m.extend([5, 1, b'u', 0]);
        m.extend(3u32.to_be_bytes());
        m.extend([8, 1, b'g', 0, 2, b'u', b'q', 0]);
        m.extend(0xdead_beefu32.to_be_bytes());
        m.extend(0x1234u16.to_be_bytes());
        let msg = decode(&m).unwrap();
        assert_eq!(msg.reply_serial, Some(3));
        assert_eq!(
            msg.body,
            vec![Value::Uint32(0xdead_beef), Value::Uint16(0x1234)]
        );
    }

    #[test]
    fn error_reply_decodes_with_name_and_message() {
        let name = "org.freedesktop.DBus.Error.UnknownMethod";
        let mut fields: Vec<u8> = Vec::new(); // relative to offset 16 (8-aligned)
        fields.extend([4, 1, b's', 0]);
        fields.extend(s(name)); // 4 + 4 + 40 + 1 = 49 -> pad to 56
        fields.extend([0; 7]);
        fields.extend([5, 1, b'u', 0]);
        fields.extend(le(2)); // 64
        fields.extend([8, 1, b'g', 0, 1, b's', 0]); // 71
        let body = s("no such method");
        let mut m: Vec<u8> = vec![b'l', 3, 1, 1];
        m.extend(le(body.len() as u32));
        m.extend(le(4));
        m.extend(le(fields.len() as u32));
        m.extend(&fields);
        m.push(0); // 16 + 71 = 87 -> 88
        m.extend(&body);
        let msg = decode(&m).unwrap();
        assert_eq!(msg.kind, Some(MessageType::Error));
        assert_eq!(msg.error_name.as_deref(), Some(name));
        assert_eq!(msg.reply_serial, Some(2));
        assert_eq!(msg.body, vec![Value::String("no such method".into())]);
    }

    /// The body of Properties.Get for Unit.Job: a variant holding (uo).
    #[test]
    fn variant_of_struct_uo() {
        let mut body: Vec<u8> = vec![4, b'(', b'u', b'o', b')', 0]; // signature "(uo)"
        body.extend([0, 0]); // struct: 8-aligned
        body.extend(le(42));
        body.extend(s("/org/freedesktop/systemd1/job/42"));
        let mut r = Reader {
            buf: &body,
            pos: 0,
            big: false,
        };
        let v = r.value(b"v", 0).unwrap();
        assert_eq!(r.pos, body.len());
        assert_eq!(
            v.into_inner(),
            Value::Struct(vec![
                Value::Uint32(42),
                Value::ObjectPath("/org/freedesktop/systemd1/job/42".into())
            ])
        );
    }

    #[test]
    fn arrays_pad_to_their_element_and_round_trip() {
        // a(yu): length 16 at 0, pad to 8, (7, 1) at 8..16, (8, 2) at 16..24.
        let v = Value::Array {
            element: "(yu)".into(),
            items: vec![
                Value::Struct(vec![Value::Byte(7), Value::Uint32(1)]),
                Value::Struct(vec![Value::Byte(8), Value::Uint32(2)]),
            ],
        };
        let mut w = Writer { buf: Vec::new() };
        w.value(&v).unwrap();
        let mut want = le(16).to_vec();
        want.extend([0; 4]);
        want.extend([7, 0, 0, 0]);
        want.extend(le(1));
        want.extend([8, 0, 0, 0]);
        want.extend(le(2));
        assert_eq!(w.buf, want);
        let mut r = Reader {
            buf: &want,
            pos: 0,
            big: false,
        };
        assert_eq!(r.value(b"a(yu)", 0).unwrap(), v);
        // An empty array of 8-aligned elements still pads after its length.
        let empty = Value::Array {
            element: "t".into(),
            items: vec![],
        };
        let mut w = Writer { buf: Vec::new() };
        w.value(&empty).unwrap();
        assert_eq!(w.buf, [0, 0, 0, 0, 0, 0, 0, 0]);
        // a{sv} round trip
        let dict = Value::Array {
            element: "{sv}".into(),
            items: vec![Value::DictEntry(
                Box::new(Value::String("k".into())),
                Box::new(Value::Variant(Box::new(Value::Bool(true)))),
            )],
        };
        let mut w = Writer { buf: Vec::new() };
        w.value(&dict).unwrap();
        let mut r = Reader {
            buf: &w.buf,
            pos: 0,
            big: false,
        };
        assert_eq!(r.value(b"a{sv}", 0).unwrap(), dict);
    }

    #[test]
    fn malformed_messages_are_errors() {
        let good = unit_reply();
        let malformed = |m: &[u8]| match decode(m) {
            Err(DbusError::Malformed(_)) | Err(DbusError::TooLarge(_)) => {}
            other => panic!("{other:?} for {m:?}"),
        };
        malformed(&good[..good.len() - 1]); // truncated
        malformed(&good[..10]);
        let mut m = good.clone();
        m[0] = b'x'; // byte order
        malformed(&m);
        let mut m = good.clone();
        m[3] = 2; // version
        malformed(&m);
        let mut m = good.clone();
        m[31] = 1; // header padding not zero
        malformed(&m);
        let mut m = good.clone();
        m[8..12].copy_from_slice(&le(0)); // serial 0
        malformed(&m);
        let mut m = good.clone();
        m[36] = b'x'; // "/unit/a" -> "xunit/a": not an object path
        malformed(&m);
        let mut m = good.clone();
        m[36 + 7] = 1; // the path's NUL
        malformed(&m);
        let mut m = good.clone();
        m[37] = 0xff; // not UTF-8
        malformed(&m);
        let mut m = good.clone();
        m[32..36].copy_from_slice(&le(0xffff_fff0)); // string length past the end
        malformed(&m);
        let mut m = good.clone();
        m[4..8].copy_from_slice(&le(u32::MAX)); // body length: over the limit
        malformed(&m);
        let mut m = good.clone();
        m[29] = b'!'; // signature "o" -> "!"
        malformed(&m);
        // A method return without a reply serial: field code 5 -> 9 (unknown).
        let mut m = good.clone();
        m[16] = 9;
        malformed(&m);
    }

    #[test]
    fn booleans_and_nesting_are_checked() {
        let two = le(2);
        let mut r = Reader {
            buf: &two,
            pos: 0,
            big: false,
        };
        assert!(matches!(r.value(b"b", 0), Err(DbusError::Malformed(_))));
        // A signature nested deeper than MAX_DEPTH.
        let deep = "a".repeat(MAX_DEPTH + 2) + "y";
        assert!(split_signature(&deep).is_err());
        // Variants nested in variants: each level is a new signature "v".
        let mut bomb = Vec::new();
        for _ in 0..200 {
            bomb.extend([1, b'v', 0]);
        }
        let mut r = Reader {
            buf: &bomb,
            pos: 0,
            big: false,
        };
        assert!(matches!(r.value(b"v", 0), Err(DbusError::Malformed(_))));
        // Container types cut short never panic the reader either.
        for sig in [&b"("[..], b"{", b"{s", b"a", b"(u"] {
            let mut r = Reader {
                buf: &[0u8; 16],
                pos: 0,
                big: false,
            };
            assert!(r.value(sig, 0).is_err(), "{sig:?}");
        }
        assert!(split_signature("(").is_err());
        assert!(split_signature("()").is_err());
        assert!(split_signature("a{vs}").is_err());
        assert!(split_signature("a").is_err());
        assert_eq!(
            split_signature("sa{sv}(uo)").unwrap(),
            ["s", "a{sv}", "(uo)"]
        );
    }

    #[test]
    fn object_paths_follow_the_grammar() {
        for ok in [
            "/",
            "/a",
            "/org/freedesktop/systemd1/unit/exabgp_40a_2eservice",
        ] {
            assert!(valid_object_path(ok), "{ok}");
        }
        for bad in ["", "a", "//", "/a/", "/a//b", "/a-b", "/é"] {
            assert!(!valid_object_path(bad), "{bad}");
        }
        let r = encode_call(1, "d", "/a-b", "i.f", "M", &[]);
        assert!(matches!(r, Err(DbusError::Invalid(_))));
    }

    #[test]
    fn addresses() {
        let a = parse_address("unix:path=/run/dbus/system_bus_socket").unwrap();
        assert_eq!(
            a[0].as_pathname(),
            Some(std::path::Path::new("/run/dbus/system_bus_socket"))
        );
        let a = parse_address("tcp:host=x,port=1;unix:abstract=%2fbus%20x,guid=00").unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].as_abstract_name(), Some(&b"/bus x"[..]));
        assert!(parse_address("tcp:host=x").is_err());
        assert!(parse_address("unix:path=%zz").is_err());
        assert!(parse_address("").is_err());
    }

    proptest::proptest! {
        /// Whatever arrives, decode returns, never panics.
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }

        /// Mutating one byte of a valid message never panics either.
        #[test]
        fn mutated_reply_never_panics(at in 0usize..44, byte in proptest::prelude::any::<u8>()) {
            let mut m = unit_reply();
            m[at] = byte;
            let _ = decode(&m);
        }
    }
}
