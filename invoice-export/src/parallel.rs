//! The export drivers on several threads: invoices are rendered in chunks by worker threads
//! and written in their order by the calling thread, so the bytes and the report are exactly
//! those of [`export`](crate::export) and [`export_documents`](crate::export_documents).
//! Memory holds a few chunks per thread, not the batch. [`export_targets`] renders the same
//! invoices for several targets at once: each chunk of invoices goes to every target while it
//! is in the cache, and no core waits for a slow target at the end.

use std::collections::VecDeque;
use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use invoice_core::{Invoice, Outcome, Totals};

use crate::{render_invoice_append, Config, DocumentSink, Format, InvoiceResult, Report, Result};

/// Invoices per chunk.
const CHUNK: usize = 256;
/// Chunks per thread rendered ahead of the one being written.
const AHEAD: usize = 4;

/// Where one target of [`export_targets`] goes.
pub enum Output<'a> {
    /// One file: [`Format::begin`], the bytes of every exported invoice in order,
    /// [`Format::end`], then a flush (what [`export`](crate::export) writes).
    File(&'a mut dyn Write),
    /// One document per exported invoice, in order (what
    /// [`export_documents`](crate::export_documents) hands on).
    Documents(&'a mut dyn DocumentSink),
}

/// One target of [`export_targets`]: a format, its configuration and where it goes.
pub struct TargetOutput<'a> {
    /// The format.
    pub format: &'a dyn Format,
    /// Its configuration.
    pub config: &'a Config,
    /// Where the output goes.
    pub output: Output<'a>,
}

/// One rendered chunk of one target: its results, the bytes of its exported invoices back to
/// back, and each exported invoice's range in them (by position in the chunk).
struct Rendered {
    results: Vec<InvoiceResult>,
    bytes: Vec<u8>,
    ranges: Vec<Option<Range<usize>>>,
}

fn render_chunk(format: &dyn Format, config: &Config, chunk: &[&Invoice], totals: Option<&[&Totals]>) -> Rendered {
    let mut r = Rendered {
        results: Vec::with_capacity(chunk.len()),
        bytes: Vec::new(),
        ranges: Vec::with_capacity(chunk.len()),
    };
    for (k, invoice) in chunk.iter().enumerate() {
        let start = r.bytes.len();
        let result =
            render_invoice_append(format, invoice, totals.and_then(|t| t.get(k).copied()), config, &mut r.bytes);
        r.ranges.push((result.outcome == Outcome::Exported).then_some(start..r.bytes.len()));
        r.results.push(result);
    }
    r
}

/// Export the same `invoices` to several targets at once on `threads` worker threads (1: the
/// calling thread only), with `totals[i]` = `invoices[i].totals()` when the caller has them.
/// Each target gets exactly the bytes (or documents) and the report that
/// [`export`](crate::export) (or [`export_documents`](crate::export_documents)) would give
/// it; the calling thread does all the writing, in order, and each time it has handed a
/// target some more invoices it calls `written` with the target's index and their results
/// (for a progress bar, or to take their warnings as they come: the report keeps what is
/// left of them). A target whose
/// output fails gets its error and is left alone from then on; the others go on.
///
/// ```
/// use invoice_core::{Currency, Customer, Invoice, Line};
/// use invoice_export::{export, export_targets, format, Config, Output, TargetOutput};
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
/// let config = Config::default();
/// let (mut csv, mut xero) = (Vec::new(), Vec::new());
/// let reports = export_targets(
///     vec![
///         TargetOutput { format: format("csv")?, config: &config, output: Output::File(&mut csv) },
///         TargetOutput { format: format("xero")?, config: &config, output: Output::File(&mut xero) },
///     ],
///     &refs,
///     None,
///     2,
///     &mut |_, _| {},
/// );
/// let mut alone = Vec::new();
/// let report = export(format("xero")?, &config, refs.iter().copied(), &mut alone)?;
/// assert_eq!(reports[1].as_ref().unwrap(), &report);
/// assert_eq!(xero, alone);
/// # Ok::<(), invoice_export::Error>(())
/// ```
///
/// # Panics
///
/// When `totals` and `invoices` differ in length.
pub fn export_targets(
    targets: Vec<TargetOutput<'_>>,
    invoices: &[&Invoice],
    totals: Option<&[&Totals]>,
    threads: usize,
    written: &mut dyn FnMut(usize, &mut [InvoiceResult]),
) -> Vec<Result<Report>> {
    if let Some(t) = totals {
        assert_eq!(invoices.len(), t.len(), "one totals per invoice");
    }
    let specs: Vec<(&dyn Format, &Config)> = targets.iter().map(|t| (t.format, t.config)).collect();
    let mut outputs: Vec<Output<'_>> = targets.into_iter().map(|t| t.output).collect();
    let mut reports: Vec<Result<Report>> = specs
        .iter()
        .zip(&mut outputs)
        .map(|((format, config), output)| {
            if let Output::File(w) = output {
                format.begin(config, w)?;
            }
            Ok(Report { format: format.name().to_string(), results: Vec::with_capacity(invoices.len()) })
        })
        .collect();
    let failed: Vec<AtomicBool> = reports.iter().map(|r| AtomicBool::new(r.is_err())).collect();
    let chunks: Vec<&[&Invoice]> = invoices.chunks(CHUNK).collect();
    let n = specs.len().max(1);
    let units = chunks.len() * specs.len();
    // unit u is chunk u / n of target u % n: a chunk goes to every target before the next
    let render = |u: usize| -> Option<Rendered> {
        let (c, j) = (u / n, u % n);
        if failed[j].load(Ordering::Relaxed) {
            return None;
        }
        let chunk = chunks[c];
        let totals = totals.map(|t| &t[c * CHUNK..c * CHUNK + chunk.len()]);
        Some(render_chunk(specs[j].0, specs[j].1, chunk, totals))
    };
    let mut emit = |u: usize, rendered: Option<Rendered>| {
        let (c, j) = (u / n, u % n);
        let (Some(mut rendered), Ok(report)) = (rendered, &mut reports[j]) else { return };
        let sent = match &mut outputs[j] {
            Output::File(w) => w.write_all(&rendered.bytes),
            Output::Documents(sink) => {
                chunks[c].iter().zip(&rendered.ranges).try_for_each(|(invoice, range)| match range {
                    Some(range) => sink.document(invoice, &rendered.bytes[range.clone()]),
                    None => Ok(()),
                })
            }
        };
        match sent {
            Ok(()) => {
                written(j, &mut rendered.results);
                report.results.extend(rendered.results);
            }
            Err(e) => {
                reports[j] = Err(e.into());
                failed[j].store(true, Ordering::Relaxed);
            }
        }
    };
    if threads <= 1 || units <= 1 {
        for u in 0..units {
            emit(u, render(u));
        }
    } else {
        let workers = threads.min(units);
        let window = workers * AHEAD;
        let next = AtomicUsize::new(0);
        // units below it are written
        let done_below = (Mutex::new(0usize), Condvar::new());
        let (sent, received) = mpsc::channel::<(usize, Option<Rendered>)>();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (sent, next, done_below, render) = (sent.clone(), &next, &done_below, &render);
                scope.spawn(move || loop {
                    let u = next.fetch_add(1, Ordering::Relaxed);
                    if u >= units {
                        break;
                    }
                    {
                        let mut w = done_below.0.lock().unwrap_or_else(|e| e.into_inner());
                        while u >= *w + window {
                            w = done_below.1.wait(w).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    if sent.send((u, render(u))).is_err() {
                        break;
                    }
                });
            }
            drop(sent);
            // units rendered out of order wait here for the ones before them
            let mut waiting: VecDeque<Option<Option<Rendered>>> = VecDeque::new();
            let mut base = 0;
            for (u, rendered) in received {
                let k = u - base;
                if waiting.len() <= k {
                    waiting.resize_with(k + 1, || None);
                }
                waiting[k] = Some(rendered);
                let before = base;
                while let Some(Some(_)) = waiting.front() {
                    if let Some(Some(rendered)) = waiting.pop_front() {
                        emit(base, rendered);
                    }
                    base += 1;
                }
                if base != before {
                    *done_below.0.lock().unwrap_or_else(|e| e.into_inner()) = base;
                    done_below.1.notify_all();
                }
            }
        });
    }
    for (((format, config), output), report) in specs.iter().zip(&mut outputs).zip(&mut reports) {
        if let (Output::File(w), Ok(_)) = (output, &report) {
            if let Err(e) = format.end(config, w).and_then(|()| w.flush()) {
                *report = Err(e.into());
            }
        }
    }
    reports
}

/// The one target of a single-target driver.
fn one(target: TargetOutput<'_>, invoices: &[&Invoice], totals: Option<&[&Totals]>, threads: usize) -> Result<Report> {
    export_targets(vec![target], invoices, totals, threads, &mut |_, _| {})
        .pop()
        .unwrap_or_else(|| unreachable!("one target, one report"))
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
    mut out: W,
) -> Result<Report> {
    one(TargetOutput { format, config, output: Output::File(&mut out) }, invoices, None, threads)
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
    mut out: W,
) -> Result<Report> {
    one(TargetOutput { format, config, output: Output::File(&mut out) }, invoices, Some(totals), threads)
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
    one(TargetOutput { format, config, output: Output::Documents(sink) }, invoices, None, threads)
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

    /// Fails every write after `left` bytes.
    struct Breaks {
        left: usize,
    }

    impl Write for Breaks {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.left {
                return Err(std::io::Error::other("disk full"));
            }
            self.left -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn several_targets_at_once_give_each_its_own_export() {
        let all = invoices(5 * CHUNK + 3);
        let refs: Vec<&Invoice> = all.iter().collect();
        let totals: Vec<Totals> = all.iter().map(|i| i.totals().unwrap()).collect();
        let totals: Vec<&Totals> = totals.iter().collect();
        let config = Config::default();
        let files = ["csv", "iif", "xero", "sage300"];
        let alone: Vec<(Vec<u8>, Report)> = files
            .iter()
            .map(|name| {
                let mut out = Vec::new();
                let report = export(format(name).unwrap(), &config, refs.iter().copied(), &mut out).unwrap();
                (out, report)
            })
            .collect();
        let mut docs = Collect(Vec::new());
        let expected_docs = export_documents(format("cii").unwrap(), &config, refs.iter().copied(), &mut docs).unwrap();
        for threads in [1, 2, 3, 16] {
            for with_totals in [false, true] {
                let mut outs: Vec<Vec<u8>> = files.iter().map(|_| Vec::new()).collect();
                let mut got_docs = Collect(Vec::new());
                let mut broken = Breaks { left: 10_000 };
                let mut targets: Vec<TargetOutput<'_>> = files
                    .iter()
                    .zip(&mut outs)
                    .map(|(name, out)| TargetOutput {
                        format: format(name).unwrap(),
                        config: &config,
                        output: Output::File(out),
                    })
                    .collect();
                targets.insert(
                    2,
                    TargetOutput { format: format("csv").unwrap(), config: &config, output: Output::File(&mut broken) },
                );
                targets.push(TargetOutput {
                    format: format("cii").unwrap(),
                    config: &config,
                    output: Output::Documents(&mut got_docs),
                });
                let mut handed = [0; 6];
                let reports = export_targets(
                    targets,
                    &refs,
                    with_totals.then_some(totals.as_slice()),
                    threads,
                    &mut |k, results| handed[k] += results.len(),
                );
                // every invoice to every target but the broken one, which stops early
                assert_eq!(handed, [refs.len(), refs.len(), 0, refs.len(), refs.len(), refs.len()]);
                let mut reports = reports.into_iter();
                let context = format!("{threads} threads, totals given: {with_totals}");
                for (k, (out, report)) in alone.iter().enumerate() {
                    if k == 2 {
                        let e = reports.next().unwrap().unwrap_err();
                        assert!(e.to_string().contains("disk full"), "{context}: {e}");
                    }
                    assert_eq!(reports.next().unwrap().unwrap(), *report, "{context}: {}", files[k]);
                    assert!(outs[k] == *out, "{context}: {} bytes", files[k]);
                }
                assert_eq!(reports.next().unwrap().unwrap(), expected_docs, "{context}: cii");
                assert!(reports.next().is_none());
                assert!(got_docs.0 == docs.0, "{context}: cii documents");
            }
        }
        // no targets, no invoices
        assert!(export_targets(Vec::new(), &refs, None, 2, &mut |_, _| {}).is_empty());
        let mut out = Vec::new();
        let reports = export_targets(
            vec![TargetOutput { format: format("csv").unwrap(), config: &config, output: Output::File(&mut out) }],
            &[],
            None,
            2,
            &mut |_, _| {},
        );
        assert!(reports[0].as_ref().unwrap().results.is_empty() && !out.is_empty(), "the header row alone");
    }
}
