//! The man pages (docs/man/) and shell completions (completions/) are generated, then
//! committed, so the packages install them without running a generator. This test
//! generates them again, from the clap definitions of both programs
//! (`exabgp::args::command`, `exabgp::api::cli::command`, `exabgp::rollback::cli::command`) and from the docs
//! (docs/configuration.md -> exabgp.toml(5), docs/settings.md -> exabgp.env(5)), and
//! fails when a committed file differs or is missing, or when a file in those
//! directories is no longer generated (pages whose first line is `.\" hand-written`
//! are not generated and are left alone). scripts/check runs it.
//!
//! Regenerate after changing a help text or those docs: `scripts/gendocs`
//! (EXABGP_REGEN=1 cargo test --test generated_docs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

const MAN_DIR: &str = "docs/man";
const COMPLETION_DIR: &str = "completions";

/// Every generated file: path relative to the repository -> content.
fn generated() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for cmd in [
        exabgp::args::command(),
        exabgp::api::cli::command(),
        exabgp::rollback::cli::command(),
    ] {
        man_pages(cmd.clone(), &mut out);
        completions(cmd, &mut out);
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    for (src, name, what) in [
        (
            "configuration.md",
            "exabgp.toml",
            "configuration file of an exabgp instance",
        ),
        (
            "settings.md",
            "exabgp.env",
            "runtime settings (exabgp_*) of an exabgp instance",
        ),
    ] {
        let md =
            std::fs::read_to_string(docs.join(src)).expect("docs page to turn into a man page");
        let page = markdown_page(&md, name, "5", what);
        out.insert(
            Path::new(MAN_DIR).join(format!("{name}.5")),
            page.into_bytes(),
        );
    }
    out
}

/// See also, for every page.
const SEE_ALSO: &str =
    "exabgp(8), exabgpcli(8), exabgp-rollback(8), exabgp.toml(5), exabgp.env(5), \
    systemd.unit(5), journalctl(1); /usr/share/doc/exabgp-rs/ (configuration.md, settings.md, \
    api.md, systemd.md, operations.md)";

/// The program's page and one page per visible subcommand (git style: exabgp-server(8)),
/// section 8. No version in the pages: a version bump does not change them.
fn man_pages(cmd: clap::Command, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let mut cmd = cmd.version(None::<&str>).disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![cmd.clone()];
    pages.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for page in pages {
        let man = clap_mangen::Man::new(page)
            .section("8")
            .source("exabgp-rs")
            .manual("exabgp-rs");
        let mut buf = Vec::new();
        man.render(&mut buf).expect("clap_mangen renders the page");
        buf.extend_from_slice(files_section().as_bytes());
        buf.extend_from_slice(format!(".SH \"SEE ALSO\"\n{}\n", roff_text(SEE_ALSO)).as_bytes());
        out.insert(Path::new(MAN_DIR).join(man.get_filename()), buf);
    }
}

fn files_section() -> String {
    let mut s = String::from(".SH FILES\n");
    for (path, what) in [
        (
            "/etc/exabgp/NAME.toml",
            "the configuration of instance NAME, see exabgp.toml(5)",
        ),
        (
            "/etc/exabgp/NAME.env",
            "its runtime settings (optional), see exabgp.env(5)",
        ),
        (
            "/run/exabgp/NAME.sock",
            "its control socket (exabgpcli --instance NAME)",
        ),
        (
            "/usr/lib/systemd/system/exabgp@.service",
            "the unit: systemctl enable --now exabgp@NAME",
        ),
    ] {
        s.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(path),
            roff_text(what)
        ));
    }
    s
}

/// bash, zsh and fish completions, as the packages install them.
fn completions(cmd: clap::Command, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let name = cmd.get_name().to_string();
    for (shell, file) in [
        (Shell::Bash, format!("{name}.bash")),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), name.clone(), &mut buf);
        out.insert(Path::new(COMPLETION_DIR).join(file), buf);
    }
}

// ---------------------------------------------------------------- Markdown -> roff
// Enough Markdown for our docs: headings, paragraphs, `code`, **bold**, links,
// lists, indented and fenced code blocks, and tables (rendered as tagged
// paragraphs: the first cell is the tag, the other cells follow with their header).

fn roff_escape(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// `open`inner`close` at the start of `rest`: (inner, length of the whole span in bytes).
fn span<'a>(rest: &'a str, open: &str, close: &str) -> Option<(&'a str, usize)> {
    let body = rest.strip_prefix(open)?;
    let end = body.find(close)?;
    let inner = &body[..end];
    Some((inner, open.len() + inner.len() + close.len()))
}

/// Inline Markdown to roff: `code` and **bold** in bold, [text](url) as text <url>.
fn roff_text(s: &str) -> String {
    let mut out = String::new();
    let mut plain = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let bold = span(rest, "``", "``")
            .or_else(|| span(rest, "`", "`"))
            .or_else(|| span(rest, "**", "**"));
        if let Some((inner, n)) = bold {
            out.push_str(&roff_escape_inline(&plain));
            plain.clear();
            out.push_str(&format!("\\fB{}\\fR", roff_escape_inline(inner.trim())));
            rest = &rest[n..];
            continue;
        }
        if let Some((text, n)) = span(rest, "[", "](") {
            if let Some((url, m)) = span(&rest[n - 1..], "(", ")") {
                out.push_str(&roff_escape_inline(&plain));
                plain.clear();
                out.push_str(&format!(
                    "{} <{}>",
                    roff_escape_inline(text),
                    roff_escape_inline(url)
                ));
                rest = &rest[n - 1 + m..];
                continue;
            }
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&roff_escape_inline(&plain));
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

fn roff_escape_inline(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

fn table_cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|').trim_end_matches('|');
    // A `|` inside `code` does not split cells.
    let mut cells = vec![String::new()];
    let mut in_code = false;
    for c in t.chars() {
        if c == '|' && !in_code {
            cells.push(String::new());
            continue;
        }
        if c == '`' {
            in_code = !in_code;
        }
        if let Some(s) = cells.last_mut() {
            s.push(c);
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// A whole page from one Markdown document: its first heading is dropped (the NAME
/// line replaces it), the text before the first `##` is the DESCRIPTION.
fn markdown_page(md: &str, name: &str, section: &str, what: &str) -> String {
    let mut s = format!(
        ".TH {} {} \"\" exabgp-rs exabgp-rs\n.SH NAME\n{} \\- {}\n.SH DESCRIPTION\n",
        roff_escape(&name.to_uppercase()),
        section,
        roff_escape(name),
        roff_escape(what)
    );
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut para: Vec<String> = Vec::new();
    let end_para = |para: &mut Vec<String>, s: &mut String| {
        if !para.is_empty() {
            s.push_str(".PP\n");
            s.push_str(&roff_text(&para.join(" ")));
            s.push('\n');
            para.clear();
        }
    };
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if line.starts_with("# ") {
            i += 1;
        } else if let Some(h) = line.strip_prefix("## ") {
            end_para(&mut para, &mut s);
            // Plain headings in capitals, as man pages have them; `code` kept as is.
            let h = if h.contains('`') {
                h.to_string()
            } else {
                h.to_uppercase()
            };
            s.push_str(&format!(".SH \"{}\"\n", roff_text(&h)));
            i += 1;
        } else if let Some(h) = line.strip_prefix("### ") {
            end_para(&mut para, &mut s);
            s.push_str(&format!(".SS \"{}\"\n", roff_text(h)));
            i += 1;
        } else if t.starts_with("```") {
            end_para(&mut para, &mut s);
            s.push_str(".PP\n.RS 4\n.nf\n");
            i += 1;
            while i < lines.len() && !lines[i].trim().starts_with("```") {
                s.push_str(&format!("\\&{}\n", roff_escape_inline(lines[i])));
                i += 1;
            }
            s.push_str(".fi\n.RE\n");
            i += 1;
        } else if line.starts_with("    ") && para.is_empty() {
            s.push_str(".PP\n.RS 4\n.nf\n");
            while i < lines.len() && (lines[i].starts_with("    ") || lines[i].trim().is_empty()) {
                // A blank line ends the block unless more indented code follows.
                if lines[i].trim().is_empty()
                    && !lines.get(i + 1).is_some_and(|n| n.starts_with("    "))
                {
                    break;
                }
                s.push_str(&format!(
                    "\\&{}\n",
                    roff_escape_inline(&lines[i][4.min(lines[i].len())..])
                ));
                i += 1;
            }
            s.push_str(".fi\n.RE\n");
        } else if t.starts_with('|') {
            end_para(&mut para, &mut s);
            let header = table_cells(t);
            i += 1;
            if i < lines.len() && lines[i].trim().starts_with("|-") {
                i += 1;
            }
            while i < lines.len() && lines[i].trim().starts_with('|') {
                let cells = table_cells(lines[i]);
                s.push_str(".TP\n");
                s.push_str(&roff_text(cells.first().map(String::as_str).unwrap_or("")));
                s.push('\n');
                let rest: Vec<String> = cells
                    .iter()
                    .zip(header.iter())
                    .skip(1)
                    .map(|(c, h)| {
                        if h == "meaning" {
                            c.clone()
                        } else {
                            let mut h = h.clone();
                            if let Some(f) = h.get_mut(..1) {
                                f.make_ascii_uppercase();
                            }
                            format!("{h}: {c}.")
                        }
                    })
                    .collect();
                s.push_str(&roff_text(&rest.join(" ")));
                s.push('\n');
                i += 1;
            }
        } else if let Some(item) = list_item(t) {
            end_para(&mut para, &mut s);
            let mut text = vec![item.1.to_string()];
            i += 1;
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && list_item(lines[i].trim()).is_none()
                && lines[i].starts_with(' ')
            {
                text.push(lines[i].trim().to_string());
                i += 1;
            }
            s.push_str(&format!(
                ".IP {} 4\n{}\n",
                item.0,
                roff_text(&text.join(" "))
            ));
        } else if t.is_empty() {
            end_para(&mut para, &mut s);
            i += 1;
        } else {
            para.push(t.to_string());
            i += 1;
        }
    }
    end_para(&mut para, &mut s);
    s.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", roff_text(SEE_ALSO)));
    s
}

/// `- text` -> ("\(bu", text); `1. text` -> ("1.", text).
fn list_item(t: &str) -> Option<(String, &str)> {
    if let Some(rest) = t.strip_prefix("- ") {
        return Some(("\\(bu".to_string(), rest));
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        if let Some(rest) = t[digits..].strip_prefix(". ") {
            return Some((t[..=digits].to_string(), rest));
        }
    }
    None
}

// ---------------------------------------------------------------- the check

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A page written by hand (e.g. for a script such as exabgp-rollback) starts with
/// this line: the Makefile installs it like the others, this test leaves it alone.
const HAND_WRITTEN: &str = ".\\\" hand-written";

/// The files of `dir` this test owns (every file but hand-written pages).
fn listed(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| {
                    !std::fs::read_to_string(e.path()).is_ok_and(|t| t.starts_with(HAND_WRITTEN))
                })
                .map(|e| Path::new(dir).join(e.file_name()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn committed_man_pages_and_completions_are_up_to_date() {
    let gen = generated();
    if std::env::var_os("EXABGP_REGEN").is_some() {
        for dir in [MAN_DIR, COMPLETION_DIR] {
            for stale in listed(dir) {
                if !gen.contains_key(&stale) {
                    std::fs::remove_file(repo().join(&stale)).unwrap();
                }
            }
            std::fs::create_dir_all(repo().join(dir)).unwrap();
        }
        for (path, content) in &gen {
            std::fs::write(repo().join(path), content).unwrap();
        }
        eprintln!("wrote {} files", gen.len());
        return;
    }
    let mut problems = Vec::new();
    for (path, content) in &gen {
        match std::fs::read(repo().join(path)) {
            Ok(committed) if &committed == content => {}
            Ok(_) => problems.push(format!("{} is out of date", path.display())),
            Err(e) => problems.push(format!("{} is missing ({e})", path.display())),
        }
    }
    for dir in [MAN_DIR, COMPLETION_DIR] {
        for f in listed(dir) {
            if !gen.contains_key(&f) {
                problems.push(format!("{} is not generated any more", f.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "generated files differ from the committed ones; run scripts/gendocs and commit:\n  {}",
        problems.join("\n  ")
    );
}

/// The generated pages are well-formed enough for man: every page has a title line, a
/// NAME section naming itself, and no unescaped line that roff would take as a request.
#[test]
fn generated_pages_have_name_and_no_stray_requests() {
    for (path, content) in generated() {
        if !path.starts_with(MAN_DIR) {
            continue;
        }
        let text = String::from_utf8(content).unwrap();
        assert!(
            text.starts_with(".TH ") || text.starts_with(".ie"),
            "{}",
            path.display()
        );
        assert!(
            text.contains(".SH NAME"),
            "{}: no NAME section",
            path.display()
        );
        let requests = [
            "TH", "SH", "SS", "PP", "TP", "IP", "RS", "RE", "nf", "fi", "ie", "el", "B", "br",
            "sp", "in", "ll", "LP",
        ];
        for line in text.lines() {
            if let Some(r) = line.strip_prefix('.') {
                let req = r.split([' ', '\\']).next().unwrap_or("");
                assert!(
                    requests.contains(&req) || req.is_empty(),
                    "{}: unexpected roff request line {line:?}",
                    path.display()
                );
            }
        }
    }
}
