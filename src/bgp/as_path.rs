//! AS_PATH (type 2) and AS4_PATH (type 17): segments of 2- or 4-octet AS numbers,
//! and the RFC 6793 translation that keeps the logical path 4-octet.
//!
//! ```text
//! +-----------------+-----------------+------------------------------+
//! | segment type(1) | segment len(1)  | len x AS number (2 or 4 each)|
//! +-----------------+-----------------+------------------------------+
//! ```
//! Types: 1 AS_SET, 2 AS_SEQUENCE (RFC 4271), 3 AS_CONFED_SEQUENCE,
//! 4 AS_CONFED_SET (RFC 5065).

use super::iana::{AS_TRANS, SEG_CONFED_SEQUENCE, SEG_CONFED_SET, SEG_SEQUENCE, SEG_SET};
use super::types::{AsPath, AsSegment};
use super::wire::Reader;

/// Why an AS path did not parse (RFC 7606 §7.2 calls each of these malformed).
pub(crate) fn parse(buf: &[u8], four_octet: bool) -> Result<AsPath, &'static str> {
    let mut r = Reader::new(buf);
    let width = if four_octet { 4 } else { 2 };
    let mut segments = Vec::new();
    while !r.is_empty() {
        let (Some(kind), Some(count)) = (r.u8(), r.u8()) else {
            return Err("segment header truncated");
        };
        if count == 0 {
            return Err("segment of zero length");
        }
        let bytes = r
            .take(usize::from(count) * width)
            .ok_or("segment overruns the attribute")?;
        let asns: Vec<u32> = if four_octet {
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        } else {
            bytes
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                .collect()
        };
        segments.push(match kind {
            SEG_SET => AsSegment::Set(asns),
            SEG_SEQUENCE => AsSegment::Sequence(asns),
            SEG_CONFED_SEQUENCE => AsSegment::ConfedSequence(asns),
            SEG_CONFED_SET => AsSegment::ConfedSet(asns),
            _ => return Err("unknown segment type"),
        });
    }
    Ok(AsPath { segments })
}

fn parts(s: &AsSegment) -> (u8, &[u32]) {
    match s {
        AsSegment::Set(a) => (SEG_SET, a),
        AsSegment::Sequence(a) => (SEG_SEQUENCE, a),
        AsSegment::ConfedSequence(a) => (SEG_CONFED_SEQUENCE, a),
        AsSegment::ConfedSet(a) => (SEG_CONFED_SET, a),
    }
}

fn is_confed(s: &AsSegment) -> bool {
    matches!(s, AsSegment::ConfedSequence(_) | AsSegment::ConfedSet(_))
}

/// Appends the AS_PATH value. Toward a 2-octet speaker every AS above 65535
/// becomes AS_TRANS. Segments longer than 255 ASes are split; empty ones skipped.
pub(crate) fn put(out: &mut Vec<u8>, path: &AsPath, four_octet: bool) {
    put_segments(out, path.segments.iter(), four_octet);
}

/// Appends the AS4_PATH value: the path in 4-octet form without confederation
/// segments (RFC 6793 §4.2.2).
pub(crate) fn put_as4(out: &mut Vec<u8>, path: &AsPath) {
    put_segments(out, path.segments.iter().filter(|s| !is_confed(s)), true);
}

fn put_segments<'a>(
    out: &mut Vec<u8>,
    segments: impl Iterator<Item = &'a AsSegment>,
    four_octet: bool,
) {
    for seg in segments {
        let (kind, asns) = parts(seg);
        for chunk in asns.chunks(255) {
            out.push(kind);
            out.push(chunk.len() as u8);
            for &asn in chunk {
                if four_octet {
                    out.extend_from_slice(&asn.to_be_bytes());
                } else {
                    let two = u16::try_from(asn).unwrap_or(AS_TRANS as u16);
                    out.extend_from_slice(&two.to_be_bytes());
                }
            }
        }
    }
}

/// Does a 2-octet speaker need AS4_PATH to learn this path?
pub(crate) fn needs_as4(path: &AsPath) -> bool {
    path.segments
        .iter()
        .filter(|s| !is_confed(s))
        .any(|s| parts(s).1.iter().any(|&a| a > 0xFFFF))
}

/// Number of ASes for RFC 6793 §4.2.3 (an AS_SET counts one, confederation
/// segments count zero).
fn count(path: &AsPath) -> usize {
    path.segments
        .iter()
        .map(|s| match s {
            AsSegment::Sequence(a) => a.len(),
            AsSegment::Set(_) => 1,
            _ => 0,
        })
        .sum()
}

/// RFC 6793 §4.2.3: rebuild the 4-octet path from AS_PATH (2-octet, with AS_TRANS)
/// and AS4_PATH. If AS_PATH holds fewer ASes than AS4_PATH, AS4_PATH is ignored;
/// otherwise the leading ASes of AS_PATH that AS4_PATH lacks are kept in front of it.
pub(crate) fn merge_as4(as_path: AsPath, as4_path: AsPath) -> AsPath {
    let (n2, n4) = (count(&as_path), count(&as4_path));
    if n2 < n4 {
        return as_path;
    }
    let mut need = n2 - n4;
    let mut segments = Vec::with_capacity(as_path.segments.len() + as4_path.segments.len());
    let mut leading = true;
    for seg in as_path.segments {
        let confed = is_confed(&seg);
        leading &= confed;
        match seg {
            // Confederation segments only lead the path (RFC 5065 §3); others
            // have no place in the rebuilt path and are dropped.
            AsSegment::ConfedSequence(_) | AsSegment::ConfedSet(_) if leading => segments.push(seg),
            AsSegment::ConfedSequence(_) | AsSegment::ConfedSet(_) => {}
            AsSegment::Set(_) if need > 0 => {
                need -= 1;
                segments.push(seg);
            }
            AsSegment::Sequence(mut a) if need > 0 => {
                a.truncate(need);
                need -= a.len();
                segments.push(AsSegment::Sequence(a));
            }
            _ => break,
        }
    }
    segments.extend(as4_path.segments);
    AsPath { segments }
}

/// AS4_PATH must not carry confederation segments (RFC 6793 §6): drop them.
pub(crate) fn strip_confed(path: &mut AsPath) {
    path.segments.retain(|s| !is_confed(s));
}
