//! The CSV-like targets at month-end scale: `gen_dataset.py 100000 1` (100,000 invoices,
//! about 506,000 lines), already in memory, exported to each of `csv`, `iif`, `qbo-csv`,
//! `sage50-us`, `sage50-uk`, `sage300` and `xero` (pre-flight included: the driver checks
//! every invoice before writing it). Goal (issue 4) on one core: each under 0.3 s.
//!
//! The peer `py_export_csv.py` runs in the same run (see `common/peer.rs`): each target's time
//! as a share of the peer's, and what that share is on the reference machine, where the peer
//! takes 2.21 s.
//!
//! The end-to-end comparison with the peer `py_export_csv.py` (read the JSONL with the
//! product's reader, write the generic CSV) is the workspace bench `benches/end_to_end.rs`.
//!
//! Runs with mimalloc as its global allocator (see below). Run with `cargo bench -p
//! invoice-export --bench export_csv`; the numbers are recorded in
//! `benches/README.md`. Under `cargo test` (no `--bench` argument) it runs once on 2,000
//! invoices as a smoke test.

#[path = "../tests/common/dataset.rs"]
mod dataset;
#[path = "common/peer.rs"]
mod peer;

/// Like `month_end` and the end-to-end bench, the CSV exports run with mimalloc: every
/// invoice's report entry and warnings are small allocations. `export_once`, which includes
/// this file for its configurations, runs with it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use invoice_export::{export, format, Config, Mapping};

const FORMATS: [&str; 7] = ["csv", "iif", "qbo-csv", "sage50-us", "sage50-uk", "sage300", "xero"];

fn mapping(pairs: &[(&str, &str)], fallback: Option<&str>) -> Mapping {
    Mapping {
        map: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        fallback: fallback.map(str::to_string),
    }
}

/// A configuration that maps the data set's codes for `target`. What still fails is what the
/// target cannot take: Japanese customer names in IIF, credit notes in `qbo-csv` and `xero`,
/// invoices with two tax rates in Sage 50 US.
pub(crate) fn config(target: &str) -> Config {
    let taxes = [
        ("S:0.19", "V19"),
        ("S:0.07", "V7"),
        ("S:0.0825", "ST825"),
        ("S:0.2", "T1"),
        ("S:0.081", "V81"),
        ("S:0.25", "V25"),
        ("S:0.23", "V23"),
        ("S:0.08", "V8"),
        ("S:0.1", "V10"),
        ("Z:0", "T0"),
    ];
    let mut c = Config {
        accounts: mapping(&[("8400", "8400"), ("8300", "8300"), ("8120", "8120"), ("4400", "4400")], Some("4000")),
        tax_codes: mapping(&taxes, None),
        ar_account: "1200".into(),
        tax_account: "2200".into(),
        tax_agency: Some("TAXAUTH".into()),
        ..Config::default()
    };
    if target == "sage50-uk" {
        // Sage 50 UK tax codes are T0..T99
        c.tax_codes = mapping(&[("S:0.2", "T1"), ("Z:0", "T0")], Some("T9"));
    }
    if target == "iif" {
        c.accounts = mapping(&[("8400", "Consulting Income")], Some("Other Income"));
        c.ar_account = "Accounts Receivable".into();
        c.tax_account = "Sales Tax Payable".into();
    }
    c
}

/// The data set's size: 100,000 under `cargo bench`, 2,000 when `cargo test` runs the bench.
fn size() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        2_000
    }
}

fn targets(c: &mut Criterion) {
    let n = size();
    let invoices = dataset::load(n, 1);
    let mut group = c.benchmark_group("export_csv");
    group.sample_size(10).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
    let mut buf = Vec::with_capacity(128 << 20);
    for name in FORMATS {
        let f = format(name).unwrap_or_else(|e| panic!("{e}"));
        let config = config(name);
        buf.clear();
        let report = export(f, &config, &invoices, &mut buf).unwrap_or_else(|e| panic!("{e}"));
        let (exported, skipped, failed) = report.counts();
        eprintln!(
            "{name}: {} kB for {n} invoices ({exported} exported, {skipped} skipped, {failed} failed)",
            buf.len() / 1000
        );
        group.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| {
                buf.clear();
                export(f, &config, &invoices, &mut buf).unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    group.finish();

    if n < 100_000 {
        return;
    }
    let jsonl = dataset::generate(n, 1);
    let targets: Vec<_> = FORMATS.iter().map(|name| (*name, format(name), config(name))).collect();
    peer::rounds(&dataset::shared_dir(), &jsonl, &FORMATS, 0.3, |name| {
        let Some((_, Ok(f), config)) = targets.iter().find(|t| t.0 == name) else { panic!("{name}") };
        buf.clear();
        export(*f, config, &invoices, &mut buf).unwrap_or_else(|e| panic!("{e}"));
    });
}

criterion_group!(benches, targets);
criterion_main!(benches);
