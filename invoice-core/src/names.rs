//! File names from invoice numbers: one rule for every file the engine writes per invoice
//! (export documents, invoice PDFs, ZIP entries).

use std::collections::HashSet;

/// The longest stem, in characters.
const MAX_STEM: usize = 100;

/// Windows device names, which no file may be called (with any extension).
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// An invoice number made safe as a file name (without extension) on every common file
/// system and in ZIP archives: letters and digits (of any script), `-`, `_` and single dots
/// between them are kept; everything else (path separators, `..`, spaces, `:`, `*`, `?`,
/// quotes, control characters) becomes `_`, one `_` per run; leading and trailing dots,
/// underscores and hyphens are dropped (no hidden files, no `-rf`). At most 100 characters,
/// never empty (`invoice`), never a Windows device name (`CON` becomes `CON_`).
///
/// ```
/// use invoice_core::safe_file_stem;
/// assert_eq!(safe_file_stem("INV-2026/0001"), "INV-2026_0001");
/// assert_eq!(safe_file_stem("../../etc/passwd"), "etc_passwd");
/// assert_eq!(safe_file_stem("..\\..\\boot.ini"), "boot.ini");
/// assert_eq!(safe_file_stem("Rechnung Nr. 7"), "Rechnung_Nr_7");
/// assert_eq!(safe_file_stem("Ødegård-12"), "Ødegård-12");
/// assert_eq!(safe_file_stem(".."), "invoice");
/// assert_eq!(safe_file_stem("CON"), "CON_");
/// ```
pub fn safe_file_stem(number: &str) -> String {
    let mut out = String::with_capacity(number.len());
    // a run of separators (`.`, `_` and the characters that become `_`)
    let (mut run_len, mut run_dots) = (0usize, 0usize);
    let flush = |out: &mut String, run_len: &mut usize, run_dots: &mut usize| {
        if *run_len > 0 {
            out.push(if *run_len == 1 && *run_dots == 1 { '.' } else { '_' });
        }
        (*run_len, *run_dots) = (0, 0);
    };
    for c in number.chars() {
        if c.is_alphanumeric() || c == '-' {
            flush(&mut out, &mut run_len, &mut run_dots);
            out.push(c);
        } else {
            run_len += 1;
            run_dots += usize::from(c == '.');
        }
    }
    flush(&mut out, &mut run_len, &mut run_dots);
    let edge = |c: char| matches!(c, '.' | '_' | '-');
    let mut stem: String = out.trim_matches(edge).chars().take(MAX_STEM).collect();
    stem.truncate(stem.trim_end_matches(edge).len());
    if stem.is_empty() {
        stem.push_str("invoice");
    }
    let base = stem.split('.').next().unwrap_or("");
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(base)) {
        stem.push('_');
    }
    stem
}

/// Unique file names for the invoices of one directory or archive: `{stem}.{extension}`,
/// then `{stem}-2.{extension}`, `{stem}-3.{extension}`, ..., unique regardless of case (so
/// that file systems that ignore case do not merge two).
///
/// ```
/// use invoice_core::UniqueNames;
/// let mut names = UniqueNames::default();
/// assert_eq!(names.claim("INV/1", "pdf"), "INV_1.pdf");
/// assert_eq!(names.claim("inv_1", "pdf"), "inv_1-2.pdf");
/// assert_eq!(names.claim("../x", "xml"), "x.xml");
/// ```
#[derive(Debug, Default, Clone)]
pub struct UniqueNames {
    taken: HashSet<String>,
}

impl UniqueNames {
    /// The next free name for `number` with `extension` (without the dot), now taken.
    pub fn claim(&mut self, number: &str, extension: &str) -> String {
        let stem = safe_file_stem(number);
        let mut n = 1usize;
        loop {
            let name = if n == 1 { format!("{stem}.{extension}") } else { format!("{stem}-{n}.{extension}") };
            if self.taken.insert(name.to_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_numbers_give_safe_unique_names() {
        let mut names = UniqueNames::default();
        let got: Vec<String> =
            ["../x", "a/b", "a/b", "A_B", "..", "", "x", "C:\\win", "a..b", ".hidden", "-rf", "Ωmega", "lpt1.txt"]
                .iter()
                .map(|n| names.claim(n, "pdf"))
                .collect();
        assert_eq!(
            got,
            [
                "x.pdf",
                "a_b.pdf",
                "a_b-2.pdf",
                "A_B-3.pdf",
                "invoice.pdf",
                "invoice-2.pdf",
                "x-2.pdf",
                "C_win.pdf",
                "a_b-4.pdf",
                "hidden.pdf",
                "rf.pdf",
                "Ωmega.pdf",
                "lpt1.txt_.pdf",
            ]
        );
        for n in &got {
            assert!(!n.contains('/') && !n.contains('\\') && !n.contains(".."), "{n}");
        }
    }

    #[test]
    fn stems_are_short_and_never_special() {
        assert_eq!(safe_file_stem("a\\b:c*d?e\"f<g>h|i\nj"), "a_b_c_d_e_f_g_h_i_j");
        assert_eq!(safe_file_stem(" .hidden. "), "hidden");
        assert_eq!(safe_file_stem("..."), "invoice");
        assert_eq!(safe_file_stem("COM10"), "COM10");
        assert_eq!(safe_file_stem(&"x".repeat(300)).chars().count(), 100);
        assert_eq!(safe_file_stem(&format!("{}-{}", "y".repeat(99), "z")), "y".repeat(99));
        assert_eq!(safe_file_stem("日本-1"), "日本-1");
    }
}
