//! Writing helpers of the XML and JSON targets: a small indenting XML writer on top of
//! quick-xml, the text clean-up every XML document needs (characters XML 1.0 forbids are
//! removed), the Latin-1 transliteration of qbXML, a small JSON writer, and exact decimal and
//! date formatting.
//!
//! Output is deterministic: two-space indentation, `\n` line endings, attributes in the order
//! given, one fixed XML declaration.

use std::borrow::Cow;
use std::io;

use chrono::{Datelike, NaiveDate};
use quick_xml::escape::{escape, partial_escape};
use rust_decimal::Decimal;

use crate::scan;

/// True for the characters XML 1.0 allows in a document (production `Char`).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// True when `s` holds a character XML 1.0 forbids (C0 controls other than tab, LF and CR;
/// U+FFFE and U+FFFF). Fast for the usual text: only bytes that can start such a character
/// lead to a closer look.
pub(crate) fn has_forbidden(s: &str) -> bool {
    scan::any(
        s.as_bytes(),
        |x| scan::below(x, 0x20) | scan::equal(x, 0xEF),
        |b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF,
    ) && s.chars().any(|c| !is_xml_char(c))
}

/// `s` without the characters XML 1.0 forbids.
pub(crate) fn xml_clean(s: &str) -> Cow<'_, str> {
    if has_forbidden(s) {
        Cow::Owned(s.chars().filter(|c| is_xml_char(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// The forbidden characters of `s`, as `U+0001, U+001B` (for messages).
pub(crate) fn forbidden_list(s: &str) -> String {
    let mut seen: Vec<char> = s.chars().filter(|c| !is_xml_char(*c)).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect::<Vec<_>>().join(", ")
}

/// The Latin-1 spelling of a character outside Latin-1, when there is a faithful one.
fn transliterate(c: char) -> Option<&'static str> {
    let code = u32::from(c);
    if (0x100..0x180).contains(&code) {
        return crate::latin::latin_ext_a(c);
    }
    Some(match c {
        '\u{0192}' => "f",
        '\u{0218}' => "S",
        '\u{0219}' => "s",
        '\u{021A}' => "T",
        '\u{021B}' => "t",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => "\"",
        '\u{2022}' => "*",
        '\u{2026}' => "...",
        '\u{2039}' => "<",
        '\u{203A}' => ">",
        '\u{20AC}' => "EUR",
        '\u{2122}' => "TM",
        '\u{2190}' => "<-",
        '\u{2192}' => "->",
        '\u{2194}' => "<->",
        '\u{2264}' => "<=",
        '\u{2265}' => ">=",
        '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        _ => return None,
    })
}

/// A text brought to Latin-1 (ISO-8859-1) for QuickBooks Desktop.
pub(crate) struct Latin1<'a> {
    /// The text: only characters up to U+00FF that XML allows.
    pub text: Cow<'a, str>,
    /// True when a character outside Latin-1 was spelled differently.
    pub changed: bool,
    /// True when a character had no Latin-1 spelling and became `?`.
    pub lossy: bool,
}

/// `s` in Latin-1: accents of Latin Extended-A dropped, typographic punctuation made plain,
/// anything else outside Latin-1 replaced by `?`; characters XML forbids are removed.
pub(crate) fn latin1(s: &str) -> Latin1<'_> {
    let plain = !scan::any(
        s.as_bytes(),
        |x| scan::below(x, 0x20) | scan::high(x),
        |b| !((0x20..0x80).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r')),
    );
    if plain || (s.chars().all(|c| u32::from(c) <= 0xFF) && !has_forbidden(s)) {
        return Latin1 { text: Cow::Borrowed(s), changed: false, lossy: false };
    }
    let mut text = String::with_capacity(s.len());
    let (mut changed, mut lossy) = (false, false);
    for c in s.chars() {
        if !is_xml_char(c) {
            continue;
        }
        if u32::from(c) <= 0xFF {
            text.push(c);
        } else if let Some(t) = transliterate(c) {
            text.push_str(t);
            changed = true;
        } else {
            text.push('?');
            changed = true;
            lossy = true;
        }
    }
    Latin1 { text: Cow::Owned(text), changed, lossy }
}

/// True when `d` can be written with `dp` decimals without changing its value.
pub(crate) fn fits(d: Decimal, dp: u32) -> bool {
    d.scale() <= dp || d.round_dp(dp) == d
}

/// Write `m / 10^scale` (with a leading `-` when `negative` and not zero) with exactly
/// `scale` decimals at the end of `digits`; returns where the text starts.
fn scaled_into(digits: &mut [u8; 64], negative: bool, m: u128, scale: u32) -> usize {
    if let Ok(small) = u64::try_from(m) {
        return scaled_into_u64(digits, negative, small, scale);
    }
    let mut i = digits.len();
    let mut rest = m;
    let mut written = 0u32;
    loop {
        if written == scale && scale > 0 {
            i -= 1;
            digits[i] = b'.';
        }
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        written += 1;
        if rest == 0 && written > scale {
            break;
        }
    }
    if negative && m != 0 {
        i -= 1;
        digits[i] = b'-';
    }
    i
}

/// [`scaled_into`] for mantissas that fit 64 bits (nearly all): no 128-bit division, and the
/// integer digits two at a time.
fn scaled_into_u64(digits: &mut [u8; 64], negative: bool, m: u64, scale: u32) -> usize {
    let mut i = digits.len();
    let mut rest = m;
    for _ in 0..scale.min(28) {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    if scale > 0 {
        i -= 1;
        digits[i] = b'.';
    }
    i = crate::digits::write_u64_back(rest, digits, i);
    if negative && m != 0 {
        i -= 1;
        digits[i] = b'-';
    }
    i
}

/// Append the digits of `m / 10^scale` (`m` without sign) with exactly `scale` decimals.
fn push_scaled(buf: &mut String, negative: bool, m: u128, scale: u32) {
    let mut digits = [0u8; 64];
    let start = scaled_into(&mut digits, negative, m, scale);
    // Only ASCII digits, '.' and '-' were written.
    buf.extend(digits[start..].iter().map(|b| char::from(*b)));
}

/// `d` without trailing zeros, written at the end of `digits`; returns where it starts.
pub(crate) fn plain_into(digits: &mut [u8; 64], d: Decimal) -> usize {
    let mut m = d.mantissa().unsigned_abs();
    let mut scale = d.scale();
    while scale > 0 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    scaled_into(digits, d.is_sign_negative(), m, scale)
}

/// `d` with exactly `dp` decimals, written at the end of `digits`; returns where it starts.
/// A value with more decimals is rounded half away from zero (callers check [`fits`]).
pub(crate) fn amount_into(digits: &mut [u8; 64], d: Decimal, dp: u32) -> usize {
    if d.scale() == dp {
        return scaled_into(digits, d.is_sign_negative(), d.mantissa().unsigned_abs(), dp);
    }
    let mut v = d;
    if v.scale() > dp {
        v = v.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    }
    let up = dp - v.scale().min(dp);
    let m = v.mantissa().unsigned_abs();
    match 10u128.checked_pow(up).and_then(|f| m.checked_mul(f)) {
        Some(m) => scaled_into(digits, v.is_sign_negative(), m, dp),
        // More than 28 digits: cannot happen for a Decimal rescaled to at most 28 decimals.
        None => scaled_into(digits, v.is_sign_negative(), m, v.scale()),
    }
}

/// `2026-11-30` (or `20261130` without a separator) at the end of `digits`; returns where it
/// starts. Years beyond 9999 keep all their digits.
fn date_into(digits: &mut [u8; 64], d: NaiveDate, separator: Option<u8>) -> usize {
    let mut i = digits.len();
    let mut put = |n: u32, width: usize, digits: &mut [u8; 64]| {
        let mut rest = n;
        for _ in 0..width {
            i -= 1;
            digits[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        while rest > 0 {
            i -= 1;
            digits[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        if let Some(sep) = separator {
            i -= 1;
            digits[i] = sep;
        }
        i
    };
    put(d.day(), 2, digits);
    put(d.month(), 2, digits);
    let start = put(d.year().unsigned_abs(), 4, digits);
    // The loop put a separator before the year too; drop it.
    if separator.is_some() {
        start + 1
    } else {
        start
    }
}

/// Append `d` with exactly `dp` decimals (callers check [`fits`] first; a value that does not
/// fit is rounded half away from zero rather than written wrong). Never `-0.00`.
pub(crate) fn push_amount(buf: &mut String, d: Decimal, dp: u32) {
    let mut digits = [0u8; 64];
    let start = amount_into(&mut digits, d, dp);
    buf.extend(digits[start..].iter().map(|b| char::from(*b)));
}

/// Append `d` without trailing zeros (`2.50` is `2.5`, `19.00` is `19`).
pub(crate) fn push_plain(buf: &mut String, d: Decimal) {
    let mut digits = [0u8; 64];
    let start = plain_into(&mut digits, d);
    buf.extend(digits[start..].iter().map(|b| char::from(*b)));
}

/// A tax rate (a fraction) as a percentage without trailing zeros: 0.19 is `19`, 0.0625 `6.25`.
pub(crate) fn percent(rate: Decimal) -> Decimal {
    rate.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(rate).normalize()
}

/// Append an ISO date `2026-11-30`.
pub(crate) fn push_iso_date(buf: &mut String, d: NaiveDate) {
    let mut digits = [0u8; 64];
    let start = date_into(&mut digits, d, Some(b'-'));
    buf.extend(digits[start..].iter().map(|b| char::from(*b)));
}

/// Append a date as `20261130` (UN/CEFACT format 102).
#[cfg(test)]
pub(crate) fn push_date_102(buf: &mut String, d: NaiveDate) {
    let mut digits = [0u8; 64];
    let start = date_into(&mut digits, d, None);
    buf.extend(digits[start..].iter().map(|b| char::from(*b)));
}

/// Number of characters, counted only when the byte length could exceed `max`.
pub(crate) fn longer_than(s: &str, max: usize) -> Option<usize> {
    if s.len() <= max {
        return None;
    }
    let n = s.chars().count();
    (n > max).then_some(n)
}

/// An element name with its tags written out, built at compile time by [`tag!`]:
/// `tag!("cbc:ID")` is `<cbc:ID>` and `</cbc:ID>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag {
    /// `<name>`
    pub(crate) open: &'static str,
    /// `</name>`
    pub(crate) close: &'static str,
}

impl Tag {
    /// `<name` (for a start tag with attributes, or an empty element).
    fn head(self) -> &'static [u8] {
        let b = self.open.as_bytes();
        &b[..b.len().saturating_sub(1)]
    }
}

/// The [`Tag`] of an element name given as a literal.
macro_rules! tag {
    ($name:literal) => {
        $crate::xmlutil::Tag { open: concat!("<", $name, ">"), close: concat!("</", $name, ">") }
    };
}
pub(crate) use tag;

/// `\n` followed by the indentation of up to 32 levels.
const INDENT: &[u8; 65] = b"\n                                                                ";

/// Bytes that need a closer look in XML text: C0 controls other than tab, LF and CR (XML
/// forbids them), the markup characters `<`, `>` and `&`, and 0xEF (which starts U+FFFE and
/// U+FFFF). With `latin1`, every non-ASCII byte as well.
fn needs_care(s: &str, latin1: bool) -> bool {
    let chunk = |x: u64| {
        let markup = scan::below(x, 0x20) | scan::equal(x, b'<') | scan::equal(x, b'>') | scan::equal(x, b'&');
        markup | if latin1 { scan::high(x) } else { scan::equal(x, 0xEF) }
    };
    scan::any(s.as_bytes(), chunk, |b| match b {
        b'\t' | b'\n' | b'\r' => false,
        0..=0x1F | b'<' | b'>' | b'&' | 0xEF => true,
        0x80..=0xFF => latin1,
        _ => false,
    })
}

/// An indenting XML writer appending to a byte buffer.
///
/// Element names are the callers' constants; every text and attribute value goes through
/// quick-xml's escaping (`partial_escape` for text, `escape` for attributes) after the
/// characters XML 1.0 forbids are removed (and, for qbXML, after the transliteration to
/// Latin-1). Text that needs none of this, the common case, is copied as it is. The markup
/// itself is written directly: quick-xml's `Writer::write_event` cost a third of the time of
/// a UBL export (measured with callgrind), for the same bytes.
pub(crate) struct XmlOut<'a> {
    out: &'a mut Vec<u8>,
    /// Where this writer's output starts in `out` (the drivers render invoices back to back).
    start: usize,
    depth: usize,
    latin1: bool,
    /// Scratch buffer for numbers and dates.
    digits: [u8; 64],
}

impl<'a> XmlOut<'a> {
    /// A writer appending to `out`, starting at indentation level `depth` (two spaces each).
    /// With `latin1`, every text is transliterated to Latin-1.
    pub(crate) fn new(out: &'a mut Vec<u8>, depth: usize, latin1: bool) -> XmlOut<'a> {
        XmlOut { start: out.len(), out, depth, latin1, digits: [0; 64] }
    }

    fn prepare<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.latin1 {
            latin1(s).text
        } else {
            xml_clean(s)
        }
    }

    fn newline(&mut self) {
        if self.out.len() == self.start && self.depth == 0 {
            return;
        }
        self.out.extend_from_slice(&INDENT[..1 + 2 * self.depth.min(32)]);
    }

    /// The XML declaration `<?xml version="1.0" encoding="UTF-8"?>`.
    pub(crate) fn declaration(&mut self) -> io::Result<()> {
        self.newline();
        self.out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        Ok(())
    }

    /// A processing instruction such as `<?qbxml version="12.0"?>`.
    pub(crate) fn instruction(&mut self, content: &str) -> io::Result<()> {
        self.newline();
        self.out.extend_from_slice(b"<?");
        self.out.extend_from_slice(content.as_bytes());
        self.out.extend_from_slice(b"?>");
        Ok(())
    }

    /// The start tag `<name a="v" ...>`.
    fn start(&mut self, name: Tag, attrs: &[(&str, &str)]) {
        if attrs.is_empty() {
            self.out.extend_from_slice(name.open.as_bytes());
            return;
        }
        self.out.extend_from_slice(name.head());
        for (k, v) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(k.as_bytes());
            self.out.extend_from_slice(b"=\"");
            let care = scan::any(
                v.as_bytes(),
                |x| {
                    scan::below(x, 0x20)
                        | scan::high(x)
                        | scan::equal(x, b'<')
                        | scan::equal(x, b'>')
                        | scan::equal(x, b'&')
                        | scan::equal(x, b'"')
                        | scan::equal(x, b'\'')
                },
                |b| matches!(b, 0..=0x1F | b'<' | b'>' | b'&' | b'"' | b'\'' | 0x80..=0xFF),
            );
            if care {
                let prepared = self.prepare(v);
                self.out.extend_from_slice(escape(prepared.as_ref()).as_bytes());
            } else {
                self.out.extend_from_slice(v.as_bytes());
            }
            self.out.push(b'"');
        }
        self.out.push(b'>');
    }

    fn end(&mut self, name: Tag) {
        self.out.extend_from_slice(name.close.as_bytes());
    }

    /// Open element `name` (its children are indented one more level).
    pub(crate) fn open(&mut self, name: Tag) -> io::Result<()> {
        self.open_with(name, &[])
    }

    /// Open element `name` with attributes in the given order.
    pub(crate) fn open_with(&mut self, name: Tag, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.newline();
        self.start(name, attrs);
        self.depth += 1;
        Ok(())
    }

    /// Close element `name`.
    pub(crate) fn close(&mut self, name: Tag) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.newline();
        self.end(name);
        Ok(())
    }

    /// `<name ...>escaped</name>` on its own line.
    fn leaf_escaped(&mut self, name: Tag, attrs: &[(&str, &str)], escaped: &[u8]) {
        self.newline();
        self.start(name, attrs);
        self.out.extend_from_slice(escaped);
        self.end(name);
    }

    /// `<name>text</name>`; the text is cleaned and escaped.
    pub(crate) fn text(&mut self, name: Tag, text: &str) -> io::Result<()> {
        self.text_with(name, &[], text)
    }

    /// `<name a="v">text</name>`.
    pub(crate) fn text_with(&mut self, name: Tag, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        if !needs_care(text, self.latin1) {
            self.leaf_escaped(name, attrs, text.as_bytes());
        } else {
            let prepared = self.prepare(text);
            let escaped = partial_escape(prepared.as_ref());
            self.leaf_escaped(name, attrs, escaped.as_bytes());
        }
        Ok(())
    }

    /// `<name>text</name>` when `text` is present and not empty.
    pub(crate) fn opt_text(&mut self, name: Tag, text: Option<&str>) -> io::Result<()> {
        match text {
            Some(t) if !t.is_empty() => self.text(name, t),
            _ => Ok(()),
        }
    }

    /// `<name/>`, an element without content.
    pub(crate) fn empty(&mut self, name: Tag) -> io::Result<()> {
        self.newline();
        self.out.extend_from_slice(name.head());
        self.out.extend_from_slice(b"/>");
        Ok(())
    }

    /// A leaf whose text is `self.digits[start..]` (numbers and dates need no escaping).
    fn digits_leaf(&mut self, name: Tag, attrs: &[(&str, &str)], start: usize) -> io::Result<()> {
        self.newline();
        self.start(name, attrs);
        self.out.extend_from_slice(&self.digits[start..]);
        self.end(name);
        Ok(())
    }

    /// `<name>value</name>` for a value that is this crate's own constant (a code such as
    /// `VAT`, `380` or a URN): plain ASCII, nothing to clean or escape.
    pub(crate) fn constant(&mut self, name: Tag, value: &'static str) -> io::Result<()> {
        debug_assert!(!needs_care(value, true) && !value.contains(['"', '\'']));
        self.leaf_escaped(name, &[], value.as_bytes());
        Ok(())
    }

    /// An amount with exactly `dp` decimals.
    pub(crate) fn amount(&mut self, name: Tag, d: Decimal, dp: u32) -> io::Result<()> {
        self.amount_with(name, &[], d, dp)
    }

    /// An amount with exactly `dp` decimals and attributes (e.g. `currencyID`).
    pub(crate) fn amount_with(&mut self, name: Tag, attrs: &[(&str, &str)], d: Decimal, dp: u32) -> io::Result<()> {
        let start = amount_into(&mut self.digits, d, dp);
        self.digits_leaf(name, attrs, start)
    }

    /// A decimal without trailing zeros (quantities, rates, percentages).
    pub(crate) fn plain(&mut self, name: Tag, d: Decimal) -> io::Result<()> {
        self.plain_with(name, &[], d)
    }

    /// A decimal without trailing zeros, with attributes (e.g. `unitCode`).
    pub(crate) fn plain_with(&mut self, name: Tag, attrs: &[(&str, &str)], d: Decimal) -> io::Result<()> {
        let start = plain_into(&mut self.digits, d);
        self.digits_leaf(name, attrs, start)
    }

    /// An ISO date `2026-11-30`.
    pub(crate) fn iso_date(&mut self, name: Tag, d: NaiveDate) -> io::Result<()> {
        let start = date_into(&mut self.digits, d, Some(b'-'));
        self.digits_leaf(name, &[], start)
    }

    /// A date as `20261130` with attribute `format="102"`.
    pub(crate) fn date_102(&mut self, name: Tag, d: NaiveDate) -> io::Result<()> {
        let start = date_into(&mut self.digits, d, None);
        self.digits_leaf(name, &[("format", "102")], start)
    }

    /// A whole number.
    pub(crate) fn number(&mut self, name: Tag, n: u64) -> io::Result<()> {
        let start = scaled_into_u64(&mut self.digits, false, n, 0);
        self.digits_leaf(name, &[], start)
    }

    /// A number of at most 99 as two digits (`07`).
    pub(crate) fn two_digits(&mut self, name: Tag, n: u32) -> io::Result<()> {
        let start = scaled_into_u64(&mut self.digits, false, u64::from(n % 100) + 100, 0) + 1;
        self.digits_leaf(name, &[], start)
    }

    /// Text built by `f` into a scratch buffer.
    pub(crate) fn text_from(&mut self, name: Tag, f: impl FnOnce(&mut String)) -> io::Result<()> {
        let mut value = String::new();
        f(&mut value);
        self.text(name, &value)
    }

    /// End the document with a newline.
    pub(crate) fn finish(&mut self) {
        self.out.push(b'\n');
    }
}

/// A small pretty-printing JSON writer with exact decimals. Keys must be plain ASCII names
/// (they are written as they are); string values are escaped. Numbers are written from their
/// decimal text, never through floating point. Keys come out in the order written.
pub(crate) struct JsonOut<'a> {
    out: &'a mut Vec<u8>,
    /// One entry per open object or array: true once it has a member.
    open: Vec<bool>,
    scratch: String,
}

impl<'a> JsonOut<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> JsonOut<'a> {
        JsonOut { out, open: Vec::with_capacity(8), scratch: String::with_capacity(32) }
    }

    fn string(&mut self, s: &str) {
        // Plain text (no control character, quote, backslash or 0xEF) needs no escaping.
        if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\' || b == 0xEF) {
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
            return;
        }
        let clean = xml_clean(s);
        if serde_json::to_writer(&mut *self.out, clean.as_ref()).is_err() {
            // Writing to a Vec does not fail; keep the document well-formed regardless.
            self.out.extend_from_slice(b"\"\"");
        }
    }

    fn member(&mut self, key: Option<&str>) {
        let depth = self.open.len();
        if let Some(has) = self.open.last_mut() {
            if *has {
                self.out.push(b',');
            }
            *has = true;
        }
        if depth > 0 {
            self.out.extend_from_slice(&INDENT[..1 + 2 * depth.min(32)]);
        }
        if let Some(k) = key {
            // Keys are this crate's constants (plain ASCII names): no escaping needed.
            self.out.push(b'"');
            self.out.extend_from_slice(k.as_bytes());
            self.out.extend_from_slice(b"\": ");
        }
    }

    fn close(&mut self, bracket: u8) {
        let had = self.open.pop().unwrap_or(false);
        if had {
            self.out.extend_from_slice(&INDENT[..1 + 2 * self.open.len().min(32)]);
        }
        self.out.push(bracket);
    }

    /// Open an object (as a member `key` of the enclosing object, or as an array element).
    pub(crate) fn open_object(&mut self, key: Option<&str>) {
        self.member(key);
        self.out.push(b'{');
        self.open.push(false);
    }

    /// Close the innermost object.
    pub(crate) fn close_object(&mut self) {
        self.close(b'}');
    }

    /// Open an array member `key`.
    pub(crate) fn open_array(&mut self, key: &str) {
        self.member(Some(key));
        self.out.push(b'[');
        self.open.push(false);
    }

    /// Close the innermost array.
    pub(crate) fn close_array(&mut self) {
        self.close(b']');
    }

    /// A string member (characters XML forbids are removed, as in the XML targets).
    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.member(Some(key));
        self.string(value);
    }

    /// A number member written from its exact decimal text with `dp` decimals.
    pub(crate) fn amount(&mut self, key: &str, d: Decimal, dp: u32) {
        self.scratch.clear();
        push_amount(&mut self.scratch, d, dp);
        self.raw(key);
    }

    /// A number member without trailing zeros.
    pub(crate) fn plain(&mut self, key: &str, d: Decimal) {
        self.scratch.clear();
        push_plain(&mut self.scratch, d);
        self.raw(key);
    }

    /// A whole-number member.
    pub(crate) fn number(&mut self, key: &str, n: u64) {
        self.scratch.clear();
        push_scaled(&mut self.scratch, false, u128::from(n), 0);
        self.raw(key);
    }

    /// A date member `"2026-11-30"`.
    pub(crate) fn date(&mut self, key: &str, d: NaiveDate) {
        self.scratch.clear();
        push_iso_date(&mut self.scratch, d);
        self.member(Some(key));
        self.out.push(b'"');
        self.out.extend_from_slice(self.scratch.as_bytes());
        self.out.push(b'"');
    }

    /// A boolean member.
    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.member(Some(key));
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn raw(&mut self, key: &str) {
        self.member(Some(key));
        self.out.extend_from_slice(self.scratch.as_bytes());
    }

    /// End the document with a newline.
    pub(crate) fn finish(&mut self) {
        self.out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn forbidden_characters_are_removed() {
        assert_eq!(xml_clean("a\u{1}b\u{1b}c\u{FFFE}"), "abc");
        assert!(matches!(xml_clean("tab\tnew\nline\r"), Cow::Borrowed(_)));
        assert!(matches!(xml_clean("Ödegård ﬀ"), Cow::Borrowed(_)));
        assert_eq!(forbidden_list("\u{1}x\u{1}\u{0}"), "U+0000, U+0001");
    }

    #[test]
    fn latin1_transliterates_and_reports_losses() {
        let l = latin1("Łukasz Nowak – Søn “quoted” €5 → ok");
        assert_eq!(l.text, "Lukasz Nowak - Søn \"quoted\" EUR5 -> ok");
        assert!(l.changed && !l.lossy);
        let l = latin1("Café 日本");
        assert_eq!(l.text, "Café ??");
        assert!(l.lossy);
        let l = latin1("Müller");
        assert!(!l.changed && matches!(l.text, Cow::Borrowed(_)));
        assert_eq!(latin1("a\u{7}b").text, "ab");
        assert_eq!(crate::latin::latin_ext_a('\u{141}'), Some("L"));
        assert_eq!(crate::latin::latin_ext_a('\u{17D}'), Some("Z"));
    }

    #[test]
    fn amounts_keep_their_decimals() {
        let mut s = String::new();
        push_amount(&mut s, dec!(1.500), 2);
        s.push(' ');
        push_amount(&mut s, dec!(1000), 0);
        s.push(' ');
        push_amount(&mut s, dec!(-0.00), 2);
        s.push(' ');
        push_plain(&mut s, dec!(2.50));
        s.push(' ');
        push_plain(&mut s, percent(dec!(0.0625)));
        assert_eq!(s, "1.50 1000 0.00 2.5 6.25");
        assert!(fits(dec!(1.500), 2));
        assert!(!fits(dec!(1.505), 2));
    }

    proptest::proptest! {
        #[test]
        fn fast_number_formatting_matches_rust_decimal(m in proptest::prelude::any::<i64>(), scale in 0u32..12, dp in 0u32..6) {
            let d = Decimal::new(m, scale);
            let mut s = String::new();
            push_plain(&mut s, d);
            let mut n = d.normalize();
            if n.is_zero() {
                n.set_sign_positive(true);
            }
            proptest::prop_assert_eq!(s, n.to_string());
            let mut s = String::new();
            push_amount(&mut s, d, dp);
            let mut r = d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            r.rescale(dp);
            if r.is_zero() {
                r.set_sign_positive(true);
            }
            proptest::prop_assert_eq!(s, r.to_string());
        }
    }

    #[test]
    fn extreme_numbers_and_dates() {
        let mut s = String::new();
        push_plain(&mut s, Decimal::MAX);
        s.push(' ');
        push_amount(&mut s, Decimal::MIN, 2);
        s.push(' ');
        push_amount(&mut s, Decimal::new(5, 28), 0);
        s.push(' ');
        push_iso_date(&mut s, NaiveDate::from_ymd_opt(7, 3, 9).unwrap_or_default());
        s.push(' ');
        push_date_102(&mut s, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default());
        assert_eq!(s, "79228162514264337593543950335 -79228162514264337593543950335.00 0 0007-03-09 20261130");
    }

    #[test]
    fn xml_writer_indents_and_escapes() {
        let mut out = Vec::new();
        let mut x = XmlOut::new(&mut out, 0, false);
        x.declaration().unwrap();
        x.open_with(tag!("a"), &[("k", "x\"&<y")]).unwrap();
        x.text(tag!("b"), "1 < 2 & \"3\" \u{1}").unwrap();
        x.amount_with(tag!("c"), &[("currencyID", "EUR")], dec!(3), 2).unwrap();
        x.close(tag!("a")).unwrap();
        x.finish();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a k=\"x&quot;&amp;&lt;y\">\n  <b>1 &lt; 2 &amp; \"3\" </b>\n  \
             <c currencyID=\"EUR\">3.00</c>\n</a>\n"
        );
    }

    #[test]
    fn json_writer_is_exact_and_pretty() {
        let mut out = Vec::new();
        let mut j = JsonOut::new(&mut out);
        j.open_object(None);
        j.str("A", "x\"y\n");
        j.open_array("L");
        j.open_object(None);
        j.amount("Amount", dec!(0.1), 2);
        j.close_object();
        j.close_array();
        j.open_array("E");
        j.close_array();
        j.bool("B", true);
        j.close_object();
        j.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"A\": \"x\\\"y\\n\",\n  \"L\": [\n    {\n      \"Amount\": 0.10\n    }\n  ],\n  \"E\": [],\n  \"B\": true\n}\n"
        );
    }
}
