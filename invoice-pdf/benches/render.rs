//! Rendering: a 1-page and a 50-page invoice (synthetic), and the first 2,000 invoices of the
//! month-end dataset (`gen_dataset.py 100000 1`, the peers' workload B; synthetic invoices when
//! the file is absent) both into one PDF (fonts shared) and into one PDF each. Numbers are
//! recorded in benches/README.md. With `BENCH_OUT=DIR` the 2,000-invoice outputs are written
//! there (`one_file.pdf`, `each/NUMBER.pdf`) for the external checks.

mod common;

use std::hint::black_box;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use invoice_core::Invoice;

fn bench_render(c: &mut Criterion) {
    let r = renderer();
    let mut group = c.benchmark_group("render");
    group.sample_size(10);

    let one = invoice(0, 5);
    group.bench_function("1_page", |b| b.iter(|| black_box(r.render(&one, &stamp("one")).expect("renders"))));

    // As many lines as fill exactly 50 pages (about 30 a page, every fifth one wrapping).
    let pages_of = |inv: &Invoice| r.render_all(&[inv], &stamp("p"), "t").expect("renders").pages[0].1;
    let mut lines = 1500;
    let mut fifty = invoice(1, lines);
    for _ in 0..20 {
        let pages = pages_of(&fifty);
        if pages == 50 {
            break;
        }
        lines = (lines as i64 + (50 - pages as i64) * 25).max(1) as usize;
        fifty = invoice(1, lines);
    }
    assert_eq!(pages_of(&fifty), 50, "no line count gives 50 pages");
    group.bench_function("50_pages", |b| b.iter(|| black_box(r.render(&fifty, &stamp("fifty")).expect("renders"))));

    let n = if full() { 2000 } else { 20 };
    let (invoices, r, source) = bench_invoices(n);
    let refs: Vec<&Invoice> = invoices.iter().collect();
    let rendered = r.render_all(&refs, &stamp("all"), "November").expect("renders");
    let all = rendered.pdf.len();
    // BENCH_OUT=DIR keeps the outputs for the external checks (qpdf --check, verify_text.py).
    if let Some(dir) = std::env::var_os("BENCH_OUT").map(std::path::PathBuf::from) {
        std::fs::create_dir_all(dir.join("each")).expect("output dir");
        std::fs::write(dir.join("one_file.pdf"), &rendered.pdf).expect("written");
        for inv in &refs {
            let pdf = r.render(inv, &stamp(&inv.label())).expect("renders");
            std::fs::write(dir.join("each").join(format!("{}.pdf", inv.label())), pdf).expect("written");
        }
    }
    let each: usize = refs.iter().map(|inv| r.render(inv, &stamp(&inv.label())).expect("renders").len()).sum();
    eprintln!(
        "{n} {source} invoices ({} pages) in one PDF: {all} bytes ({} per invoice); one PDF each: {each} bytes ({} per invoice)",
        rendered.pages.iter().map(|p| p.1).sum::<usize>(),
        all / n,
        each / n
    );
    // One pass of each mode with its CPU time (the peers' figures are user CPU), the one-file-each
    // mode also writing its files, as the peers do.
    if full() {
        report_cpu("cpu one_file", || {
            black_box(r.render_all(&refs, &stamp("all"), "November").expect("renders"));
        });
        report_cpu("cpu file_each (in memory)", || {
            for inv in &refs {
                black_box(r.render(inv, &stamp(&inv.label())).expect("renders"));
            }
        });
        let dir = std::env::temp_dir().join(format!("invoice-pdf-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        report_cpu("cpu file_each (written to files)", || {
            for inv in &refs {
                let pdf = r.render(inv, &stamp(&inv.label())).expect("renders");
                std::fs::write(dir.join(format!("{}.pdf", inv.label())), pdf).expect("written");
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.bench_with_input(BenchmarkId::new("one_file", n), &refs, |b, refs| {
        b.iter(|| black_box(r.render_all(refs, &stamp("all"), "November").expect("renders").pdf.len()))
    });
    group.bench_with_input(BenchmarkId::new("file_each", n), &refs, |b, refs| {
        b.iter(|| {
            let mut total = 0;
            for inv in refs.iter() {
                total += r.render(inv, &stamp(&inv.label())).expect("renders").len();
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
