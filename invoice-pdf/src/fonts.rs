//! Fonts: the bundled DejaVu Sans (regular and bold), caller-registered fallbacks, glyph
//! coverage and text widths.
//!
//! printpdf maps a character its font lacks to glyph 0 and says nothing (PDF-NOTES, printpdf 4),
//! so every string goes through [`Fonts::runs`], which picks for each character the first face
//! of the style's chain that has it and reports the first character no face has.

use std::sync::{Arc, OnceLock};

use printpdf::ParsedFont;

use crate::error::{Error, Result};

const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Code points below this get their glyph and advance precomputed per face.
const TABLE_SIZE: usize = 0x800;

/// Regular or bold text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Regular,
    Bold,
}

/// One parsed face with a precomputed table for the common code points.
pub(crate) struct Face {
    pub(crate) name: String,
    pub(crate) parsed: ParsedFont,
    units_per_em: f32,
    /// (glyph id, advance in font units) for code points below [`TABLE_SIZE`]; glyph 0 = none.
    table: Vec<(u16, u16)>,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Face {
    fn parse(name: &str, bytes: &[u8]) -> Result<Face> {
        let mut warnings = Vec::new();
        let parsed =
            ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or_else(|| Error::InvalidFont { name: name.into() })?;
        let upm = parsed.font_metrics.units_per_em;
        if upm == 0 {
            return Err(Error::InvalidFont { name: name.into() });
        }
        let mut table = vec![(0u16, 0u16); TABLE_SIZE];
        for (cp, slot) in (0u32..).zip(table.iter_mut()) {
            if let Some(gid) = parsed.lookup_glyph_index(cp).filter(|g| *g != 0) {
                *slot = (gid, parsed.get_horizontal_advance(gid));
            }
        }
        Ok(Face { name: name.into(), units_per_em: f32::from(upm), parsed, table })
    }

    /// The glyph id and advance (font units) of `c`, when the face has it.
    fn glyph(&self, c: char) -> Option<(u16, u16)> {
        let cp = u32::from(c);
        if let Some(&(gid, adv)) = self.table.get(cp as usize) {
            return (gid != 0).then_some((gid, adv));
        }
        let gid = self.parsed.lookup_glyph_index(cp).filter(|g| *g != 0)?;
        Some((gid, self.parsed.get_horizontal_advance(gid)))
    }
}

/// A run of text drawn with one face.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run {
    /// Index of the face in [`Fonts::faces`].
    pub(crate) face: usize,
    pub(crate) text: String,
    /// Width in pt at the size asked for.
    pub(crate) width: f32,
}

/// The faces a renderer draws with: 0 regular, 1 bold, then the fallbacks in registration order.
#[derive(Debug, Clone)]
pub(crate) struct Fonts {
    pub(crate) faces: Vec<Arc<Face>>,
}

fn bundled() -> Result<&'static (Arc<Face>, Arc<Face>)> {
    static BUNDLED: OnceLock<Option<(Arc<Face>, Arc<Face>)>> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            let regular = Face::parse("DejaVu Sans", DEJAVU_SANS).ok()?;
            let bold = Face::parse("DejaVu Sans Bold", DEJAVU_SANS_BOLD).ok()?;
            Some((Arc::new(regular), Arc::new(bold)))
        })
        .as_ref()
        .ok_or_else(|| Error::InvalidFont { name: "DejaVu Sans (bundled)".into() })
}

impl Fonts {
    /// The bundled faces, parsed once per process.
    pub(crate) fn bundled() -> Result<Fonts> {
        let (regular, bold) = bundled()?;
        Ok(Fonts { faces: vec![regular.clone(), bold.clone()] })
    }

    /// Register a fallback face (used for both styles, after the bundled faces).
    pub(crate) fn add_fallback(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.faces.push(Arc::new(Face::parse(name, bytes)?));
        Ok(())
    }

    fn chain(&self, style: Style) -> impl Iterator<Item = usize> + '_ {
        let first = match style {
            Style::Regular => 0,
            Style::Bold => 1,
        };
        std::iter::once(first).chain(2..self.faces.len())
    }

    fn pick(&self, style: Style, c: char) -> Option<(usize, u16)> {
        self.chain(style).find_map(|i| self.faces.get(i).and_then(|f| f.glyph(c)).map(|(_, adv)| (i, adv)))
    }

    fn em(&self, face: usize) -> f32 {
        self.faces.get(face).map_or(1000.0, |f| f.units_per_em)
    }

    /// The width of `text` in pt at `size`; `Err(c)` names the first character no face has.
    pub(crate) fn width(&self, text: &str, style: Style, size: f32) -> Result<f32, char> {
        let mut width = 0.0;
        for c in text.chars() {
            let (face, adv) = self.pick(style, c).ok_or(c)?;
            width += f32::from(adv) / self.em(face) * size;
        }
        Ok(width)
    }

    /// Split `text` into runs of one face each; `Err(c)` names the first character no face has.
    pub(crate) fn runs(&self, text: &str, style: Style, size: f32) -> Result<Vec<Run>, char> {
        let mut runs: Vec<Run> = Vec::new();
        for c in text.chars() {
            let (face, adv) = self.pick(style, c).ok_or(c)?;
            let w = f32::from(adv) / self.em(face) * size;
            match runs.last_mut() {
                Some(run) if run.face == face => {
                    run.text.push(c);
                    run.width += w;
                }
                _ => runs.push(Run { face, text: c.to_string(), width: w }),
            }
        }
        Ok(runs)
    }
}

/// Replace what is not printable text (control characters other than newline) by spaces, so a
/// tab or a stray carriage return in a description neither vanishes silently nor fails.
pub(crate) fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| c == '\n' || !c.is_control()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push('\n'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_faces_cover_latin_greek_cyrillic() {
        let fonts = Fonts::bundled().unwrap();
        for text in ["Müller", "Ødegård", "Łukasz", "Жанна", "Ωmega", "é ü ø ł", "€ 1,234.50"] {
            assert!(fonts.width(text, Style::Regular, 10.0).unwrap() > 0.0, "{text}");
            assert!(fonts.width(text, Style::Bold, 10.0).unwrap() > 0.0, "{text}");
        }
        assert_eq!(fonts.width("株式会社", Style::Regular, 10.0), Err('株'));
        assert!(fonts.width("W", Style::Bold, 10.0).unwrap() > fonts.width("i", Style::Bold, 10.0).unwrap());
    }

    #[test]
    fn runs_split_by_face_and_widths_add_up() {
        let fonts = Fonts::bundled().unwrap();
        let runs = fonts.runs("Abc", Style::Bold, 12.0).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].face, 1);
        let w = fonts.width("Abc", Style::Bold, 12.0).unwrap();
        assert!((runs[0].width - w).abs() < 1e-3);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(clean("a\tb\r\nc\rd"), "a b\nc\nd");
        assert!(matches!(clean("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
