//! Compiled backups: for a selection, one PDF per billing period holding, for each invoice, its
//! PDF (or the supplied signed PDF) followed by its PDF attachments, with bookmarks and an
//! optional first page that lists the invoices and their control totals.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use invoice_core::{Attachment, Currency, Invoice, Period};
use lopdf::ObjectId;
use rust_decimal::Decimal;

use crate::error::{Error, Result, Unreadable};
use crate::format::date;
use crate::layout::{summary_page_count, summary_pages, ControlTotal, SummaryRow};
use crate::merge::{self, Bookmark, Merger};
use crate::options::fill;
use crate::render::{totals, Assembly, Renderer};
use crate::stamp::Stamp;

/// Where the bytes of attachments and signed PDFs come from. The core only knows an
/// attachment's name and location; the host application knows how to fetch it.
///
/// Any `Fn(&Attachment) -> io::Result<Vec<u8>>` is a source; [`FsSource`] reads files.
pub trait AttachmentSource {
    /// The bytes of `attachment`.
    fn read(&self, attachment: &Attachment) -> io::Result<Vec<u8>>;
}

impl<F> AttachmentSource for F
where
    F: Fn(&Attachment) -> io::Result<Vec<u8>>,
{
    fn read(&self, attachment: &Attachment) -> io::Result<Vec<u8>> {
        self(attachment)
    }
}

/// Reads attachments from files: an attachment's location is a path relative to `root`.
/// Absolute locations and locations with `..` are refused, so a location can never reach
/// outside `root`.
#[derive(Debug, Clone)]
pub struct FsSource {
    root: PathBuf,
}

impl FsSource {
    /// A source reading below `root`.
    pub fn new(root: impl Into<PathBuf>) -> FsSource {
        FsSource { root: root.into() }
    }
}

impl AttachmentSource for FsSource {
    fn read(&self, attachment: &Attachment) -> io::Result<Vec<u8>> {
        let rel = Path::new(&attachment.location);
        if !rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("location {:?} is not a relative path below the source's root", attachment.location),
            ));
        }
        std::fs::read(self.root.join(rel))
    }
}

/// How to compile backups.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The directory the PDFs are written to (it must exist).
    pub out_dir: PathBuf,
    /// File names are `{prefix}_{start}_{end}.pdf` (`{start}_{end}.pdf` with an empty prefix);
    /// default `backup`.
    pub file_prefix: String,
    /// Start each PDF with a page listing its invoices, their pages and totals. Default true.
    pub summary_page: bool,
    /// Leave out attachments that are not readable PDFs (and use the rendered invoice instead of
    /// an unreadable signed PDF), listing them in the report, instead of failing. Default false.
    pub skip_unreadable: bool,
    /// Creation date and base id; each period's PDF gets an id derived from it.
    pub stamp: Stamp,
}

impl BackupOptions {
    /// Options writing to `out_dir` with the defaults above.
    pub fn new(out_dir: impl Into<PathBuf>, stamp: Stamp) -> BackupOptions {
        BackupOptions {
            out_dir: out_dir.into(),
            file_prefix: "backup".into(),
            summary_page: true,
            skip_unreadable: false,
            stamp,
        }
    }
}

/// An attachment left out of a backup because it is not a readable PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The invoice.
    pub invoice: String,
    /// The attachment's name (for a signed PDF, its name as given).
    pub attachment: String,
    /// Whether it was the invoice's signed PDF (the rendered invoice was used instead).
    pub signed: bool,
    /// Why.
    pub reason: Unreadable,
}

/// Where a document sits in a backup PDF (pages are 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The invoice's number, or the attachment's name.
    pub name: String,
    /// First page.
    pub first_page: usize,
    /// Page count.
    pub pages: usize,
}

/// One invoice in a backup PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupEntry {
    /// The invoice and its pages.
    pub invoice: Placement,
    /// Whether the supplied signed PDF was used instead of the rendered invoice.
    pub signed: bool,
    /// Its attachments, in order (skipped ones are absent).
    pub attachments: Vec<Placement>,
}

/// One written backup PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    /// The billing period.
    pub period: Period,
    /// Where it was written.
    pub path: PathBuf,
    /// Pages in total (summary pages included).
    pub pages: usize,
    /// Pages of the summary at the start (0 without one).
    pub summary_pages: usize,
    /// The invoices, in the order they appear.
    pub entries: Vec<BackupEntry>,
    /// Size in bytes.
    pub size: u64,
}

/// What a compile wrote and what it left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupReport {
    /// One file per billing period, in period order.
    pub files: Vec<BackupFile>,
    /// Attachments left out (only with [`BackupOptions::skip_unreadable`]).
    pub skipped: Vec<Skipped>,
}

/// A file being written: removed on drop unless committed.
struct TempFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempFile {
    fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.temp, &self.target)
            .map_err(|source| Error::File { path: self.target.clone(), source })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A number that makes temporary file names unique within the process.
fn next_temp() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The order of invoices within a period: issue date (undated last), number, id.
fn order_key(inv: &Invoice) -> (bool, Option<chrono::NaiveDate>, String, u64) {
    (inv.issue_date.is_none(), inv.issue_date, inv.label(), inv.id.0)
}

/// Group by billing period; every invoice must have one (the error names all that do not).
fn by_period<'a>(invoices: &[&'a Invoice]) -> Result<BTreeMap<Period, Vec<&'a Invoice>>> {
    if invoices.is_empty() {
        return Err(Error::EmptySelection);
    }
    let missing: Vec<String> = invoices.iter().filter(|i| i.billing_period.is_none()).map(|i| i.label()).collect();
    if !missing.is_empty() {
        return Err(Error::MissingBillingPeriod { invoices: missing });
    }
    let mut groups: BTreeMap<Period, Vec<&Invoice>> = BTreeMap::new();
    for inv in invoices {
        if let Some(p) = inv.billing_period {
            groups.entry(p).or_default().push(inv);
        }
    }
    for list in groups.values_mut() {
        list.sort_by_cached_key(|i| order_key(i));
    }
    Ok(groups)
}

/// Rendered invoices go into documents of at most this many invoices each: one font
/// copy per chunk keeps the file small, and the chunk bound keeps memory flat for big periods.
const CHUNK: usize = 100;

/// One invoice of a period: the output page ids of its main document and of its attachments.
struct Item<'a> {
    inv: &'a Invoice,
    main: Vec<ObjectId>,
    signed: bool,
    attachments: Vec<(String, Vec<ObjectId>)>,
}

/// Compile one PDF per billing period of `invoices` into `options.out_dir`.
///
/// Nothing is written when anything fails: every PDF goes to a temporary file first, and the
/// files are renamed into place only once all periods succeeded.
pub fn compile_backups(
    renderer: &Renderer,
    invoices: &[&Invoice],
    source: &dyn AttachmentSource,
    options: &BackupOptions,
) -> Result<BackupReport> {
    let groups = by_period(invoices)?;
    let mut report = BackupReport::default();
    let mut pending = Vec::with_capacity(groups.len());
    for (period, list) in groups {
        let name = match options.file_prefix.as_str() {
            "" => format!("{}_{}.pdf", period.start, period.end),
            prefix => format!("{prefix}_{}_{}.pdf", period.start, period.end),
        };
        let target = options.out_dir.join(&name);
        let temp = TempFile {
            temp: options.out_dir.join(format!(".{name}.{}-{}.tmp", std::process::id(), next_temp())),
            target: target.clone(),
            committed: false,
        };
        let stamp = options.stamp.derive(&format!("backup/{}/{}", period.start, period.end));
        let mut file = compile_period(renderer, period, &list, source, options, &stamp, &temp.temp, &mut report)?;
        file.path = target;
        report.files.push(file);
        pending.push(temp);
    }
    for temp in pending {
        temp.commit()?;
    }
    Ok(report)
}

fn read_pdf(source: &dyn AttachmentSource, a: &Attachment) -> std::result::Result<lopdf::Document, Unreadable> {
    let bytes = source.read(a).map_err(|e| Unreadable::Io { message: e.to_string() })?;
    merge::load(&bytes)
}

/// Render the invoices waiting in `chunk`, import its pages and hand them to their items.
fn flush<W: Write>(
    merger: &mut Merger<W>,
    chunk: Assembly<'_>,
    pending: &mut Vec<(usize, usize, usize)>,
    items: &mut [Item<'_>],
    stamp: &Stamp,
    title: &str,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    // The renderer writes bytes; the merger reads them back with lopdf.
    let bytes = chunk.finish(stamp, title)?;
    let ids = merger.import(lopdf::Document::load_mem(&bytes)?).map_err(|m| Error::Render { message: m })?;
    for (index, first, count) in pending.drain(..) {
        let pages = ids.get(first..first + count).ok_or_else(|| Error::Render { message: "pages missing".into() })?;
        if let Some(item) = items.get_mut(index) {
            item.main = pages.to_vec();
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn compile_period(
    renderer: &Renderer,
    period: Period,
    list: &[&Invoice],
    source: &dyn AttachmentSource,
    options: &BackupOptions,
    stamp: &Stamp,
    temp: &Path,
    report: &mut BackupReport,
) -> Result<BackupFile> {
    let opts = renderer.options();
    let heading = fill(
        &opts.labels.backup_title,
        &[("period", &format!("{} – {}", date(period.start, &opts.date_format), date(period.end, &opts.date_format)))],
    );
    let mut unreadable = |inv: &Invoice, a: &Attachment, signed: bool, reason: Unreadable| {
        if options.skip_unreadable {
            report.skipped.push(Skipped { invoice: inv.label(), attachment: a.name.clone(), signed, reason });
            Ok(())
        } else {
            Err(Error::UnreadableAttachment { invoice: inv.label(), attachment: a.name.clone(), reason })
        }
    };
    let import = |merger: &mut Merger<BufWriter<File>>, doc: lopdf::Document| {
        merger.import(doc).map_err(|m| Error::Render { message: m })
    };

    // Every document is imported (and its objects written) as soon as it is read or rendered;
    // the pages are placed in order at the end. Each chunk of rendered invoices has its own stamp, so its font subsets
    // get their own tags.
    let file = File::create(temp).map_err(|source| Error::File { path: temp.to_path_buf(), source })?;
    let mut merger = Merger::new(BufWriter::new(file));
    let mut items: Vec<Item<'_>> = Vec::with_capacity(list.len());
    let mut chunks = 0usize;
    let chunk_stamp = |k: usize| stamp.derive(&format!("chunk/{k}"));
    let mut chunk = renderer.assembly();
    let mut pending: Vec<(usize, usize, usize)> = Vec::new();
    for inv in list {
        let mut main = Vec::new();
        if let Some(signed) = &inv.signed_document {
            match read_pdf(source, signed) {
                Ok(d) => main = import(&mut merger, d)?,
                Err(reason) => unreadable(inv, signed, true, reason)?,
            }
        }
        let signed = !main.is_empty();
        if !signed {
            let first = chunk.pages.len();
            let count = chunk.add_invoice(inv)?;
            pending.push((items.len(), first, count));
        }
        let mut attachments = Vec::with_capacity(inv.attachments.len());
        for a in &inv.attachments {
            match read_pdf(source, a) {
                Ok(d) => attachments.push((a.name.clone(), import(&mut merger, d)?)),
                Err(reason) => unreadable(inv, a, false, reason)?,
            }
        }
        items.push(Item { inv, main, signed, attachments });
        if pending.len() >= CHUNK {
            chunks += 1;
            let full = std::mem::replace(&mut chunk, renderer.assembly());
            flush(&mut merger, full, &mut pending, &mut items, &chunk_stamp(chunks - 1), &heading)?;
        }
    }
    flush(&mut merger, chunk, &mut pending, &mut items, &chunk_stamp(chunks), &heading)?;

    // The summary: its length depends only on the number of rows, so page numbers are known
    // before it is laid out.
    let mut control: BTreeMap<Currency, (usize, Decimal)> = BTreeMap::new();
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        let t = totals(item.inv)?;
        let signed_amount = if item.inv.kind.is_credit() { -t.gross } else { t.gross };
        let entry = control.entry(item.inv.currency).or_insert((0, Decimal::ZERO));
        entry.0 += 1;
        entry.1 = entry.1.checked_add(signed_amount).ok_or_else(|| Error::Totals {
            invoice: item.inv.label(),
            source: invoice_core::Error::Overflow { context: "backup control total" },
        })?;
        rows.push(SummaryRow {
            number: item.inv.label(),
            customer: item.inv.customer.name.clone(),
            date: item.inv.issue_date.map(|d| date(d, &opts.date_format)).unwrap_or_default(),
            attachments: item.attachments.len(),
            page: 0,
            total: opts.numbers.amount(signed_amount, item.inv.currency.exponent()),
            currency: item.inv.currency.code().into(),
        });
    }
    let control: Vec<ControlTotal> = control
        .into_iter()
        .map(|(c, (count, amount))| ControlTotal {
            currency: c.code().into(),
            count,
            amount: opts.numbers.amount(amount, c.exponent()),
        })
        .collect();
    let summary_count = if options.summary_page { summary_page_count(opts, rows.len(), control.len()) } else { 0 };
    let mut next = summary_count + 1;
    for (row, item) in rows.iter_mut().zip(&items) {
        row.page = next;
        next += item.main.len() + item.attachments.iter().map(|(_, p)| p.len()).sum::<usize>();
    }
    let mut outline = Vec::with_capacity(items.len() + 1);
    if options.summary_page {
        let mut doc = renderer.assembly();
        let pages = summary_pages(opts, &mut doc.res, &heading, &rows, &control)
            .map_err(|character| Error::MissingGlyph { invoice: heading.clone(), character })?;
        if pages.len() != summary_count {
            return Err(Error::Render {
                message: format!("the summary took {} pages, {summary_count} were planned", pages.len()),
            });
        }
        doc.pages = pages;
        let bytes = doc.finish(&stamp.derive("summary"), &heading)?;
        let ids = import(&mut merger, lopdf::Document::load_mem(&bytes)?)?;
        merger.place(&ids);
        if let Some(first) = ids.first() {
            outline.push(Bookmark { title: heading.clone(), page: *first, children: Vec::new() });
        }
    }

    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let label = item.inv.label();
        let first_page = merger.placed() + 1;
        merger.place(&item.main);
        let mut bookmark = Bookmark {
            title: format!("{label} – {}", item.inv.customer.name),
            page: item.main.first().copied().ok_or_else(|| Error::Render { message: "empty invoice".into() })?,
            children: Vec::new(),
        };
        let mut placed = Vec::with_capacity(item.attachments.len());
        for (name, ids) in item.attachments {
            let first = merger.placed() + 1;
            merger.place(&ids);
            if let Some(p) = ids.first() {
                bookmark.children.push(Bookmark { title: name.clone(), page: *p, children: Vec::new() });
            }
            placed.push(Placement { name, first_page: first, pages: ids.len() });
        }
        outline.push(bookmark);
        entries.push(BackupEntry {
            invoice: Placement { name: label, first_page, pages: item.main.len() },
            signed: item.signed,
            attachments: placed,
        });
    }
    let total_pages = merger.placed();
    let (_, size) =
        merger.finish(&outline, stamp, &heading).map_err(|source| Error::File { path: temp.to_path_buf(), source })?;
    Ok(BackupFile { period, path: temp.to_path_buf(), pages: total_pages, summary_pages: summary_count, entries, size })
}
