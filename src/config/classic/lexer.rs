//! ExaBGP's configuration text cut into statements, each word with its byte offset
//! (turned into line:col by the error collector).
//!
//! The rules follow ExaBGP's tokeniser (src/exabgp/configuration/core/format.py):
//! words are separated by blanks; `;` ends a statement, `{` opens a block and `}`
//! closes one; `[`, `]`, `(`, `)` and `,` are words of their own; `"..."` and
//! `'...'` quote a word (blanks and `#;{}` inside it are kept); `#` starts a comment
//! that runs to the end of the line. As in ExaBGP, a statement ends on its own line
//! unless the line ends with a backslash (any other backslash outside quotes is
//! refused: ExaBGP would unescape it); a line left with words but no `;`, `{`
//! or `}` is an error (ExaBGP: "invalid syntax line N").

/// One word of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    /// Byte offset of the word (of its opening quote when quoted).
    pub(crate) at: usize,
}

/// How a statement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// `;`
    Semicolon,
    /// `{`: the words name a block.
    Open,
    /// `}`: the end of the enclosing block (then `words` is empty).
    Close,
}

/// One statement: its words, how it ended, where, and the comments met since the
/// previous statement (the text after `#`, trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) words: Vec<Word>,
    pub(crate) end: End,
    /// Byte offset of the terminator.
    pub(crate) end_at: usize,
    pub(crate) comments: Vec<String>,
}

/// A problem found while cutting the text: byte offset and message.
pub(crate) type LexError = (usize, String);

/// Cut `text` into statements; comments after the last statement are returned too.
pub(crate) fn statements(text: &str) -> Result<(Vec<Statement>, Vec<String>), LexError> {
    let mut out: Vec<Statement> = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut chars = text.char_indices().peekable();
    // The word being read: its start and text.
    let mut word: Option<(usize, String)> = None;

    fn flush(word: &mut Option<(usize, String)>, words: &mut Vec<Word>) {
        if let Some((at, text)) = word.take() {
            words.push(Word { text, at });
        }
    }

    // Whether a statement ended on the line being read: a comment after it on the
    // same line (`hold-time 90; # slow`) is that statement's.
    let mut ended_on_this_line = false;

    while let Some((i, c)) = chars.next() {
        match c {
            '#' => {
                flush(&mut word, &mut words);
                let mut comment = String::new();
                while let Some((_, c)) = chars.peek() {
                    if *c == '\n' {
                        break;
                    }
                    comment.push(*c);
                    chars.next();
                }
                let comment = comment.trim().to_string();
                match out.last_mut() {
                    Some(last) if ended_on_this_line && words.is_empty() => {
                        last.comments.push(comment)
                    }
                    _ => comments.push(comment),
                }
            }
            '\\' if matches!(chars.peek(), Some((_, '\n'))) => {
                // A continuation: the statement goes on on the next line.
                flush(&mut word, &mut words);
                chars.next();
            }
            '\\' if matches!(chars.peek(), Some((_, '\r'))) => {
                flush(&mut word, &mut words);
                chars.next();
                if matches!(chars.peek(), Some((_, '\n'))) {
                    chars.next();
                }
            }
            '\\' => {
                // ExaBGP unescapes the whole line (`ab\cd` is `abcd` there); here
                // escapes work only inside quotes: refuse rather than differ.
                return Err((
                    i,
                    "a backslash outside quotes is not supported (ExaBGP would read it as an escape): quote the word, e.g. md5-password \"ab\\\\cd\"; (a backslash at the end of a line continues the statement)".to_string(),
                ));
            }
            '\n' => {
                ended_on_this_line = false;
                flush(&mut word, &mut words);
                if let Some(first) = words.first() {
                    return Err((
                        first.at,
                        format!(
                            "missing ';' (or '{{' / '}}') at the end of the statement '{}': each statement ends on its own line, as in ExaBGP",
                            words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
                        ),
                    ));
                }
            }
            ' ' | '\t' | '\r' => flush(&mut word, &mut words),
            ';' | '{' | '}' => {
                flush(&mut word, &mut words);
                let end = match c {
                    ';' => End::Semicolon,
                    '{' => End::Open,
                    _ => End::Close,
                };
                if end == End::Close && !words.is_empty() {
                    return Err((
                        i,
                        "missing ';' before '}', expected each statement to end with ';'"
                            .to_string(),
                    ));
                }
                out.push(Statement {
                    words: std::mem::take(&mut words),
                    end,
                    end_at: i,
                    comments: std::mem::take(&mut comments),
                });
                ended_on_this_line = true;
            }
            '[' | ']' | '(' | ')' | ',' => {
                flush(&mut word, &mut words);
                words.push(Word {
                    text: c.to_string(),
                    at: i,
                });
            }
            '"' | '\'' => {
                flush(&mut word, &mut words);
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    match d {
                        _ if d == c => {
                            closed = true;
                            break;
                        }
                        '\n' => break,
                        '\\' => match chars.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, e)) => s.push(e),
                            None => break,
                        },
                        _ => s.push(d),
                    }
                }
                if !closed {
                    return Err((i, format!("unterminated string: missing the closing {c}")));
                }
                words.push(Word { text: s, at: i });
            }
            _ => match &mut word {
                Some((_, w)) => w.push(c),
                None => word = Some((i, c.to_string())),
            },
        }
    }
    flush(&mut word, &mut words);
    if let Some(first) = words.first() {
        return Err((
            first.at,
            "missing ';' at the end of the file's last statement".to_string(),
        ));
    }
    Ok((out, comments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Statement) -> Vec<&str> {
        s.words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn statements_words_and_comments() {
        let (st, tail) = statements(
            "# top\nneighbor 10.0.0.1 { # here\n  description \"a; b\";\n  community [65000:1,65000:2];\n}\n# end\n",
        )
        .unwrap();
        assert_eq!(st.len(), 4);
        assert_eq!(texts(&st[0]), ["neighbor", "10.0.0.1"]);
        assert_eq!(st[0].end, End::Open);
        // A comment after a statement on its line is that statement's.
        assert_eq!(st[0].comments, ["top", "here"]);
        assert_eq!(texts(&st[1]), ["description", "a; b"]);
        assert!(st[1].comments.is_empty());
        assert_eq!(
            texts(&st[2]),
            ["community", "[", "65000:1", ",", "65000:2", "]"]
        );
        assert_eq!(st[3].end, End::Close);
        assert_eq!(tail, ["end"]);
        // Offsets: "description" starts line 3 col 3.
        assert_eq!(
            st[1].words[0].at,
            "# top\nneighbor 10.0.0.1 { # here\n  ".len()
        );
    }

    #[test]
    fn continuation_and_missing_semicolon() {
        let (st, _) = statements("route 10.0.0.0/8 \\\n next-hop 1.2.3.4;\n").unwrap();
        assert_eq!(
            texts(&st[0]),
            ["route", "10.0.0.0/8", "next-hop", "1.2.3.4"]
        );
        let e = statements("a {\n  hold-time 90\n}\n").unwrap_err();
        assert_eq!(e.0, 6);
        assert!(e.1.contains("missing ';'"), "{}", e.1);
        assert!(statements("a \"b\n").is_err());
    }
}
