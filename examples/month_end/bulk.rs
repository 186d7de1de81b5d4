//! Bulk mode: invoices from a JSON Lines file, exported to the chosen targets, with PDFs, a
//! ZIP and backups on request, and `report.json`. The export and document steps are shared
//! with the demo.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::Utc;
use invoice_engine::batch_export::{export_batch, safe_file_name};
use invoice_engine::export::{Format, Layout};
use invoice_engine::interchange::{read_invoices, RecordError};
use invoice_engine::pdf::{AttachmentSource, BackupOptions, BackupReport, DocumentId, FsSource, Renderer, Stamp};
use invoice_engine::*;
use serde::Serialize;

use crate::config::MonthEndConfig;
use crate::ui::{self, Progress};
use crate::{Args, RunError};

/// What one target did with every invoice.
pub struct TargetRun {
    /// The format's name.
    pub format: &'static str,
    /// Where the output went (relative to OUT).
    pub path: PathBuf,
    /// Outcome per invoice (by id), from the batch's results in the book.
    pub results: BTreeMap<InvoiceId, ExportResult>,
}

impl TargetRun {
    /// (exported, skipped, failed).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in self.results.values() {
            match r {
                ExportResult::Exported { .. } => c.0 += 1,
                ExportResult::Skipped { .. } => c.1 += 1,
                _ => c.2 += 1,
            }
        }
        c
    }
}

/// The per-target table of an export.
pub fn print_runs(runs: &[TargetRun]) {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let (e, s, f) = r.counts();
            vec![r.format.to_string(), e.to_string(), s.to_string(), f.to_string(), r.path.display().to_string()]
        })
        .collect();
    ui::table(&["target", "exported", "skipped", "failed", "output"], &rows, &[1, 2, 3]);
}

/// Batch, post and export `ids` to every format, one batch each. Invoices that fail are
/// withdrawn from their batch afterwards (they stay in the report as failed), so that the
/// next target can take them.
pub fn export_all(
    book: &mut Book,
    actor: &Actor,
    ids: &[InvoiceId],
    formats: &[&'static dyn Format],
    config: &MonthEndConfig,
    out: &Path,
    quiet: bool,
) -> Result<Vec<TargetRun>, RunError> {
    let exports = out.join("exports");
    fs::create_dir_all(&exports)?;
    let mut runs = Vec::new();
    let mut progress = Progress::new("exporting", ids.len() * formats.len(), quiet);
    for format in formats {
        let selection: Vec<InvoiceId> =
            ids.iter().copied().filter(|i| book.invoice(*i).is_ok_and(|inv| inv.batch.is_none())).collect();
        if selection.is_empty() {
            continue;
        }
        let batch = book.create_export_batch(actor, selection, Target::new(format.name(), &config.company), None)?;
        book.apply(actor, Command::Post { batch })?;
        let rel = match format.layout() {
            Layout::OneFile => PathBuf::from(format!("{}.{}", format.name(), format.extension())),
            Layout::OnePerInvoice => PathBuf::from(format.name()),
        };
        let dest = exports.join(&rel);
        ui::clear(&dest)?;
        let target_config = config.for_target(format.name()).map_err(RunError::Input)?;
        export_batch(book, actor, batch, *format, &target_config, &dest)?;
        let results = book.export_batch(batch)?.results.clone();
        let failed: Vec<InvoiceId> = results.iter().filter(|(_, r)| r.is_open()).map(|(i, _)| *i).collect();
        if !failed.is_empty() {
            book.apply(actor, Command::Withdraw { batch, invoices: failed })?;
        }
        progress.add(results.len());
        runs.push(TargetRun { format: format.name(), path: PathBuf::from("exports").join(rel), results });
    }
    progress.finish();
    Ok(runs)
}

/// One PDF per invoice under OUT/pdf, rendered and written one at a time.
pub fn write_pdfs(
    book: &Book,
    ids: &[InvoiceId],
    renderer: &Renderer,
    stamp: &Stamp,
    out: &Path,
    quiet: bool,
) -> Result<usize, RunError> {
    let dir = out.join("pdf");
    ui::clear(&dir)?;
    fs::create_dir_all(&dir)?;
    let mut progress = Progress::new("rendering PDFs", ids.len(), quiet);
    let mut used = std::collections::HashSet::new();
    for chunk in ids.chunks(256) {
        for (id, bytes) in documents::render(book, chunk, renderer, stamp)? {
            let mut name = safe_file_name(&book.invoice(id)?.label());
            let base = name.clone();
            let mut k = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}-{k}");
                k += 1;
            }
            ui::write_atomic(&dir.join(format!("{name}.pdf")), &bytes)?;
        }
        progress.add(chunk.len());
    }
    progress.finish();
    Ok(ids.len())
}

/// OUT/invoices.zip, streamed to a temporary file and renamed.
pub fn write_zip(
    book: &Book,
    ids: &[InvoiceId],
    renderer: &Renderer,
    stamp: &Stamp,
    out: &Path,
) -> Result<usize, RunError> {
    let path = out.join("invoices.zip");
    let tmp = out.join("invoices.zip.tmp");
    let result = (|| -> Result<usize, RunError> {
        let file = fs::File::create(&tmp)?;
        let entries = documents::write_zip(book, ids, renderer, stamp, std::io::BufWriter::new(file))?;
        fs::rename(&tmp, &path)?;
        Ok(entries.len())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// OUT/backups/<start>_<end>.pdf, one per billing period.
pub fn write_backups(
    book: &Book,
    ids: &[InvoiceId],
    renderer: &Renderer,
    source: &dyn AttachmentSource,
    stamp: &Stamp,
    out: &Path,
) -> Result<BackupReport, RunError> {
    let dir = out.join("backups");
    ui::clear(&dir)?;
    fs::create_dir_all(&dir)?;
    let mut options = BackupOptions::new(&dir, *stamp);
    options.file_prefix = String::new();
    Ok(documents::compile_backups(book, ids, renderer, source, &options)?)
}

#[derive(Serialize)]
struct TargetSummary {
    output: String,
    exported: usize,
    skipped: usize,
    failed: usize,
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Outcome {
    Exported,
    Skipped { reason: String },
    Failed { message: String },
}

#[derive(Serialize)]
struct InvoiceReport {
    line: usize,
    number: String,
    targets: BTreeMap<&'static str, Outcome>,
}

#[derive(Serialize)]
struct Report<'a> {
    input: String,
    records: usize,
    rejected: &'a [RecordError],
    targets: BTreeMap<&'static str, TargetSummary>,
    invoices: Vec<InvoiceReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    documents: Vec<String>,
}

fn outcome(r: &ExportResult) -> Outcome {
    match r {
        ExportResult::Exported { .. } => Outcome::Exported,
        ExportResult::Skipped { reason } => Outcome::Skipped { reason: reason.clone() },
        ExportResult::Failed { message } => Outcome::Failed { message: message.clone() },
        ExportResult::NotYetStarted | ExportResult::Withdrawn => Outcome::Failed { message: "not exported".into() },
    }
}

/// The chosen formats (all by default).
pub fn chosen_formats(names: &[String]) -> Result<Vec<&'static dyn Format>, RunError> {
    if names.is_empty() {
        return Ok(export::formats());
    }
    names.iter().map(|n| export::format(n).map_err(|e| RunError::Input(e.to_string()))).collect()
}

pub fn run(args: &Args) -> Result<u8, RunError> {
    let Some(input) = &args.invoices else { return Err(RunError::Input("--invoices is missing".into())) };
    let config = match &args.config {
        Some(p) => MonthEndConfig::load(p)?,
        None => MonthEndConfig::default(),
    };
    let formats = chosen_formats(&args.formats)?;
    let file = fs::File::open(input).map_err(|e| RunError::Input(format!("{}: {e}", input.display())))?;
    let mut read = read_invoices(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| RunError::Input(format!("{}: {e}", input.display())))?;
    if !read.errors.is_empty() {
        for e in &read.errors {
            eprintln!("{}: {e}", input.display());
        }
        if !args.keep_going {
            return Err(RunError::Input(format!(
                "{} bad record(s) in {}; nothing was written (--keep-going exports the good ones and reports the bad)",
                read.errors.len(),
                input.display()
            )));
        }
    }
    fs::create_dir_all(&args.out)?;
    // Imported invoices were issued elsewhere: record them as they are.
    let mut book = Book::new(Settings { limit_credit_notes: false, ..Settings::default() });
    let actor = Actor::new("month_end", Role::Administrator);
    let lines: Vec<usize> = read.invoices.iter().map(|r| r.line).collect();
    let drafts: Vec<Invoice> = std::mem::take(&mut read.invoices).into_iter().map(|r| r.invoice).collect();
    let ids = if drafts.is_empty() { Vec::new() } else { book.create_invoices(&actor, drafts)? };
    if !ids.is_empty() {
        book.apply(&actor, Command::Issue { invoices: ids.clone() })?;
    }
    let runs = if ids.is_empty() {
        Vec::new()
    } else {
        export_all(&mut book, &actor, &ids, &formats, &config, &args.out, args.quiet)?
    };

    let mut documents_written = Vec::new();
    let mut document_failed = false;
    if (args.pdf || args.zip || args.backups) && !ids.is_empty() {
        let renderer = Renderer::new(config.render_options()?)?;
        let stamp = Stamp::new(Utc::now(), DocumentId::from_name(&input.display().to_string()));
        if args.pdf {
            let n = write_pdfs(&book, &ids, &renderer, &stamp, &args.out, args.quiet)?;
            documents_written.push(format!("pdf/ ({n} files)"));
        }
        if args.zip {
            let n = write_zip(&book, &ids, &renderer, &stamp, &args.out)?;
            documents_written.push(format!("invoices.zip ({n} entries)"));
        }
        if args.backups {
            let root = input
                .parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."));
            match write_backups(&book, &ids, &renderer, &FsSource::new(root), &stamp, &args.out) {
                Ok(report) => {
                    for f in &report.files {
                        documents_written.push(format!(
                            "backups/{}",
                            f.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
                        ));
                    }
                    for s in &report.skipped {
                        eprintln!("backups: skipped {} of {}: {}", s.attachment, s.invoice, s.reason);
                    }
                }
                Err(e) => {
                    eprintln!("month_end: backups: {e}");
                    document_failed = true;
                }
            }
        }
    }

    let mut targets = BTreeMap::new();
    for r in &runs {
        let (exported, skipped, failed) = r.counts();
        targets.insert(r.format, TargetSummary { output: r.path.display().to_string(), exported, skipped, failed });
    }
    let mut all_done = read.errors.is_empty() && !document_failed;
    let invoices: Vec<InvoiceReport> = ids
        .iter()
        .zip(&lines)
        .map(|(id, line)| {
            let mut per = BTreeMap::new();
            for r in &runs {
                let o = r
                    .results
                    .get(id)
                    .map(outcome)
                    .unwrap_or(Outcome::Failed { message: "still in an open batch of another target".into() });
                all_done &= matches!(o, Outcome::Exported);
                per.insert(r.format, o);
            }
            InvoiceReport {
                line: *line,
                number: book.invoice(*id).map(|i| i.label()).unwrap_or_default(),
                targets: per,
            }
        })
        .collect();
    let report = Report {
        input: input.display().to_string(),
        records: ids.len() + read.errors.len(),
        rejected: &read.errors,
        targets,
        invoices,
        documents: documents_written.clone(),
    };
    ui::write_atomic(&args.out.join("report.json"), &serde_json::to_vec_pretty(&report)?)?;

    if !args.quiet {
        ui::step(&format!("{} invoices from {}", ids.len(), input.display()));
        print_runs(&runs);
        if !read.errors.is_empty() {
            println!("  {} bad record(s) rejected (see report.json)", read.errors.len());
        }
        for d in &documents_written {
            println!("  wrote {d}");
        }
        println!("  wrote report.json in {}", args.out.display());
    }
    Ok(if all_done { 0 } else { 1 })
}
