//! A page being drawn: PDF content-stream operators placed in pt from the top-left corner.
//!
//! Text is shown with the faces' own glyph ids as character codes (Identity-H encoding); the
//! writer ([`crate::writer`]) embeds each used face as a subset whose `/CIDToGIDMap` maps those
//! ids to the subset's. Every string is positioned with an absolute text matrix (`Tm`), never
//! with relative cursor moves (`Td`, PDF-NOTES printpdf 3), and every character goes through
//! [`Fonts::pick`] so that a missing glyph is an error instead of a silent blank.

use crate::fonts::{Fonts, Style};

/// Grey levels used by the layouts (0 black, 1 white).
pub(crate) const INK: f32 = 0.0;
pub(crate) const MUTED: f32 = 0.38;
pub(crate) const RULE: f32 = 0.72;
pub(crate) const FILL: f32 = 0.92;

/// Horizontal alignment of a string at an x position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// The fonts and glyphs shared by every page of one PDF document.
pub(crate) struct Resources<'a> {
    pub(crate) fonts: &'a Fonts,
    /// For each face, indexed by glyph id: the character first drawn with that glyph, `'\0'`
    /// for glyphs not drawn. Only faces with a drawn glyph are embedded.
    pub(crate) glyphs: Vec<Vec<char>>,
    /// Whether a page draws the logo.
    pub(crate) logo_used: bool,
}

/// The resource name of the logo image.
pub(crate) const LOGO_ID: &str = "Logo";

impl<'a> Resources<'a> {
    pub(crate) fn new(fonts: &'a Fonts) -> Resources<'a> {
        Resources { fonts, glyphs: vec![Vec::new(); fonts.faces.len()], logo_used: false }
    }

    /// The width of `text`; `Err(c)` names a character no face has.
    pub(crate) fn width(&self, text: &str, style: Style, size: f32) -> Result<f32, char> {
        self.fonts.width(text, style, size)
    }

    /// Whether face `face` draws anything in this document.
    pub(crate) fn used(&self, face: usize) -> bool {
        self.glyphs.get(face).is_some_and(|g| g.iter().any(|c| *c != '\0'))
    }

    fn mark(&mut self, face: usize, gid: u16, c: char) {
        if let Some(list) = self.glyphs.get_mut(face) {
            let i = usize::from(gid);
            if list.len() <= i {
                list.resize(i + 1, '\0');
            }
            if list[i] == '\0' {
                list[i] = c;
            }
        }
    }
}

/// A finished page: its size in pt and its content stream, compressed (zlib) as soon as the page
/// is drawn, so a document of many pages holds only compressed streams.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page {
    pub(crate) width: f32,
    pub(crate) height: f32,
    pub(crate) content: Vec<u8>,
}

/// Append `v` rounded to 1/100 pt, without trailing zeros (shorter streams, same page).
pub(crate) fn num(out: &mut Vec<u8>, v: f32) {
    let hundredths = (f64::from(v) * 100.0).round() as i64;
    if hundredths < 0 {
        out.push(b'-');
    }
    let a = hundredths.unsigned_abs();
    let (int, frac) = (a / 100, a % 100);
    push_u64(out, int);
    if frac != 0 {
        out.push(b'.');
        out.push(b'0' + (frac / 10) as u8);
        if frac % 10 != 0 {
            out.push(b'0' + (frac % 10) as u8);
        }
    }
}

/// Append the decimal digits of `v`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// One page being drawn.
///
/// The canvas remembers the text and colour state it set, so consecutive strings share one
/// text object and a font or colour is only set when it changes.
pub(crate) struct Canvas {
    pub(crate) width: f32,
    pub(crate) height: f32,
    out: Vec<u8>,
    in_text: bool,
    /// (face, size) last set with `Tf`.
    font: Option<(usize, f32)>,
    /// Fill grey last set.
    fill: Option<f32>,
    /// Stroke grey and width last set.
    stroke: Option<(f32, f32)>,
}

impl Canvas {
    pub(crate) fn new(width: f32, height: f32) -> Canvas {
        Canvas { width, height, out: Vec::with_capacity(4096), in_text: false, font: None, fill: None, stroke: None }
    }

    fn op(&mut self, args: &[f32], operator: &[u8]) {
        for a in args {
            num(&mut self.out, *a);
            self.out.push(b' ');
        }
        self.out.extend_from_slice(operator);
        self.out.push(b'\n');
    }

    fn end_text(&mut self) {
        if self.in_text {
            self.out.extend_from_slice(b"ET\n");
            self.in_text = false;
        }
    }

    fn set_fill(&mut self, grey: f32) {
        if self.fill != Some(grey) {
            self.op(&[grey], b"g");
            self.fill = Some(grey);
        }
    }

    pub(crate) fn into_page(mut self) -> Page {
        self.end_text();
        let content = crate::writer::deflate(&self.out, crate::writer::CONTENT_LEVEL);
        Page { width: self.width, height: self.height, content }
    }

    /// Draw `text` with its baseline at `y` (from the top), aligned at `x`. Returns its width.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text(
        &mut self,
        res: &mut Resources<'_>,
        x: f32,
        y: f32,
        align: Align,
        size: f32,
        style: Style,
        grey: f32,
        text: &str,
    ) -> Result<f32, char> {
        if text.is_empty() {
            return Ok(0.0);
        }
        let fonts = res.fonts;
        let total = fonts.width(text, style, size)?;
        let mut pen = match align {
            Align::Left => x,
            Align::Right => x - total,
        };
        let baseline = self.height - y;
        if !self.in_text {
            self.out.extend_from_slice(b"BT\n");
            self.in_text = true;
        }
        self.set_fill(grey);
        let mut run: Option<usize> = None;
        for c in text.chars() {
            let (face, gid, adv) = fonts.pick(style, c).ok_or(c)?;
            if run != Some(face) {
                if run.is_some() {
                    self.out.extend_from_slice(b"> Tj\n");
                }
                if self.font != Some((face, size)) {
                    self.out.extend_from_slice(b"/F");
                    push_u64(&mut self.out, face as u64);
                    self.out.push(b' ');
                    self.op(&[size], b"Tf");
                    self.font = Some((face, size));
                }
                // An absolute text matrix per run, never a relative move (PDF-NOTES, printpdf 3).
                self.op(&[1.0, 0.0, 0.0, 1.0, pen, baseline], b"Tm");
                self.out.push(b'<');
                run = Some(face);
            }
            res.mark(face, gid, c);
            for shift in [12, 8, 4, 0] {
                self.out.push(HEX[usize::from((gid >> shift) & 0xF)]);
            }
            pen += fonts.advance(face, adv, size);
        }
        if run.is_some() {
            self.out.extend_from_slice(b"> Tj\n");
        }
        Ok(total)
    }

    /// A horizontal rule at `y` from `x0` to `x1`.
    pub(crate) fn rule(&mut self, x0: f32, x1: f32, y: f32, thickness: f32, grey: f32) {
        self.end_text();
        let y = self.height - y;
        if self.stroke != Some((grey, thickness)) {
            self.op(&[grey], b"G");
            self.op(&[thickness], b"w");
            self.stroke = Some((grey, thickness));
        }
        self.op(&[x0, y], b"m");
        self.op(&[x1, y], b"l S");
    }

    /// A filled rectangle whose top-left corner is at (`x`, `y`).
    pub(crate) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        self.end_text();
        self.set_fill(grey);
        let bottom = self.height - y - h;
        self.op(&[x, bottom, w, h], b"re f");
    }

    /// The logo image, its top-left corner at (`x`, `y`), `w` x `h` pt.
    pub(crate) fn logo(&mut self, res: &mut Resources<'_>, x: f32, y: f32, w: f32, h: f32) {
        res.logo_used = true;
        self.end_text();
        let bottom = self.height - y - h;
        self.out.extend_from_slice(b"q\n");
        self.op(&[w, 0.0, 0.0, h, x, bottom], b"cm");
        self.out.extend_from_slice(b"/");
        self.out.extend_from_slice(LOGO_ID.as_bytes());
        self.out.extend_from_slice(b" Do\nQ\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_rounded_to_hundredths() {
        let s = |v: f32| {
            let mut out = Vec::new();
            num(&mut out, v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(s(0.0), "0");
        assert_eq!(s(12.0), "12");
        assert_eq!(s(12.5), "12.5");
        assert_eq!(s(595.2756), "595.28");
        assert_eq!(s(-3.004), "-3");
        assert_eq!(s(-0.05), "-0.05");
        assert_eq!(s(0.38), "0.38");
    }

    #[test]
    fn text_is_glyph_ids_and_marks_the_glyphs_used() {
        let fonts = Fonts::bundled().unwrap();
        let mut res = Resources::new(&fonts);
        let mut c = Canvas::new(100.0, 100.0);
        c.text(&mut res, 10.0, 20.0, Align::Left, 9.0, Style::Bold, INK, "AA").unwrap();
        c.end_text();
        let text = String::from_utf8(c.out).unwrap();
        assert!(text.starts_with("BT\n0 g\n/F1 9 Tf\n1 0 0 1 10 80 Tm\n<"), "{text}");
        assert!(text.ends_with("> Tj\nET\n"), "{text}");
        assert!(res.used(1) && !res.used(0));
        assert_eq!(res.glyphs[1].iter().filter(|c| **c == 'A').count(), 1);
    }
}
