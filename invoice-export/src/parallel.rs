//! The export drivers on several threads: invoices are rendered in chunks by every thread
//! (the caller's included) and handed on in their order, so the bytes and the report are
//! exactly those of [`export`](crate::export) and [`export_documents`](crate::export_documents).
//! Memory holds a few chunks per thread, not the batch.

use std::io::Write;
use std::ops::Range;

use invoice_core::{Invoice, Outcome, Totals};

use crate::{render_with, Config, DocumentSink, Format, InvoiceResult, Report, Result};

/// Invoices per chunk.
const CHUNK: usize = 256;
/// Chunks per thread rendered before they are written out.
const AHEAD: usize = 4;

/// One rendered chunk: its results, the bytes of its exported invoices back to back, and
/// each exported invoice's range in them (by position in the chunk).
struct Rendered {
    results: Vec<InvoiceResult>,
    bytes: Vec<u8>,
    ranges: Vec<Option<Range<usize>>>,
}

fn render_chunk(
    format: &dyn Format,
    config: &Config,
    chunk: &[&Invoice],
    totals: Option<&[&Totals]>,
    buf: &mut Vec<u8>,
) -> Rendered {
    let mut r = Rendered {
        results: Vec::with_capacity(chunk.len()),
        bytes: Vec::new(),
        ranges: Vec::with_capacity(chunk.len()),
    };
    for (k, invoice) in chunk.iter().enumerate() {
        let result = render_with(format, invoice, totals.and_then(|t| t.get(k).copied()), config, buf);
        if result.outcome == Outcome::Exported {
            let start = r.bytes.len();
            r.bytes.extend_from_slice(buf);
            r.ranges.push(Some(start..r.bytes.len()));
        } else {
            r.ranges.push(None);
        }
        r.results.push(result);
    }
    r
}

/// Render `invoices` on `threads` threads and hand each chunk, in order, to `emit`.
fn drive(
    format: &dyn Format,
    config: &Config,
    invoices: &[&Invoice],
    totals: Option<&[&Totals]>,
    threads: usize,
    mut emit: impl FnMut(&[&Invoice], Rendered) -> Result<()>,
) -> Result<()> {
    let chunks: Vec<&[&Invoice]> = invoices.chunks(CHUNK).collect();
    let threads = threads.clamp(1, chunks.len().max(1));
    for (g, group) in chunks.chunks(threads * AHEAD).enumerate() {
        // the position of the group's first invoice
        let base = g * threads * AHEAD * CHUNK;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            let mut buf = Vec::new();
            let mut done = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = group.get(k) else { break };
                let totals = totals.and_then(|t| t.get(base + k * CHUNK..)).map(|t| &t[..chunk.len().min(t.len())]);
                done.push((k, render_chunk(format, config, chunk, totals, &mut buf)));
            }
            done
        };
        let mut parts = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut parts = work();
            for h in helpers {
                parts.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            parts
        });
        parts.sort_by_key(|(k, _)| *k);
        for (k, rendered) in parts {
            emit(group[k], rendered)?;
        }
    }
    Ok(())
}

/// [`export`](crate::export) on `threads` threads (1: the calling thread only), with the
/// same bytes and the same report.
///
/// ```
/// use invoice_core::{Currency, Customer, Invoice, Line};
/// use invoice_export::{export, export_parallel, format, Config};
/// use rust_decimal_macros::dec;
///
/// let invoices: Vec<Invoice> = (1..=600)
///     .map(|n| {
///         Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR)
///             .number(format!("INV-{n}"))
///             .line(Line::new("Consulting", dec!(2), dec!(100.00)).tax_rate(dec!(0.19)))
///             .build()
///     })
///     .collect();
/// let refs: Vec<&Invoice> = invoices.iter().collect();
/// let csv = format("csv")?;
/// let (mut one, mut four) = (Vec::new(), Vec::new());
/// let a = export(csv, &Config::default(), refs.iter().copied(), &mut one)?;
/// let b = export_parallel(csv, &Config::default(), &refs, 4, &mut four)?;
/// assert_eq!((one, a), (four, b));
/// # Ok::<(), invoice_export::Error>(())
/// ```
pub fn export_parallel<W: Write>(
    format: &dyn Format,
    config: &Config,
    invoices: &[&Invoice],
    threads: usize,
    out: W,
) -> Result<Report> {
    if threads <= 1 {
        return crate::export(format, config, invoices.iter().copied(), out);
    }
    export_file(format, config, invoices, None, threads, out)
}

/// [`export_parallel`] for invoices whose totals the caller already has (a book keeps them:
/// `Book::totals`): `totals[i]` must be `invoices[i].totals()`. The same bytes and report;
/// the CSV-like targets do not make the totals again.
///
/// # Panics
///
/// When `totals` and `invoices` differ in length.
pub fn export_parallel_with_totals<W: Write>(
    format: &dyn Format,
    config: &Config,
    invoices: &[&Invoice],
    totals: &[&Totals],
    threads: usize,
    out: W,
) -> Result<Report> {
    assert_eq!(invoices.len(), totals.len(), "one totals per invoice");
    export_file(format, config, invoices, Some(totals), threads, out)
}

/// One file of `invoices` rendered in chunks on `threads` threads (1: the calling thread).
fn export_file<W: Write>(
    format: &dyn Format,
    config: &Config,
    invoices: &[&Invoice],
    totals: Option<&[&Totals]>,
    threads: usize,
    mut out: W,
) -> Result<Report> {
    let mut report = Report { format: format.name().to_string(), results: Vec::with_capacity(invoices.len()) };
    format.begin(config, &mut out)?;
    drive(format, config, invoices, totals, threads, |_, rendered| {
        out.write_all(&rendered.bytes)?;
        report.results.extend(rendered.results);
        Ok(())
    })?;
    format.end(config, &mut out)?;
    out.flush()?;
    Ok(report)
}

/// [`export_documents`](crate::export_documents) on `threads` threads (1: the calling
/// thread only): `sink` gets the same documents in the same order, and the report is the
/// same.
pub fn export_documents_parallel(
    format: &dyn Format,
    config: &Config,
    invoices: &[&Invoice],
    threads: usize,
    sink: &mut dyn DocumentSink,
) -> Result<Report> {
    if threads <= 1 {
        return crate::export_documents(format, config, invoices.iter().copied(), sink);
    }
    let mut report = Report { format: format.name().to_string(), results: Vec::with_capacity(invoices.len()) };
    drive(format, config, invoices, None, threads, |chunk, rendered| {
        for (invoice, range) in chunk.iter().zip(&rendered.ranges) {
            if let Some(range) = range {
                sink.document(invoice, &rendered.bytes[range.clone()])?;
            }
        }
        report.results.extend(rendered.results);
        Ok(())
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{export, export_documents, format};
    use invoice_core::{Currency, Customer, Line};
    use rust_decimal_macros::dec;

    /// Invoices with lines and, every eleventh, without (skipped); with the default config
    /// IIF fails them all (no A/R account), so every outcome is covered.
    fn invoices(n: usize) -> Vec<Invoice> {
        (0..n)
            .map(|k| {
                let mut inv =
                    Invoice::builder(Customer::new(format!("C{}", k % 7), format!("Client {k}")), Currency::EUR)
                        .number(format!("INV-{k:05}"))
                        .line(Line::new(format!("Work {k}"), dec!(1.5), dec!(80.00)).tax_rate(dec!(0.19)))
                        .build();
                if k % 11 == 0 {
                    inv.lines.clear();
                }
                inv
            })
            .collect()
    }

    struct Collect(Vec<(String, Vec<u8>)>);

    impl DocumentSink for Collect {
        fn document(&mut self, invoice: &Invoice, bytes: &[u8]) -> std::io::Result<()> {
            self.0.push((invoice.label(), bytes.to_vec()));
            Ok(())
        }
    }

    #[test]
    fn the_threads_change_nothing_but_the_speed() {
        let all = invoices(3 * CHUNK * AHEAD + 17);
        let refs: Vec<&Invoice> = all.iter().collect();
        for name in ["csv", "iif", "xero"] {
            let f = format(name).unwrap();
            let config = Config::default();
            let mut one = Vec::new();
            let expected = export(f, &config, refs.iter().copied(), &mut one).unwrap();
            let totals: Vec<Totals> = all.iter().map(|i| i.totals().unwrap()).collect();
            let totals: Vec<&Totals> = totals.iter().collect();
            for threads in [0, 1, 2, 3, 64] {
                let mut many = Vec::new();
                let report = export_parallel(f, &config, &refs, threads, &mut many).unwrap();
                assert!(one == many, "{name}, {threads} threads: other bytes");
                assert_eq!(report, expected, "{name}, {threads} threads");
                let mut with = Vec::new();
                let report = export_parallel_with_totals(f, &config, &refs, &totals, threads, &mut with).unwrap();
                assert!(one == with, "{name}, {threads} threads, with totals: other bytes");
                assert_eq!(report, expected, "{name}, {threads} threads, with totals");
            }
        }
        let ubl = format("ubl").unwrap();
        let mut one = Collect(Vec::new());
        let expected = export_documents(ubl, &Config::default(), refs.iter().copied(), &mut one).unwrap();
        let mut many = Collect(Vec::new());
        let report = export_documents_parallel(ubl, &Config::default(), &refs, 3, &mut many).unwrap();
        assert_eq!(report, expected);
        assert!(one.0 == many.0);
        let mut empty = Vec::new();
        let report = export_parallel(format("csv").unwrap(), &Config::default(), &[], 4, &mut empty).unwrap();
        assert!(report.results.is_empty() && !empty.is_empty(), "the header row alone");
    }
}
