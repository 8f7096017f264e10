//! Reading a parsed TOML tree by hand, collecting every problem with its span.
//!
//! We walk `toml::de::DeTable` (which keeps the byte span of every key and value)
//! instead of deriving serde structs: serde stops at the first error, and we want all
//! of them, each pointing at the offending key or value.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::Diagnostic;
use super::position::LineIndex;

/// A value with its span in the source.
pub(crate) type SValue<'i> = Spanned<DeValue<'i>>;

/// String items with their spans, and the span of the whole array.
pub(crate) type StrItems<'t> = (Vec<(&'t str, Range<usize>)>, Range<usize>);

/// The error collector for one file.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) index: LineIndex<'a>,
    errors: Vec<(usize, String)>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            index: LineIndex::new(text),
            errors: Vec::new(),
        }
    }

    /// Record a problem at the start of `span`.
    pub(crate) fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.errors.push((span.start, message.into()));
    }

    /// 1-based line of a span, to name "first defined at line N".
    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.index.line(span.start)
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every problem, in file order (stable for problems at the same place).
    pub(crate) fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        self.errors.sort_by_key(|(offset, _)| *offset);
        self.errors
            .into_iter()
            .map(|(offset, message)| {
                let (line, col) = self.index.position(offset);
                Diagnostic {
                    file: self.file.to_string(),
                    line,
                    col,
                    message,
                }
            })
            .collect()
    }
}

/// "a string", "an integer", ... for messages.
pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// One TOML table being read: which keys it may have, and typed getters that record
/// type errors. `what` names the table in messages, e.g. `[[neighbor]]`.
pub(crate) struct Table<'t, 'i> {
    pub(crate) table: &'t DeTable<'i>,
    /// The span of the table (its header, or the whole inline table).
    pub(crate) span: Range<usize>,
    pub(crate) what: &'static str,
}

impl<'t, 'i> Table<'t, 'i> {
    /// Report every key not in `allowed`, with a suggestion when one is close.
    pub(crate) fn check_keys(&self, ctx: &mut Ctx<'_>, allowed: &[&str]) {
        for key in self.table.keys() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let hint = match suggest(name, allowed) {
                Some(s) => format!(" (did you mean '{s}'?)"),
                None => String::new(),
            };
            ctx.error(
                &key.span(),
                format!(
                    "unknown key '{name}' in {}{hint}, expected one of: {}",
                    self.what,
                    allowed.join(", ")
                ),
            );
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'t SValue<'i>> {
        self.table.get(key)
    }

    /// A required key is missing: report at the table header.
    pub(crate) fn missing(&self, ctx: &mut Ctx<'_>, key: &str, expected: &str) {
        ctx.error(
            &self.span,
            format!("{} is missing '{key}', expected {expected}", self.what),
        );
    }

    fn wrong_type(&self, ctx: &mut Ctx<'_>, key: &str, v: &SValue<'_>, expected: &str) {
        ctx.error(
            &v.span(),
            format!(
                "wrong type for {key}: found {}, expected {expected}",
                type_name(v.get_ref())
            ),
        );
    }

    /// A string value, or None (type error recorded) / None (absent).
    pub(crate) fn str(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &str,
    ) -> Option<(&'t str, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.as_ref(), v.span())),
            _ => {
                self.wrong_type(ctx, key, v, expected);
                None
            }
        }
    }

    pub(crate) fn bool(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(ctx, key, v, "true or false");
                None
            }
        }
    }

    /// An integer within `min..=max`; `expected` describes the range for messages.
    pub(crate) fn int(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        min: i128,
        max: i128,
        expected: &str,
    ) -> Option<(i128, Range<usize>)> {
        let v = self.get(key)?;
        let n = int_value(ctx, key, v, min, max, expected)?;
        Some((n, v.span()))
    }

    /// An array: its items, or None (type error recorded or absent).
    pub(crate) fn array(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &str,
    ) -> Option<(&'t [SValue<'i>], Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Array(a) => Some((a.as_ref(), v.span())),
            _ => {
                self.wrong_type(ctx, key, v, expected);
                None
            }
        }
    }

    /// An array of strings; non-string items are reported and skipped.
    pub(crate) fn str_array(
        &self,
        ctx: &mut Ctx<'_>,
        key: &str,
        expected: &str,
    ) -> Option<StrItems<'t>> {
        let (items, span) = self.array(ctx, key, &format!("an array of {expected}"))?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.as_ref(), item.span())),
                other => ctx.error(
                    &item.span(),
                    format!(
                        "wrong type for an item of {key}: found {}, expected {expected}",
                        type_name(other)
                    ),
                ),
            }
        }
        Some((out, span))
    }
}

/// An integer value within `min..=max`, else a recorded error.
pub(crate) fn int_value(
    ctx: &mut Ctx<'_>,
    key: &str,
    v: &SValue<'_>,
    min: i128,
    max: i128,
    expected: &str,
) -> Option<i128> {
    match v.get_ref() {
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                ctx.error(
                    &v.span(),
                    format!("{key} {i} is out of range, expected {expected}"),
                );
                None
            }
        },
        other => {
            ctx.error(
                &v.span(),
                format!(
                    "wrong type for {key}: found {}, expected {expected}",
                    type_name(other)
                ),
            );
            None
        }
    }
}

/// The allowed key closest to `name` (same after '_' -> '-' and lowercasing, the
/// same but for the last character or the ending, or at most two edits away), if any.
pub(crate) fn suggest<'k>(name: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let norm = name.to_ascii_lowercase().replace('_', "-");
    if let Some(k) = allowed.iter().find(|k| **k == norm) {
        return Some(k);
    }
    // A key typed short or with a wrong ending ("community" for "communities").
    let common = |k: &str| {
        norm.chars()
            .zip(k.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    if let Some(k) = allowed.iter().find(|k| {
        let c = common(k);
        c >= 5 && c + 1 >= norm.chars().count()
    }) {
        return Some(k);
    }
    allowed
        .iter()
        .map(|k| (edit_distance(&norm, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, suggest};

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            suggest("hold_time", &["port", "hold-time"]),
            Some("hold-time")
        );
        assert_eq!(suggest("prot", &["port", "hold-time"]), Some("port"));
        assert_eq!(suggest("zzzzzz", &["port"]), None);
    }
}
