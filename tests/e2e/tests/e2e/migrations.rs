//! Each service keeps one migration folder per backend. The PostgreSQL and
//! SQLite files of a pair must say the same thing: after normalising
//! whitespace, comments and the type names the two dialects spell differently,
//! every statement must match — except the few listed in [`DIALECT_ONLY`],
//! each with the reason it cannot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SERVICES: [&str; 5] = ["registry", "scoring", "volunteering", "feedback", "city"];

/// Statements allowed to differ: (migration file, start of the statement on
/// one side after normalising, why).
const DIALECT_ONLY: &[(&str, &str, &str)] = &[
    (
        "_journal_position.sql",
        "ALTER TABLE journal ADD COLUMN tx xid8",
        "PostgreSQL publishes journal positions by transaction id (`pg_snapshot_xmin`); SQLite has one writer",
    ),
    (
        "0004_board.sql",
        "INSERT INTO board",
        "the back-fill splits scope paths with regexp_split_to_table on PostgreSQL",
    ),
    (
        "0004_board.sql",
        "WITH RECURSIVE split",
        "and with a recursive CTE on SQLite, which has no table functions",
    ),
];

fn services_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services")
}

/// Statements of a migration with comments and layout removed and the
/// dialects' type names made one.
fn normalised(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(|statement| {
            let spaced = statement.replace('(', " ( ").replace(')', " ) ").replace(',', " , ");
            let words: Vec<&str> = spaced
                .split_whitespace()
                .map(|word| match word {
                    "BIGINT" => "INTEGER",
                    "BYTEA" => "BLOB",
                    other => other,
                })
                .collect();
            words.join(" ").replace(
                "INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
            )
        })
        .filter(|statement| !statement.is_empty())
        .collect()
}

fn allowed(file: &str, statement: &str) -> bool {
    DIALECT_ONLY
        .iter()
        .any(|(suffix, start, _)| file.ends_with(suffix) && statement.starts_with(start))
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn every_postgres_migration_has_a_sqlite_twin_that_says_the_same() {
    let mut problems = Vec::new();
    for service in SERVICES {
        let root = services_dir().join(service).join("migrations");
        let (postgres, sqlite) = (files(&root.join("postgres")), files(&root.join("sqlite")));
        for lonely in postgres.symmetric_difference(&sqlite) {
            problems.push(format!("{service}: {lonely} exists for one backend only"));
        }
        for file in postgres.intersection(&sqlite) {
            let read = |backend: &str| {
                let path = root.join(backend).join(file);
                normalised(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            };
            let (pg, lite) = (read("postgres"), read("sqlite"));
            let pg_only = pg.iter().filter(|s| !lite.contains(s) && !allowed(file, s));
            let lite_only = lite.iter().filter(|s| !pg.contains(s) && !allowed(file, s));
            for statement in pg_only {
                problems.push(format!("{service}/{file}: only on PostgreSQL: {statement}"));
            }
            for statement in lite_only {
                problems.push(format!("{service}/{file}: only on SQLite: {statement}"));
            }
        }
    }
    assert!(problems.is_empty(), "migration pairs differ:\n{}", problems.join("\n"));
}

#[test]
fn the_pair_check_sees_a_column_missing_on_one_side() {
    let pg = normalised("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL); -- note");
    let lite = normalised("CREATE TABLE t (\n  id TEXT PRIMARY KEY,\n  n INTEGER NOT NULL\n);");
    assert_eq!(pg, lite, "type names and layout are not differences");
    let missing = normalised("CREATE TABLE t (id TEXT PRIMARY KEY);");
    assert_ne!(pg, missing);
}
