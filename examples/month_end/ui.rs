//! Printing: progress on a terminal, compact tables, and writing files atomically.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

/// A progress line on stderr (only on a terminal and without --quiet): a bar, counts and rate.
pub struct Progress {
    label: String,
    total: usize,
    done: usize,
    started: Instant,
    shown: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// Progress over `total` items.
    pub fn new(label: &str, total: usize, quiet: bool) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            done: 0,
            started: Instant::now(),
            shown: None,
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// `n` more items done.
    pub fn add(&mut self, n: usize) {
        self.done += n;
        if self.enabled && self.shown.is_none_or(|t| t.elapsed().as_millis() >= 100) {
            self.draw();
            self.shown = Some(Instant::now());
        }
    }

    fn draw(&self) {
        let width = 30;
        let filled = (self.done * width).checked_div(self.total).map_or(width, |f| f.min(width));
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = self.done as f64 / secs;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r{:<16} [{}{}] {:>9}/{:<9} {:>10.0}/s",
            self.label,
            "#".repeat(filled),
            ".".repeat(width - filled),
            self.done,
            self.total,
            rate
        );
        let _ = err.flush();
    }

    /// Finish the line.
    pub fn finish(&mut self) {
        if self.enabled {
            self.draw();
            eprintln!();
        }
    }
}

/// Write `bytes` to `path` through a temporary file beside it, then rename: never a
/// half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Stream what `write` writes to `path` through a buffered temporary file beside it, then
/// rename: never a half-written file.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let result = (|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        write(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Remove a file or directory the run is about to write again.
pub fn clear(path: &Path) -> std::io::Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

/// Print a table with a header, right-aligning the columns named in `right`.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(display_width(c));
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(display_width(c));
            if right.contains(&i) {
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(pad));
            }
            out.push_str("  ");
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for r in rows {
        line(r.clone());
    }
}

/// Terminal columns a string takes (East Asian wide characters take two).
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// A heading.
pub fn step(title: &str) {
    println!("\n== {title}");
}

/// `--timings`: the wall time of each phase and the peak memory so far, on stderr.
pub struct Timings {
    enabled: bool,
    start: std::time::Instant,
    last: std::time::Instant,
    last_cpu: Option<u64>,
}

impl Timings {
    /// Start the clock (prints nothing unless `enabled`).
    pub fn new(enabled: bool) -> Timings {
        let now = std::time::Instant::now();
        Timings { enabled, start: now, last: now, last_cpu: cpu_ticks() }
    }

    /// The phase `name` ends now.
    pub fn mark(&mut self, name: &str) {
        let now = std::time::Instant::now();
        let cpu = cpu_ticks();
        if self.enabled {
            let peak = peak_memory().map(|kb| format!(", peak memory {} MB", kb / 1024)).unwrap_or_default();
            // user + system time of all threads, in the kernel's ticks of 10 ms
            let used = match (cpu, self.last_cpu) {
                (Some(c), Some(l)) => format!(", cpu {:.2} s", c.saturating_sub(l) as f64 / 100.0),
                _ => String::new(),
            };
            eprintln!(
                "  {name:<28} {:>7.3} s  (total {:.3} s{used}{peak})",
                (now - self.last).as_secs_f64(),
                (now - self.start).as_secs_f64()
            );
        }
        self.last = now;
        self.last_cpu = cpu;
    }
}

/// The CPU time of the process so far (every thread, user and system), in ticks of 10 ms,
/// where the system reports it (Linux).
fn cpu_ticks() -> Option<u64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // the fields after the command name (which may hold spaces) start at its closing ')'
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split_whitespace();
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// The process's peak resident memory in KiB, where the system reports it (Linux).
fn peak_memory() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
