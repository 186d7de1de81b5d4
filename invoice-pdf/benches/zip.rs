//! ZIP: the first 2,000 invoices of the dataset (synthetic ones without it) rendered one PDF
//! each, then stored into a ZIP in memory (the peers' workload D); and 100 invoices rendered and
//! zipped. Numbers in benches/README.md.

mod common;

use std::hint::black_box;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use invoice_core::Invoice;
use invoice_pdf::{write_zip, write_zip_pdfs};

fn bench_zip(c: &mut Criterion) {
    let n = if full() { 2000 } else { 10 };
    let (invoices, r, _) = bench_invoices(n);
    let pdfs: Vec<(String, Vec<u8>)> =
        invoices.iter().map(|inv| (inv.label(), r.render(inv, &stamp(&inv.label())).expect("renders"))).collect();
    let pairs: Vec<(&str, &[u8])> = pdfs.iter().map(|(n, p)| (n.as_str(), p.as_slice())).collect();
    let size: usize = pdfs.iter().map(|(_, p)| p.len()).sum();

    let mut group = c.benchmark_group("zip");
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::new("stored_pdfs", n), &pairs, |b, pairs| {
        b.iter(|| {
            let mut out = Vec::with_capacity(size + 64 * 1024);
            write_zip_pdfs(pairs, &stamp("zip"), &mut out).expect("zips");
            black_box(out.len())
        })
    });
    eprintln!("{n} PDFs, {size} bytes");
    if full() {
        report_cpu("cpu zip stored", || {
            let mut out = Vec::with_capacity(size + 64 * 1024);
            write_zip_pdfs(&pairs, &stamp("zip"), &mut out).expect("zips");
            black_box(out.len());
        });
    }
    let refs: Vec<&Invoice> = invoices.iter().take(100).collect();
    group.bench_with_input(BenchmarkId::new("render_and_zip", refs.len()), &refs, |b, refs| {
        b.iter(|| {
            let mut out = Vec::with_capacity(size + 64 * 1024);
            write_zip(&r, refs, &stamp("zip"), &mut out).expect("zips");
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_zip);
criterion_main!(benches);
