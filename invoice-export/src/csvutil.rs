//! What the CSV-like targets share: the invoice prepared for export (line taxes, the basic
//! summary), text cells that are checked and written by the same code, number and date
//! layouts, Windows-1252 text, and the csv writer settings.
//!
//! Each target writes its rows through the [`Cells`] trait. [`Format::check`](crate::Format)
//! runs the same row code with a [`Checker`], which records what a text cell would lose or
//! change (problems), and [`Format::write_invoice`](crate::Format) with a [`RowWriter`], which
//! writes the cells. So the warnings of pre-flight are exactly the changes of the export.
//!
//! # Text cells
//!
//! Every text cell goes through [`clean_into`]:
//! 1. targets that cannot take them replace tab, CR, LF (a CR LF pair counts as one) and the
//!    other control characters with a space, and IIF replaces `;` with `,` (warning
//!    `sanitized`);
//! 2. Windows-1252 targets transliterate characters outside that code page where a plain
//!    spelling exists (`Ł` → `L`, `→` → `->`; warning `transliterated`) and write `?` for the
//!    rest (an error `unsupported_character` for names the target looks up, a warning for
//!    free text);
//! 3. a cell that starts with `=`, `+`, `-`, `@`, tab or CR, which a spreadsheet would run as
//!    a formula, gets a leading apostrophe `'` (warning `formula_neutralised`); numbers and
//!    dates are not text cells and are never changed;
//! 4. a name longer than the target takes is an error `too_long`; free text is cut to the
//!    limit (warning `truncated`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use chrono::{Datelike, NaiveDate};
use invoice_core::{Invoice, Kind, Line, LineKind, Rounding, TaxCategory, Totals};
use rust_decimal::Decimal;

use crate::config::{Config, DateFormat, Summary};
use crate::{scan, CheckedWrite, Problem, Severity};

// ------------------------------------------------------------------ rules

/// The code page a target reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// UTF-8, any character.
    Utf8,
    /// Windows-1252 (Western European "ANSI"): the file is written in that code page.
    Windows1252,
}

/// How a target takes its file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// The target's name, for messages.
    pub(crate) target: &'static str,
    /// Code page.
    pub(crate) charset: Charset,
    /// Field delimiter.
    pub(crate) delimiter: u8,
    /// CRLF line endings (else LF).
    pub(crate) crlf: bool,
    /// Tab, CR, LF and other control characters are replaced with a space.
    pub(crate) single_line: bool,
    /// `;` is replaced with `,` (QuickBooks Desktop refuses it in IIF fields).
    pub(crate) no_semicolon: bool,
    /// The target writes each line's share of the tax ([`OutLine::tax`]); for the others the
    /// preparation leaves it at zero and does not compute it.
    pub(crate) line_taxes: bool,
}

/// What a text cell is to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// A name or number the target looks up or keeps as given: too long is an error, a
    /// character the target cannot take is an error. The limit is in characters.
    Name(usize),
    /// Like [`Field::Name`], but too long is only a warning (the target shows fewer
    /// characters than it stores, or the limit is not documented as hard).
    SoftName(usize),
    /// Free text: cut to the limit, unsupported characters written as `?` (warnings).
    Text(usize),
}

/// No length limit.
pub(crate) const NO_LIMIT: usize = usize::MAX;

/// Where a cell's value comes from, for problem paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// A field of the invoice (`number`, `customer.name`, `memo`, ...).
    Invoice(&'static str),
    /// A field of a line (`lines[2].item`); summary lines name their group's first line.
    Line(usize, &'static str),
    /// A setting of the configuration (`config.class`).
    Config(&'static str),
}

impl At {
    pub(crate) fn path(self) -> Cow<'static, str> {
        match self {
            At::Invoice(f) => Cow::Borrowed(f),
            At::Line(i, f) => Cow::Owned(concat(&["lines[", Int::new(i).as_str(), "].", f])),
            At::Config(f) => Cow::Owned(concat(&["config.", f])),
        }
    }
}

/// Date layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// 2026-11-30
    Iso,
    /// 11/30/2026
    Us,
    /// 30/11/2026
    Uk,
    /// 11/30/26
    UsShort,
    /// 20261130
    Compact,
}

impl DateStyle {
    /// The configured layout for targets that let the user choose, `default` otherwise.
    pub(crate) fn chosen(format: DateFormat, default: DateStyle) -> DateStyle {
        match format {
            DateFormat::TargetDefault => default,
            DateFormat::Iso => DateStyle::Iso,
            DateFormat::Us => DateStyle::Us,
            DateFormat::Uk => DateStyle::Uk,
        }
    }

    fn write(self, d: NaiveDate, out: &mut Vec<u8>) {
        let (y, m, day) = (u64::try_from(d.year()).unwrap_or(0), u64::from(d.month()), u64::from(d.day()));
        if y <= 9999 {
            // four-digit years (every real date): built in place, one copy
            let two = |n: u64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
            let (yh, yl, mm, dd) = (two(y / 100), two(y % 100), two(m), two(day));
            // copies of fixed size (no call)
            match self {
                DateStyle::Iso => {
                    out.extend_from_slice(&[yh[0], yh[1], yl[0], yl[1], b'-', mm[0], mm[1], b'-', dd[0], dd[1]])
                }
                DateStyle::Us => {
                    out.extend_from_slice(&[mm[0], mm[1], b'/', dd[0], dd[1], b'/', yh[0], yh[1], yl[0], yl[1]])
                }
                DateStyle::Uk => {
                    out.extend_from_slice(&[dd[0], dd[1], b'/', mm[0], mm[1], b'/', yh[0], yh[1], yl[0], yl[1]])
                }
                DateStyle::UsShort => out.extend_from_slice(&[mm[0], mm[1], b'/', dd[0], dd[1], b'/', yl[0], yl[1]]),
                DateStyle::Compact => out.extend_from_slice(&[yh[0], yh[1], yl[0], yl[1], mm[0], mm[1], dd[0], dd[1]]),
            }
            return;
        }
        self.write_padded(y, m, day, out);
    }

    /// [`DateStyle::write`] for any year.
    fn write_padded(self, y: u64, m: u64, day: u64, out: &mut Vec<u8>) {
        match self {
            DateStyle::Iso => {
                push_padded(y, 4, out);
                out.push(b'-');
                push_padded(m, 2, out);
                out.push(b'-');
                push_padded(day, 2, out);
            }
            DateStyle::Us | DateStyle::UsShort => {
                push_padded(m, 2, out);
                out.push(b'/');
                push_padded(day, 2, out);
                out.push(b'/');
                if self == DateStyle::Us {
                    push_padded(y, 4, out);
                } else {
                    push_padded(y % 100, 2, out);
                }
            }
            DateStyle::Uk => {
                push_padded(day, 2, out);
                out.push(b'/');
                push_padded(m, 2, out);
                out.push(b'/');
                push_padded(y, 4, out);
            }
            DateStyle::Compact => {
                push_padded(y, 4, out);
                push_padded(m, 2, out);
                push_padded(day, 2, out);
            }
        }
    }
}

/// The decimal digits of `n` (at least one), written at the end of `buf`.
fn digits_u128(mut n: u128, buf: &mut [u8; 40]) -> &[u8] {
    let mut i = buf.len();
    while n > u128::from(u64::MAX) {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let i = crate::digits::write_u64_back(n as u64, buf, i);
    &buf[i..]
}

/// `n` in decimal with at least `width` digits (leading zeros).
fn push_padded(n: u64, width: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 40];
    let digits = digits_u128(u128::from(n), &mut buf);
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

/// Append `value` in plain decimal notation: with exactly `dp` decimals when given (amounts),
/// else with its own scale; never a negative zero, never an exponent.
pub(crate) fn push_decimal(value: Decimal, dp: Option<u32>, out: &mut Vec<u8>) {
    let mut text = [0u8; 32];
    match short_decimal(value, dp, &mut text) {
        Some(start) => out.extend_from_slice(&text[start..]),
        None => push_decimal_wide(value, dp, out),
    }
}

/// [`push_decimal`] for the values its fast path does not take (kept apart so that the usual
/// numbers take a short path).
#[cold]
#[inline(never)]
fn push_decimal_wide(value: Decimal, dp: Option<u32>, out: &mut Vec<u8>) {
    with_decimal_rescaled(value, dp, |text| out.extend_from_slice(text));
}

/// `f` of the text [`push_decimal`] writes for `value` (made on the stack).
fn with_decimal<R>(value: Decimal, dp: Option<u32>, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut text = [0u8; 32];
    match short_decimal(value, dp, &mut text) {
        Some(start) => f(&text[start..]),
        None => with_decimal_rescaled(value, dp, f),
    }
}

/// The text of [`push_decimal`] at the end of `text` (returns where it starts) for a 64-bit
/// mantissa with at most `dp` decimals (nearly every number): its digits and the zeros that
/// rescaling to `dp` would append, without rescaling. `None` for other values.
#[inline(always)]
fn short_decimal(value: Decimal, dp: Option<u32>, text: &mut [u8; 32]) -> Option<usize> {
    let scale = value.scale();
    let mantissa = value.mantissa();
    let zeros = dp.map_or(Some(0), |dp| dp.checked_sub(scale).filter(|z| *z <= 9));
    if let (Ok(m), Some(zeros), true) = (u64::try_from(mantissa.unsigned_abs()), zeros, scale <= 19) {
        return Some(scaled_u64(mantissa < 0, m, scale as usize, zeros as usize, text));
    }
    None
}

/// `m / 10^scale` followed by `zeros` zeros (`scale` <= 19, `zeros` <= 9), with a `-` when
/// `negative`, at the end of `text`; returns where it starts. At most 31 bytes: a sign, 20
/// digits and a point, or `0.` and 19 digits, and the zeros.
#[inline]
fn scaled_u64(negative: bool, m: u64, scale: usize, zeros: usize, text: &mut [u8; 32]) -> usize {
    let mut i = text.len();
    for _ in 0..zeros {
        i -= 1;
        text[i] = b'0';
    }
    let mut rest = m;
    if scale + zeros > 0 {
        // the decimals, two at a time
        let mut left = scale;
        while left >= 2 {
            i -= 2;
            crate::digits::write_pair((rest % 100) as usize, text, i);
            rest /= 100;
            left -= 2;
        }
        if left == 1 {
            i -= 1;
            text[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        i -= 1;
        text[i] = b'.';
    }
    i = crate::digits::write_u64_back(rest, text, i);
    if negative {
        i -= 1;
        text[i] = b'-';
    }
    i
}

/// `d` as rust_decimal's `Display` writes it (its own scale, no exponent), built without the
/// formatting machinery (for messages).
pub(crate) fn decimal_text(d: Decimal) -> String {
    if d.is_zero() && d.is_sign_negative() {
        return d.to_string();
    }
    let mut text = Vec::with_capacity(16);
    push_decimal(d, None, &mut text);
    String::from_utf8(text).unwrap_or_else(|_| d.to_string())
}

/// [`push_decimal`] for any value: rescaled to `dp` first.
#[cfg(test)]
fn push_decimal_rescaled(value: Decimal, dp: Option<u32>, out: &mut Vec<u8>) {
    with_decimal_rescaled(value, dp, |text| out.extend_from_slice(text));
}

/// [`with_decimal`] for any value: rescaled to `dp` first.
fn with_decimal_rescaled<R>(value: Decimal, dp: Option<u32>, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut v = value;
    if let Some(dp) = dp {
        if v.scale() != dp {
            v.rescale(dp);
        }
    }
    let scale = usize::try_from(v.scale()).unwrap_or(0);
    let mantissa = v.mantissa();
    let mut buf = [0u8; 40];
    let digits = digits_u128(mantissa.unsigned_abs(), &mut buf);
    let mut text = [0u8; 48];
    let n = scaled_text(mantissa < 0, digits, scale, &mut text);
    f(&text[..n])
}

/// The number whose digits are `digits` (at most 40, no sign) with `scale` (at most 40) of
/// them decimals, into the start of `text`; returns its length.
fn scaled_text(negative: bool, digits: &[u8], scale: usize, text: &mut [u8; 48]) -> usize {
    let mut n = 0;
    if negative {
        text[0] = b'-';
        n = 1;
    }
    if digits.len() <= scale {
        // 0.00ddd
        let lead = scale - digits.len();
        text[n..n + 2].copy_from_slice(b"0.");
        n += 2;
        text[n..n + lead].fill(b'0');
        n += lead;
        text[n..n + digits.len()].copy_from_slice(digits);
        n + digits.len()
    } else {
        let int = digits.len() - scale;
        text[n..n + int].copy_from_slice(&digits[..int]);
        n += int;
        if scale > 0 {
            text[n] = b'.';
            n += 1;
            text[n..n + scale].copy_from_slice(&digits[int..]);
            n += scale;
        }
        n
    }
}

// ------------------------------------------------------------------ text

/// What [`clean_into`] changed or found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) sanitized: bool,
    pub(crate) transliterated: bool,
    pub(crate) unsupported: bool,
    pub(crate) neutralised: bool,
    pub(crate) truncated: bool,
    pub(crate) too_long: Option<usize>,
}

impl Changes {
    fn any(&self) -> bool {
        *self != Changes::default()
    }
}

/// True when a spreadsheet would run a cell starting with `c` as a formula.
fn formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// The text as the target gets it, and what changed. See the module documentation.
#[cfg(test)]
pub(crate) fn clean<'a>(value: &'a str, rules: &Rules, field: Field) -> (Cow<'a, str>, Changes) {
    let mut s = String::new();
    match clean_into(value, rules, field, &mut s) {
        None => (Cow::Borrowed(value), Changes::default()),
        Some(changes) => (Cow::Owned(s), changes),
    }
}

/// The text as the target gets it, into `s`: `None` when `value` needs nothing (use it as it
/// is), else what changed (`s` then holds the text). See the module documentation.
pub(crate) fn clean_into(value: &str, rules: &Rules, field: Field, s: &mut String) -> Option<Changes> {
    let max = match field {
        Field::Name(m) | Field::SoftName(m) | Field::Text(m) => m,
    };
    let long = |v: &str| max != NO_LIMIT && v.len() > max && v.chars().count() > max;
    if !needs_cleaning(value, rules) {
        if !long(value) {
            return None;
        }
        if let Field::Name(_) | Field::SoftName(_) = field {
            // only too long: reported, written as it is
            s.clear();
            s.push_str(value);
            return Some(Changes { too_long: Some(value.chars().count()), ..Changes::default() });
        }
    }
    let mut changes = Changes::default();
    s.clear();
    s.reserve(value.len() + 1);
    let mut len = 0usize;
    let table = attention(rules);
    let bytes = value.as_bytes();
    let mut i = 0;
    loop {
        // a run that stays as it is: up to a byte of the table (a whole character; with
        // non-ASCII bytes in the table, the run is ASCII)
        let end =
            scan::position(&bytes[i..], attention_maybe, |b| table[usize::from(b)]).map_or(bytes.len(), |p| i + p);
        let run = &value[i..end];
        s.push_str(run);
        len += if table[0x80] { run.len() } else { run.chars().count() };
        let Some(c) = value[end..].chars().next() else { break };
        i = end + c.len_utf8();
        len += 1;
        if rules.single_line && c.is_control() {
            if c == '\r' && bytes.get(i) == Some(&b'\n') {
                i += 1;
            }
            s.push(' ');
            changes.sanitized = true;
            continue;
        }
        if rules.no_semicolon && c == ';' {
            s.push(',');
            changes.sanitized = true;
            continue;
        }
        match rules.charset {
            Charset::Utf8 => s.push(c),
            Charset::Windows1252 => {
                if cp1252(c).is_some() {
                    s.push(c);
                } else if let Some(t) = transliterate(c) {
                    s.push_str(t);
                    len += t.len() - 1;
                    changes.transliterated = true;
                } else {
                    s.push('?');
                    changes.unsupported = true;
                }
            }
        }
    }
    if s.starts_with(formula_start) {
        s.insert(0, '\'');
        len += 1;
        changes.neutralised = true;
    }
    if len > max {
        match field {
            Field::Text(_) => {
                if let Some((cut, _)) = s.char_indices().nth(max) {
                    s.truncate(cut);
                }
                changes.truncated = true;
            }
            Field::Name(_) | Field::SoftName(_) => changes.too_long = Some(len),
        }
    }
    Some(changes)
}

/// What [`clean_into`] would change or report, without making the text.
pub(crate) fn changes_of(value: &str, rules: &Rules, field: Field) -> Changes {
    let max = match field {
        Field::Name(m) | Field::SoftName(m) | Field::Text(m) => m,
    };
    let long = max != NO_LIMIT && value.len() > max;
    if !long && !needs_cleaning(value, rules) {
        return Changes::default();
    }
    let mut changes = Changes::default();
    let mut len = 0usize;
    let mut first: Option<char> = None;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let out = if rules.single_line && c.is_control() {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            changes.sanitized = true;
            ' '
        } else if rules.no_semicolon && c == ';' {
            changes.sanitized = true;
            ','
        } else if rules.charset == Charset::Windows1252 && cp1252(c).is_none() {
            match transliterate(c) {
                Some(t) => {
                    changes.transliterated = true;
                    len += t.len() - 1;
                    t.chars().next().unwrap_or('?')
                }
                None => {
                    changes.unsupported = true;
                    '?'
                }
            }
        } else {
            c
        };
        first.get_or_insert(out);
        len += 1;
    }
    if first.is_some_and(formula_start) {
        changes.neutralised = true;
        len += 1;
    }
    if len > max {
        match field {
            Field::Text(_) => changes.truncated = true,
            Field::Name(_) | Field::SoftName(_) => changes.too_long = Some(len),
        }
    }
    changes
}

/// Whether [`clean_into`] would change a character of `value` (no allocation; the length is
/// checked apart).
fn needs_cleaning(value: &str, rules: &Rules) -> bool {
    if value.starts_with(formula_start) {
        return true;
    }
    if !(rules.single_line || rules.no_semicolon || rules.charset == Charset::Windows1252) {
        return false;
    }
    let table = attention(rules);
    let bytes = value.as_bytes();
    let mut at = 0;
    // from one byte of the table to the next, eight bytes at a time; an ASCII one needs
    // cleaning, a non-ASCII character is decided on its own
    while let Some(i) = scan::position(&bytes[at..], attention_maybe, |b| table[usize::from(b)]) {
        let i = at + i;
        if bytes[i] < 0x80 {
            return true;
        }
        let Some(c) = value[i..].chars().next() else { return false };
        if (rules.single_line && c.is_control()) || (rules.charset == Charset::Windows1252 && cp1252(c).is_none()) {
            return true;
        }
        at = i + c.len_utf8();
    }
    false
}

/// Nonzero when one of the eight bytes of `x` may be in an [`attention`] table (for any
/// rules): a control character, DEL, `;` or non-ASCII.
fn attention_maybe(x: u64) -> u64 {
    scan::below(x, 0x20) | scan::high(x) | scan::equal(x, 0x7f) | scan::equal(x, b';')
}

/// Bytes that may need [`clean_into`] under rules with (single line, no semicolon): the control
/// characters, `;`, and every non-ASCII byte (decided character by character).
const fn attention_table(single_line: bool, no_semicolon: bool, non_ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (single_line && (b < 0x20 || b == 0x7f))
            || (no_semicolon && b == b';' as usize)
            || (non_ascii && b >= 0x80);
        b += 1;
    }
    t
}

static ATTENTION: [[bool; 256]; 8] = [
    attention_table(false, false, false),
    attention_table(false, false, true),
    attention_table(false, true, false),
    attention_table(false, true, true),
    attention_table(true, false, false),
    attention_table(true, false, true),
    attention_table(true, true, false),
    attention_table(true, true, true),
];

fn attention(rules: &Rules) -> &'static [bool; 256] {
    // UTF-8 targets look at non-ASCII characters only for C1 control characters
    let non_ascii = rules.charset == Charset::Windows1252 || rules.single_line;
    &ATTENTION[usize::from(rules.single_line) * 4 + usize::from(rules.no_semicolon) * 2 + usize::from(non_ascii)]
}

/// The Windows-1252 byte of `c`, if it has one.
#[inline]
pub(crate) fn cp1252(c: char) -> Option<u8> {
    match u32::from(c) {
        // the same code point (inlined: most characters are these)
        u @ (0..=0x7f | 0xa0..=0xff) => Some(u as u8),
        _ => cp1252_other(c),
    }
}

/// Append `text` in Windows-1252 (`?` for a character it lacks), copying ASCII runs as they
/// are.
fn push_cp1252(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len());
    let mut rest = text;
    while let Some(i) = scan::position(rest.as_bytes(), scan::high, |b| b >= 0x80) {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let Some(c) = rest[i..].chars().next() else { break };
        out.push(cp1252(c).unwrap_or(b'?'));
        rest = &rest[i + c.len_utf8()..];
    }
    out.extend_from_slice(rest.as_bytes());
}

/// [`cp1252`] of the characters outside Latin-1's printable range.
#[inline(never)]
fn cp1252_other(c: char) -> Option<u8> {
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => return None,
    })
}

/// A plain spelling of a character Windows-1252 lacks, if there is one.
pub(crate) fn transliterate(c: char) -> Option<&'static str> {
    if (0x100..0x180).contains(&u32::from(c)) {
        // the letters Windows-1252 has are written as they are
        return if cp1252(c).is_some() { None } else { crate::latin::latin_ext_a(c) };
    }
    Some(match c {
        'Ș' => "S",
        'ș' => "s",
        'Ț' => "T",
        'ț' => "t",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => "-",
        '\u{2002}'..='\u{200a}' | '\u{202f}' => " ",
        '\u{2032}' => "'",
        '\u{2033}' => "\"",
        '\u{2044}' | '\u{2215}' => "/",
        '→' => "->",
        '←' => "<-",
        '↔' => "<->",
        '⇒' => "=>",
        '≤' => "<=",
        '≥' => ">=",
        '≠' => "!=",
        _ => return None,
    })
}

// ------------------------------------------------------------------ cells

/// The cells of a target's rows. Implemented by [`RowWriter`] (writes) and [`Checker`]
/// (records problems), so that check and write run the same code.
pub(crate) trait Cells {
    /// A text cell.
    fn text(&mut self, at: At, value: &str, field: Field);
    /// An optional text cell (empty when `None`).
    fn opt_text(&mut self, at: At, value: Option<&str>, field: Field) {
        match value {
            Some(v) => self.text(at, v, field),
            None => self.code(""),
        }
    }
    /// A fixed value the exporter chose (a record type, `TRUE`, a code); written as it is.
    fn code(&mut self, value: &str);
    /// A fixed value made of parts (`Sales tax `, `6.25`, `%`).
    fn code_concat(&mut self, parts: &[&str]) {
        self.code(&parts.concat());
    }
    /// An amount with exactly `dp` decimals.
    fn amount(&mut self, value: Decimal, dp: u32);
    /// A number as it is (quantities, prices, rates).
    fn number(&mut self, value: Decimal);
    /// A date, empty when `None`.
    fn date(&mut self, value: Option<NaiveDate>, style: DateStyle);
    /// An integer.
    fn int(&mut self, value: u64);
    /// End the row.
    fn end_row(&mut self);
    /// Cells that are the same on every row of the invoice (its number, customer, dates ...):
    /// `cells` writes them on the first row, later rows repeat that row's result. `id`
    /// names the group within the target's rows.
    fn same_every_row(&mut self, id: usize, cells: impl FnOnce(&mut Self))
    where
        Self: Sized;
}

/// Writes an invoice's rows into its buffer.
///
/// Every field is written as the csv crate writes it with `QuoteStyle::Necessary`: as it is,
/// unless it contains the delimiter, `"`, CR or LF; such a field is quoted by the csv crate
/// itself. Numbers and dates never need quotes. The cells of a
/// [`same_every_row`](Cells::same_every_row) group are made once per invoice.
pub(crate) struct RowWriter<'a> {
    out: &'a mut Vec<u8>,
    rules: Rules,
    /// The cleaned text of the cell being written.
    text: String,
    /// Its Windows-1252 bytes.
    bytes: Vec<u8>,
    /// Cells written in the current row.
    col: usize,
    /// Per [`Cells::same_every_row`] group: where it starts, how many cells, the bytes.
    groups: Vec<Repeated>,
    /// The bytes that keep a text cell from being written as it is, for these rules (always
    /// there until [`RowWriter::finish`] hands it on).
    plain: Option<Box<Plain>>,
}

/// The bytes after which a text cell may need more than a copy under some rules: those
/// [`needs_cleaning`] looks at, those that make a field quoted, and (Windows-1252) every
/// non-ASCII byte. A text without any of them, not starting like a formula and not longer
/// in bytes than its limit is written exactly as it is.
struct Plain {
    /// Delimiter, code page, single line, no semicolon.
    key: (u8, Charset, bool, bool),
    table: [bool; 256],
}

impl Plain {
    fn key(rules: &Rules) -> (u8, Charset, bool, bool) {
        (rules.delimiter, rules.charset, rules.single_line, rules.no_semicolon)
    }

    fn new(rules: &Rules) -> Plain {
        let mut table = *attention(rules);
        for b in [rules.delimiter, b'"', b'\n', b'\r'] {
            table[usize::from(b)] = true;
        }
        if rules.charset == Charset::Windows1252 {
            for t in &mut table[0x80..] {
                *t = true;
            }
        }
        Plain { key: Plain::key(rules), table }
    }
}

/// Nonzero when one of the eight bytes of `x` may be in a [`Plain`] table (for any rules with
/// this delimiter): a control character, DEL, non-ASCII, `"`, `;` or the delimiter.
fn plain_maybe(x: u64, delimiter: u8) -> u64 {
    scan::below(x, 0x20)
        | scan::high(x)
        | scan::equal(x, 0x7f)
        | scan::equal(x, b'"')
        | scan::equal(x, b';')
        | scan::equal(x, delimiter)
}

/// A group of cells written once and repeated on every row (see [`Cells::same_every_row`]).
#[derive(Debug, Default)]
struct Repeated {
    /// Valid for the current invoice.
    valid: bool,
    /// The column of its first cell.
    start: usize,
    /// How many cells.
    cells: usize,
    /// Its bytes, with the delimiter before it when it does not start the row.
    bytes: Vec<u8>,
}

/// True when the csv crate's `QuoteStyle::Necessary` quotes `field` (for the delimiters and
/// terminators of these targets): it holds the delimiter, `"`, CR or LF.
fn needs_quotes(field: &[u8], delimiter: u8) -> bool {
    let table = match delimiter {
        b',' => &SPECIAL_COMMA,
        b'\t' => &SPECIAL_TAB,
        d => return field.iter().any(|&b| b == d || b == b'"' || b == b'\n' || b == b'\r'),
    };
    field.iter().any(|&b| table[usize::from(b)])
}

/// The bytes that make the csv crate's `QuoteStyle::Necessary` quote a field: the delimiter,
/// `"`, CR and LF.
const fn special(delimiter: u8) -> [bool; 256] {
    let mut t = [false; 256];
    t[delimiter as usize] = true;
    t[b'"' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
}
const SPECIAL_COMMA: [bool; 256] = special(b',');
const SPECIAL_TAB: [bool; 256] = special(b'\t');

/// What finished [`RowWriter`]s leave for the next invoice on the thread (allocations only).
#[derive(Default)]
struct Pool {
    text: String,
    bytes: Vec<u8>,
    groups: Vec<Repeated>,
    plain: Option<Box<Plain>>,
}

thread_local! {
    static POOL: std::cell::RefCell<Pool> = std::cell::RefCell::new(Pool::default());
}

/// A csv writer with the target's delimiter and line ending. Records may differ in length
/// (IIF and Sage 300 mix record types); RFC 4180 quoting where needed.
pub(crate) fn csv_writer<W: io::Write>(rules: &Rules, out: W, capacity: usize) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(rules.delimiter)
        .terminator(if rules.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
        .quote_style(csv::QuoteStyle::Necessary)
        .flexible(true)
        .buffer_capacity(capacity)
        .from_writer(out)
}

/// Write header rows (ASCII names) at the start of a one-file export.
pub(crate) fn write_headers(rules: &Rules, out: &mut dyn io::Write, rows: &[&[&str]]) -> io::Result<()> {
    let mut w = csv_writer(rules, out, 4096);
    for row in rows {
        w.write_record(*row)?;
    }
    w.flush()
}

impl<'a> RowWriter<'a> {
    pub(crate) fn new(rules: Rules, out: &'a mut Vec<u8>) -> RowWriter<'a> {
        let Pool { text, bytes, mut groups, plain } =
            POOL.with(|p| p.try_borrow_mut().map(|mut p| std::mem::take(&mut *p))).unwrap_or_default();
        for g in &mut groups {
            g.valid = false;
        }
        let plain = match plain {
            Some(plain) if plain.key == Plain::key(&rules) => Some(plain),
            _ => Some(Box::new(Plain::new(&rules))),
        };
        RowWriter { out, rules, text, bytes, col: 0, groups, plain }
    }

    /// Start a cell: the delimiter unless it is the first of the row.
    fn start_cell(&mut self) {
        if self.col > 0 {
            self.out.push(self.rules.delimiter);
        }
        self.col += 1;
    }

    /// Append `raw` as a field: as it is, or quoted as the csv crate quotes it (between `"`,
    /// each `"` doubled).
    #[inline]
    fn field(out: &mut Vec<u8>, rules: &Rules, raw: &[u8]) {
        if !needs_quotes(raw, rules.delimiter) {
            out.extend_from_slice(raw);
            return;
        }
        Self::quoted(out, raw);
    }

    /// Append `raw` between `"`, each `"` doubled.
    #[inline(never)]
    fn quoted(out: &mut Vec<u8>, raw: &[u8]) {
        out.reserve(raw.len() + 2);
        out.push(b'"');
        let mut rest = raw;
        while let Some(q) = rest.iter().position(|&b| b == b'"') {
            out.extend_from_slice(&rest[..=q]);
            out.push(b'"');
            rest = &rest[q + 1..];
        }
        out.extend_from_slice(rest);
        out.push(b'"');
    }

    /// Finish the invoice; an error names no field (it is the buffer's).
    pub(crate) fn finish(mut self, invoice: &Invoice) -> Result<(), Problem> {
        let pool = Pool {
            text: std::mem::take(&mut self.text),
            bytes: std::mem::take(&mut self.bytes),
            groups: std::mem::take(&mut self.groups),
            plain: self.plain.take(),
        };
        POOL.with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                *p = pool;
            }
        });
        // writing into memory cannot fail; the invoice is for the error a writer could have
        let _ = invoice;
        Ok(())
    }
}

impl RowWriter<'_> {
    /// Write a text cell; what [`clean_into`] changed (`None`: nothing).
    #[inline]
    fn write_text(&mut self, value: &str, field: Field) -> Option<Changes> {
        self.start_cell();
        let max = match field {
            Field::Name(m) | Field::SoftName(m) | Field::Text(m) => m,
        };
        let bytes = value.as_bytes();
        let delimiter = self.rules.delimiter;
        if !bytes.first().is_some_and(|b| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
            && self
                .plain
                .as_ref()
                .is_some_and(|p| !scan::any(bytes, |x| plain_maybe(x, delimiter), |b| p.table[usize::from(b)]))
        {
            // what clean_into, the code page and the quoting would all leave as it is, but for
            // the length
            if bytes.len() <= max {
                self.out.extend_from_slice(bytes);
                return None;
            }
            return self.write_plain_long(value, field, max);
        }
        self.write_cleaned(value, field)
    }

    /// [`RowWriter::write_text`] of a text that may need cleaning, quoting or encoding (kept
    /// apart so that plain texts take a short path).
    #[inline(never)]
    fn write_cleaned(&mut self, value: &str, field: Field) -> Option<Changes> {
        let mut scratch = std::mem::take(&mut self.text);
        let changes = clean_into(value, &self.rules, field, &mut scratch);
        let text = match changes {
            None => value,
            Some(_) => scratch.as_str(),
        };
        if self.rules.charset == Charset::Windows1252 && !text.is_ascii() {
            // encoded in place; quoted (rarely) from a copy
            let start = self.out.len();
            push_cp1252(text, self.out);
            if needs_quotes(&self.out[start..], self.rules.delimiter) {
                self.bytes.clear();
                self.bytes.extend_from_slice(&self.out[start..]);
                self.out.truncate(start);
                Self::field(self.out, &self.rules, &self.bytes);
            }
        } else {
            Self::field(self.out, &self.rules, text.as_bytes());
        }
        self.text = scratch;
        changes
    }

    /// [`RowWriter::write_text`] of a plain text (no byte of the [`Plain`] table, no formula
    /// start) longer in bytes than `max`: what [`clean_into`] gives for it, without copying it
    /// first. A name too long is written as it is (and reported), free text is cut.
    #[inline(never)]
    fn write_plain_long(&mut self, value: &str, field: Field, max: usize) -> Option<Changes> {
        // a plain Windows-1252 text is ASCII (the table holds every other byte)
        let count = if self.rules.charset == Charset::Windows1252 { value.len() } else { value.chars().count() };
        if count <= max {
            self.out.extend_from_slice(value.as_bytes());
            return None;
        }
        match field {
            Field::Name(_) | Field::SoftName(_) => {
                self.out.extend_from_slice(value.as_bytes());
                Some(Changes { too_long: Some(count), ..Changes::default() })
            }
            Field::Text(_) => {
                let cut = value.char_indices().nth(max).map_or(value.len(), |(i, _)| i);
                self.out.extend_from_slice(&value.as_bytes()[..cut]);
                Some(Changes { truncated: true, ..Changes::default() })
            }
        }
    }

    /// Repeat group `id` when it was written for this invoice at this column.
    fn repeat(&mut self, id: usize) -> bool {
        if let Some(g) = self.groups.get(id) {
            if g.valid && g.start == self.col {
                self.out.extend_from_slice(&g.bytes);
                self.col += g.cells;
                return true;
            }
        }
        false
    }

    /// Keep what group `id` wrote from column `start` (byte `at`) on, for the next rows.
    fn remember(&mut self, id: usize, start: usize, at: usize) {
        if self.groups.len() <= id {
            self.groups.resize_with(id + 1, Repeated::default);
        }
        let g = &mut self.groups[id];
        g.bytes.clear();
        g.bytes.extend_from_slice(&self.out[at..]);
        (g.valid, g.start, g.cells) = (true, start, self.col - start);
    }
}

impl Cells for RowWriter<'_> {
    fn text(&mut self, _at: At, value: &str, field: Field) {
        self.write_text(value, field);
    }

    #[inline(always)]
    fn code(&mut self, value: &str) {
        // Codes are mostly short literals: inlined, their quoting check folds away and the
        // copy has a known length.
        let raw = value.as_bytes();
        if raw.len() < 16 && !needs_quotes(raw, self.rules.delimiter) {
            self.start_cell();
            self.out.extend_from_slice(raw);
            return;
        }
        self.start_cell();
        Self::field(self.out, &self.rules, raw);
    }

    fn code_concat(&mut self, parts: &[&str]) {
        if parts.iter().any(|p| needs_quotes(p.as_bytes(), self.rules.delimiter)) {
            self.code(&parts.concat());
            return;
        }
        self.start_cell();
        for p in parts {
            self.out.extend_from_slice(p.as_bytes());
        }
    }

    fn amount(&mut self, value: Decimal, dp: u32) {
        self.start_cell();
        push_decimal(value, Some(dp), self.out);
    }

    fn number(&mut self, value: Decimal) {
        self.start_cell();
        push_decimal(value, None, self.out);
    }

    fn date(&mut self, value: Option<NaiveDate>, style: DateStyle) {
        self.start_cell();
        if let Some(d) = value {
            style.write(d, self.out);
        }
    }

    fn int(&mut self, value: u64) {
        self.start_cell();
        match u8::try_from(value) {
            Ok(d @ 0..=9) => self.out.push(b'0' + d),
            _ => push_padded(value, 1, self.out),
        }
    }

    fn end_row(&mut self) {
        self.col = 0;
        self.out.extend_from_slice(if self.rules.crlf { b"\r\n" } else { b"\n" });
    }

    fn same_every_row(&mut self, id: usize, cells: impl FnOnce(&mut Self)) {
        if self.repeat(id) {
            return;
        }
        let (start, at) = (self.col, self.out.len());
        cells(self);
        self.remember(id, start, at);
    }
}

/// How many [`Cells::same_every_row`] groups a target's rows may have.
const GROUPS: usize = 4;

/// Records what the text cells of an invoice would lose or change, once per path and code.
pub(crate) struct Checker<'a> {
    invoice: &'a Invoice,
    rules: Rules,
    pub(crate) problems: Vec<Problem>,
    /// Cells of the current row.
    col: usize,
    /// Per [`Cells::same_every_row`] group: (first column, cells) once checked.
    groups: [Option<(usize, usize)>; GROUPS],
    /// The text cells that had problems.
    reported: Places,
}

/// The text cells whose problems were reported: the first few in place, more in a vector.
#[derive(Default)]
struct Places {
    first: [Option<(At, Field)>; 4],
    more: Vec<(At, Field)>,
}

impl Places {
    fn contains(&self, place: &(At, Field)) -> bool {
        self.first.iter().any(|p| p.as_ref() == Some(place)) || self.more.contains(place)
    }

    fn push(&mut self, place: (At, Field)) {
        match self.first.iter_mut().find(|p| p.is_none()) {
            Some(slot) => *slot = Some(place),
            None => self.more.push(place),
        }
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(invoice: &'a Invoice, rules: Rules) -> Checker<'a> {
        Checker { invoice, rules, problems: Vec::new(), col: 0, groups: [None; GROUPS], reported: Places::default() }
    }

    /// Add a problem unless the same code was already reported for the same path.
    pub(crate) fn push(&mut self, p: Problem) {
        if !self.problems.iter().any(|q| q.code == p.code && q.path == p.path) {
            self.problems.push(p);
        }
    }

    /// An error at `at`.
    pub(crate) fn error(&mut self, at: At, code: &'static str, message: impl Into<Cow<'static, str>>) {
        self.push(Problem::error(self.invoice, code, at.path(), message));
    }

    /// A warning at `at`.
    pub(crate) fn warning(&mut self, at: At, code: &'static str, message: impl Into<Cow<'static, str>>) {
        self.push(Problem::warning(self.invoice, code, at.path(), message));
    }

    /// Errors first (stable), then warnings, each in the order found.
    pub(crate) fn into_problems(self) -> Vec<Problem> {
        let mut problems = self.problems;
        problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
        problems
    }
}

/// `s`, cut to 60 characters (with `…`) for messages.
fn shorten(s: &str) -> Cow<'_, str> {
    const MAX: usize = 60;
    if s.len() <= MAX || s.chars().count() <= MAX {
        Cow::Borrowed(s)
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        Cow::Owned(t)
    }
}

/// `parts` one after the other (messages and paths: cheaper than `format!`).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// An integer as text, without allocating.
pub(crate) struct Int {
    digits: [u8; 20],
    start: usize,
}

impl Int {
    pub(crate) fn new(n: usize) -> Int {
        let mut digits = [0u8; 20];
        let start = crate::digits::write_u64_back(n as u64, &mut digits, 20);
        Int { digits, start }
    }

    pub(crate) fn as_str(&self) -> &str {
        // only ASCII digits were written
        std::str::from_utf8(&self.digits[self.start..]).unwrap_or("0")
    }
}

impl Checker<'_> {
    fn skip(&mut self) {
        self.col += 1;
    }
}

impl Cells for Checker<'_> {
    fn text(&mut self, at: At, value: &str, field: Field) {
        self.col += 1;
        // a place repeats its value on every row: report it once
        if self.reported.contains(&(at, field)) {
            return;
        }
        let changes = changes_of(value, &self.rules, field);
        self.report(at, value, field, changes);
    }

    fn code(&mut self, _value: &str) {
        self.skip();
    }
    fn code_concat(&mut self, _parts: &[&str]) {
        self.skip();
    }
    fn amount(&mut self, _value: Decimal, _dp: u32) {
        self.skip();
    }
    fn number(&mut self, _value: Decimal) {
        self.skip();
    }
    fn date(&mut self, _value: Option<NaiveDate>, _style: DateStyle) {
        self.skip();
    }
    fn int(&mut self, _value: u64) {
        self.skip();
    }
    fn end_row(&mut self) {
        self.col = 0;
    }

    fn same_every_row(&mut self, id: usize, cells: impl FnOnce(&mut Self)) {
        if let Some(Some((start, n))) = self.groups.get(id) {
            if *start == self.col {
                self.col += n;
                return;
            }
        }
        let start = self.col;
        cells(self);
        if let Some(slot) = self.groups.get_mut(id) {
            *slot = Some((start, self.col - start));
        }
    }
}

impl Checker<'_> {
    /// Report what a text cell at `at` changes (`changes` of `value`); a place whose problems
    /// were reported is not reported again.
    fn report(&mut self, at: At, value: &str, field: Field, changes: Changes) {
        self.report_cleaned(at, value, field, changes, None);
    }

    /// [`Checker::report`], given the text [`clean_into`] made of `value` when it is at hand.
    fn report_cleaned(&mut self, at: At, value: &str, field: Field, changes: Changes, cleaned: Option<&str>) {
        if !changes.any() || self.reported.contains(&(at, field)) {
            return;
        }
        self.reported.push((at, field));
        let target = self.rules.target;
        let name = matches!(field, Field::Name(_) | Field::SoftName(_));
        if changes.sanitized {
            let message = if self.rules.no_semicolon {
                concat(&[
                    target,
                    " cannot take tabs, line breaks or ';' inside a field; they are written as spaces (';' as ',')",
                ])
            } else {
                concat(&[target, " cannot take tabs or line breaks inside a field; they are written as spaces"])
            };
            self.warning(at, "sanitized", message);
        }
        if changes.unsupported {
            if name {
                self.error(
                    at,
                    "unsupported_character",
                    concat(&[
                        "'",
                        &shorten(value),
                        "' has characters ",
                        target,
                        " cannot take (it reads Windows-1252 only); map it to a name without them",
                    ]),
                );
            } else {
                self.warning(
                    at,
                    "unsupported_character",
                    concat(&["characters ", target, " cannot take (it reads Windows-1252 only) are written as '?'"]),
                );
            }
        }
        if changes.transliterated {
            let mut text = String::new();
            let text = match cleaned {
                Some(t) => t,
                None => {
                    let _ = clean_into(value, &self.rules, field, &mut text);
                    &text
                }
            };
            self.warning(
                at,
                "transliterated",
                concat(&["written as '", &shorten(text), "' (", target, " reads Windows-1252 only)"]),
            );
        }
        if changes.neutralised {
            let first = value.chars().next().unwrap_or(' ');
            self.warning(
                at,
                "formula_neutralised",
                format!(
                    "starts with {}, which a spreadsheet would run as a formula; written with a leading apostrophe",
                    describe(first)
                ),
            );
        }
        if changes.truncated {
            let max = match field {
                Field::Text(m) | Field::Name(m) | Field::SoftName(m) => m,
            };
            let max = Int::new(max);
            let max = max.as_str();
            self.warning(
                at,
                "truncated",
                concat(&["cut to ", max, " characters (", target, " takes at most ", max, ")"]),
            );
        }
        if let Some(len) = changes.too_long {
            let max = match field {
                Field::Text(m) | Field::Name(m) | Field::SoftName(m) => m,
            };
            let message = concat(&[
                "'",
                &shorten(value),
                "' has ",
                Int::new(len).as_str(),
                " characters; ",
                target,
                " takes at most ",
                Int::new(max).as_str(),
            ]);
            match field {
                Field::SoftName(_) => self.warning(at, "too_long", message),
                _ => self.error(at, "too_long", message),
            }
        }
    }
}

/// Checks and writes in one pass over the rows (see [`check_and_write_with`]): each text cell
/// is cleaned once, written, and what it changed is reported as [`Checker`] reports it.
pub(crate) struct Both<'a> {
    w: RowWriter<'a>,
    c: Checker<'a>,
}

impl Cells for Both<'_> {
    fn text(&mut self, at: At, value: &str, field: Field) {
        if let Some(changes) = self.w.write_text(value, field) {
            // a transliterated text went through clean_into: the writer holds it
            self.c.report_cleaned(at, value, field, changes, Some(&self.w.text));
        }
    }
    #[inline(always)]
    fn code(&mut self, value: &str) {
        self.w.code(value);
    }
    fn code_concat(&mut self, parts: &[&str]) {
        self.w.code_concat(parts);
    }
    fn amount(&mut self, value: Decimal, dp: u32) {
        self.w.amount(value, dp);
    }
    fn number(&mut self, value: Decimal) {
        self.w.number(value);
    }
    fn date(&mut self, value: Option<NaiveDate>, style: DateStyle) {
        self.w.date(value, style);
    }
    fn int(&mut self, value: u64) {
        self.w.int(value);
    }
    fn end_row(&mut self) {
        self.w.end_row();
    }

    fn same_every_row(&mut self, id: usize, cells: impl FnOnce(&mut Self)) {
        // the checker skips a group exactly when the writer repeats it (same columns)
        if self.w.repeat(id) {
            return;
        }
        let (start, at) = (self.w.col, self.w.out.len());
        cells(self);
        self.w.remember(id, start, at);
    }
}

fn describe(c: char) -> String {
    match c {
        '\t' => "a tab".to_string(),
        '\r' => "a carriage return".to_string(),
        c => format!("'{c}'"),
    }
}

// ------------------------------------------------------------------ the prepared invoice

/// Whether an invoice is prepared for [`Format::check`](crate::Format) (lines and groups; line
/// nets only with the basic summary; no totals, no taxes) or for writing (everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Pre-flight: amounts are zero, except the nets of basic summary lines.
    Check,
    /// Export: every amount.
    Write,
}

/// One tax group of the invoice: (category, rate), ordered like [`Totals::tax_groups`].
#[derive(Debug, Clone)]
pub(crate) struct Group<'a> {
    /// VAT category.
    pub(crate) category: TaxCategory,
    /// Rate as a fraction, normalised.
    pub(crate) rate: Decimal,
    /// The tax key and the percentage of the rate, taken on first use.
    texts: std::cell::OnceCell<RateTexts>,
    /// The group's tax (zero in [`Mode::Check`]).
    pub(crate) tax: Decimal,
    /// The first invoice line of the group.
    pub(crate) first: usize,
    /// The mapped tax code of the key (`None`: the key itself), looked up on first use.
    code: std::cell::OnceCell<Option<&'a str>>,
}

impl Group<'_> {
    /// The tax key of [`Config::tax_key`] (`S:0.19`).
    pub(crate) fn key(&self) -> &str {
        &self.texts.get_or_init(|| rate_texts(self.category, self.rate)).key
    }

    /// The rate in percent as text (`6.25`).
    pub(crate) fn percent(&self) -> &str {
        &self.texts.get_or_init(|| rate_texts(self.category, self.rate)).percent
    }
}

/// The texts of a tax group's rate: its tax key (`S:0.19`) and its percentage (`19`).
#[derive(Debug, Clone)]
struct RateTexts {
    key: std::rc::Rc<str>,
    percent: std::rc::Rc<str>,
}

thread_local! {
    /// The texts of the rates seen on this thread, by category and the rate's spelling: the
    /// invoices of a batch use a handful of rates, made into text once.
    static RATE_TEXTS: std::cell::RefCell<Vec<(TaxCategory, [u8; 16], RateTexts)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The most rates [`RATE_TEXTS`] keeps.
const RATE_TEXTS_KEPT: usize = 64;

/// The [`RateTexts`] of `category` and `rate`.
fn rate_texts(category: TaxCategory, rate: Decimal) -> RateTexts {
    let spelling = rate.serialize();
    let make = || RateTexts { key: group_key(category, rate), percent: percent_text(rate) };
    RATE_TEXTS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else { return make() };
        if let Some((_, _, texts)) = cache.iter().find(|(c, s, _)| *c == category && *s == spelling) {
            return texts.clone();
        }
        let texts = make();
        if cache.len() < RATE_TEXTS_KEPT {
            cache.push((category, spelling, texts.clone()));
        }
        texts
    })
}

/// One exported line: an invoice line (detailed) or a group of them (basic summary).
#[derive(Debug, Clone)]
pub(crate) struct OutLine<'a> {
    /// The (first) invoice line it comes from, for problem paths.
    pub(crate) first: usize,
    /// Whether it sums several lines (basic summary).
    pub(crate) summary: bool,
    /// Description (a summary line says what it sums).
    pub(crate) description: Cow<'a, str>,
    /// Quantity (1 for summary lines).
    pub(crate) quantity: Decimal,
    /// Unit price (the net for summary lines).
    pub(crate) unit_price: Decimal,
    /// Net, rounded to the currency.
    pub(crate) net: Decimal,
    /// The line's share of its tax group's tax (see [`prepare`]; zero in [`Mode::Check`] and
    /// for targets without [`Rules::line_taxes`]). Read with [`Prepared::line_tax`].
    tax: Decimal,
    /// VAT category.
    pub(crate) category: TaxCategory,
    /// Rate as a fraction, normalised.
    pub(crate) rate: Decimal,
    /// Index of its tax group in [`Prepared::groups`].
    pub(crate) group: usize,
    /// The target's item ([`Config::item_for`]; for summary lines the item all its lines
    /// share, else the items fallback).
    pub(crate) item: Option<&'a str>,
    /// The target's income account ([`account_for`]).
    pub(crate) account: Option<&'a str>,
    /// Service date (detailed lines only).
    pub(crate) service_date: Option<NaiveDate>,
    /// Line kind (summary lines: the kind all their lines share, else service).
    pub(crate) kind: LineKind,
}

/// An invoice ready to be written: totals, tax groups and the exported lines.
#[derive(Debug, Clone)]
pub(crate) struct Prepared<'a> {
    pub(crate) invoice: &'a Invoice,
    pub(crate) config: &'a Config,
    /// Invoice net (zero in [`Mode::Check`]).
    pub(crate) net: Decimal,
    /// Invoice tax (zero in [`Mode::Check`]).
    pub(crate) tax: Decimal,
    /// Invoice gross (zero in [`Mode::Check`]).
    pub(crate) gross: Decimal,
    /// Tax groups ordered by category, then rate.
    pub(crate) groups: Vec<Group<'a>>,
    pub(crate) lines: Vec<OutLine<'a>>,
    /// Decimals of the currency.
    pub(crate) dp: u32,
    /// What was prepared: with [`Mode::Write`] every amount is known.
    pub(crate) mode: Mode,
    /// Whether the lines' shares of the tax were made ([`Rules::line_taxes`]).
    line_taxes: bool,
}

impl<'a> Prepared<'a> {
    /// The line's share of its tax group's tax (see [`prepare`]). Only targets with
    /// [`Rules::line_taxes`] write it; a debug build checks that.
    pub(crate) fn line_tax(&self, line: &OutLine<'_>) -> Decimal {
        debug_assert!(
            self.line_taxes || self.mode == Mode::Check,
            "a target that writes line taxes needs Rules::line_taxes"
        );
        line.tax
    }

    /// True for credit notes.
    pub(crate) fn credit(&self) -> bool {
        self.invoice.kind.is_credit()
    }

    /// The invoice a credit note credits, or the one an adjustment corrects.
    pub(crate) fn reference(&self) -> Option<&str> {
        match &self.invoice.kind {
            Kind::Invoice => None,
            Kind::CreditNote { credits } => credits.as_deref(),
            Kind::Adjustment { corrects } => Some(corrects),
        }
    }

    /// The invoice number (its label when it has none).
    pub(crate) fn number(&self) -> Cow<'_, str> {
        match &self.invoice.number {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(self.invoice.label()),
        }
    }

    /// The customer as targets that match by name know it: mapped, else the mapping's
    /// fallback, else the invoice's customer name.
    pub(crate) fn customer_name(&self) -> &str {
        let m = &self.config.customers;
        m.map.get(&self.invoice.customer.id).or(m.fallback.as_ref()).map_or(&self.invoice.customer.name, |s| s)
    }

    /// The customer as targets that match by id know it: mapped, else the fallback, else
    /// the customer id.
    pub(crate) fn customer_id(&self) -> &str {
        self.config.customers.resolve(&self.invoice.customer.id)
    }

    /// The location: the configured one, else the invoice's own.
    pub(crate) fn location(&self) -> Option<&str> {
        self.config.location.as_deref().or(self.invoice.location.as_deref())
    }

    /// The target's tax code of a group: `config.tax_codes.resolve(g.key())`, looked up once
    /// per group.
    pub(crate) fn tax_code<'s>(&'s self, g: &'s Group<'a>) -> &'s str {
        match self.mapped_tax_code(g) {
            Some(code) => code,
            None => g.key(),
        }
    }

    /// Whether the tax-code mapping covers the group's key
    /// ([`Mapping::covers`](crate::Mapping::covers)), from the lookup [`Prepared::tax_code`]
    /// keeps.
    pub(crate) fn tax_code_covered(&self, g: &Group<'a>) -> bool {
        self.mapped_tax_code(g).is_some()
    }

    /// The mapped tax code of the group's key, else the fallback (looked up once).
    fn mapped_tax_code<'s>(&'s self, g: &'s Group<'a>) -> Option<&'a str> {
        let codes = &self.config.tax_codes;
        *g.code.get_or_init(|| codes.map.get(g.key()).map(String::as_str).or(codes.fallback.as_deref()))
    }

    /// The target's tax code of a line's group (see [`Prepared::tax_code`]).
    pub(crate) fn line_tax_code(&self, line: &OutLine<'_>) -> &str {
        match self.groups.get(line.group) {
            Some(g) => self.tax_code(g),
            None => self.config.tax_codes.resolve(""),
        }
    }

    /// The groups with a rate above zero.
    pub(crate) fn taxed_groups(&self) -> impl Iterator<Item = &Group<'a>> {
        self.groups.iter().filter(|g| !g.rate.is_zero())
    }
}

/// The target's income account of a line: the mapped account of its GL account, else the
/// accounts fallback, else the GL account itself; `None` when the line has none and there is
/// no fallback.
pub(crate) fn account_for<'a>(config: &'a Config, line: &'a Line) -> Option<&'a str> {
    match line.gl_account.as_deref() {
        Some(code) => Some(config.accounts.resolve(code)),
        None => config.accounts.fallback.as_deref(),
    }
}

/// A rate as a percentage without trailing zeros: 0.0625 -> `6.25`.
pub(crate) fn percent(rate: Decimal) -> Decimal {
    let p = rate.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(Decimal::ZERO).normalize();
    if p.is_zero() {
        Decimal::ZERO
    } else {
        p
    }
}

/// The rate in percent as text (`6.25`).
fn percent_text(rate: Decimal) -> std::rc::Rc<str> {
    with_decimal(percent(rate), None, |text| String::from_utf8_lossy(text).into())
}

/// The tax key of [`Config::tax_key`] (`S:0.19`).
fn group_key(category: TaxCategory, rate: Decimal) -> std::rc::Rc<str> {
    with_decimal(rate.normalize(), None, |text| format!("{}:{}", category.code(), String::from_utf8_lossy(text)).into())
}

/// `|a| > |b|`, from the mantissas when both have the same scale and 64-bit mantissas (nets
/// rounded to the currency).
fn abs_greater(a: Decimal, b: Decimal) -> bool {
    if a.scale() == b.scale() {
        if let (Ok(x), Ok(y)) = (u64::try_from(a.mantissa().unsigned_abs()), u64::try_from(b.mantissa().unsigned_abs()))
        {
            return x > y;
        }
    }
    a.abs() > b.abs()
}

/// The group of a line with `category` and `rate` (groups have distinct rates per category):
/// found by spelling first, without rust_decimal's comparison, else by value.
fn group_of(groups: &[Group<'_>], category: TaxCategory, rate: Decimal) -> Option<usize> {
    let spelling = rate.serialize();
    groups
        .iter()
        .position(|g| g.category == category && g.rate.serialize() == spelling)
        .or_else(|| groups.iter().position(|g| g.category == category && g.rate == rate))
}

/// Prepare an invoice: totals, tax groups, and the exported lines of the configured summary
/// level, each with its share of the tax.
///
/// Line taxes: each line's tax is its net times its rate, rounded to the currency with the
/// invoice's rounding mode; what the group's tax (per [`Totals`]) differs from the sum of
/// its lines' taxes is added to the line of the group with the largest net (the first of
/// equals). So the line taxes of a group always add up to the group's tax, and with per-line
/// tax rounding they are exactly the per-line taxes.
pub(crate) fn prepare<'a>(invoice: &'a Invoice, config: &'a Config, mode: Mode) -> Result<Prepared<'a>, Problem> {
    prepare_with(invoice, None, config, mode, true)
}

/// [`prepare`] with the invoice's totals when the caller has them (they must be
/// `invoice.totals()`): [`Mode::Write`] then does not make them again. Without `line_taxes`
/// (a target that does not write them, [`Rules::line_taxes`]) every line's tax stays zero.
pub(crate) fn prepare_with<'a>(
    invoice: &'a Invoice,
    given: Option<&Totals>,
    config: &'a Config,
    mode: Mode,
    line_taxes: bool,
) -> Result<Prepared<'a>, Problem> {
    let currency = invoice.currency;
    let mode_r: Rounding = invoice.rounding.mode;
    let mut groups: Vec<Group<'a>> = Vec::new();
    let (mut net, mut tax, mut gross) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut line_nets: Vec<Decimal> = Vec::new();
    let made: Totals;
    let mut nets: &[Decimal] = &[];
    match mode {
        Mode::Write => {
            let totals: &Totals = match given {
                Some(t) => t,
                None => {
                    made = invoice.totals().map_err(|e| Problem::error(invoice, e.code(), "lines", e.to_string()))?;
                    &made
                }
            };
            groups.reserve(totals.tax_groups.len());
            for g in &totals.tax_groups {
                // the group's first line is found with the lines below
                let first = usize::MAX;
                groups.push(Group {
                    category: g.category,
                    rate: g.rate,
                    texts: std::cell::OnceCell::new(),
                    tax: g.tax,
                    first,
                    code: std::cell::OnceCell::new(),
                });
            }
            (net, tax, gross) = (totals.net, totals.tax, totals.gross);
            nets = &totals.line_nets;
        }
        Mode::Check => {
            // line nets only where a summary line needs them
            let nets = config.summary == Summary::Basic;
            for (i, line) in invoice.lines.iter().enumerate() {
                if nets {
                    let n = line
                        .net(currency, invoice.rounding)
                        .map_err(|e| Problem::error(invoice, e.code(), format!("lines[{i}]"), e.to_string()))?;
                    line_nets.push(n);
                }
                let category = line.effective_tax_category();
                if group_of(&groups, category, line.tax_rate).is_none() {
                    let rate = line.tax_rate.normalize();
                    groups.push(Group {
                        category,
                        rate,
                        texts: std::cell::OnceCell::new(),
                        tax: Decimal::ZERO,
                        first: i,
                        code: std::cell::OnceCell::new(),
                    });
                }
            }
            groups.sort_by_key(|g| (g.category, g.rate));
        }
    }
    let overflow = |i: usize| Problem::error(invoice, "overflow", format!("lines[{i}]"), "the line's tax is too large");
    let mut lines: Vec<OutLine<'a>> = Vec::with_capacity(invoice.lines.len());
    if mode == Mode::Check {
        nets = &line_nets;
    }
    for (i, line) in invoice.lines.iter().enumerate() {
        let net = nets.get(i).copied().unwrap_or_default();
        let category = line.effective_tax_category();
        let found = group_of(&groups, category, line.tax_rate);
        let group = found.unwrap_or(0);
        if let Some(g) = found.and_then(|k| groups.get_mut(k)) {
            g.first = g.first.min(i);
        }
        let rate = groups.get(group).map_or(line.tax_rate, |g| g.rate);
        lines.push(OutLine {
            first: i,
            summary: false,
            description: Cow::Borrowed(&line.description),
            quantity: line.quantity,
            unit_price: line.unit_price,
            net,
            tax: Decimal::ZERO,
            category,
            rate,
            group,
            item: config.item_for(line),
            account: account_for(config, line),
            service_date: line.service_date,
            kind: line.kind,
        });
    }
    for g in &mut groups {
        if g.first == usize::MAX {
            // a group no line belongs to (totals of another invoice): named after the first line
            g.first = 0;
        }
    }
    if mode == Mode::Write && line_taxes {
        for (k, g) in groups.iter().enumerate() {
            let members = lines.iter().filter(|l| l.group == k).count();
            if members == 1 {
                // the line's tax is the group's
                if let Some(l) = lines.iter_mut().find(|l| l.group == k) {
                    l.tax = g.tax;
                }
                continue;
            }
            // each line's own tax, then the group's rounding difference onto its largest line
            let mut sum = Decimal::ZERO;
            let mut largest: Option<usize> = None;
            for j in 0..lines.len() {
                if lines[j].group != k {
                    continue;
                }
                lines[j].tax = mode_r
                    .round_product(lines[j].net, g.rate, currency.exponent())
                    .ok_or_else(|| overflow(lines[j].first))?;
                sum += lines[j].tax;
                if largest.is_none_or(|b| abs_greater(lines[j].net, lines[b].net)) {
                    largest = Some(j);
                }
            }
            if let Some(j) = largest {
                let diff = g.tax - sum;
                if !diff.is_zero() {
                    lines[j].tax += diff;
                }
            }
        }
    }
    if config.summary == Summary::Basic {
        lines = summarise(lines, config);
    }
    Ok(Prepared { invoice, config, net, tax, gross, groups, lines, dp: currency.exponent(), mode, line_taxes })
}

/// One line per (income account, tax category, rate), in the order of first appearance.
fn summarise<'a>(lines: Vec<OutLine<'a>>, config: &'a Config) -> Vec<OutLine<'a>> {
    let mut out: Vec<OutLine<'a>> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|o| o.account == l.account && o.group == l.group) {
            Some(o) => {
                o.net += l.net;
                o.tax += l.tax;
                if o.item != l.item {
                    o.item = config.items.fallback.as_deref();
                }
                if o.kind != l.kind {
                    o.kind = LineKind::Service;
                }
            }
            None => out.push(OutLine { summary: true, service_date: None, ..l }),
        }
    }
    for o in &mut out {
        o.quantity = Decimal::ONE;
        o.unit_price = o.net;
        let mut d = String::new();
        let _ = write!(d, "{} (tax {} {}%)", o.account.unwrap_or("no account"), o.category.code(), percent(o.rate));
        o.description = Cow::Owned(d);
    }
    out
}

/// Errors for lines without an income account (when the target needs one).
pub(crate) fn check_accounts(p: &Prepared<'_>, c: &mut Checker<'_>, target: &str, mapping_required: bool) {
    for (i, line) in p.invoice.lines.iter().enumerate() {
        match line.gl_account.as_deref() {
            None if p.config.accounts.fallback.is_none() => c.error(
                At::Line(i, "gl_account"),
                "missing_mapping",
                format!("the line has no GL account and the accounts mapping has no fallback; {target} needs an account on every line"),
            ),
            Some(code) if mapping_required && !p.config.accounts.covers(code) => c.error(
                At::Line(i, "gl_account"),
                "missing_mapping",
                format!("GL account '{code}' is not mapped and the accounts mapping has no fallback; {target} needs the account's name"),
            ),
            _ => {}
        }
    }
}

/// Errors for tax keys without a mapping (targets that write a tax code). Only keys of the
/// written lines; `only_taxed` limits it to rates above zero.
pub(crate) fn check_tax_codes(p: &Prepared<'_>, c: &mut Checker<'_>, target: &str, what: &str, only_taxed: bool) {
    let wanted = |g: &&Group| !(only_taxed && g.rate.is_zero());
    if p.groups.iter().filter(wanted).all(|g| p.tax_code_covered(g)) {
        return;
    }
    let mut groups: Vec<&Group> = p.groups.iter().filter(wanted).collect();
    groups.sort_by_key(|g| g.first);
    for g in groups {
        if !p.tax_code_covered(g) {
            c.error(
                At::Line(g.first, "tax_rate"),
                "missing_mapping",
                format!(
                    "tax key '{}' is not mapped and the tax-code mapping has no fallback; {target} needs {what}",
                    g.key()
                ),
            );
        }
    }
}

/// An error when the currency has more decimals than the target keeps.
pub(crate) fn check_currency_decimals(p: &Prepared<'_>, c: &mut Checker<'_>, target: &str, max: u32) {
    if p.dp > max {
        c.error(
            At::Invoice("currency"),
            "unsupported_currency",
            format!(
                "{} has {} decimals; {target} keeps at most {max}, so amounts would be rounded",
                p.invoice.currency.code(),
                p.dp
            ),
        );
    }
}

/// An error when the invoice has no issue date (targets that need one).
pub(crate) fn check_issue_date(p: &Prepared<'_>, c: &mut Checker<'_>, target: &str) {
    if p.invoice.issue_date.is_none() {
        c.error(
            At::Invoice("issue_date"),
            "missing_value",
            format!("{target} needs the invoice date; issue the invoice first"),
        );
    }
}

/// An error for credit notes (targets that cannot import them).
pub(crate) fn refuse_credit_notes(p: &Prepared<'_>, c: &mut Checker<'_>, target: &str, instead: &str) {
    if p.credit() {
        c.error(
            At::Invoice("kind"),
            "credit_note_unsupported",
            format!("{target} cannot import credit notes; {instead}"),
        );
    }
}

/// Run the target's rows through a [`Checker`] after its own checks; a problem of the
/// preparation (an overflow) is returned alone.
pub(crate) fn check_with(
    invoice: &Invoice,
    config: &Config,
    rules: Rules,
    own: impl FnOnce(&Prepared<'_>, &mut Checker<'_>),
    rows: impl FnOnce(&Prepared<'_>, &mut Checker<'_>),
) -> Vec<Problem> {
    let p = match prepare(invoice, config, Mode::Check) {
        Ok(p) => p,
        Err(problem) => return vec![problem],
    };
    let mut c = Checker::new(invoice, rules);
    own(&p, &mut c);
    rows(&p, &mut c);
    c.into_problems()
}

/// Write the target's rows for one invoice into `out`.
pub(crate) fn write_with(
    invoice: &Invoice,
    config: &Config,
    rules: Rules,
    out: &mut Vec<u8>,
    rows: impl FnOnce(&Prepared<'_>, &mut RowWriter<'_>),
) -> Result<(), Problem> {
    let p = prepare_with(invoice, None, config, Mode::Write, rules.line_taxes)?;
    let mut w = RowWriter::new(rules, out);
    rows(&p, &mut w);
    w.finish(invoice)
}

/// [`check_with`], then, when it found no error, [`write_with`], from one preparation of the
/// invoice ([`Mode::Write`]; the target's checks and rows find in it everything that
/// [`Mode::Check`] gives them) and one pass over the rows ([`Both`]): the rows are written
/// while they are checked, and taken back when the check found an error. When that
/// preparation fails (an overflow), the check runs on its own, as [`check_with`] would, and
/// the write fails as [`write_with`] would.
// the invoice and its totals, the target's rules and output, and the three row passes
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_and_write_with(
    invoice: &Invoice,
    totals: Option<&Totals>,
    config: &Config,
    rules: Rules,
    out: &mut Vec<u8>,
    own: impl FnOnce(&Prepared<'_>, &mut Checker<'_>),
    check_rows: impl FnOnce(&Prepared<'_>, &mut Checker<'_>),
    rows: impl FnOnce(&Prepared<'_>, &mut Both<'_>),
) -> CheckedWrite {
    let p = match prepare_with(invoice, totals, config, Mode::Write, rules.line_taxes) {
        Ok(p) => p,
        Err(problem) => {
            let problems = check_with(invoice, config, rules, own, check_rows);
            if problems.iter().any(|p| p.severity == Severity::Error) {
                return CheckedWrite::Refused(problems);
            }
            return CheckedWrite::Failed(problem);
        }
    };
    let mut c = Checker::new(invoice, rules);
    own(&p, &mut c);
    if c.problems.iter().any(|p| p.severity == Severity::Error) {
        // refused whatever the rows say: check them without writing
        check_rows(&p, &mut c);
        return CheckedWrite::Refused(c.into_problems());
    }
    let start = out.len();
    let mut both = Both { w: RowWriter::new(rules, out), c };
    rows(&p, &mut both);
    let Both { w, c } = both;
    let problems = c.into_problems();
    if problems.iter().any(|p| p.severity == Severity::Error) {
        let _ = w.finish(invoice);
        out.truncate(start);
        return CheckedWrite::Refused(problems);
    }
    match w.finish(invoice) {
        Ok(()) => CheckedWrite::Written(problems),
        Err(problem) => {
            out.truncate(start);
            CheckedWrite::Failed(problem)
        }
    }
}

/// The [`Format`](crate::Format) impl of a CSV-like target: its name, extension, rules,
/// header rows, own checks and row function (generic over [`Cells`]). Check, write and the
/// one pass of both run the same rows.
macro_rules! csv_format {
    ($target:ty, $name:literal, $ext:literal, $rules:expr, [$($header:expr),+], $own:expr, $rows:path) => {
        impl $crate::Format for $target {
            fn name(&self) -> &'static str {
                $name
            }

            fn extension(&self) -> &'static str {
                $ext
            }

            fn layout(&self) -> $crate::Layout {
                $crate::Layout::OneFile
            }

            fn check(&self, invoice: &invoice_core::Invoice, config: &$crate::Config) -> Vec<$crate::Problem> {
                $crate::csvutil::check_with(invoice, config, $rules, $own, |p, c| $rows(p, c))
            }

            fn begin(&self, _config: &$crate::Config, out: &mut dyn std::io::Write) -> std::io::Result<()> {
                $crate::csvutil::write_headers(&$rules, out, &[$(&$header),+])
            }

            fn write_invoice(
                &self,
                invoice: &invoice_core::Invoice,
                config: &$crate::Config,
                out: &mut Vec<u8>,
            ) -> Result<(), $crate::Problem> {
                $crate::csvutil::write_with(invoice, config, $rules, out, |p, w| $rows(p, w))
            }

            fn check_and_write(
                &self,
                invoice: &invoice_core::Invoice,
                config: &$crate::Config,
                out: &mut Vec<u8>,
            ) -> $crate::CheckedWrite {
                Self::one_pass(invoice, None, config, out)
            }

            fn check_and_write_totals(
                &self,
                invoice: &invoice_core::Invoice,
                totals: &invoice_core::Totals,
                config: &$crate::Config,
                out: &mut Vec<u8>,
            ) -> $crate::CheckedWrite {
                Self::one_pass(invoice, Some(totals), config, out)
            }
        }

        impl $target {
            /// Check and write in one pass (with the totals when the caller has them).
            fn one_pass(
                invoice: &invoice_core::Invoice,
                totals: Option<&invoice_core::Totals>,
                config: &$crate::Config,
                out: &mut Vec<u8>,
            ) -> $crate::CheckedWrite {
                $crate::csvutil::check_and_write_with(
                    invoice,
                    totals,
                    config,
                    $rules,
                    out,
                    $own,
                    |p, c| $rows(p, c),
                    |p, b| $rows(p, b),
                )
            }
        }
    };
}
pub(crate) use csv_format;

#[cfg(test)]
mod tests {
    use super::*;
    use invoice_core::{Currency, Customer, Line, TaxRounding};
    use rust_decimal_macros::dec;

    const UTF8: Rules = Rules {
        target: "t",
        charset: Charset::Utf8,
        delimiter: b',',
        crlf: false,
        single_line: false,
        no_semicolon: false,
        line_taxes: true,
    };
    const IIF: Rules = Rules {
        target: "t",
        charset: Charset::Windows1252,
        delimiter: b'\t',
        crlf: true,
        single_line: true,
        no_semicolon: true,
        line_taxes: true,
    };

    #[test]
    fn abs_greater_is_the_comparison_of_magnitudes() {
        let values = [
            dec!(0),
            dec!(0.00),
            dec!(-0.01),
            dec!(0.01),
            dec!(12.5),
            dec!(-12.50),
            dec!(99.99),
            dec!(-100),
            Decimal::MAX,
            Decimal::MIN,
        ];
        for a in values {
            for b in values {
                assert_eq!(abs_greater(a, b), a.abs() > b.abs(), "{a} {b}");
            }
        }
    }

    #[test]
    fn every_byte_of_a_plain_or_attention_table_is_caught_eight_at_a_time() {
        for charset in [Charset::Utf8, Charset::Windows1252] {
            for delimiter in [b',', b'\t', b';', b'|'] {
                for (single_line, no_semicolon) in [(false, false), (true, false), (false, true), (true, true)] {
                    let rules = Rules {
                        target: "t",
                        charset,
                        delimiter,
                        crlf: false,
                        single_line,
                        no_semicolon,
                        line_taxes: true,
                    };
                    let plain = Plain::new(&rules);
                    let attention = attention(&rules);
                    for b in 0..=255u8 {
                        for lane in 0..8 {
                            let mut bytes = [b'a'; 8];
                            bytes[lane] = b;
                            let x = u64::from_le_bytes(bytes);
                            if plain.table[usize::from(b)] {
                                assert_ne!(plain_maybe(x, delimiter), 0, "{b} {rules:?}");
                            }
                            if attention[usize::from(b)] {
                                assert_ne!(attention_maybe(x), 0, "{b} {rules:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn clean_neutralises_formulas_and_keeps_plain_text() {
        for (input, expected) in [("=1+2", "'=1+2"), ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx")] {
            let (out, ch) = clean(input, &UTF8, Field::Text(NO_LIMIT));
            assert_eq!(out, expected);
            assert!(ch.neutralised);
        }
        let (out, ch) = clean("plain, text", &UTF8, Field::Text(NO_LIMIT));
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(ch, Changes::default());
        let (out, ch) = clean("a\r\nb;c\td", &IIF, Field::Text(NO_LIMIT));
        assert_eq!(out, "a b,c d");
        assert!(ch.sanitized);
        // a leading CR becomes a space in single-line targets: nothing left to neutralise
        let (out, ch) = clean("\r=x", &IIF, Field::Text(NO_LIMIT));
        assert_eq!((out.as_ref(), ch.neutralised), (" =x", false));
    }

    #[test]
    fn changes_of_agrees_with_clean() {
        let texts = [
            "plain",
            "=1",
            "\t=x",
            "\r\nx",
            "a;b",
            "Łódź → Müller",
            "日本語",
            "-日本",
            "→x",
            "abcdefghijklmnopqrstuvwxyz0123456789abcdefghij",
            "Łukasz Łukasz Łukasz Łukasz Łukasz Łukasz Ł",
        ];
        for rules in [UTF8, IIF] {
            for field in [Field::Text(NO_LIMIT), Field::Text(10), Field::Name(41), Field::SoftName(11)] {
                for t in texts {
                    assert_eq!(changes_of(t, &rules, field), clean(t, &rules, field).1, "{t:?} {field:?}");
                }
            }
        }
    }

    #[test]
    fn clean_transliterates_and_limits() {
        let (out, ch) = clean("Łódź → Müller", &IIF, Field::Text(NO_LIMIT));
        assert_eq!(out, "Lódz -> Müller");
        assert!(ch.transliterated && !ch.unsupported);
        let (out, ch) = clean("日本", &IIF, Field::Name(41));
        assert_eq!(out, "??");
        assert!(ch.unsupported);
        let (out, ch) = clean("abcdef", &UTF8, Field::Text(4));
        assert_eq!((out.as_ref(), ch.truncated), ("abcd", true));
        let (_, ch) = clean("abcdef", &UTF8, Field::Name(4));
        assert_eq!(ch.too_long, Some(6));
        assert_eq!(transliterate('Ł'), Some("L"));
        assert_eq!(transliterate('Š'), None); // Windows-1252 has it
        assert_eq!(cp1252('Š'), Some(0x8a));
        assert_eq!(transliterate('ſ'), Some("s"));
    }

    #[test]
    fn line_taxes_add_up_to_the_group_tax() {
        // three lines of 0.10 at 5%: group tax 0.02, per line 0.01 each (0.005 rounded up)
        let inv = Invoice::builder(Customer::new("C", "C"), Currency::EUR)
            .lines(vec![Line::new("a", dec!(1), dec!(0.10)).tax_rate(dec!(0.05)); 3])
            .build();
        let config = Config::default();
        let p = prepare(&inv, &config, Mode::Write).unwrap();
        let taxes: Vec<_> = p.lines.iter().map(|l| l.tax).collect();
        assert_eq!(taxes.iter().sum::<Decimal>(), p.tax);
        assert_eq!(taxes, vec![dec!(0.00), dec!(0.01), dec!(0.01)]);
        let mut per_line = inv.clone();
        per_line.rounding.tax = TaxRounding::PerLine;
        let p = prepare(&per_line, &config, Mode::Write).unwrap();
        assert_eq!(p.lines.iter().map(|l| l.tax).sum::<Decimal>(), dec!(0.03));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        #[test]
        fn decimal_text_is_display(
            lo: u32, mid: u32, hi in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            negative: bool, scale in 0u32..=28, small: bool,
        ) {
            let v = Decimal::from_parts(lo, if small { 0 } else { mid }, if small { 0 } else { hi }, negative, scale);
            proptest::prop_assert_eq!(decimal_text(v), v.to_string());
        }

        #[test]
        fn numbers_are_written_as_rescaled(
            lo: u32, mid: u32, hi in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            negative: bool, scale in 0u32..=28, dp in proptest::option::of(0u32..=28), small: bool,
        ) {
            let v = Decimal::from_parts(lo, if small { 0 } else { mid }, if small { 0 } else { hi }, negative, scale);
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            push_decimal(v, dp, &mut fast);
            push_decimal_rescaled(v, dp, &mut general);
            proptest::prop_assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(general).unwrap());
        }
    }

    /// [`clean`] character by character, as the rules read: the reference for the run-copying
    /// loop of [`clean_into`].
    fn clean_by_char(value: &str, rules: &Rules, field: Field) -> (String, Changes) {
        let max = match field {
            Field::Name(m) | Field::SoftName(m) | Field::Text(m) => m,
        };
        let (mut s, mut changes, mut len) = (String::new(), Changes::default(), 0);
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            if rules.single_line && c.is_control() {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                s.push(' ');
                changes.sanitized = true;
            } else if rules.no_semicolon && c == ';' {
                s.push(',');
                changes.sanitized = true;
            } else if rules.charset == Charset::Utf8 || cp1252(c).is_some() {
                s.push(c);
            } else if let Some(t) = transliterate(c) {
                s.push_str(t);
                changes.transliterated = true;
            } else {
                s.push('?');
                changes.unsupported = true;
            }
        }
        if s.starts_with(formula_start) {
            s.insert(0, '\'');
            changes.neutralised = true;
        }
        len += s.chars().count();
        if len > max {
            match field {
                Field::Text(_) => {
                    s = s.chars().take(max).collect();
                    changes.truncated = true;
                }
                Field::Name(_) | Field::SoftName(_) => changes.too_long = Some(len),
            }
        }
        (s, changes)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        #[test]
        fn cleaning_copies_runs_as_characters_would(
            value in "[a-z;=\\-\t\r\n\u{7f}\u{85}\u{9f}éØ€Łſ→日]{0,24}",
            rules in proptest::sample::select(vec![(false, false, false), (true, false, false), (true, true, true), (true, false, true), (false, false, true)]),
            field in proptest::sample::select(vec![Field::Text(NO_LIMIT), Field::Text(5), Field::Name(6), Field::SoftName(3)]),
        ) {
            let (single_line, no_semicolon, w1252) = rules;
            let rules = Rules {
                target: "t",
                charset: if w1252 { Charset::Windows1252 } else { Charset::Utf8 },
                delimiter: b',',
                crlf: false,
                single_line,
                no_semicolon,
                line_taxes: true,
            };
            let (out, changes) = clean(&value, &rules, field);
            let (expected, expected_changes) = clean_by_char(&value, &rules, field);
            proptest::prop_assert_eq!(out.as_ref(), expected.as_str());
            proptest::prop_assert_eq!(changes, expected_changes);
            let mut bytes = Vec::new();
            push_cp1252(&value, &mut bytes);
            proptest::prop_assert_eq!(bytes, value.chars().map(|c| cp1252(c).unwrap_or(b'?')).collect::<Vec<u8>>());
        }
    }

    #[test]
    fn plain_texts_are_written_as_the_full_path_writes_them() {
        let texts = [
            "plain",
            "",
            "a,b",
            "tab\there",
            "say \"hi\"",
            "=1+2",
            "-5",
            "semi;colon",
            "Müller",
            "Łódź",
            "日本",
            "line\r\nbreak",
            "\u{85}next",
            "abcdefghijklmnopqrstuvwxyz",
            "INV-2024-000123",
            "Café catering",
            "Ødegård & Co. KG",
            "Übersetzung DE→EN",
            "x\u{9f}y",
            "€ 5 – ok",
            "a;b é",
            "é,é",
            "é\"x",
            "é\tx",
            "éééééééééééé",
            "-é",
            "é\u{7f}",
        ];
        let csv = Rules {
            target: "t",
            charset: Charset::Utf8,
            delimiter: b',',
            crlf: false,
            single_line: true,
            no_semicolon: false,
            line_taxes: true,
        };
        let sage = Rules {
            target: "t",
            charset: Charset::Windows1252,
            delimiter: b',',
            crlf: false,
            single_line: true,
            no_semicolon: false,
            line_taxes: true,
        };
        for rules in [UTF8, IIF, csv, sage] {
            for field in [Field::Text(NO_LIMIT), Field::Text(10), Field::Name(41), Field::SoftName(11), Field::Name(3)]
            {
                for t in texts {
                    let (mut fast, mut full) = (Vec::new(), Vec::new());
                    let mut w = RowWriter::new(rules, &mut fast);
                    let a = w.write_text(t, field);
                    let _ = w.finish(
                        &Invoice::builder(invoice_core::Customer::new("C", "C"), invoice_core::Currency::EUR).build(),
                    );
                    let mut w = RowWriter::new(rules, &mut full);
                    w.plain = None;
                    let b = w.write_text(t, field);
                    assert_eq!((fast, a), (full, b), "{t:?} {field:?} {rules:?}");
                }
            }
        }
    }

    #[test]
    fn quotes_are_needed_for_the_delimiter_quotes_and_line_breaks() {
        let naive = |f: &[u8], d: u8| f.iter().any(|&b| b == d || b == b'"' || b == b'\n' || b == b'\r');
        let mut fields: Vec<Vec<u8>> = vec![b"".to_vec(), b"plain text of some length".to_vec()];
        for special in [b',', b'\t', b'"', b'\n', b'\r', b';', 0x80, 0xff, 0x0b] {
            for len in 0..20 {
                for at in 0..len {
                    let mut f = vec![b'a'; len];
                    f[at] = special;
                    fields.push(f);
                }
            }
        }
        fields.push("Müller, GmbH".as_bytes().to_vec());
        for f in &fields {
            for d in [b',', b'\t', b';'] {
                assert_eq!(needs_quotes(f, d), naive(f, d), "{f:?} {d}");
            }
        }
    }

    #[test]
    fn paths_and_messages_are_what_format_gives() {
        for i in [0usize, 7, 12, 345, usize::MAX] {
            assert_eq!(At::Line(i, "item").path(), format!("lines[{i}].item"));
            assert_eq!(Int::new(i).as_str(), i.to_string());
        }
        assert_eq!(At::Config("class").path(), "config.class");
        assert_eq!(At::Invoice("memo").path(), "memo");
        let long = "x".repeat(70);
        assert_eq!(shorten(&long), format!("{}…", "x".repeat(60)));
        assert_eq!(shorten("Łódź"), "Łódź");
        let invoice = Invoice::builder(invoice_core::Customer::new("C", "C"), invoice_core::Currency::EUR).build();
        let mut c = Checker::new(&invoice, IIF);
        c.report(
            At::Invoice("number"),
            "INV-2024-000123",
            Field::SoftName(11),
            changes_of("INV-2024-000123", &IIF, Field::SoftName(11)),
        );
        c.report(At::Line(3, "description"), &long, Field::Text(40), changes_of(&long, &IIF, Field::Text(40)));
        c.report(At::Line(1, "item"), "Łódź;日本", Field::Name(41), changes_of("Łódź;日本", &IIF, Field::Name(41)));
        let messages: Vec<String> = c.problems.iter().map(|p| format!("{} {} {}", p.path, p.code, p.message)).collect();
        assert_eq!(
            messages,
            [
                "number too_long 'INV-2024-000123' has 15 characters; t takes at most 11",
                "lines[3].description truncated cut to 40 characters (t takes at most 40)",
                "lines[1].item sanitized t cannot take tabs, line breaks or ';' inside a field; they are written as spaces (';' as ',')",
                "lines[1].item unsupported_character 'Łódź;日本' has characters t cannot take (it reads Windows-1252 only); map it to a name without them",
                "lines[1].item transliterated written as 'Lódz,??' (t reads Windows-1252 only)",
            ]
        );
    }

    #[test]
    fn amounts_have_fixed_decimals_and_no_negative_zero() {
        let amount = |d: Decimal, dp: Option<u32>| {
            let mut s = Vec::new();
            push_decimal(d, dp, &mut s);
            String::from_utf8(s).unwrap()
        };
        assert_eq!(amount(-Decimal::ZERO, Some(2)), "0.00");
        assert_eq!(amount(dec!(-1.5), Some(2)), "-1.50");
        assert_eq!(amount(dec!(253), Some(0)), "253");
        assert_eq!(amount(dec!(0.025), Some(3)), "0.025");
        assert_eq!(amount(dec!(-0.5), None), "-0.5");
        assert_eq!(amount(dec!(1234567890123.45), None), "1234567890123.45");
        assert_eq!(amount(Decimal::MAX, None), Decimal::MAX.to_string());
        assert_eq!(amount(Decimal::MIN, Some(0)), Decimal::MIN.to_string());
        assert_eq!(amount(dec!(0.0001), None), "0.0001");
        for n in [0u64, 7, 10, 99, 100, 12345, u64::MAX] {
            let mut s = Vec::new();
            push_padded(n, 1, &mut s);
            assert_eq!(String::from_utf8(s).unwrap(), n.to_string());
        }
        let mut s = Vec::new();
        DateStyle::UsShort.write(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), &mut s);
        assert_eq!(s, b"01/05/26");
        // the four-digit path writes what the general one does
        let styles = [DateStyle::Iso, DateStyle::Us, DateStyle::Uk, DateStyle::UsShort, DateStyle::Compact];
        let mut d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        while d.year() < 10_000 {
            for style in styles {
                let (mut fast, mut general) = (Vec::new(), Vec::new());
                style.write(d, &mut fast);
                style.write_padded(d.year() as u64, u64::from(d.month()), u64::from(d.day()), &mut general);
                assert_eq!(fast, general, "{d} {style:?}");
            }
            d = d + chrono::Duration::days(if d.year() % 97 == 0 { 1 } else { 37 });
        }
    }
}
