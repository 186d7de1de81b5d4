//! Peak heap of a compile: the peers' merge workload (`common::merge_workload`: 1,000 dataset
//! invoices, 333 two-page attachments read from files, one period) compiled into one backup
//! PDF, against the size of that PDF. The heap is counted by a tracking allocator from the
//! moment the compile starts (the invoices, the renderer and the parsed fonts already exist),
//! so the figure is the compile's own memory, not the process's. Run with
//! `cargo bench -p invoice-pdf --bench memory`; numbers in benches/README.md.

mod common;

use common::*;
use invoice_core::Invoice;
use invoice_pdf::{compile_backups, BackupOptions, FsSource};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

fn main() {
    if !full() {
        // `cargo test --benches`: nothing to smoke-test that the other benches do not.
        return;
    }
    let dir = std::env::temp_dir().join(format!("invoice-pdf-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let Some((invoices, r, root, attachments)) = merge_workload(&dir) else {
        eprintln!("no dataset file (see common::dataset_path): nothing measured");
        return;
    };
    let refs: Vec<&Invoice> = invoices.iter().collect();
    let source = FsSource::new(&root);
    let options = BackupOptions::new(&dir, stamp("backup"));
    for run in ["first compile (font subsets made)", "second compile (font subsets cached)"] {
        let before = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let report = compile_backups(&r, &refs, &source, &options).expect("compiles");
        let peak = HEAP.peak_usage().saturating_sub(before);
        let kept = HEAP.current_usage().saturating_sub(before);
        let size: u64 = report.files.iter().map(|f| f.size).sum();
        drop(report);
        println!(
            "{run}: {} invoices, {} attachments ({attachments} bytes): output {size} bytes, compile peak heap {peak} bytes = {:.2}x the output ({kept} bytes still held after it: the report and cached font subsets)",
            refs.len(),
            invoices.iter().filter(|i| !i.attachments.is_empty()).count(),
            peak as f64 / size as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
