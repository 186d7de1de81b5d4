//! Export of `gen_dataset.py 100000 1` (100,000 invoices, about 5 lines each, already in
//! memory) to each XML and JSON target: `qbxml`, `qbo-json`, `intacct`, `ubl`, `cii`. Goal
//! (issue 4) on one core: each under 1 s. The output goes to a byte counter (one-file targets)
//! or a sink that counts the documents' bytes, so the figures are the export itself: pre-flight
//! checks, totals, formatting, escaping and the per-invoice report. Numbers are recorded in
//! benches/README.md.
//!
//! The configuration is what a real company file would hold: every customer, item and the tax
//! account mapped; the seller's and every buyer's e-invoice data. For qbXML the data set's
//! 15-character invoice numbers are shortened to 10 (`INV-2024-000123` becomes `I24-000123`),
//! since QuickBooks Desktop takes at most 11 and pre-flight would otherwise refuse them all.
//!
//! Under `cargo bench` the peer `py_export_csv.py` runs in the same run (see
//! `common/peer.rs`): each target's time as a share of the peer's, and what that share is on
//! the reference machine, where the peer takes 2.21 s.

#[path = "../tests/common/dataset.rs"]
mod dataset;
#[path = "common/peer.rs"]
mod peer;

use std::hint::black_box;
use std::io::{self, Write};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use invoice_core::Invoice;
use invoice_export::config::Contact;
use invoice_export::{format, Address, Buyer, Config, DocumentSink, Layout, Mapping, Report, Seller};

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

fn country_code(name: &str) -> &'static str {
    match name {
        "Germany" => "DE",
        "France" => "FR",
        "Norway" => "NO",
        "Poland" => "PL",
        "USA" => "US",
        "Spain" => "ES",
        "Switzerland" => "CH",
        "日本" => "JP",
        "UK" => "GB",
        _ => "ZZ",
    }
}

/// The configuration of a real company file for the data set's customers and items.
pub(crate) fn config(invoices: &[Invoice]) -> Config {
    let mut config = Config {
        ar_account: "Accounts Receivable".into(),
        tax_account: "2200".into(),
        seller: Seller {
            name: "Demo Consulting GmbH".into(),
            vat_id: Some("DE123456789".into()),
            registration_id: Some("HRB 12345".into()),
            address: Address {
                street: "Hauptstraße 1".into(),
                additional: None,
                city: "Berlin".into(),
                postal_code: "10115".into(),
                country_code: "DE".into(),
            },
            endpoint_id: Some("DE123456789".into()),
            endpoint_scheme: Some("9930".into()),
            iban: Some("DE89370400440532013000".into()),
            bic: Some("COBADEFFXXX".into()),
            email: Some("billing@demo.example".into()),
        },
        seller_contact: Contact { name: Some("Accounts receivable".into()), telephone: Some("+49 30 1234567".into()) },
        ..Config::default()
    };
    let mut customers = Mapping::default();
    let mut items = Mapping::default();
    for invoice in invoices {
        let c = &invoice.customer;
        if !config.buyers.contains_key(&c.id) {
            // The data set's customer names include Japanese ones, which QuickBooks Desktop
            // cannot hold: the company file knows those customers by their id.
            let latin = c.name.chars().all(|ch| u32::from(ch) < 0x250);
            customers.map.insert(c.id.clone(), if latin { c.name.clone() } else { c.id.clone() });
            let lines = &c.address_lines;
            let city_line = lines.len().checked_sub(2).and_then(|i| lines.get(i)).cloned().unwrap_or_default();
            let (postal_code, city) = city_line.split_once(' ').unwrap_or(("", city_line.as_str()));
            config.buyers.insert(
                c.id.clone(),
                Buyer {
                    address: Address {
                        street: lines.first().cloned().unwrap_or_default(),
                        additional: None,
                        city: city.to_string(),
                        postal_code: postal_code.to_string(),
                        country_code: country_code(lines.last().map(String::as_str).unwrap_or("")).into(),
                    },
                    vat_id: None,
                    endpoint_id: Some(format!("4000{}", &c.id[1..])),
                    endpoint_scheme: Some("0088".into()),
                    reference: Some(c.id.clone()),
                },
            );
        }
        for line in &invoice.lines {
            if let Some(item) = &line.item {
                if !items.map.contains_key(item) {
                    items.map.insert(item.clone(), item.replace("SKU-", "Item "));
                }
            }
        }
    }
    config.customers = customers;
    config.items = items;
    config
}

/// The XML and JSON targets.
const TARGETS: [&str; 5] = ["qbxml", "qbo-json", "intacct", "ubl", "cii"];

fn export(name: &str, config: &Config, invoices: &[Invoice]) -> (Report, u64) {
    let f = format(name).expect("registered format");
    let mut count = Count::default();
    let report = match f.layout() {
        Layout::OneFile => invoice_export::export(f, config, invoices, &mut count),
        Layout::OnePerInvoice => invoice_export::export_documents(f, config, invoices, &mut count),
    }
    .expect("export to memory");
    (report, count.0)
}

fn bench_export(c: &mut Criterion) {
    // The full data set under `cargo bench`; a small one when `cargo test` runs the bench as a
    // smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 100_000 } else { 200 };
    let invoices = dataset::load(n, 1);
    let config = config(&invoices);
    let mut short = invoices.clone();
    for invoice in &mut short {
        if let Some(number) = &mut invoice.number {
            *number = number.replace("INV-20", "I").replace("CN-20", "C");
        }
    }

    let mut group = c.benchmark_group("export_xml");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for name in TARGETS {
        let input = if name == "qbxml" { &short } else { &invoices };
        let (report, bytes) = export(name, &config, input);
        let (exported, skipped, failed) = report.counts();
        eprintln!("{name}: {exported} exported, {skipped} skipped, {failed} failed, {bytes} bytes");
        assert_eq!(exported, n, "{name}: every invoice of the data set must export: {:?}", report.results.first());
        group.bench_with_input(BenchmarkId::new(name, n), input, |b, input| {
            b.iter(|| black_box(export(name, &config, input)));
        });
    }
    group.finish();

    if full {
        let jsonl = dataset::generate(n, 1);
        peer::rounds(&dataset::shared_dir(), &jsonl, &TARGETS, 1.0, |name| {
            let input = if name == "qbxml" { &short } else { &invoices };
            black_box(export(name, &config, input));
        });
    }
}

criterion_group!(benches, bench_export);
criterion_main!(benches);
