//! The line reader shared by the control socket and the helpers: limits at the
//! exact boundary, CRLF, lines split across reads, over-long lines discarded up to
//! their newline, and a final line without a newline.

use exabgp::api::lines::{read_line, Line, MAX_LINE};
use tokio::io::BufReader;

async fn all(input: &[u8], max: usize, cap: usize) -> Vec<Line> {
    let mut r = BufReader::with_capacity(cap, input);
    let mut out = Vec::new();
    for _ in 0..100 {
        let l = read_line(&mut r, max).await.unwrap();
        let end = l == Line::Eof;
        out.push(l);
        if end {
            break;
        }
    }
    out
}

#[tokio::test]
async fn boundaries_and_forms() {
    let mut input = vec![b'a'; MAX_LINE];
    input.push(b'\n');
    input.extend(vec![b'b'; MAX_LINE + 1]);
    input.push(b'\n');
    input.extend_from_slice(b"crlf\r\n\nnext\npartial");
    // A small buffer makes every long line span many reads.
    let got = all(&input, MAX_LINE, 1000).await;
    assert_eq!(got.len(), 7);
    assert_eq!(got[0], Line::Text("a".repeat(MAX_LINE)));
    assert_eq!(got[1], Line::TooLong(MAX_LINE + 1));
    assert_eq!(got[2], Line::Text("crlf".into()));
    assert_eq!(got[3], Line::Text(String::new()));
    assert_eq!(got[4], Line::Text("next".into()));
    assert_eq!(got[5], Line::Truncated(7));
    assert_eq!(got[6], Line::Eof);
}

#[tokio::test]
async fn not_utf8_is_reported_and_reading_goes_on() {
    let got = all(b"\xff\xfe\n\xc3(\nok\n", 100, 4).await;
    assert_eq!(
        got,
        vec![
            Line::NotUtf8(2),
            Line::NotUtf8(2),
            Line::Text("ok".into()),
            Line::Eof
        ]
    );
}
