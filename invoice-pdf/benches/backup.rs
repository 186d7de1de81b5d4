//! Backups: merging 100 supplied PDFs (signed invoices: no rendering), and compiling a period of
//! 100 rendered invoices of which every third has a two-page attachment (the peers' merge
//! workload, scaled from 1,000 invoices and 333 attachments); and the peers' merge workload
//! itself on the dataset (`merge_workload/1000`). Numbers in benches/README.md.

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::io;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use invoice_core::{Attachment, Invoice};
use invoice_pdf::{compile_backups, BackupOptions, FsSource};

fn bench_backup(c: &mut Criterion) {
    let r = renderer();
    let dir = std::env::temp_dir().join(format!("invoice-pdf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n = if full() { 100 } else { 10 };

    // Signed PDFs: every invoice comes as its own PDF, each with its own font copy.
    let mut store: HashMap<String, Vec<u8>> = HashMap::new();
    let mut signed: Vec<Invoice> = (0..n).map(|i| invoice(i, 5)).collect();
    for inv in &mut signed {
        let key = format!("signed/{}", inv.label());
        store.insert(key.clone(), r.render(inv, &stamp(&key)).expect("renders"));
        inv.signed_document = Some(Attachment { name: format!("{} signed", inv.label()), location: key });
    }
    let mut mixed: Vec<Invoice> = (0..n).map(|i| invoice(i, 5)).collect();
    for (i, inv) in mixed.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
        let key = format!("att/{i}");
        store.insert(key.clone(), foreign_pdf(&key, 2));
        inv.attachments.push(Attachment { name: "Timesheet".into(), location: key });
    }
    let source = |a: &Attachment| -> io::Result<Vec<u8>> {
        store.get(&a.location).cloned().ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    };
    let mut options = BackupOptions::new(&dir, stamp("backup"));
    options.summary_page = false;

    let mut group = c.benchmark_group("backup");
    group.sample_size(10);
    let refs: Vec<&Invoice> = signed.iter().collect();
    group.bench_with_input(BenchmarkId::new("merge_signed_pdfs", n), &refs, |b, refs| {
        b.iter(|| black_box(compile_backups(&r, refs, &source, &options).expect("compiles")))
    });
    let refs: Vec<&Invoice> = mixed.iter().collect();
    options.summary_page = true;
    group.bench_with_input(BenchmarkId::new("compile_rendered_with_attachments", n), &refs, |b, refs| {
        b.iter(|| black_box(compile_backups(&r, refs, &source, &options).expect("compiles")))
    });
    // The peers' merge workload (shared/bench workload C), rendered by the engine: the first
    // 1,000 invoices of the dataset, every third with its two-page attachment, read from files.
    if full() {
        if let Some((big, r, root, attachments)) = merge_workload(&dir) {
            let n = big.len();
            let source = FsSource::new(&root);
            let refs: Vec<&Invoice> = big.iter().collect();
            let report = compile_backups(&r, &refs, &source, &options).expect("compiles");
            let file = &report.files[0];
            eprintln!(
                "backup of {n} dataset invoices + {} attachments: {} file(s), {} pages, {} bytes ({attachments} bytes of attachments, {} bytes per invoice beyond them)",
                big.iter().filter(|i| !i.attachments.is_empty()).count(),
                report.files.len(),
                file.pages,
                file.size,
                (file.size as usize).saturating_sub(attachments) / n
            );
            report_cpu("cpu merge_workload", || {
                black_box(compile_backups(&r, &refs, &source, &options).expect("compiles"));
            });
            group.bench_with_input(BenchmarkId::new("merge_workload", n), &refs, |b, refs| {
                b.iter(|| black_box(compile_backups(&r, refs, &source, &options).expect("compiles")))
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_backup);
criterion_main!(benches);
