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

/// The drivers that render invoices back to back into one buffer (several threads, several
/// targets at once) give every format exactly the bytes, documents and report of the plain
/// one-target drivers: a writer must not depend on where in the buffer it starts.
#[test]
fn every_format_renders_the_same_in_the_multi_target_driver() {
    use common_xml::Collect;
    use invoice_core::Invoice;
    use invoice_export::{export, export_documents, export_targets, formats, Layout, Output, TargetOutput};

    // more than one chunk of the drivers (256 invoices)
    let fixtures: Vec<Invoice> = all_fixtures().into_iter().map(|(_, i)| i).collect();
    let all: Vec<Invoice> = fixtures.iter().cycle().take(300).cloned().collect();
    assert!(all.len() > 256);
    let refs: Vec<&Invoice> = all.iter().collect();
    let configs: Vec<_> = formats()
        .iter()
        .map(|f| {
            let mut config = xml_config_for(f.name());
            config.tax_agency = Some("STATETAX".into());
            if f.name().starts_with("sage") || f.name() == "xero" {
                // Sage ids are short codes; customers go by their own ids
                config.customers = Default::default();
                for m in [&mut config.items, &mut config.accounts, &mut config.tax_codes] {
                    m.map
                        .values_mut()
                        .for_each(|v| *v = v.chars().filter(char::is_ascii_alphanumeric).take(6).collect());
                    m.fallback = Some("OTHER".into());
                }
                config.ar_account = "11000".into();
            }
            config
        })
        .collect();
    let alone: Vec<_> = formats()
        .iter()
        .zip(&configs)
        .map(|(f, config)| match f.layout() {
            Layout::OneFile => {
                let mut out = Vec::new();
                let report = export(*f, config, refs.iter().copied(), &mut out).unwrap();
                (report, out, Vec::new())
            }
            Layout::OnePerInvoice => {
                let mut docs = Collect::default();
                let report = export_documents(*f, config, refs.iter().copied(), &mut docs).unwrap();
                (report, Vec::new(), docs.0)
            }
        })
        .collect();
    for (f, (r, _, _)) in formats().iter().zip(&alone) {
        assert!(r.counts().0 > 0, "{} exports none of the fixtures: {r:?}", f.name());
    }
    for threads in [1, 3] {
        let mut files: Vec<Vec<u8>> = formats().iter().map(|_| Vec::new()).collect();
        let mut docs: Vec<Collect> = formats().iter().map(|_| Collect::default()).collect();
        let targets = formats()
            .iter()
            .zip(&configs)
            .zip(files.iter_mut().zip(docs.iter_mut()))
            .map(|((f, config), (file, docs))| TargetOutput {
                format: *f,
                config,
                output: match f.layout() {
                    Layout::OneFile => Output::File(file),
                    Layout::OnePerInvoice => Output::Documents(docs),
                },
            })
            .collect();
        let reports = export_targets(targets, &refs, None, threads, &mut |_, _| {});
        for (k, f) in formats().iter().enumerate() {
            let (report, file, documents) = &alone[k];
            assert_eq!(reports[k].as_ref().unwrap(), report, "{}, {threads} threads: report", f.name());
            assert!(files[k] == *file, "{}, {threads} threads: other bytes", f.name());
            assert!(docs[k].0 == *documents, "{}, {threads} threads: other documents", f.name());
        }
    }
}
