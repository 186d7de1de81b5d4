//! Golden files of the XML and JSON targets: every fixture of `common_xml` (the shared fixtures
//! plus the e-invoice cases) exported to `qbxml`, `qbo-json`, `intacct`, `ubl` and `cii`, and
//! compared byte for byte with `tests/golden/<format>/<case>.<ext>`. Each format also has
//! `_report.txt`: every case's outcome (exported, skipped or failed, with the message) and
//! warnings, so pre-flight results are pinned as well.
//!
//! Regenerate after an intended change with
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test -p invoice-export --test golden_xml
//! ```
//!
//! and review the diff.

mod common_xml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common_xml::{all_fixtures, describe, export_one, xml_config_for};
use invoice_core::Outcome;
use invoice_export::format;

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

fn golden_dir(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format)
}

/// Compare (or, with `UPDATE_GOLDEN=1`, write) one golden file; a mismatch shows both in full.
fn compare(path: &Path, actual: &[u8], failures: &mut Vec<String>) {
    if updating() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create golden directory");
        }
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    match std::fs::read(path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs.\n--- expected ---\n{}\n--- actual ---\n{}\n",
            path.display(),
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        )),
        Err(e) => failures.push(format!(
            "{}: {e} (run UPDATE_GOLDEN=1 cargo test -p invoice-export --test golden_xml)\n--- actual ---\n{}\n",
            path.display(),
            String::from_utf8_lossy(actual)
        )),
    }
}

fn golden(format_name: &str) {
    let f = format(format_name).expect("format registered");
    let config = xml_config_for(format_name);
    let dir = golden_dir(format_name);
    let mut failures = Vec::new();
    let mut written = BTreeSet::new();
    let mut report_text = String::new();
    for (case, invoice) in all_fixtures() {
        let (report, bytes) = export_one(f, &config, &invoice);
        report_text.push_str(&format!("[{case}] {}", describe(&report)));
        if report.results[0].outcome == Outcome::Exported {
            let name = format!("{case}.{}", f.extension());
            compare(&dir.join(&name), &bytes, &mut failures);
            written.insert(name);
        }
        // Same input, same bytes.
        let (_, again) = export_one(f, &config, &invoice);
        assert_eq!(bytes, again, "{format_name}/{case}: the export is not deterministic");
    }
    compare(&dir.join("_report.txt"), report_text.as_bytes(), &mut failures);
    written.insert("_report.txt".to_string());
    // No golden file without a case.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !written.contains(&name) {
                if updating() {
                    let _ = std::fs::remove_file(entry.path());
                } else {
                    failures.push(format!("{} has no fixture case any more", entry.path().display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} golden file(s) of {format_name} differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn golden_qbxml() {
    golden("qbxml");
}

#[test]
fn golden_qbo_json() {
    golden("qbo-json");
}

#[test]
fn golden_intacct() {
    golden("intacct");
}

#[test]
fn golden_ubl() {
    golden("ubl");
}

#[test]
fn golden_cii() {
    golden("cii");
}
