//! The one rule between the layers: the domain never imports the web. Every source file
//! that is not part of the web layer (a `web.rs` or `api.rs`, a file in a `web/` folder)
//! or of the process's edges (`app.rs`, `router.rs`, `server.rs`, `cli.rs`, `main.rs`,
//! `lib.rs`) is read line by line, and any mention of the web framework, the templates,
//! the application state, the route table or a web module fails the test, naming the file
//! and the line. And the web files hold no SQL: it lives in the domains' `db.rs`. And SQL
//! given as a string at run time (not a checked `query!`) says why where it is built, as
//! clippy's `disallowed-methods` demands (clippy.toml): this test is that rule's second guard.
//! And the import circle between the top-level modules does not grow (`IN_THE_CIRCLE`).

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
    lines_found(src, which, |lines, n| bad(lines[n].split("//").next().unwrap_or("")))
}

/// `file:line: what: text` for every line of the files under `src` that `which` picks
/// where `found` (given the file's lines and the line's index) says what is wrong.
fn lines_found(
    src: &Path,
    which: impl Fn(&Path) -> bool,
    found: impl Fn(&[&str], usize) -> Option<String>,
) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        if !which(rel) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for n in 0..lines.len() {
            if let Some(what) = found(&lines, n) {
                out.push(format!("src/{}:{}: {what}: {}", rel.display(), n + 1, lines[n].trim()));
            }
        }
    }
    out
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

/// What hands the database a string as SQL, unchecked: the calls clippy.toml's
/// `disallowed-methods` lists. (A checked statement is a `query!`, `query_as!` or
/// `query_scalar!`, whose `!` none of these match.)
const RUNTIME_SQL: [&str; 14] = [
    "sqlx::query(",
    "sqlx::query_as(",
    "sqlx::query_as::<",
    "sqlx::query_scalar(",
    "sqlx::query_scalar::<",
    "query_with(",
    "query_as_with(",
    "query_scalar_with(",
    "raw_sql(",
    "QueryBuilder::new(",
    "QueryBuilder::<",
    "Executor::",
    "copy_in_raw(",
    "copy_out_raw(",
];

/// The code of a line, its comment left out.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// Whether `text` (whitespace removed) holds `#[expect(clippy::disallowed_methods,
/// reason = "…")]` with a reason.
fn holds_expect(text: &str) -> bool {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mark = "#[expect(clippy::disallowed_methods,reason=\"";
    text.match_indices(mark).any(|(i, _)| text[i + mark.len()..].chars().next().is_some_and(|c| c != '"'))
}

/// Whether the call at `lines[at]` is exempted: the statement it is in carries the
/// `expect` (the lines since the end of the statement before it), or the fn around it does
/// (the attributes above the nearest `fn` line).
fn exempted(lines: &[&str], at: usize) -> bool {
    let ends_statement = |l: &str| {
        let c = code(l).trim_end();
        c.ends_with(';') || c.ends_with('{') || c.ends_with('}')
    };
    let start = (0..at).rev().find(|&i| ends_statement(lines[i])).map_or(0, |i| i + 1);
    let statement: Vec<&str> = lines[start..=at].iter().map(|l| code(l)).collect();
    if holds_expect(&statement.concat()) {
        return true;
    }
    let Some(fn_line) = (0..=at).rev().find(|&i| mentions(code(lines[i]), "fn") && code(lines[i]).contains('(')) else {
        return false;
    };
    let mut first = fn_line;
    while first > 0 {
        let above = lines[first - 1].trim();
        let attribute_or_doc = above.starts_with('#')
            || above.starts_with("//")
            || above.starts_with(")]")
            || above.starts_with("reason")
            || above.ends_with(',');
        if !attribute_or_doc {
            break;
        }
        first -= 1;
    }
    let attributes: Vec<&str> = lines[first..fn_line].iter().map(|l| code(l)).collect();
    holds_expect(&attributes.concat())
}

/// Every call in `src` that hands the database a string as SQL without an
/// `#[expect(clippy::disallowed_methods, reason = "…")]` on its statement or its fn, and
/// every `allow` of that lint (an `allow` outlives the call it was for; an `expect` does not).
fn unexplained_runtime_sql(src: &Path) -> Vec<String> {
    lines_found(
        src,
        |_| true,
        |lines, n| {
            let c = code(lines[n]);
            if c.contains("allow(clippy::disallowed_methods") {
                Some("allows the lint (expect it, with a reason)".into())
            } else if RUNTIME_SQL.iter().any(|w| c.contains(w)) && !exempted(lines, n) {
                Some("SQL built at run time with no expect(clippy::disallowed_methods, reason = …)".into())
            } else {
                None
            }
        },
    )
}

#[test]
fn runtime_sql_says_why() {
    let found = unexplained_runtime_sql(&manifest_dir().join("src"));
    assert!(
        found.is_empty(),
        "SQL built at run time without a reason (make it a query! macro, or say why it cannot be one):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rule_catches_runtime_sql_without_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("cases")).unwrap();
    let file = r##"/// Said on the fn.
#[expect(clippy::disallowed_methods, reason = "the order is one of Sort's")]
async fn ordered(conn: &mut PgConnection, order: &str) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT 1 ORDER BY {order}"))).fetch_all(conn).await
}

async fn listed(
    conn: &mut PgConnection,
) -> Result<i64, sqlx::Error> {
    // Said on the statement, in rustfmt's long form.
    #[expect(
        clippy::disallowed_methods,
        reason = "the filters come from the request"
    )]
    let mut qb = QueryBuilder::new("SELECT count(*) FROM cases WHERE true");
    let n: i64 = qb.build_query_scalar().fetch_one(&mut *conn).await?;
    let m: i64 = sqlx::query_scalar("SELECT 2").fetch_one(&mut *conn).await?;
    let checked = sqlx::query_scalar!(r#"SELECT 3 AS "n!""#).fetch_one(&mut *conn).await?;
    #[expect(clippy::disallowed_methods, reason = "")]
    let k: (i64,) = sqlx::query_as::<_, (i64,)>("SELECT 4").fetch_one(&mut *conn).await?;
    #[allow(clippy::disallowed_methods, reason = "no")]
    sqlx::Executor::execute(&mut *conn, "SET ROLE icts_app").await?;
    Ok(n + m + checked + k.0)
}
"##;
    std::fs::write(src.join("cases/db.rs"), file).unwrap();
    let found = unexplained_runtime_sql(src);
    let at: Vec<&str> = found.iter().map(|f| f.split(": ").next().unwrap()).collect();
    // Not the fn's call, the statement's or the checked one; the call after the statement
    // with the expect, the one whose reason is empty, the allow and the call under it.
    assert_eq!(
        at,
        ["src/cases/db.rs:17", "src/cases/db.rs:20", "src/cases/db.rs:21", "src/cases/db.rs:22"],
        "{found:#?}"
    );
}

/// The top-level modules of `src/` (a folder or a file, `lib.rs` and `main.rs` aside)
/// and, for each, the others its files name as `crate::other`.
fn module_imports(src: &Path) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut modules = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main") {
            modules.insert(name);
        }
    }
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut imports: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        modules.iter().map(|m| (m.clone(), Default::default())).collect();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let me = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(mine) = imports.get_mut(&me) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name != me && modules.contains(&name) {
                mine.insert(name);
            }
        }
    }
    imports
}

/// The groups of two or more modules that import one another, directly or round a
/// circle (strongly connected components).
fn import_circles(
    imports: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Vec<Vec<String>> {
    let reaches = |from: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in &imports[&m] {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: std::collections::BTreeMap<&String, _> = imports.keys().map(|m| (m, reaches(m))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for m in imports.keys() {
        if groups.iter().any(|g| g.contains(m)) {
            continue;
        }
        let group: Vec<String> =
            imports.keys().filter(|o| *o == m || (reach[m].contains(*o) && reach[*o].contains(m))).cloned().collect();
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

/// The modules that still import one another round a circle. The house's goal is none
/// spanning two domains (the accounts, the audit log's core below the domains, what
/// gathers across them above); until then this list may only shrink: a module that joins
/// the circle, or a second circle, fails here. Remove a name once it has left.
const IN_THE_CIRCLE: [&str; 18] = [
    "access",
    "accounts",
    "app",
    "audit",
    "auth",
    "cases",
    "config",
    "db",
    "determinations",
    "documents",
    "home",
    "mitigation",
    "notifications",
    "parties",
    "proceedings",
    "risk",
    "telemetry",
    "web",
];

#[test]
fn no_module_joins_the_import_circle() {
    let circles = import_circles(&module_imports(&manifest_dir().join("src")));
    assert!(circles.len() <= 1, "more than one import circle: {circles:?}");
    let joined: Vec<&String> = circles.iter().flatten().filter(|m| !IN_THE_CIRCLE.contains(&m.as_str())).collect();
    assert!(joined.is_empty(), "these modules joined the import circle: {joined:?} (circles: {circles:?})");
    let left: Vec<&&str> = IN_THE_CIRCLE.iter().filter(|m| !circles.iter().flatten().any(|c| c == *m)).collect();
    assert!(left.is_empty(), "these modules left the import circle: remove them from IN_THE_CIRCLE: {left:?}");
}

#[test]
fn the_circle_check_finds_a_circle_of_two() {
    let mut imports: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (from, to) in [("a", "b"), ("b", "a"), ("b", "c"), ("d", "c")] {
        imports.entry(from.into()).or_default().insert(to.into());
        imports.entry(to.into()).or_default();
    }
    assert_eq!(import_circles(&imports), vec![vec!["a".to_string(), "b".to_string()]]);
}
