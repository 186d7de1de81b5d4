//! Exporting a posted batch of the book to a file: write, then record the results.
//!
//! [`export_batch`] is the one call an application makes to send a posted export batch to
//! its target: it writes the invoices the batch still has to send
//! ([`Book::export_work`](invoice_core::Book::export_work)) with the batch's format, then
//! records every result (and with them the export ledger) in one
//! [`Command::RecordExportResults`]. Either both happen or neither: whatever the book would
//! refuse is checked before anything is written, the output is written under a temporary
//! name beside the destination and renamed into place only when complete, and an error while
//! writing removes it and leaves the book unchanged.
//!
//! - One-file formats ([`Layout::OneFile`]) write the file `destination`.
//! - One-document-per-invoice formats ([`Layout::OnePerInvoice`]) write the directory
//!   `destination` with one file per invoice, named after the invoice number made safe for
//!   file systems ([`safe_file_stem`](invoice_core::safe_file_stem)) plus the format's extension.
//!
//! The destination must not exist yet (an export never overwrites an earlier one).
//!
//! [`export_batch`] is [`stage_export`] (render to the temporary output, only reading the
//! book, on every core) followed by [`commit_export`] (check, rename, record). Calling the two
//! halves apart lets an application render several targets at once ([`stage_exports`] reads
//! the invoices once for all of them) and then record each in its own batch, as
//! `month_end`'s bulk mode does.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use invoice_core::{
    Action, Actor, BatchId, BatchState, Book, Command, Invoice, InvoiceId, Outcome, Totals, UniqueNames,
};
use invoice_export::{Config, DocumentSink, Format, InvoiceResult, Layout, Output, Report, TargetOutput};

/// Why [`export_batch`] did not export. In every case the book is unchanged and nothing is
/// left at the destination.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// The book refused: the actor may not export, the batch is unknown or not posted, or
    /// recording the results failed.
    Core(invoice_core::Error),
    /// The export crate failed (writing the output).
    Export(invoice_export::Error),
    /// The format is not the one the batch was created for.
    WrongFormat {
        /// The batch.
        batch: BatchId,
        /// The format the batch's target names.
        target: String,
        /// The format given.
        format: String,
    },
    /// The destination exists already.
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// Creating, writing or renaming the output failed.
    Io(io::Error),
    /// The batch's work is not what was staged ([`commit_export`]): other invoices, another
    /// order, or an invoice changed since it was staged. Stage it again.
    StaleStage {
        /// The batch.
        batch: BatchId,
    },
}

impl ExportError {
    /// A stable snake_case code: the core's code, `wrong_format`, `destination_exists`, `io`, `stale_stage`,
    /// or the export crate's code.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Core(e) => e.code(),
            ExportError::Export(e) => e.code(),
            ExportError::WrongFormat { .. } => "wrong_format",
            ExportError::DestinationExists { .. } => "destination_exists",
            ExportError::Io(_) => "io",
            ExportError::StaleStage { .. } => "stale_stage",
        }
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Core(e) => write!(f, "{e}"),
            ExportError::Export(e) => write!(f, "{e}"),
            ExportError::WrongFormat { batch, target, format } => {
                write!(f, "batch {batch} goes to format '{target}', not '{format}'")
            }
            ExportError::DestinationExists { path } => {
                write!(f, "{} exists already; an export never overwrites one", path.display())
            }
            ExportError::Io(e) => write!(f, "writing the export failed: {e}"),
            ExportError::StaleStage { batch } => write!(
                f,
                "batch {batch} does not hold the invoices that were staged (other invoices, or changed since); stage it again"
            ),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Core(e) => Some(e),
            ExportError::Export(e) => Some(e),
            ExportError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<invoice_core::Error> for ExportError {
    fn from(e: invoice_core::Error) -> ExportError {
        ExportError::Core(e)
    }
}

impl From<invoice_export::Error> for ExportError {
    fn from(e: invoice_export::Error) -> ExportError {
        match e {
            invoice_export::Error::Io(io) => ExportError::Io(io),
            invoice_export::Error::Core(core) => ExportError::Core(core),
            other => ExportError::Export(other),
        }
    }
}

impl From<io::Error> for ExportError {
    fn from(e: io::Error) -> ExportError {
        ExportError::Io(e)
    }
}

/// Export the posted `batch` of `book` for `actor` with `format` and `config` to
/// `destination`, then record every result in one [`Command::RecordExportResults`].
///
/// Returns the report: one result per invoice the batch still had to send, in batch order,
/// including the invoices without lines (skipped with "Invoice has no lines - not sent").
/// Failed invoices (pre-flight errors) are recorded as failed and stay in the batch for a
/// re-run; the others are done.
///
/// # Errors
///
/// Nothing is written and the book is unchanged when the actor may not export, the batch is
/// not a posted export batch, `format` is not the batch's target format, or `destination`
/// exists. When writing fails the partial output is removed and the book is unchanged.
///
/// # Example
///
/// ```
/// use invoice_engine::batch_export::export_batch;
/// use invoice_engine::export::{format, Config};
/// use invoice_engine::*;
/// use rust_decimal_macros::dec;
///
/// let mut book = Book::new(Settings::default());
/// let admin = Actor::new("ana", Role::Administrator);
/// let draft = Invoice::builder(Customer::new("C001", "Müller GmbH"), Currency::EUR)
///     .line(Line::new("Consulting, November", dec!(37.5), dec!(120.00)).tax_rate(dec!(0.19)).gl_account("8400"))
///     .build();
/// let id = book.create_invoice(&admin, draft)?;
/// book.issue(&admin, id)?;
/// let batch = book.create_export_batch(&admin, vec![id], Target::new("csv", "Demo Ltd"), None)?;
/// book.apply(&admin, Command::Post { batch })?;
///
/// let dir = std::env::temp_dir().join(format!("invoice-engine-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("november.csv");
/// let report = export_batch(&mut book, &admin, batch, format("csv")?, &Config::default(), &path)?;
///
/// assert_eq!(report.counts(), (1, 0, 0)); // exported, skipped, failed
/// assert_eq!(book.invoice(id)?.status.accounting, Accounting::Exported);
/// assert!(std::fs::read_to_string(&path)?.starts_with("invoice_number,kind,"));
/// // exporting it again needs a new batch, forced with a reason
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_batch(
    book: &mut Book,
    actor: &Actor,
    batch: BatchId,
    format: &dyn Format,
    config: &Config,
    destination: &Path,
) -> Result<Report, ExportError> {
    export_batch_with(book, actor, batch, format, config, destination, &|f| Box::new(f))
}

/// Wraps each file the export writes (tests inject failing writers here).
type Wrap<'a> = &'a dyn Fn(File) -> Box<dyn Write>;

fn export_batch_with(
    book: &mut Book,
    actor: &Actor,
    batch: BatchId,
    format: &dyn Format,
    config: &Config,
    destination: &Path,
    wrap: Wrap<'_>,
) -> Result<Report, ExportError> {
    // Everything the book would refuse, before anything is written.
    check_batch(book, actor, batch, format.name(), destination)?;
    let work = book.export_work(batch)?;
    let staged = stage(book, format, config, &work, destination, cores(), wrap)?;
    commit_export(book, actor, batch, staged)
}

/// The machine's cores (export_batch renders on all of them).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What the book would refuse before an export of `batch` to `format` at `destination`.
fn check_batch(
    book: &Book,
    actor: &Actor,
    batch: BatchId,
    format: &str,
    destination: &Path,
) -> Result<(), ExportError> {
    book.settings().policy.check(actor, Action::Export)?;
    let b = book.export_batch(batch)?;
    if b.state != BatchState::Posted {
        return Err(invoice_core::Error::BatchState {
            batch,
            state: b.state_name(),
            action: "export it (post it first)",
        }
        .into());
    }
    if b.target.format != format {
        return Err(ExportError::WrongFormat { batch, target: b.target.format.clone(), format: format.into() });
    }
    check_destination(destination)
}

fn check_destination(destination: &Path) -> Result<(), ExportError> {
    if fs::symlink_metadata(destination).is_ok() {
        return Err(ExportError::DestinationExists { path: destination.to_path_buf() });
    }
    Ok(())
}

/// An export written to a temporary file (or directory) beside its destination and not yet
/// recorded in the book: the first half of [`export_batch`], made by [`stage_export`] and
/// finished by [`commit_export`]. Dropping it removes the temporary output.
///
/// Staging only reads invoices, so several targets can be staged at the same time (on
/// several threads) while the book waits; each is then committed to its own batch.
#[derive(Debug)]
pub struct StagedExport {
    format: String,
    layout: Layout,
    /// The temporary output (`None` once renamed into place).
    tmp: Option<PathBuf>,
    destination: PathBuf,
    report: Report,
    /// Every invoice written, in order.
    written: Vec<InvoiceId>,
    /// The length of the book's journal when it was staged.
    seq: usize,
    /// A one-file output being made durable in the background while the book records
    /// (joined by [`commit_export`] before the rename).
    sync: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl StagedExport {
    /// The report of the staged export: one result per invoice given to [`stage_export`]
    /// that has lines, in that order.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Move the warnings of the staged export out of it, per invoice (for a log or a
    /// summary); the outcomes stay and are what [`commit_export`] records. A long export
    /// keeps less in memory once they are taken.
    pub fn take_warnings(&mut self) -> Vec<(InvoiceId, Vec<invoice_export::Problem>)> {
        self.report
            .results
            .iter_mut()
            .filter(|r| !r.warnings.is_empty())
            .map(|r| (r.invoice, std::mem::take(&mut r.warnings)))
            .collect()
    }

    /// Where [`commit_export`] will put the output.
    pub fn destination(&self) -> &Path {
        &self.destination
    }
}

impl Drop for StagedExport {
    fn drop(&mut self) {
        if let Some(sync) = self.sync.take() {
            let _ = sync.join();
        }
        if let Some(tmp) = self.tmp.take() {
            remove(&tmp, self.layout);
        }
    }
}

/// Write the export of the book's `invoices` with `format` and `config` to a temporary file
/// (or directory) beside `destination`, without changing the book. Invoices without lines
/// are left out: the book records them as skipped when the export is committed. Commit the
/// result to a posted batch of exactly these invoices with [`commit_export`]; events that
/// only move invoices through their lifecycle (batching, posting, other targets' results)
/// may come in between, edits may not. The invoices are rendered on `threads` threads (1:
/// the calling thread only); the output does not depend on it.
///
/// # Errors
///
/// `destination` exists already, or writing failed (nothing is left behind).
///
/// # Example
///
/// ```
/// use invoice_engine::batch_export::{commit_export, stage_export};
/// use invoice_engine::export::{format, Config};
/// use invoice_engine::*;
/// use rust_decimal_macros::dec;
///
/// let mut book = Book::new(Settings::default());
/// let admin = Actor::new("ana", Role::Administrator);
/// let draft = Invoice::builder(Customer::new("C001", "Müller GmbH"), Currency::EUR)
///     .line(Line::new("Consulting", dec!(10), dec!(120.00)).tax_rate(dec!(0.19)))
///     .build();
/// let id = book.create_invoice(&admin, draft)?;
/// book.issue(&admin, id)?;
///
/// let dir = std::env::temp_dir().join(format!("invoice-engine-stage-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// // render first (only reads the invoices) ...
/// let staged = stage_export(&book, format("csv")?, &Config::default(), &[id], &dir.join("a.csv"), 2)?;
/// // ... then batch, post and record
/// let batch = book.create_export_batch(&admin, vec![id], Target::new("csv", "Demo Ltd"), None)?;
/// book.apply(&admin, Command::Post { batch })?;
/// let report = commit_export(&mut book, &admin, batch, staged)?;
/// assert_eq!(report.counts(), (1, 0, 0));
/// assert!(dir.join("a.csv").is_file());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn stage_export(
    book: &Book,
    format: &dyn Format,
    config: &Config,
    invoices: &[InvoiceId],
    destination: &Path,
    threads: usize,
) -> Result<StagedExport, ExportError> {
    check_destination(destination)?;
    let mut work = Vec::with_capacity(invoices.len());
    for id in invoices {
        let inv = book.invoice(*id)?;
        if inv.export_skip_reason().is_none() {
            work.push(inv);
        }
    }
    stage(book, format, config, &work, destination, threads, &|f| Box::new(f))
}

fn stage(
    book: &Book,
    format: &dyn Format,
    config: &Config,
    work: &[&Invoice],
    destination: &Path,
    threads: usize,
    wrap: Wrap<'_>,
) -> Result<StagedExport, ExportError> {
    let target = StageTarget { format, config, destination };
    stage_many(book, &[target], work, threads, wrap, &mut |_, _| {})?
        .pop()
        .unwrap_or_else(|| unreachable!("one target, one stage"))
}

/// One target of [`stage_exports`]: a format, its configuration and the destination of its
/// output.
#[derive(Clone, Copy)]
pub struct StageTarget<'a> {
    /// The format.
    pub format: &'a dyn Format,
    /// Its configuration.
    pub config: &'a Config,
    /// Where [`commit_export`] will put the output; it must not exist.
    pub destination: &'a Path,
}

/// [`stage_export`] of the same `invoices` to several targets at once, one [`StagedExport`]
/// per target in the order given, each exactly what [`stage_export`] would have made. The
/// invoices are read once: every chunk of them is rendered for every target while it is in
/// the cache, on `threads` threads, and the calling thread writes each target's output in
/// order. Each time it has written a target some more invoices it calls `written` with the
/// target's index (in `targets`) and their results, for a progress bar or to take their
/// warnings as they come ([`StagedExport::report`] keeps what is left of them). A target that fails (its destination exists, a write fails) gets its error and
/// leaves nothing behind; the others go on.
///
/// # Errors
///
/// The outer error when an invoice is unknown to the book or its content cannot be hashed:
/// then nothing is staged.
///
/// # Example
///
/// ```
/// use invoice_engine::batch_export::{commit_export, stage_exports, StageTarget};
/// use invoice_engine::export::{format, Config};
/// use invoice_engine::*;
/// use rust_decimal_macros::dec;
///
/// let mut book = Book::new(Settings::default());
/// let admin = Actor::new("ana", Role::Administrator);
/// let draft = Invoice::builder(Customer::new("C001", "Müller GmbH"), Currency::EUR)
///     .line(Line::new("Consulting", dec!(10), dec!(120.00)).tax_rate(dec!(0.19)).gl_account("8400"))
///     .build();
/// let id = book.create_invoice(&admin, draft)?;
/// book.issue(&admin, id)?;
///
/// let dir = std::env::temp_dir().join(format!("invoice-engine-stages-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let config = Config::default();
/// let (csv, sage) = (dir.join("a.csv"), dir.join("a-sage300.csv"));
/// let targets = [
///     StageTarget { format: format("csv")?, config: &config, destination: &csv },
///     StageTarget { format: format("sage300")?, config: &config, destination: &sage },
/// ];
/// let staged = stage_exports(&book, &targets, &[id], 2, &mut |_, _| {})?;
/// // each target in its own batch, one after the other
/// for (staged, target) in staged.into_iter().zip(["csv", "sage300"]) {
///     let batch = book.create_export_batch(&admin, vec![id], Target::new(target, "Demo Ltd"), None)?;
///     book.apply(&admin, Command::Post { batch })?;
///     let report = commit_export(&mut book, &admin, batch, staged?)?;
///     assert_eq!(report.counts(), (1, 0, 0), "{report:?}");
/// }
/// assert!(csv.is_file() && sage.is_file());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn stage_exports(
    book: &Book,
    targets: &[StageTarget<'_>],
    invoices: &[InvoiceId],
    threads: usize,
    written: &mut dyn FnMut(usize, &mut [InvoiceResult]),
) -> Result<Vec<Result<StagedExport, ExportError>>, ExportError> {
    let mut work = Vec::with_capacity(invoices.len());
    for id in invoices {
        let inv = book.invoice(*id)?;
        if inv.export_skip_reason().is_none() {
            work.push(inv);
        }
    }
    stage_many(book, targets, &work, threads, &|f| Box::new(f), written)
}

/// A staged target's open output.
enum Open<'a> {
    File { out: BufWriter<Box<dyn Write>>, sync: File },
    Directory(DirectorySink<'a>),
}

fn stage_many(
    book: &Book,
    targets: &[StageTarget<'_>],
    work: &[&Invoice],
    threads: usize,
    wrap: Wrap<'_>,
    written: &mut dyn FnMut(usize, &mut [InvoiceResult]),
) -> Result<Vec<Result<StagedExport, ExportError>>, ExportError> {
    // The commit records a content hash per exported invoice; the book keeps them, so
    // computing them here moves that work onto the staging threads. The book keeps the
    // totals too: the CSV-like targets take them instead of making them again (an export
    // to several targets makes them once). Each thread takes its own invoices.
    let keep = |part: &[&Invoice]| -> invoice_core::Result<()> {
        for inv in part {
            book.content_hash(inv.id)?;
            let _ = book.totals(inv.id); // an invoice whose totals fail is told by the export
        }
        Ok(())
    };
    let per_thread = work.len().div_ceil(threads.max(1)).max(1024);
    if threads > 1 && work.len() > per_thread {
        std::thread::scope(|scope| {
            let parts: Vec<_> = work.chunks(per_thread).map(|part| scope.spawn(move || keep(part))).collect();
            parts.into_iter().try_for_each(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        })?;
    } else {
        keep(work)?;
    }
    let totals: Option<Vec<&Totals>> = work.iter().map(|inv| book.totals(inv.id).ok()).collect();
    // Each staged export is made before anything is written, so that a failure drops it and
    // its temporary output with it.
    let mut staged: Vec<Result<StagedExport, ExportError>> = targets
        .iter()
        .map(|t| {
            check_destination(t.destination)?;
            let layout = t.format.layout();
            Ok(StagedExport {
                format: t.format.name().to_string(),
                layout,
                tmp: Some(create_temp(t.destination, layout)?),
                destination: t.destination.to_path_buf(),
                report: Report { format: t.format.name().to_string(), results: Vec::new() },
                written: work.iter().map(|i| i.id).collect(),
                seq: book.journal().len(),
                sync: None,
            })
        })
        .collect();
    let mut open: Vec<Option<Open<'_>>> = Vec::with_capacity(targets.len());
    for (s, t) in staged.iter_mut().zip(targets) {
        let Ok(st) = s else {
            open.push(None);
            continue;
        };
        let Some(tmp) = st.tmp.clone() else { unreachable!("made with its temporary output") };
        let opened = match st.layout {
            Layout::OneFile => OpenOptions::new().write(true).open(&tmp).and_then(|file| {
                let sync = file.try_clone()?;
                Ok(Open::File { out: BufWriter::with_capacity(1 << 16, wrap(file)), sync })
            }),
            Layout::OnePerInvoice => Ok(Open::Directory(DirectorySink {
                dir: tmp,
                extension: t.format.extension(),
                names: UniqueNames::default(),
                wrap,
            })),
        };
        match opened {
            Ok(o) => open.push(Some(o)),
            Err(e) => {
                *s = Err(e.into());
                open.push(None);
            }
        }
    }
    // While the targets are written, their files are handed to the disk as they grow, so
    // that making them durable at the end (in the background) finds little left to do.
    let mut outputs: Vec<TargetOutput<'_>> = Vec::with_capacity(targets.len());
    // the index in `targets` of each output
    let mut target_of: Vec<usize> = Vec::with_capacity(targets.len());
    let mut growing: Vec<&File> = Vec::new();
    for (k, (o, t)) in open.iter_mut().zip(targets).enumerate() {
        let output = match o {
            None => continue,
            Some(Open::File { out, sync }) => {
                growing.push(sync);
                Output::File(out)
            }
            Some(Open::Directory(sink)) => Output::Documents(sink),
        };
        outputs.push(TargetOutput { format: t.format, config: t.config, output });
        target_of.push(k);
    }
    let rendering = (Mutex::new(true), Condvar::new());
    let reports = std::thread::scope(|scope| {
        if !growing.is_empty() && threads > 1 {
            let (growing, rendering) = (&growing, &rendering);
            scope.spawn(move || {
                let mut on = rendering.0.lock().unwrap_or_else(|e| e.into_inner());
                while *on {
                    on = rendering.1.wait_timeout(on, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
                    if *on {
                        drop(on);
                        for f in growing {
                            let _ = f.sync_data(); // the final sync_all reports failures
                        }
                        on = rendering.0.lock().unwrap_or_else(|e| e.into_inner());
                    }
                }
            });
        }
        let mut handed = |j: usize, results: &mut [InvoiceResult]| written(target_of[j], results);
        let reports = invoice_export::export_targets(outputs, work, totals.as_deref(), threads, &mut handed);
        *rendering.0.lock().unwrap_or_else(|e| e.into_inner()) = false;
        rendering.1.notify_all();
        reports
    });
    drop(growing);
    let mut reports = reports.into_iter();
    for (s, o) in staged.iter_mut().zip(open) {
        let (Ok(st), Some(o)) = (&mut *s, o) else { continue };
        let Some(report) = reports.next() else { unreachable!("one report per open output") };
        match report {
            Ok(report) => st.report = report,
            Err(e) => {
                *s = Err(e.into());
                continue;
            }
        }
        if let Open::File { out, sync } = o {
            // export_targets flushed the buffer; the file is made durable in the background
            // (commit_export waits for it before the rename)
            drop(out);
            match std::thread::Builder::new().name("sync".into()).spawn(move || sync.sync_all()) {
                Ok(handle) => st.sync = Some(handle),
                Err(e) => *s = Err(e.into()),
            }
        }
    }
    Ok(staged)
}

/// Finish a [`StagedExport`] of this book: check that `batch` is a posted export batch of
/// the staged format whose work ([`Book::export_work`]) is exactly the staged invoices, with
/// no event since the staging that may have changed what an invoice says
/// ([`Event::may_change_invoice_content`](invoice_core::Event::may_change_invoice_content)),
/// rename the output into place, and record every result in one
/// [`Command::RecordExportResults`] (invoices without lines as skipped).
///
/// # Errors
///
/// Everything [`export_batch`] refuses, and [`ExportError::StaleStage`] when the batch's
/// work is not what was staged. On error the book is unchanged and the staged output is
/// removed.
pub fn commit_export(
    book: &mut Book,
    actor: &Actor,
    batch: BatchId,
    mut staged: StagedExport,
) -> Result<Report, ExportError> {
    check_batch(book, actor, batch, &staged.format, &staged.destination)?;
    let work = book.export_work(batch)?;
    let same_invoices = work.len() == staged.written.len() && work.iter().zip(&staged.written).all(|(i, w)| i.id == *w);
    let unchanged = book
        .journal()
        .get(staged.seq..)
        .is_some_and(|since| since.iter().all(|env| !env.event.may_change_invoice_content()));
    if !(same_invoices && unchanged) {
        return Err(ExportError::StaleStage { batch });
    }
    let Some(tmp) = staged.tmp.take() else { return Err(ExportError::StaleStage { batch }) };
    // durable before it is renamed into place (a directory's documents were synced one by
    // one as they were written)
    let synced = match staged.sync.take() {
        Some(sync) => sync.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        None => Ok(()),
    };
    if let Err(e) = synced.and_then(|()| fs::rename(&tmp, &staged.destination)) {
        remove(&tmp, staged.layout);
        return Err(e.into());
    }
    let report = with_skipped(
        book,
        batch,
        std::mem::replace(&mut staged.report, Report { format: String::new(), results: Vec::new() }),
    )?;
    let results = report.outcomes();
    if let Err(e) = book.apply(actor, Command::RecordExportResults { batch, results }) {
        // Not expected after the checks above; keep book and disk consistent all the same.
        remove(&staged.destination, staged.layout);
        return Err(e.into());
    }
    Ok(report)
}

/// The report in batch order, with the open invoices that have no lines as skipped. The
/// report follows the batch's work ([`Book::export_work`]), which is in batch order.
fn with_skipped(book: &Book, batch: BatchId, report: Report) -> Result<Report, ExportError> {
    let b = book.export_batch(batch)?;
    let mut written = report.results.into_iter().peekable();
    let mut results = Vec::with_capacity(b.invoices.len());
    for (id, result) in b.selection_results() {
        if let Some(r) = written.next_if(|r| r.invoice == id) {
            results.push(r);
            continue;
        }
        if !result.is_some_and(|r| r.is_open()) {
            continue;
        }
        let inv = book.invoice(id)?;
        if let Some(reason) = inv.export_skip_reason() {
            results.push(InvoiceResult {
                invoice: id,
                number: inv.label(),
                outcome: Outcome::Skipped { reason: reason.to_string() },
                warnings: Vec::new(),
            });
        }
    }
    Ok(Report { format: report.format, results })
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name beside `destination` that nothing else uses: `.<name>.<pid>-<n>.tmp`.
fn temp_path(destination: &Path) -> PathBuf {
    let name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    destination.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

fn remove(path: &Path, layout: Layout) {
    let _ = match layout {
        Layout::OneFile => fs::remove_file(path),
        Layout::OnePerInvoice => fs::remove_dir_all(path),
    };
}

/// A new temporary file (or directory) beside `destination`.
fn create_temp(destination: &Path, layout: Layout) -> Result<PathBuf, ExportError> {
    loop {
        let tmp = temp_path(destination);
        let created = match layout {
            Layout::OneFile => OpenOptions::new().write(true).create_new(true).open(&tmp).map(drop),
            Layout::OnePerInvoice => fs::create_dir(&tmp),
        };
        match created {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes each document to `<safe number>.<extension>` in a directory.
struct DirectorySink<'a> {
    dir: PathBuf,
    extension: &'static str,
    names: UniqueNames,
    wrap: Wrap<'a>,
}

impl DocumentSink for DirectorySink<'_> {
    fn document(&mut self, invoice: &Invoice, bytes: &[u8]) -> io::Result<()> {
        let path = self.dir.join(self.names.claim(&invoice.label(), self.extension));
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        let sync = file.try_clone()?;
        let mut out = (self.wrap)(file);
        out.write_all(bytes)?;
        out.flush()?;
        drop(out);
        sync.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use invoice_core::{
        Accounting, Change, Currency, Customer, Invoice, Line, ManualClock, Role, Settings, Target, NO_LINES_MESSAGE,
    };
    use invoice_export::Problem;
    use rust_decimal_macros::dec;
    use std::sync::Arc;

    fn admin() -> Actor {
        Actor::new("ana", Role::Administrator)
    }

    /// A scratch directory under the target dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("invoice-engine-batch-export-{name}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn entries(&self) -> Vec<String> {
            let mut v: Vec<String> =
                fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A book with a posted batch to `format` of: two invoices with lines (numbers given)
    /// and one without lines.
    fn posted(format: &str, numbers: &[&str]) -> (Book, BatchId, Vec<InvoiceId>) {
        let clock = ManualClock::new(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap());
        let mut book = Book::with_clock(Settings::default(), Arc::new(clock));
        let mut drafts: Vec<Invoice> = numbers
            .iter()
            .map(|n| {
                Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR)
                    .number(*n)
                    .line(Line::new("Consulting", dec!(2), dec!(100.00)).tax_rate(dec!(0.19)).gl_account("8400"))
                    .build()
            })
            .collect();
        drafts.push(Invoice::builder(Customer::new("C2", "Empty"), Currency::EUR).number("EMPTY-1").build());
        let ids = book.create_invoices(&admin(), drafts).unwrap();
        book.apply(&admin(), Command::Issue { invoices: ids.clone() }).unwrap();
        let batch = book.create_export_batch(&admin(), ids.clone(), Target::new(format, "Demo"), None).unwrap();
        book.apply(&admin(), Command::Post { batch }).unwrap();
        (book, batch, ids)
    }

    fn snapshot(book: &Book) -> String {
        serde_json::to_string(book).unwrap()
    }

    #[test]
    fn a_staged_export_commits_to_the_batch_of_its_invoices() {
        let dir = Scratch::new("staged");
        let (mut book, batch, ids) = posted("csv", &["INV-1", "INV-2"]);
        let csv = invoice_export::format("csv").unwrap();
        let staged = stage_export(&book, csv, &Config::default(), &ids, &dir.0.join("out.csv"), 2).unwrap();
        assert_eq!(staged.report().counts(), (2, 0, 0), "the invoice without lines is left out");
        let mut staged = staged;
        assert!(staged.take_warnings().is_empty());
        assert_eq!(dir.entries().len(), 1, "only the temporary file: {:?}", dir.entries());
        let report = commit_export(&mut book, &admin(), batch, staged).unwrap();
        assert_eq!(report.counts(), (2, 1, 0));
        assert_eq!(dir.entries(), ["out.csv"]);
        assert_eq!(book.invoice(ids[0]).unwrap().status.accounting, Accounting::Exported);
    }

    #[test]
    fn several_targets_are_staged_at_once_and_a_failing_one_leaves_nothing() {
        let dir = Scratch::new("stages");
        let (mut book, batch, ids) = posted("csv", &["INV-1", "INV-2"]);
        fs::write(dir.0.join("taken.csv"), b"an earlier export").unwrap();
        let (csv, ubl) = (invoice_export::format("csv").unwrap(), invoice_export::format("ubl").unwrap());
        let config = Config::default();
        let (out, taken, docs) = (dir.0.join("out.csv"), dir.0.join("taken.csv"), dir.0.join("ubl"));
        let targets = [
            StageTarget { format: csv, config: &config, destination: &out },
            StageTarget { format: csv, config: &config, destination: &taken },
            StageTarget { format: ubl, config: &config, destination: &docs },
        ];
        let mut handed = Vec::new();
        let mut staged =
            stage_exports(&book, &targets, &ids, 2, &mut |k, results| handed.push((k, results.len()))).unwrap();
        handed.sort();
        assert_eq!(handed, [(0, 2), (2, 2)], "two invoices with lines to each target staged");
        assert_eq!(staged[1].as_ref().unwrap_err().code(), "destination_exists");
        // each is what stage_export makes alone
        let alone = stage_export(&book, csv, &config, &ids, &dir.0.join("alone.csv"), 1).unwrap();
        assert_eq!(staged[0].as_ref().unwrap().report(), alone.report());
        drop(alone);
        assert_eq!(staged[2].as_ref().unwrap().report().counts(), (0, 0, 2), "no seller: UBL refuses both");
        drop(staged.pop());
        assert_eq!(dir.entries().len(), 2, "the staged csv and the earlier file: {:?}", dir.entries());
        let Some(Ok(first)) = staged.into_iter().next() else { unreachable!() };
        let report = commit_export(&mut book, &admin(), batch, first).unwrap();
        assert_eq!(report.counts(), (2, 1, 0));
        assert_eq!(dir.entries(), ["out.csv", "taken.csv"]);
        assert_eq!(fs::read(&taken).unwrap(), b"an earlier export");
        assert!(fs::read_to_string(&out).unwrap().contains("INV-2"));
    }

    #[test]
    fn an_edit_after_staging_makes_the_stage_stale() {
        let dir = Scratch::new("edited");
        let (mut book, batch, ids) = posted("csv", &["INV-1", "INV-2"]);
        let csv = invoice_export::format("csv").unwrap();
        let staged = stage_export(&book, csv, &Config::default(), &ids, &dir.0.join("out.csv"), 2).unwrap();
        // posted invoices still take a new location, and the generic CSV exports it
        book.apply(&admin(), Command::Edit { invoice: ids[1], changes: vec![Change::Location(Some("Oslo".into()))] })
            .unwrap();
        let before = snapshot(&book);
        assert_eq!(commit_export(&mut book, &admin(), batch, staged).unwrap_err().code(), "stale_stage");
        assert_eq!(snapshot(&book), before);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
        // exporting it directly writes what the invoice says now
        export_batch(&mut book, &admin(), batch, csv, &Config::default(), &dir.0.join("out.csv")).unwrap();
        assert!(fs::read_to_string(dir.0.join("out.csv")).unwrap().contains("Oslo"));
    }

    #[test]
    fn a_stale_stage_is_refused_and_leaves_nothing() {
        let dir = Scratch::new("stale");
        let (mut book, batch, ids) = posted("csv", &["INV-1", "INV-2"]);
        let before = snapshot(&book);
        let csv = invoice_export::format("csv").unwrap();
        // only one of the batch's two invoices with lines
        let staged = stage_export(&book, csv, &Config::default(), &ids[..1], &dir.0.join("out.csv"), 2).unwrap();
        let err = commit_export(&mut book, &admin(), batch, staged).unwrap_err();
        assert_eq!(err.code(), "stale_stage", "{err}");
        assert_eq!(snapshot(&book), before);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
        // the wrong format is refused the same way, and dropping a stage removes its output
        let iif = invoice_export::format("iif").unwrap();
        let iif = stage_export(&book, iif, &Config::default(), &ids, &dir.0.join("x.iif"), 2).unwrap();
        let dropped = stage_export(&book, csv, &Config::default(), &ids, &dir.0.join("y.csv"), 2).unwrap();
        assert_eq!(commit_export(&mut book, &admin(), batch, iif).unwrap_err().code(), "wrong_format");
        drop(dropped);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
        assert_eq!(snapshot(&book), before);
    }

    #[test]
    fn exports_the_file_and_records_every_result() {
        let dir = Scratch::new("ok");
        let (mut book, batch, ids) = posted("csv", &["INV-1", "INV-2"]);
        let path = dir.0.join("out.csv");
        let report =
            export_batch(&mut book, &admin(), batch, invoice_export::format("csv").unwrap(), &Config::default(), &path)
                .unwrap();
        assert_eq!(report.counts(), (2, 1, 0));
        assert_eq!(report.results[2].outcome, Outcome::Skipped { reason: NO_LINES_MESSAGE.into() });
        assert_eq!(dir.entries(), ["out.csv"]);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        for id in &ids[..2] {
            assert_eq!(book.invoice(*id).unwrap().status.accounting, Accounting::Exported);
        }
        let target = Target::new("csv", "Demo");
        for id in &ids[..2] {
            assert!(book.ledger().last_export(*id, &target).is_some(), "no ledger entry for {id}");
        }
        // a second export of the same (now closed) batch is refused, and writes nothing
        let again = dir.0.join("again.csv");
        let before = snapshot(&book);
        let err = export_batch(
            &mut book,
            &admin(),
            batch,
            invoice_export::format("csv").unwrap(),
            &Config::default(),
            &again,
        )
        .unwrap_err();
        assert_eq!(err.code(), "batch_state");
        assert_eq!(snapshot(&book), before);
        assert_eq!(dir.entries(), ["out.csv"]);
    }

    /// Fails after `budget` bytes.
    struct Failing {
        budget: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.budget {
                return Err(io::Error::other("disk full"));
            }
            self.budget -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_leaves_the_book_unchanged_and_no_file() {
        let dir = Scratch::new("failing");
        let (mut book, batch, _) = posted("csv", &["INV-1", "INV-2"]);
        let before = snapshot(&book);
        let path = dir.0.join("out.csv");
        let f = invoice_export::format("csv").unwrap();
        let err = export_batch_with(&mut book, &admin(), batch, f, &Config::default(), &path, &|_file| {
            Box::new(Failing { budget: 10 })
        })
        .unwrap_err();
        assert_eq!(err.code(), "io", "{err}");
        assert_eq!(snapshot(&book), before);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
        // and then it works
        export_batch(&mut book, &admin(), batch, f, &Config::default(), &path).unwrap();
        assert_eq!(dir.entries(), ["out.csv"]);
    }

    #[test]
    fn an_unwritable_destination_leaves_the_book_unchanged() {
        let dir = Scratch::new("unwritable");
        fs::write(dir.0.join("a-file"), b"x").unwrap();
        let (mut book, batch, _) = posted("csv", &["INV-1"]);
        let before = snapshot(&book);
        // the parent "directory" is a file: nothing can be created there, even by root
        let path = dir.0.join("a-file").join("out.csv");
        let err =
            export_batch(&mut book, &admin(), batch, invoice_export::format("csv").unwrap(), &Config::default(), &path)
                .unwrap_err();
        assert_eq!(err.code(), "io");
        assert_eq!(snapshot(&book), before);
        assert_eq!(dir.entries(), ["a-file"]);
    }

    #[test]
    fn refusals_come_before_any_writing() {
        let dir = Scratch::new("refusals");
        let (mut book, batch, _) = posted("csv", &["INV-1"]);
        let before = snapshot(&book);
        let csv = invoice_export::format("csv").unwrap();
        let path = dir.0.join("out.csv");
        let finance = Actor::new("fred", Role::Finance);
        let cases: Vec<(Result<Report, ExportError>, &str)> = vec![
            (export_batch(&mut book, &finance, batch, csv, &Config::default(), &path), "forbidden"),
            (
                export_batch(
                    &mut book,
                    &admin(),
                    batch,
                    invoice_export::format("iif").unwrap(),
                    &Config::default(),
                    &path,
                ),
                "wrong_format",
            ),
            (export_batch(&mut book, &admin(), BatchId(99), csv, &Config::default(), &path), "unknown_batch"),
        ];
        for (result, code) in cases {
            assert_eq!(result.unwrap_err().code(), code);
        }
        fs::write(&path, b"earlier export").unwrap();
        let err = export_batch(&mut book, &admin(), batch, csv, &Config::default(), &path).unwrap_err();
        assert_eq!(err.code(), "destination_exists");
        assert_eq!(fs::read(&path).unwrap(), b"earlier export");
        assert_eq!(snapshot(&book), before);
        assert_eq!(dir.entries(), ["out.csv"]);
    }

    /// A one-document-per-invoice format for the tests: the number and the gross.
    struct PerInvoice;

    impl Format for PerInvoice {
        fn name(&self) -> &'static str {
            "per-invoice"
        }
        fn extension(&self) -> &'static str {
            "txt"
        }
        fn layout(&self) -> Layout {
            Layout::OnePerInvoice
        }
        fn check(&self, _invoice: &Invoice, _config: &Config) -> Vec<Problem> {
            Vec::new()
        }
        fn write_invoice(&self, invoice: &Invoice, _config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
            let gross = invoice.totals().map(|t| t.gross).unwrap_or_default();
            out.extend_from_slice(format!("{} {gross}\n", invoice.label()).as_bytes());
            Ok(())
        }
    }

    #[test]
    fn one_document_per_invoice_goes_to_a_directory_with_safe_unique_names() {
        let dir = Scratch::new("documents");
        let (mut book, batch, _) = posted("per-invoice", &["A/1", "A_1", "..", "a_1"]);
        let path = dir.0.join("out");
        let report = export_batch(&mut book, &admin(), batch, &PerInvoice, &Config::default(), &path).unwrap();
        assert_eq!(report.counts(), (4, 1, 0));
        assert_eq!(dir.entries(), ["out"]);
        let mut files: Vec<String> =
            fs::read_dir(&path).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        assert_eq!(files, ["A_1-2.txt", "A_1.txt", "a_1-3.txt", "invoice.txt"]);
        assert_eq!(fs::read_to_string(path.join("A_1.txt")).unwrap(), "A/1 238.00\n");
    }

    #[test]
    fn a_failing_document_leaves_no_directory_and_the_book_unchanged() {
        let dir = Scratch::new("documents-failing");
        let (mut book, batch, _) = posted("per-invoice", &["D-1", "D-2"]);
        let before = snapshot(&book);
        let path = dir.0.join("out");
        let err = export_batch_with(&mut book, &admin(), batch, &PerInvoice, &Config::default(), &path, &|_file| {
            Box::new(Failing { budget: 0 })
        })
        .unwrap_err();
        assert_eq!(err.code(), "io");
        assert_eq!(snapshot(&book), before);
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    }
}
