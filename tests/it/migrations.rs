//! Rules for migrations added after the baseline (applied ones are never edited): an index
//! on a large table (`cases`, `audit_events`) is built `CONCURRENTLY`, so that writes do not
//! wait for it, and a migration that builds one concurrently is marked `-- no-transaction`
//! on its first line (PostgreSQL refuses `CONCURRENTLY` inside a transaction, and sqlx runs
//! every other migration in one). `.ci/run` also runs squawk over the same files.

use crate::harness::manifest_dir;

/// The last migration written before these rules; later files must follow them.
const BASELINE: u32 = 16;

/// Tables large enough that a blocking index build stops the office.
const LARGE: [&str; 2] = ["cases", "audit_events"];

/// What is wrong with one migration's SQL, if anything.
fn problems(name: &str, sql: &str) -> Vec<String> {
    let mut found = Vec::new();
    let no_transaction = sql.lines().next().is_some_and(|l| l.trim() == "-- no-transaction");
    let code: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    for statement in code.split(';') {
        let words: Vec<String> = statement.split_whitespace().map(|w| w.to_lowercase()).collect();
        let Some(at) = words
            .windows(2)
            .position(|w| w[0] == "create" && w[1] == "index")
            .or_else(|| words.windows(3).position(|w| w[0] == "create" && w[1] == "unique" && w[2] == "index"))
        else {
            continue;
        };
        let rest = &words[at..];
        let concurrently = rest.iter().any(|w| w == "concurrently");
        let table = rest
            .iter()
            .position(|w| w == "on")
            .and_then(|i| rest[i + 1..].iter().find(|w| *w != "only"))
            .map(|t| t.trim_start_matches("public.").split('(').next().unwrap_or("").to_string())
            .unwrap_or_default();
        if LARGE.contains(&table.as_str()) && !concurrently {
            found.push(format!("{name}: an index on {table} must be built CONCURRENTLY"));
        }
        if concurrently && !no_transaction {
            found.push(format!("{name}: CREATE INDEX CONCURRENTLY needs `-- no-transaction` as the first line"));
        }
    }
    found
}

#[test]
fn new_migrations_build_large_indexes_concurrently_outside_a_transaction() {
    let dir = manifest_dir().join("migrations");
    let mut found = Vec::new();
    let mut later = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(n) = name.split('_').next().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if n <= BASELINE || !name.ends_with(".sql") {
            continue;
        }
        later += 1;
        found.extend(problems(&name, &std::fs::read_to_string(&path).unwrap()));
    }
    assert!(found.is_empty(), "{} of {later} new migrations break the rules:\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_rules_catch_blocking_and_transactional_index_builds() {
    assert_eq!(problems("a", "CREATE INDEX x ON cases (title);").len(), 1);
    assert_eq!(problems("b", "create unique index x on public.audit_events(seq)").len(), 1);
    assert_eq!(problems("c", "CREATE INDEX CONCURRENTLY x ON cases (title);").len(), 1, "inside a transaction");
    assert!(
        problems("d", "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS x ON ONLY cases (title);").is_empty()
    );
    assert!(problems("e", "CREATE INDEX x ON parties (legal_name); -- on cases later").is_empty(), "small table");
}
