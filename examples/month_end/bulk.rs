//! Bulk mode: invoices from a JSON Lines file, exported to the chosen targets, with PDFs, a
//! ZIP and backups on request, and `report.json`. The export and document steps are shared
//! with the demo.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::Utc;
use invoice_engine::batch_export::{commit_export, export_batch, stage_exports, ExportError, StageTarget};
use invoice_engine::export::{Format, Layout};
use invoice_engine::interchange::{read_invoices, RecordError};
use invoice_engine::pdf::{AttachmentSource, BackupOptions, BackupReport, DocumentId, FsSource, Renderer, Stamp};
use invoice_engine::*;
use serde::Serialize;
use std::io::Write as _;

use crate::config::MonthEndConfig;
use crate::ui::{self, Progress};
use crate::{Args, RunError};

/// What one target did with every invoice.
pub struct TargetRun {
    /// The format's name.
    pub format: &'static str,
    /// Where the output went (relative to OUT).
    pub path: PathBuf,
    /// Outcome per invoice, in the order of the selection (invoices that were in another
    /// open batch are not in it).
    pub results: Vec<(InvoiceId, Outcome)>,
    /// How many warnings the export gave (pre-flight lists them).
    pub warnings: usize,
}

impl TargetRun {
    /// (exported, skipped, failed).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for (_, o) in &self.results {
            match o {
                Outcome::Exported => c.0 += 1,
                Outcome::Skipped { .. } => c.1 += 1,
                Outcome::Failed { .. } => c.2 += 1,
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
            let cells = [e, s, f, r.warnings].map(|n| n.to_string());
            let mut row = vec![r.format.to_string()];
            row.extend(cells);
            row.push(r.path.display().to_string());
            row
        })
        .collect();
    ui::table(&["target", "exported", "skipped", "failed", "warnings", "output"], &rows, &[1, 2, 3, 4]);
}

/// Batch, post and export `ids` to every format, one batch each. Invoices that fail are
/// withdrawn from their batch afterwards (they stay in the report as failed), so that the
/// next target can take them.
///
/// The files are rendered first, every target at the same time on the machine's cores
/// ([`stage_exports`] only reads the invoices); then each target's batch is created, posted
/// and its staged file committed, one after the other. A batch whose invoices turn out not
/// to be the staged ones is exported again on its own.
#[allow(clippy::too_many_arguments)]
pub fn export_all(
    book: &mut Book,
    actor: &Actor,
    ids: &[InvoiceId],
    formats: &[&'static dyn Format],
    config: &MonthEndConfig,
    out: &Path,
    quiet: bool,
    timings: &mut ui::Timings,
) -> Result<Vec<TargetRun>, RunError> {
    let exports = out.join("exports");
    fs::create_dir_all(&exports)?;
    let mut jobs = Vec::with_capacity(formats.len());
    for format in formats {
        let rel = match format.layout() {
            Layout::OneFile => PathBuf::from(format!("{}.{}", format.name(), format.extension())),
            Layout::OnePerInvoice => PathBuf::from(format.name()),
        };
        let dest = exports.join(&rel);
        ui::clear(&dest)?;
        let target_config = config.for_target(format.name()).map_err(RunError::Input)?;
        jobs.push((*format, target_config, rel, dest));
    }

    let mut progress = Progress::new("exporting", ids.len() * formats.len(), quiet);
    let staged = {
        let book = &*book;
        let work = unbatched(book, ids);
        let targets: Vec<StageTarget<'_>> = jobs
            .iter()
            .map(|(format, target_config, _, dest)| StageTarget {
                format: *format,
                config: target_config,
                destination: dest,
            })
            .collect();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut handed = 0;
        // report.json counts the warnings (pre-flight lists them): they are counted and
        // dropped as each piece of a target is written
        let mut warnings = vec![0usize; targets.len()];
        let staged = stage_exports(book, &targets, &work, cores, &mut |k, results| {
            handed += results.len();
            progress.add(results.len());
            for r in results {
                warnings[k] += std::mem::take(&mut r.warnings).len();
            }
        })?;
        // the invoices that were not rendered (no lines, or in another batch)
        progress.add((ids.len() * formats.len()).saturating_sub(handed));
        staged.into_iter().zip(warnings).map(|(staged, warnings)| staged.map(|s| (s, warnings))).collect::<Vec<_>>()
    };
    progress.finish();
    timings.mark("render every target");

    let mut runs = Vec::with_capacity(jobs.len());
    for ((format, target_config, rel, dest), staged) in jobs.into_iter().zip(staged) {
        let (staged, warnings) = staged?;
        let selection = unbatched(book, ids);
        if selection.is_empty() {
            continue;
        }
        let batch = book.create_export_batch(actor, selection, Target::new(format.name(), &config.company), None)?;
        book.apply(actor, Command::Post { batch })?;
        let (report, warnings) = match commit_export(book, actor, batch, staged) {
            Err(ExportError::StaleStage { .. }) => {
                let report = export_batch(book, actor, batch, format, &target_config, &dest)?;
                let warnings = report.results.iter().map(|r| r.warnings.len()).sum();
                (report, warnings)
            }
            other => (other?, warnings),
        };
        let failed: Vec<InvoiceId> =
            report.results.iter().filter(|r| matches!(r.outcome, Outcome::Failed { .. })).map(|r| r.invoice).collect();
        if !failed.is_empty() {
            book.apply(actor, Command::Withdraw { batch, invoices: failed })?;
        }
        // only the outcomes are reported (the warnings are in pre-flight)
        let results = report.results.into_iter().map(|r| (r.invoice, r.outcome)).collect();
        runs.push(TargetRun { format: format.name(), path: PathBuf::from("exports").join(rel), results, warnings });
    }
    Ok(runs)
}

/// The invoices of `ids` that are in no open batch (those another target can take).
fn unbatched(book: &Book, ids: &[InvoiceId]) -> Vec<InvoiceId> {
    ids.iter().copied().filter(|i| book.invoice(*i).is_ok_and(|inv| inv.batch.is_none())).collect()
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
    let mut names = UniqueNames::default();
    for chunk in ids.chunks(256) {
        for (id, bytes) in documents::render(book, chunk, renderer, stamp)? {
            let name = names.claim(&book.invoice(id)?.label(), "pdf");
            ui::write_atomic(&dir.join(name), &bytes)?;
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
    warnings: usize,
}

/// One invoice's outcome at one target, as `report.json` gives it.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum TargetOutcome<'a> {
    Exported,
    Skipped { reason: &'a str },
    Failed { message: &'a str },
}

/// Target name -> outcome, in name order.
struct PerTarget<'a>(Vec<(&'static str, TargetOutcome<'a>)>);

impl Serialize for PerTarget<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, outcome) in &self.0 {
            map.serialize_entry(name, outcome)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct InvoiceReport<'a> {
    line: usize,
    number: &'a str,
    targets: PerTarget<'a>,
}

fn outcome(r: &Outcome) -> TargetOutcome<'_> {
    match r {
        Outcome::Exported => TargetOutcome::Exported,
        Outcome::Skipped { reason } => TargetOutcome::Skipped { reason },
        Outcome::Failed { message } => TargetOutcome::Failed { message },
    }
}

/// Write `report.json`: the run's summary, then one line per invoice with its outcome at
/// every target. Returns whether every invoice went to every target.
#[allow(clippy::too_many_arguments)]
fn write_report(
    path: &Path,
    input: &Path,
    book: &Book,
    ids: &[InvoiceId],
    lines: &[usize],
    rejected: &[RecordError],
    runs: &[TargetRun],
    documents: &[String],
) -> Result<bool, RunError> {
    let mut by_name: Vec<&TargetRun> = runs.iter().collect();
    by_name.sort_by_key(|r| r.format);
    let targets: BTreeMap<&'static str, TargetSummary> = runs
        .iter()
        .map(|r| {
            let (exported, skipped, failed) = r.counts();
            let output = r.path.display().to_string();
            (r.format, TargetSummary { output, exported, skipped, failed, warnings: r.warnings })
        })
        .collect();
    let mut all_done = true;
    // Each report is in selection order, which follows `ids`: walk them side by side.
    let mut cursors = vec![0usize; by_name.len()];
    ui::write_atomic_with(path, |w| {
        let json = |e: serde_json::Error| std::io::Error::other(e);
        w.write_all(b"{\n  \"input\": ")?;
        serde_json::to_writer(&mut *w, &input.display().to_string()).map_err(json)?;
        write!(w, ",\n  \"records\": {},\n  \"rejected\": ", ids.len() + rejected.len())?;
        serde_json::to_writer(&mut *w, rejected).map_err(json)?;
        w.write_all(b",\n  \"targets\": ")?;
        serde_json::to_writer(&mut *w, &targets).map_err(json)?;
        if !documents.is_empty() {
            w.write_all(b",\n  \"documents\": ")?;
            serde_json::to_writer(&mut *w, documents).map_err(json)?;
        }
        w.write_all(b",\n  \"invoices\": [")?;
        for (k, (id, line)) in ids.iter().zip(lines).enumerate() {
            let mut per = Vec::with_capacity(by_name.len());
            for (run, cursor) in by_name.iter().zip(cursors.iter_mut()) {
                let o = match run.results.get(*cursor) {
                    Some((invoice, o)) if invoice == id => {
                        *cursor += 1;
                        outcome(o)
                    }
                    _ => TargetOutcome::Failed { message: "still in an open batch of another target" },
                };
                all_done &= matches!(o, TargetOutcome::Exported);
                per.push((run.format, o));
            }
            let label;
            let number = match book.invoice(*id) {
                Ok(inv) => match &inv.number {
                    Some(n) => n.as_str(),
                    None => {
                        label = inv.label();
                        label.as_str()
                    }
                },
                Err(_) => "",
            };
            w.write_all(if k == 0 { b"\n    " } else { b",\n    " })?;
            serde_json::to_writer(&mut *w, &InvoiceReport { line: *line, number, targets: PerTarget(per) })
                .map_err(json)?;
        }
        w.write_all(b"\n  ]\n}\n")
    })?;
    Ok(all_done)
}

/// The chosen formats (all by default).
pub fn chosen_formats(names: &[String]) -> Result<Vec<&'static dyn Format>, RunError> {
    if names.is_empty() {
        return Ok(export::formats());
    }
    names.iter().map(|n| export::format(n).map_err(|e| RunError::Input(e.to_string()))).collect()
}

pub fn run(args: &Args) -> Result<u8, RunError> {
    let mut timings = ui::Timings::new(args.timings);
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
    timings.mark("read and check the invoices");
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
    timings.mark("record and issue");
    let runs = if ids.is_empty() {
        Vec::new()
    } else {
        export_all(&mut book, &actor, &ids, &formats, &config, &args.out, args.quiet, &mut timings)?
    };

    timings.mark("batch, post and record");
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

    if args.pdf || args.zip || args.backups {
        timings.mark("documents");
    }
    let all_done = write_report(
        &args.out.join("report.json"),
        input,
        &book,
        &ids,
        &lines,
        &read.errors,
        &runs,
        &documents_written,
    )? && read.errors.is_empty()
        && !document_failed;
    timings.mark("report.json");
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
    // The process ends next: handing a hundred thousand invoices back to the allocator one by
    // one would only delay the exit.
    std::mem::forget(book);
    Ok(if all_done { 0 } else { 1 })
}
