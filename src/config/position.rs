//! Byte offsets to 1-based line and column numbers.

/// The start offset of every line of a text, to turn byte offsets into positions.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    /// Offsets past the end (or inside a character) are clamped.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let col = self.text[start..offset].chars().count();
        (line + 1, col + 1)
    }

    /// 1-based line number of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn positions() {
        let idx = LineIndex::new("ab\nc\u{e9}d\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        // 'd' comes after the two-byte e-acute: column 3, not 4.
        assert_eq!(idx.position(6), (2, 3));
        assert_eq!(idx.position(8), (3, 1));
        assert_eq!(idx.position(9), (4, 1));
        assert_eq!(idx.position(999), (4, 2));
    }
}
