//! Straight from JSON Lines to a target's file, without a book: [`export_jsonl`].

use std::collections::hash_map::Entry as MapEntry;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::ops::Range;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};

use invoice_export::{render_invoice_append, Config, Format, InvoiceResult, Report};

use invoice_core::hash::{quick_hash, HashedMap, QuickMap};

use super::{for_each_record, RecordError};

/// What [`export_jsonl`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// One result per good record, in file order: what [`invoice_export::export`] gives for
    /// the invoices of [`read_invoices`](super::read_invoices).
    pub report: Report,
    /// Every bad record, in file order, as [`read_invoices`](super::read_invoices) reports
    /// them.
    pub errors: Vec<RecordError>,
}

/// The size of the pieces the input is read in (cut at line ends) for the threads.
const BLOCK: usize = 1 << 20;

/// Read a JSON Lines file of invoices and write one target's file of its good records, in
/// one pass: the same bytes and report as [`read_invoices`](super::read_invoices) followed by
/// [`invoice_export::export`] of its invoices, with the same errors for the bad records, but
/// without holding every invoice, or the whole file, at once. The calling thread reads the
/// input in pieces of whole lines (about 1 MB) and writes the rendered pieces to `out` in
/// order; `threads` threads each parse a piece, render its invoices and drop them. A number
/// used on an earlier line is an error, as in `read_invoices` (the numbers seen so far are
/// the only thing kept). I/O errors stop the export; `out` may then hold part of the file
/// (write to a temporary file and rename it, as the book's exports do).
///
/// ```
/// use invoice_engine::export::format;
/// use invoice_engine::interchange::export_jsonl;
///
/// let jsonl = r#"{"number":"A-1","customer":{"id":"C1","name":"Ann"},"currency":"EUR","issue_date":"2026-11-30","lines":[{"description":"Work","quantity":"2","unit_price":"50.00","tax_rate":"0.2"}]}
/// {"number":"A-1","customer":{"id":"C1","name":"Ann"},"currency":"EUR","lines":[]}
/// "#;
/// let mut csv = Vec::new();
/// let done = export_jsonl(jsonl.as_bytes(), format("csv").unwrap(), &Default::default(), 2, &mut csv).unwrap();
/// assert_eq!(done.report.counts(), (1, 0, 0));
/// assert_eq!(done.errors[0].to_string(), "line 2 (A-1): number: the number is used on line 1 already");
/// assert!(String::from_utf8(csv).unwrap().contains("A-1,"));
/// ```
pub fn export_jsonl<W: Write>(
    input: impl Read,
    format: &dyn Format,
    config: &Config,
    threads: usize,
    out: W,
) -> invoice_export::Result<Converted> {
    export_pieces(input, BLOCK, format, config, threads, out)
}

/// One record of a piece, read and (when good) rendered; lines count from the piece's start.
enum Entry {
    /// A good record: the hash of its number (made here, where the number is at hand), its
    /// result (which names it) and where its bytes are in [`Piece::bytes`].
    Good { line: usize, hash: u64, result: InvoiceResult, bytes: Option<Range<usize>> },
    /// A bad record.
    Bad(RecordError),
}

/// One piece, read and rendered.
struct Piece {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    /// How many line ends it has.
    newlines: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Parse a piece and render every good record of it. Whether a number was used on an
/// earlier line is for the writer to say (it sees the pieces in order).
fn work_on(chunk: &[u8], format: &dyn Format, config: &Config, mut bytes: Vec<u8>) -> Piece {
    bytes.clear();
    bytes.reserve(chunk.len() * 3 / 2);
    let mut piece = Piece {
        bytes,
        entries: Vec::with_capacity(chunk.len() / 512 + 1),
        newlines: memchr::memchr_iter(b'\n', chunk).count(),
    };
    for_each_record(0, chunk, |line, record| {
        piece.entries.push(match record {
            Ok((invoice, totals)) => {
                let start = piece.bytes.len();
                let result = render_invoice_append(format, &invoice, totals.as_ref(), config, &mut piece.bytes);
                let bytes = (result.outcome == invoice_core::Outcome::Exported).then_some(start..piece.bytes.len());
                // a good record has a number, and its result carries it
                Entry::Good { line, hash: quick_hash(result.number.as_str()), result, bytes }
            }
            Err((number, field, message)) => Entry::Bad(RecordError { line, number, field, message }),
        });
    });
    piece
}

/// Takes the rendered pieces in file order: refuses numbers used on an earlier line, writes
/// the rest.
struct Writer<W> {
    out: W,
    /// Every number written, by its hash: its line and its place in the report's results
    /// (which hold the number itself).
    seen: HashedMap<(usize, usize)>,
    /// The numbers written whose hash an earlier, other number has (rare), with their lines.
    shared_hash: QuickMap<String, usize>,
    /// The line number of the next piece's first line.
    first_line: usize,
    converted: Converted,
}

impl<W: Write> Writer<W> {
    /// The line where `number`, whose hash is `hash`, was first written; if it was not, it is
    /// noted as written on `line`, as the next result.
    fn first_use(&mut self, hash: u64, number: &str, line: usize) -> Option<usize> {
        let results = &self.converted.report.results;
        match self.seen.entry(hash) {
            MapEntry::Vacant(v) => {
                v.insert((line, results.len()));
                None
            }
            MapEntry::Occupied(o) => {
                let (first, index) = *o.get();
                if results[index].number == number {
                    return Some(first);
                }
                match self.shared_hash.entry(number.to_string()) {
                    MapEntry::Occupied(o) => Some(*o.get()),
                    MapEntry::Vacant(v) => {
                        v.insert(line);
                        None
                    }
                }
            }
        }
    }

    /// Writes a piece and returns its buffer.
    fn piece(&mut self, piece: Piece) -> std::io::Result<Vec<u8>> {
        let base = self.first_line;
        self.first_line += piece.newlines;
        let mut repeated = false;
        let mut kept: Vec<Range<usize>> = Vec::new();
        for entry in piece.entries {
            match entry {
                Entry::Good { line, hash, result, bytes } => {
                    let line = base + line;
                    if let Some(first) = self.first_use(hash, &result.number, line) {
                        self.converted.errors.push(RecordError {
                            line,
                            message: format!("the number is used on line {first} already"),
                            number: Some(result.number),
                            field: "number".into(),
                        });
                        repeated = true;
                        continue;
                    }
                    kept.extend(bytes);
                    self.converted.report.results.push(result);
                }
                Entry::Bad(mut e) => {
                    e.line += base;
                    self.converted.errors.push(e);
                }
            }
        }
        if !repeated {
            self.out.write_all(&piece.bytes)?;
        } else {
            for range in kept {
                self.out.write_all(&piece.bytes[range])?;
            }
        }
        Ok(piece.bytes)
    }
}

/// The next piece of whole lines of `input` (at least `block` bytes unless the input ends),
/// with `carry`, the start of a line left over from the last piece, in front; `None` at the
/// end. The piece is read into `piece` (a buffer of an earlier piece, or a new one).
fn next_piece(
    input: &mut impl Read,
    block: usize,
    carry: &mut Vec<u8>,
    mut piece: Vec<u8>,
) -> std::io::Result<Option<Vec<u8>>> {
    piece.clear();
    piece.extend_from_slice(carry);
    carry.clear();
    loop {
        let before = piece.len();
        // up to a block, or another block when a line is longer than one
        let block = block.max(1);
        let want = if piece.len() < block { block - piece.len() } else { block };
        piece.reserve(want);
        let got = input.by_ref().take(want as u64).read_to_end(&mut piece)?;
        if got == 0 {
            // the end: whatever is left is the last piece
            return Ok((!piece.is_empty()).then_some(piece));
        }
        if piece.len() >= block {
            if let Some(end) = memchr::memrchr(b'\n', &piece[before..]) {
                let cut = before + end + 1;
                carry.extend_from_slice(&piece[cut..]);
                piece.truncate(cut);
                return Ok(Some(piece));
            }
        }
    }
}

fn export_pieces<W: Write>(
    mut input: impl Read,
    block: usize,
    format: &dyn Format,
    config: &Config,
    threads: usize,
    out: W,
) -> invoice_export::Result<Converted> {
    let workers = threads.max(1);
    // pieces to parse (bounded, so memory does not follow the file) and pieces rendered
    let (to_parse, pieces) = mpsc::sync_channel::<(usize, Vec<u8>)>(workers * 2);
    let pieces = Arc::new(Mutex::new(pieces));
    let (to_write, rendered) = mpsc::channel::<(usize, Piece)>();
    let mut writer = Writer {
        out,
        seen: HashedMap::default(),
        shared_hash: QuickMap::default(),
        first_line: 1,
        converted: Converted {
            report: Report { format: format.name().to_string(), results: Vec::new() },
            errors: Vec::new(),
        },
    };
    // The buffers of pieces read and rendered, kept for the next pieces: fresh memory costs
    // the system time of its pages.
    let (spare_input, spare_output) = (Mutex::new(Vec::<Vec<u8>>::new()), Mutex::new(Vec::<Vec<u8>>::new()));
    std::thread::scope(|scope| -> invoice_export::Result<()> {
        for _ in 0..workers {
            // each worker holds the queue: when every worker is gone, sending fails
            let (pieces, to_write) = (Arc::clone(&pieces), to_write.clone());
            let (spare_input, spare_output) = (&spare_input, &spare_output);
            scope.spawn(move || loop {
                let next = lock(&pieces).recv();
                let Ok((k, chunk)) = next else { return };
                let bytes = lock(spare_output).pop().unwrap_or_default();
                let piece = work_on(&chunk, format, config, bytes);
                lock(spare_input).push(chunk);
                if to_write.send((k, piece)).is_err() {
                    return;
                }
            });
        }
        drop((pieces, to_write));

        let mut waiting = BTreeMap::new();
        let mut next = 0;
        let mut take = |k: usize, piece: Piece, writer: &mut Writer<W>| -> std::io::Result<()> {
            waiting.insert(k, piece);
            while let Some(piece) = waiting.remove(&next) {
                lock(&spare_output).push(writer.piece(piece)?);
                next += 1;
            }
            Ok(())
        };
        format.begin(config, &mut writer.out)?;
        let mut carry = Vec::new();
        let mut sent = 0;
        loop {
            let buffer = lock(&spare_input).pop().unwrap_or_default();
            let Some(chunk) = next_piece(&mut input, block, &mut carry, buffer)? else { break };
            if to_parse.send((sent, chunk)).is_err() {
                break; // every worker is gone: one panicked, and the scope passes it on
            }
            sent += 1;
            while let Ok((k, piece)) = rendered.try_recv() {
                take(k, piece, &mut writer)?;
            }
        }
        drop(to_parse);
        for (k, piece) in &rendered {
            take(k, piece, &mut writer)?;
        }
        if next < sent {
            // a worker panicked; the scope passes the panic on
            return Ok(());
        }
        format.end(config, &mut writer.out)?;
        writer.out.flush()?;
        Ok(())
    })?;
    Ok(writer.converted)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_invoices, tests::GOOD};
    use super::*;
    use invoice_export::{export, format};

    /// `read_invoices` and then `export`, for comparison.
    fn two_steps(text: &str, name: &str) -> (Vec<u8>, Converted) {
        let read = parse_invoices(text.as_bytes(), 1);
        let mut out = Vec::new();
        let report =
            export(format(name).unwrap(), &Config::default(), read.invoices.iter().map(|r| &r.invoice), &mut out)
                .unwrap();
        (out, Converted { report, errors: read.errors })
    }

    #[test]
    fn one_pass_gives_what_reading_then_exporting_gives() {
        let mut text = String::new();
        for i in 0..3000 {
            match i % 9 {
                0 => text.push('\r'),
                1 => text.push_str("not json"),
                2 => text.push_str(GOOD),
                3 => text.push_str(&GOOD.replace("\"2\"", "\"2,5\"")),
                4 => text.push_str(&GOOD.replace("N-1", &format!("N-{}", i / 2))),
                _ => text.push_str(&GOOD.replace("N-1", &format!("N-{i}"))),
            }
            text.push('\n');
        }
        text.push_str(&GOOD.replace("N-1", "N-last")); // no line end
        for name in ["csv", "iif", "ubl"] {
            let (bytes, expected) = two_steps(&text, name);
            assert!(expected.errors.len() > 1000 && expected.report.results.len() > 1000);
            for (block, threads) in [(BLOCK, 2), (1, 1), (40, 3), (700, 2), (5000, 8), (1 << 30, 2)] {
                let mut out = Vec::new();
                let got =
                    export_pieces(text.as_bytes(), block, format(name).unwrap(), &Config::default(), threads, &mut out)
                        .unwrap();
                assert!(out == bytes, "{name}, blocks of {block}, {threads} threads: other bytes");
                assert_eq!(got, expected, "{name}, blocks of {block}, {threads} threads");
            }
        }
        let mut out = Vec::new();
        let empty = export_jsonl(&b""[..], format("csv").unwrap(), &Config::default(), 2, &mut out).unwrap();
        assert_eq!((empty.report.results.len(), empty.errors.len()), (0, 0));
        assert_eq!(out, two_steps("", "csv").0);
    }

    /// Two numbers with the same hash are still two numbers; each is refused only on its own
    /// second use.
    #[test]
    fn numbers_that_share_a_hash_are_told_apart() {
        let mut writer = Writer {
            out: Vec::new(),
            seen: HashedMap::default(),
            shared_hash: QuickMap::default(),
            first_line: 1,
            converted: Converted { report: Report { format: "csv".into(), results: Vec::new() }, errors: Vec::new() },
        };
        let mut take = |number: &str, line: usize| {
            let first = writer.first_use(7, number, line);
            if first.is_none() {
                writer.converted.report.results.push(InvoiceResult {
                    invoice: invoice_core::InvoiceId(line as u64),
                    number: number.into(),
                    outcome: invoice_core::Outcome::Exported,
                    warnings: Vec::new(),
                });
            }
            first
        };
        assert_eq!(take("A", 1), None);
        assert_eq!(take("B", 2), None);
        assert_eq!(take("C", 3), None);
        assert_eq!(take("B", 4), Some(2));
        assert_eq!(take("A", 5), Some(1));
        assert_eq!(take("C", 6), Some(3));
        assert_eq!(writer.converted.report.results.len(), 3);
    }

    #[test]
    fn a_write_error_stops_the_export() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let text: String = (0..2000).map(|i| GOOD.replace("N-1", &format!("N-{i}")) + "\n").collect();
        let err = export_pieces(text.as_bytes(), 1000, format("csv").unwrap(), &Config::default(), 2, Full(5000));
        assert!(err.unwrap_err().to_string().contains("disk full"));
    }
}
