//! Straight from JSON Lines to a target's file, without a book: [`export_jsonl`].

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex, MutexGuard, PoisonError};

use invoice_export::{render_invoice, Config, Format, InvoiceResult, Report};

use super::{parse_chunk, NumberHasher, RecordError};

/// What [`export_jsonl`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// One result per good record, in file order: what [`invoice_export::export`] gives for
    /// the invoices of [`read_invoices`](super::read_invoices).
    pub report: Report,
    /// Every bad record, in file order, as [`read_invoices`](super::read_invoices) reports
    /// them.
    pub errors: Vec<RecordError>,
}

/// The size of the pieces the input is cut into (at line ends) for the threads.
const BLOCK: usize = 1 << 20;

/// Read a JSON Lines file of invoices and write one target's file of its good records, in
/// one pass: the same bytes and report as [`read_invoices`](super::read_invoices) followed by
/// [`invoice_export::export`] of its invoices, with the same errors for the bad records, but
/// without holding every invoice at once. The input is cut into pieces of whole lines;
/// `threads` threads each read a piece, render its invoices and drop them, while the calling
/// thread writes the pieces to `out` in order. A number used on an earlier line is an error,
/// as in `read_invoices`. I/O errors stop the export; `out` may then hold part of the file
/// (write to a temporary file and rename it, as the book's exports do).
///
/// ```
/// use invoice_engine::export::format;
/// use invoice_engine::interchange::export_jsonl;
///
/// let jsonl = r#"{"number":"A-1","customer":{"id":"C1","name":"Ann"},"currency":"EUR","issue_date":"2026-11-30","lines":[{"description":"Work","quantity":"2","unit_price":"50.00","tax_rate":"0.2"}]}
/// {"number":"A-1","customer":{"id":"C1","name":"Ann"},"currency":"EUR","lines":[]}
/// "#;
/// let mut csv = Vec::new();
/// let done = export_jsonl(jsonl.as_bytes(), format("csv").unwrap(), &Default::default(), 2, &mut csv).unwrap();
/// assert_eq!(done.report.counts(), (1, 0, 0));
/// assert_eq!(done.errors[0].to_string(), "line 2 (A-1): number: the number is used on line 1 already");
/// assert!(String::from_utf8(csv).unwrap().contains("A-1,"));
/// ```
pub fn export_jsonl<W: Write>(
    mut input: impl std::io::Read,
    format: &dyn Format,
    config: &Config,
    threads: usize,
    out: W,
) -> invoice_export::Result<Converted> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    export_blocks(&bytes, BLOCK, format, config, threads, out)
}

/// The order in which pieces hand over their invoice numbers, and the numbers seen so far.
struct Registry {
    /// The next piece to register.
    next: usize,
    /// The line number of that piece's first line.
    first_line: usize,
    /// Every number registered, with its line.
    seen: HashMap<String, usize, BuildHasherDefault<NumberHasher>>,
    /// A thread panicked: the others stop waiting.
    failed: bool,
}

/// One piece, read and rendered.
struct Piece {
    bytes: Vec<u8>,
    results: Vec<InvoiceResult>,
    errors: Vec<RecordError>,
}

/// Sets [`Registry::failed`] when its thread unwinds, so that no other thread waits forever.
struct OnPanic<'a>(&'a Mutex<Registry>, &'a Condvar);

impl Drop for OnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(self.0).failed = true;
            self.1.notify_all();
        }
    }
}

fn lock(m: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where piece `k` starts: just after the first line end at or after `k * block`.
fn boundary(bytes: &[u8], block: usize, k: usize) -> usize {
    let at = k.saturating_mul(block);
    if k == 0 {
        return 0;
    }
    if at >= bytes.len() {
        return bytes.len();
    }
    memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1)
}

fn export_blocks<W: Write>(
    bytes: &[u8],
    block: usize,
    format: &dyn Format,
    config: &Config,
    threads: usize,
    mut out: W,
) -> invoice_export::Result<Converted> {
    let pieces = bytes.len().div_ceil(block.max(1));
    let next_piece = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let registry = Mutex::new(Registry { next: 0, first_line: 1, seen: HashMap::default(), failed: false });
    let registered = Condvar::new();
    let (send, receive) = mpsc::channel::<(usize, Piece)>();

    let work = |send: mpsc::Sender<(usize, Piece)>| {
        let _guard = OnPanic(&registry, &registered);
        let mut buf = Vec::new();
        loop {
            let k = next_piece.fetch_add(1, Ordering::Relaxed);
            if k >= pieces || stop.load(Ordering::Relaxed) {
                return;
            }
            let chunk = &bytes[boundary(bytes, block, k)..boundary(bytes, block, k + 1)];
            let mut records = parse_chunk(0, chunk);
            let newlines = memchr::memchr_iter(b'\n', chunk).count();
            {
                // Pieces register in file order, so a number's first line is known.
                let mut r = lock(&registry);
                while r.next != k && !r.failed {
                    r = registered.wait(r).unwrap_or_else(PoisonError::into_inner);
                }
                if r.failed {
                    return;
                }
                let first_line = r.first_line;
                for (line, record) in &mut records {
                    *line += first_line;
                    let Ok(invoice) = record else { continue };
                    let number = invoice.number.as_deref().unwrap_or_default();
                    if let Some(first) = r.seen.get(number) {
                        let message = format!("the number is used on line {first} already");
                        *record = Err((invoice.number.take(), "number".into(), message));
                    } else {
                        r.seen.insert(number.to_string(), *line);
                    }
                }
                r.first_line += newlines;
                r.next += 1;
                registered.notify_all();
            }
            let mut piece =
                Piece { bytes: Vec::with_capacity(chunk.len() * 3 / 2), results: Vec::new(), errors: Vec::new() };
            for (line, record) in records {
                match record {
                    Ok(invoice) => {
                        let result = render_invoice(format, &invoice, config, &mut buf);
                        if result.outcome == invoice_core::Outcome::Exported {
                            piece.bytes.extend_from_slice(&buf);
                        }
                        piece.results.push(result);
                    }
                    Err((number, field, message)) => piece.errors.push(RecordError { line, number, field, message }),
                }
            }
            if send.send((k, piece)).is_err() {
                return;
            }
        }
    };

    let mut converted =
        Converted { report: Report { format: format.name().to_string(), results: Vec::new() }, errors: Vec::new() };
    let written = std::thread::scope(|scope| {
        let work = &work;
        for _ in 0..threads.max(1) {
            let send = send.clone();
            scope.spawn(move || work(send));
        }
        drop(send);
        let mut write = || -> invoice_export::Result<()> {
            format.begin(config, &mut out)?;
            let mut waiting = BTreeMap::new();
            let mut next = 0;
            for (k, piece) in &receive {
                waiting.insert(k, piece);
                while let Some(piece) = waiting.remove(&next) {
                    out.write_all(&piece.bytes)?;
                    converted.report.results.extend(piece.results);
                    converted.errors.extend(piece.errors);
                    next += 1;
                }
            }
            if next < pieces {
                // A thread stopped early: it panicked, and the scope passes the panic on.
                return Ok(());
            }
            format.end(config, &mut out)?;
            out.flush()?;
            Ok(())
        };
        let written = write();
        if written.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        drop(receive);
        written
    });
    written?;
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_invoices, tests::GOOD};
    use super::*;
    use invoice_export::{export, format};

    /// `read_invoices` and then `export`, for comparison.
    fn two_steps(text: &str, name: &str) -> (Vec<u8>, Converted) {
        let read = parse_invoices(text.as_bytes(), 1);
        let mut out = Vec::new();
        let report =
            export(format(name).unwrap(), &Config::default(), read.invoices.iter().map(|r| &r.invoice), &mut out)
                .unwrap();
        (out, Converted { report, errors: read.errors })
    }

    #[test]
    fn one_pass_gives_what_reading_then_exporting_gives() {
        let mut text = String::new();
        for i in 0..3000 {
            match i % 9 {
                0 => text.push('\r'),
                1 => text.push_str("not json"),
                2 => text.push_str(GOOD),
                3 => text.push_str(&GOOD.replace("\"2\"", "\"2,5\"")),
                4 => text.push_str(&GOOD.replace("N-1", &format!("N-{}", i / 2))),
                _ => text.push_str(&GOOD.replace("N-1", &format!("N-{i}"))),
            }
            text.push('\n');
        }
        text.push_str(&GOOD.replace("N-1", "N-last")); // no line end
        for name in ["csv", "iif", "ubl"] {
            let (bytes, expected) = two_steps(&text, name);
            assert!(expected.errors.len() > 1000 && expected.report.results.len() > 1000);
            for (block, threads) in [(BLOCK, 2), (1, 1), (40, 3), (700, 2), (5000, 8), (1 << 30, 2)] {
                let mut out = Vec::new();
                let got =
                    export_blocks(text.as_bytes(), block, format(name).unwrap(), &Config::default(), threads, &mut out)
                        .unwrap();
                assert!(out == bytes, "{name}, blocks of {block}, {threads} threads: other bytes");
                assert_eq!(got, expected, "{name}, blocks of {block}, {threads} threads");
            }
        }
        let mut out = Vec::new();
        let empty = export_jsonl(&b""[..], format("csv").unwrap(), &Config::default(), 2, &mut out).unwrap();
        assert_eq!((empty.report.results.len(), empty.errors.len()), (0, 0));
        assert_eq!(out, two_steps("", "csv").0);
    }

    #[test]
    fn a_write_error_stops_the_export() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let text: String = (0..2000).map(|i| GOOD.replace("N-1", &format!("N-{i}")) + "\n").collect();
        let err = export_blocks(text.as_bytes(), 1000, format("csv").unwrap(), &Config::default(), 2, Full(5000));
        assert!(err.unwrap_err().to_string().contains("disk full"));
    }
}
