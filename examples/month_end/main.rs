//! The main job of invoice-engine: a whole month end.
//!
//! ```text
//! cargo run --release --example month_end                      # demo: a whole month end on an embedded organisation
//! cargo run --release --example month_end -- --invoices FILE.jsonl [--formats csv,xero,...]
//!         [--pdf] [--zip] [--backups] [--config FILE] [--keep-going] [--timings] [--quiet] [--out DIR]
//! ```
//!
//! **Demo mode** (no `--invoices`) runs an embedded organisation (12 projects, 20 people,
//! approval flows on) through a month end: readiness and the chase list, generation, sending,
//! a freeform invoice and credit note, batching, posting, pre-flight, export to every target,
//! processing with the count, undo and re-process, an adjustment invoice, invoice PDFs, the
//! ZIP and the compiled backups per billing period.
//!
//! **Bulk mode** reads invoices in the interchange format (`docs/interchange.md`), issues,
//! batches, posts and exports them to the chosen targets, and writes:
//!
//! | path | what |
//! | --- | --- |
//! | `OUT/exports/<target>.<ext>` | targets that take one file per batch |
//! | `OUT/exports/<target>/<number>.<ext>` | one document per invoice (UBL, CII, QuickBooks Online JSON) |
//! | `OUT/pdf/<number>.pdf` | with `--pdf` |
//! | `OUT/invoices.zip` | with `--zip` |
//! | `OUT/backups/<period start>_<period end>.pdf` | with `--backups` (attachment paths are relative to the JSONL file) |
//! | `OUT/report.json` | per invoice and target: exported, skipped or failed with the message |
//!
//! Exit codes: 0 all done, 1 some invoices failed or were skipped, 2 bad usage or unreadable
//! input. Without `--keep-going`, a bad record stops the run before anything is written.

mod bulk;
mod config;
mod demo;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

/// A month end allocates and frees millions of small strings from several threads at once;
/// mimalloc does that with less contention and fewer page faults than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Args {
    /// Output directory.
    pub out: PathBuf,
    /// Bulk input.
    pub invoices: Option<PathBuf>,
    /// Target names (empty: all).
    pub formats: Vec<String>,
    /// Write one PDF per invoice.
    pub pdf: bool,
    /// Write a ZIP of the PDFs.
    pub zip: bool,
    /// Compile backups per billing period.
    pub backups: bool,
    /// Mappings, seller identity and branding.
    pub config: Option<PathBuf>,
    /// Collect bad records in the report and go on.
    pub keep_going: bool,
    /// No progress and no tables.
    pub quiet: bool,
    /// Wall time and peak memory of each bulk phase, on stderr.
    pub timings: bool,
}

const USAGE: &str =
    "usage: month_end [--out DIR] [--invoices FILE.jsonl [--formats a,b,...] [--pdf] [--zip] [--backups]
                 [--config FILE] [--keep-going] [--timings]] [--quiet]
  no --invoices: run the demo month end
  --timings: wall time and peak memory of each phase of a bulk run, on stderr
  --formats: csv iif qbxml qbo-csv qbo-json sage50-us sage50-uk sage300 intacct xero ubl cii (default: all)";

fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        out: PathBuf::from("month-end-out"),
        invoices: None,
        formats: Vec::new(),
        pdf: false,
        zip: false,
        backups: false,
        config: None,
        keep_going: false,
        quiet: false,
        timings: false,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--out" => a.out = PathBuf::from(value("--out")?),
            "--invoices" => a.invoices = Some(PathBuf::from(value("--invoices")?)),
            "--formats" => {
                a.formats =
                    value("--formats")?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
            }
            "--config" => a.config = Some(PathBuf::from(value("--config")?)),
            "--pdf" => a.pdf = true,
            "--zip" => a.zip = true,
            "--backups" => a.backups = true,
            "--keep-going" => a.keep_going = true,
            "--quiet" | "-q" => a.quiet = true,
            "--timings" => a.timings = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    for f in &a.formats {
        invoice_engine::export::format(f).map_err(|e| e.to_string())?;
    }
    if a.invoices.is_none() && (!a.formats.is_empty() || a.keep_going || a.timings) {
        return Err("--formats, --keep-going and --timings need --invoices (the demo exports to every target)".into());
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("month_end: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match &args.invoices {
        Some(_) => bulk::run(&args),
        None => demo::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("month_end: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A failure of the whole run.
#[derive(Debug)]
pub enum RunError {
    /// Bad usage or unreadable input (exit 2).
    Input(String),
    /// Anything else (exit 1).
    Failed(String),
}

impl RunError {
    fn exit_code(&self) -> u8 {
        match self {
            RunError::Input(_) => 2,
            RunError::Failed(_) => 1,
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Input(m) | RunError::Failed(m) => f.write_str(m),
        }
    }
}

macro_rules! failed_from {
    ($($t:ty),*) => {$(
        impl From<$t> for RunError {
            fn from(e: $t) -> RunError {
                RunError::Failed(e.to_string())
            }
        }
    )*};
}

failed_from!(
    invoice_engine::Error,
    invoice_engine::export::Error,
    invoice_engine::pdf::Error,
    invoice_engine::batch_export::ExportError,
    std::io::Error,
    serde_json::Error
);
