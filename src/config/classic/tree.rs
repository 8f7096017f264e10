//! Statements nested into blocks: `neighbor 10.0.0.1 { ... }` becomes one node with
//! the words `neighbor 10.0.0.1` and its children.

use super::lexer::{End, LexError, Statement, Word};

/// The deepest nesting of blocks read (ExaBGP's own go 5 deep). Reading and
/// dropping the tree recurse once per level: without a limit, a file of
/// thousands of `a {` would overflow the stack and abort the daemon (the loader
/// also runs on reload).
pub(crate) const MAX_DEPTH: usize = 32;

/// A statement (`children` None) or a block (`children` Some).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) words: Vec<Word>,
    /// Byte offset of the first word, else of the terminator.
    pub(crate) at: usize,
    pub(crate) children: Option<Vec<Node>>,
    /// Comments written before the statement, and (for a block) before its `}`.
    pub(crate) comments: Vec<String>,
}

impl Node {
    /// The first word (the keyword), lowercased; "" for an empty statement.
    pub(crate) fn keyword(&self) -> String {
        self.words
            .first()
            .map(|w| w.text.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The words after the keyword.
    pub(crate) fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }
}

/// The top-level nodes and the comments after the last statement.
pub(crate) fn build(
    statements: Vec<Statement>,
    tail: Vec<String>,
) -> Result<(Vec<Node>, Vec<String>), LexError> {
    let mut it = statements.into_iter();
    let (nodes, close) = block(&mut it, None, 0)?;
    debug_assert!(close.is_none());
    Ok((nodes, tail))
}

/// Read nodes until the `}` that closes `opened` (None: the end of the file). Returns
/// the nodes and the comments written before that `}`. `depth`: how many blocks
/// enclose these nodes.
fn block(
    it: &mut std::vec::IntoIter<Statement>,
    opened: Option<(usize, &str)>,
    depth: usize,
) -> Result<(Vec<Node>, Option<Vec<String>>), LexError> {
    let mut nodes = Vec::new();
    while let Some(s) = it.next() {
        let at = s.words.first().map_or(s.end_at, |w| w.at);
        match s.end {
            End::Close => {
                return match opened {
                    Some(_) => Ok((nodes, Some(s.comments))),
                    None => Err((s.end_at, "unmatched '}', no block is open here".to_string())),
                };
            }
            End::Semicolon => {
                if s.words.is_empty() {
                    // A lone ';' (ExaBGP skips empty statements too).
                    continue;
                }
                nodes.push(Node {
                    words: s.words,
                    at,
                    children: None,
                    comments: s.comments,
                });
            }
            End::Open => {
                if s.words.is_empty() {
                    return Err((
                        s.end_at,
                        "a block needs a name before '{', e.g. 'neighbor 192.0.2.1 {'".to_string(),
                    ));
                }
                if depth >= MAX_DEPTH {
                    return Err((
                        at,
                        format!("blocks nested more than {MAX_DEPTH} deep, expected a neighbor, template, group or process block holding at most a few levels"),
                    ));
                }
                let name = s
                    .words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let (children, close) = block(it, Some((at, &name)), depth + 1)?;
                let mut comments = s.comments;
                comments.extend(close.unwrap_or_default());
                nodes.push(Node {
                    words: s.words,
                    at,
                    children: Some(children),
                    comments,
                });
            }
        }
    }
    match opened {
        None => Ok((nodes, None)),
        Some((at, name)) => Err((
            at,
            format!("missing '}}' to close the block '{name}' opened here"),
        )),
    }
}
