//! Not a criterion bench: exports the data set to one target a given number of times, for
//! instruction counts and profiles (`perf stat -e instructions`, `perf record`, callgrind).
//! The configurations are those of `export_csv` and `export_xml`.
//!
//! `cargo bench -p invoice-export --bench export_once --no-run`, then run the binary as
//! `export_once TARGET REPS [N]` (N defaults to 100,000). Instructions per invoice are
//! (instructions with REPS - instructions with 0 reps) / (REPS x N): 0 reps loads the data
//! set and builds the configuration only. Under `cargo test` (no arguments) it exports 200
//! invoices to every target once as a smoke test.

// the two criterion benches, for their configurations, bring their own copy of the data set
// module
#![allow(clippy::duplicate_mod)]

#[path = "export_csv.rs"]
#[allow(dead_code)]
mod csv_bench;
#[path = "../tests/common/dataset.rs"]
mod dataset;
#[path = "export_xml.rs"]
#[allow(dead_code)]
mod xml_bench;

use std::hint::black_box;
use std::io::{self, Write};
use std::time::Instant;

use invoice_core::Invoice;
use invoice_export::{format, DocumentSink, Layout};

/// Counts the bytes written.
#[derive(Default)]
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl DocumentSink for Count {
    fn document(&mut self, _invoice: &Invoice, bytes: &[u8]) -> io::Result<()> {
        self.0 += bytes.len() as u64;
        Ok(())
    }
}

const CSV: [&str; 7] = ["csv", "iif", "qbo-csv", "sage50-us", "sage50-uk", "sage300", "xero"];
const XML: [&str; 5] = ["qbxml", "qbo-json", "intacct", "ubl", "cii"];

fn run(name: &str, reps: usize, invoices: &[Invoice]) {
    let f = format(name).unwrap_or_else(|e| panic!("{e}"));
    let (config, input) = if CSV.contains(&name) {
        (csv_bench::config(name), invoices.to_vec())
    } else {
        let mut input = invoices.to_vec();
        if name == "qbxml" {
            // as export_xml does: numbers QuickBooks Desktop can hold
            for invoice in &mut input {
                if let Some(number) = &mut invoice.number {
                    *number = number.replace("INV-20", "I").replace("CN-20", "C");
                }
            }
        }
        (xml_bench::config(invoices), input)
    };
    // the CSV bench writes into a reused buffer, the XML bench counts bytes
    let mut buf: Vec<u8> = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let mut count = Count::default();
        let report = match (f.layout(), CSV.contains(&name)) {
            (Layout::OneFile, true) => {
                buf.clear();
                invoice_export::export(f, &config, &input, &mut buf)
            }
            (Layout::OneFile, false) => invoice_export::export(f, &config, &input, &mut count),
            (Layout::OnePerInvoice, _) => invoice_export::export_documents(f, &config, &input, &mut count),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let (exported, skipped, failed) = report.counts();
        eprintln!(
            "{name}: {:.3} s, {} bytes, {exported} exported, {skipped} skipped, {failed} failed",
            start.elapsed().as_secs_f64(),
            buf.len() as u64 + count.0
        );
        black_box(report);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.as_slice() {
        [name, reps, rest @ ..] => {
            let reps: usize = reps.parse().unwrap_or_else(|e| panic!("REPS: {e}"));
            let n: usize = rest.first().map_or(Ok(100_000), |s| s.parse()).unwrap_or_else(|e| panic!("N: {e}"));
            let invoices = dataset::load(n, 1);
            run(name, reps, &invoices);
        }
        _ => {
            let invoices = dataset::load(200, 1);
            for name in CSV.iter().chain(XML.iter()) {
                run(name, 1, &invoices);
            }
        }
    }
}
