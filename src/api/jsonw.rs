//! A tiny ordered JSON writer: ExaBGP's events list their keys in a fixed order
//! (exabgp, time, host, ...) and serde_json's map would sort them.

/// A JSON string literal, escaped.
pub fn string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// An object under construction; keys keep the order they were added in.
#[derive(Default)]
pub struct Obj {
    parts: Vec<String>,
}

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }
    /// Add a key with an already-encoded JSON value.
    pub fn raw(mut self, key: &str, value: impl Into<String>) -> Obj {
        self.parts
            .push(format!("{}: {}", string(key), value.into()));
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
