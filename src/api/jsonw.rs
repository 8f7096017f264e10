//! A tiny ordered JSON writer: ExaBGP's events list their keys in a fixed order
//! (exabgp, time, host, ...) and serde_json's map would sort them.

/// A JSON string literal, escaped.
pub fn string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// An object under construction; keys keep the order they were added in.
/// [`Obj::set`] replaces a key already there, so an object built from input that
/// may repeat a key (a capability code twice in an OPEN) stays valid JSON.
#[derive(Default)]
pub struct Obj {
    parts: Vec<String>,
    /// The encoded key of each part (for `set`).
    keys: Vec<String>,
}

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }
    /// Add a key with an already-encoded JSON value.
    pub fn raw(mut self, key: &str, value: impl Into<String>) -> Obj {
        let k = string(key);
        self.parts.push(format!("{k}: {}", value.into()));
        self.keys.push(k);
        self
    }
    /// Add a key, or replace its value where it already is (Python's dict
    /// assignment, which ExaBGP's encoder relies on: first place, last value).
    pub fn set(mut self, key: &str, value: impl Into<String>) -> Obj {
        let k = string(key);
        match self.keys.iter().position(|x| *x == k) {
            Some(i) => self.parts[i] = format!("{k}: {}", value.into()),
            None => {
                self.parts.push(format!("{k}: {}", value.into()));
                self.keys.push(k);
            }
        }
        self
    }
    pub fn str(self, key: &str, value: &str) -> Obj {
        let v = string(value);
        self.raw(key, v)
    }
    pub fn num(self, key: &str, value: impl std::fmt::Display) -> Obj {
        self.raw(key, value.to_string())
    }
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
    pub fn build(self) -> String {
        format!("{{{}}}", self.parts.join(", "))
    }
}

/// A JSON array of already-encoded values.
pub fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}
