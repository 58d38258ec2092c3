//! The one rule between the layers: the domain never imports the web. Every source file
//! that is not part of the web layer (a `web.rs` or `api.rs`, a file in a `web/` folder)
//! or of the process's edges (`app.rs`, `router.rs`, `server.rs`, `cli.rs`, `main.rs`,
//! `lib.rs`) is read line by line, and any mention of the web framework, the templates,
//! the application state, the route table or a web module fails the test, naming the file
//! and the line. And the web files hold no SQL: it lives in the domains' `db.rs`.

use std::path::{Path, PathBuf};

use crate::harness::manifest_dir;

/// What a domain file may not name.
const FORBIDDEN: [&str; 13] = [
    "axum",
    "askama",
    "tower_http",
    "utoipa_axum",
    "crate::app",
    "crate::web",
    "crate::router",
    "auth::extract",
    "super::web",
    "super::api",
    "::web::",
    "::api::",
    "#[derive(Template",
];

/// Whether a file (relative to `src/`) is part of the web layer: a `web.rs`, an `api.rs`
/// or a file in a `web/` folder.
fn is_web(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "web.rs" || name == "api.rs" || rel.components().rev().skip(1).any(|c| c.as_os_str() == "web")
}

/// The files outside the domain layer, relative to `src/`: the web layer and the edges.
fn is_web_or_edge(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let edge = rel.components().count() == 1
        && ["app.rs", "router.rs", "server.rs", "cli.rs", "main.rs", "lib.rs"].contains(&name);
    is_web(rel) || edge
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `file:line: text` of every line, comments left out, of the files under `src` that
/// `which` picks and in which `bad` finds something (what it returns is named).
fn offending_lines(src: &Path, which: impl Fn(&Path) -> bool, bad: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        if !which(rel) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = bad(line.split("//").next().unwrap_or("")) {
                found.push(format!("src/{}:{}: {what}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

/// Every line of a domain file that names something of the web layer.
fn violations(src: &Path) -> Vec<String> {
    offending_lines(
        src,
        |rel| !is_web_or_edge(rel),
        |code| FORBIDDEN.iter().find(|w| mentions(code, w)).map(|w| format!("names `{w}`")),
    )
}

/// Whether `code` names `word` as a path (not as part of a longer identifier).
fn mentions(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        let first_is_ident = word.chars().next().is_some_and(ident);
        let last_is_ident = word.chars().next_back().is_some_and(ident);
        let starts_clean = !first_is_ident || !before.is_some_and(ident);
        let ends_clean = !last_is_ident || !after.is_some_and(ident);
        starts_clean && ends_clean
    })
}

#[test]
fn the_domain_imports_nothing_of_the_web() {
    let found = violations(&manifest_dir().join("src"));
    assert!(found.is_empty(), "domain files that name the web layer:\n{}", found.join("\n"));
}

/// Every line of a web file that holds SQL: queries belong to the domains' `db.rs`.
fn sql_in_the_web(src: &Path) -> Vec<String> {
    offending_lines(src, is_web, |code| {
        ["sqlx::query", "query_as", "query_scalar", "QueryBuilder"]
            .iter()
            .any(|w| code.contains(w))
            .then(|| "holds SQL".to_string())
    })
}

#[test]
fn handlers_hold_no_sql() {
    let found = sql_in_the_web(&manifest_dir().join("src"));
    assert!(found.is_empty(), "SQL in web files (move it to the domain's db.rs):\n{}", found.join("\n"));
}

#[test]
fn the_rule_catches_a_domain_file_that_imports_the_web() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("cases")).unwrap();
    std::fs::write(src.join("cases/service.rs"), "use sqlx::PgConnection;\nuse crate::web::error::AppError;\n")
        .unwrap();
    std::fs::write(src.join("cases/model.rs"), "// axum is not named here\npub struct Axumish;\n").unwrap();
    std::fs::write(src.join("cases/web.rs"), "use axum::extract::State;\n").unwrap();
    std::fs::write(src.join("router.rs"), "use crate::app::AppState;\n").unwrap();
    let found = violations(src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/cases/service.rs:2: names `crate::web`"), "{found:?}");
    std::fs::write(src.join("cases/api.rs"), "let n = sqlx::query_scalar(\"SELECT 1\");\n").unwrap();
    let sql = sql_in_the_web(src);
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(sql[0].starts_with("src/cases/api.rs:1:"), "{sql:?}");
}
