//! Fonts: the bundled DejaVu Sans (regular and bold), caller-registered fallbacks, glyph
//! coverage and text widths.
//!
//! printpdf maps a character its font lacks to glyph 0 and says nothing (PDF-NOTES, printpdf 4),
//! so every string goes through [`Fonts::runs`], which picks for each character the first face
//! of the style's chain that has it and reports the first character no face has.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

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

/// Code points whose glyphs every subset of a bundled face contains, used or not: ASCII, common
/// punctuation, the euro sign and arrows. Invoices whose text stays within them (and all others
/// with the same extra characters) share one subset, made and compressed once per process
/// instead of once per document. A bigger base (Latin-1 and Latin Extended-A) made even fewer
/// distinct subsets but one PDF per invoice grew from 47 to 71 KB, at the same speed on the
/// month-end dataset.
const BASE_SET: [(u32, u32); 4] = [(0x20, 0x7E), (0x2013, 0x2026), (0x20AC, 0x20AC), (0x2190, 0x2193)];

/// Subsets kept per face (each about 20 to 40 KB); past this, new glyph sets are subset
/// per document and not kept.
const SUBSET_CACHE: usize = 256;

/// A face's subset for one glyph set, compressed and ready to embed.
#[derive(Debug)]
pub(crate) struct Subset {
    /// The `/FontFile2` stream data (zlib) and its uncompressed length (`/Length1`).
    pub(crate) font_file: Vec<u8>,
    pub(crate) length1: usize,
    /// The `/CIDToGIDMap` stream data (zlib): glyph ids of the face to glyph ids of the subset.
    pub(crate) cid_to_gid: Vec<u8>,
}

/// One parsed face with a precomputed table for the common code points.
pub(crate) struct Face {
    pub(crate) name: String,
    pub(crate) parsed: ParsedFont,
    units_per_em: f32,
    /// (glyph id, advance in font units) for code points below [`TABLE_SIZE`]; glyph 0 = none.
    table: Vec<(u16, u16)>,
    /// The name in `/BaseFont` after the subset tag (the face name without spaces).
    pub(crate) ps_name: String,
    /// The `/FontDescriptor` entries that do not depend on the document.
    pub(crate) descriptor: String,
    /// Glyphs every subset contains (sorted, no glyph 0), see [`BASE_SET`].
    base: Vec<u16>,
    /// Subsets made so far, by sorted glyph set.
    subsets: Mutex<HashMap<Vec<u16>, Arc<Subset>>>,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Face {
    fn parse(name: &str, bytes: &[u8], with_base: bool) -> Result<Face> {
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
        let mut base: Vec<u16> = if with_base {
            BASE_SET
                .iter()
                .flat_map(|(a, b)| *a..=*b)
                .filter_map(|cp| parsed.lookup_glyph_index(cp).filter(|g| *g != 0))
                .collect()
        } else {
            Vec::new()
        };
        base.sort_unstable();
        base.dedup();
        let descriptor = descriptor(&parsed, upm);
        let ps_name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        Ok(Face {
            name: name.into(),
            units_per_em: f32::from(upm),
            parsed,
            table,
            ps_name: if ps_name.is_empty() { "Font".into() } else { ps_name },
            descriptor,
            base,
            subsets: Mutex::new(HashMap::new()),
        })
    }

    /// The advance of glyph `gid` in thousandths of an em (the unit of `/W`).
    pub(crate) fn width_1000(&self, gid: u16) -> i64 {
        (f32::from(self.parsed.get_horizontal_advance(gid)) * 1000.0 / self.units_per_em).round() as i64
    }

    /// The subset holding `used` (sorted glyph ids of this face, no glyph 0) and the base set,
    /// made once per glyph set. The same glyph set always gives the same bytes, cached or not.
    pub(crate) fn subset(&self, used: &[u16]) -> std::result::Result<Arc<Subset>, String> {
        let mut key: Vec<u16> = Vec::with_capacity(self.base.len() + used.len());
        key.extend_from_slice(&self.base);
        key.extend(used.iter().copied().filter(|g| self.base.binary_search(g).is_err()));
        key.sort_unstable();
        if let Some(hit) = self.subsets.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let made = Arc::new(make_subset(&self.parsed, &key)?);
        if let Ok(mut m) = self.subsets.lock() {
            if m.len() < SUBSET_CACHE {
                m.insert(key, made.clone());
            }
        }
        Ok(made)
    }

    /// How many subsets are cached (for tests).
    #[cfg(test)]
    pub(crate) fn cached_subsets(&self) -> usize {
        self.subsets.lock().map(|m| m.len()).unwrap_or(0)
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

/// The faces a renderer draws with: 0 regular, 1 bold, then the fallbacks in registration order.
#[derive(Debug, Clone)]
pub(crate) struct Fonts {
    pub(crate) faces: Vec<Arc<Face>>,
}

fn bundled() -> Result<&'static (Arc<Face>, Arc<Face>)> {
    static BUNDLED: OnceLock<Option<(Arc<Face>, Arc<Face>)>> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            let regular = Face::parse("DejaVu Sans", DEJAVU_SANS, true).ok()?;
            let bold = Face::parse("DejaVu Sans Bold", DEJAVU_SANS_BOLD, true).ok()?;
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
        self.faces.push(Arc::new(Face::parse(name, bytes, false)?));
        Ok(())
    }

    fn chain(&self, style: Style) -> impl Iterator<Item = usize> + '_ {
        let first = match style {
            Style::Regular => 0,
            Style::Bold => 1,
        };
        std::iter::once(first).chain(2..self.faces.len())
    }

    /// The face, glyph id and advance (font units) that draw `c` in `style`: the first face of
    /// the style's chain that has it.
    pub(crate) fn pick(&self, style: Style, c: char) -> Option<(usize, u16, u16)> {
        self.chain(style).find_map(|i| self.faces.get(i).and_then(|f| f.glyph(c)).map(|(gid, adv)| (i, gid, adv)))
    }

    fn em(&self, face: usize) -> f32 {
        self.faces.get(face).map_or(1000.0, |f| f.units_per_em)
    }

    /// The advance `adv` (font units of `face`) in pt at `size`.
    pub(crate) fn advance(&self, face: usize, adv: u16, size: f32) -> f32 {
        f32::from(adv) / self.em(face) * size
    }

    /// The width of `text` in pt at `size`; `Err(c)` names the first character no face has.
    pub(crate) fn width(&self, text: &str, style: Style, size: f32) -> Result<f32, char> {
        let mut width = 0.0;
        for c in text.chars() {
            let (face, _, adv) = self.pick(style, c).ok_or(c)?;
            width += self.advance(face, adv, size);
        }
        Ok(width)
    }
}

/// Subset `parsed` to `glyphs` (sorted, unique) and compress it with its `/CIDToGIDMap`.
fn make_subset(parsed: &ParsedFont, glyphs: &[u16]) -> std::result::Result<Subset, String> {
    let wanted: BTreeMap<u16, String> = glyphs.iter().map(|g| (*g, String::new())).collect();
    let subset = printpdf::subset_font(parsed, &wanted)?;
    let max = glyphs.last().copied().unwrap_or(0);
    let mut map = vec![0u8; (usize::from(max) + 1) * 2];
    for (old, (new, _)) in &subset.glyph_mapping {
        let i = usize::from(*old) * 2;
        if let Some(slot) = map.get_mut(i..i + 2) {
            slot.copy_from_slice(&new.to_be_bytes());
        }
    }
    Ok(Subset {
        font_file: crate::writer::deflate(&subset.bytes, crate::writer::FONT_LEVEL),
        length1: subset.bytes.len(),
        cid_to_gid: crate::writer::deflate(&map, crate::writer::FONT_LEVEL),
    })
}

/// The `/FontDescriptor` entries of a face (in thousandths of an em), `/FontName` and the font
/// file excepted.
fn descriptor(parsed: &ParsedFont, upm: u16) -> String {
    let m = &parsed.pdf_font_metrics;
    let scale = |v: f32| (v * 1000.0 / f32::from(upm)).round() as i64;
    let ascent = scale(f32::from(m.ascender));
    let descent = scale(f32::from(m.descender));
    let cap = parsed.font_metrics.cap_height.map_or(ascent, scale);
    let italic = if m.caret_slope_rise == 0 {
        0
    } else {
        (-(f32::from(m.caret_slope_run)).atan2(f32::from(m.caret_slope_rise)).to_degrees()).round() as i64
    };
    // Flags (PDF 32000-1 table 123): nonsymbolic, italic when slanted.
    let flags = 32 | if italic != 0 { 64 } else { 0 };
    let stem_v =
        if m.us_weight_class == 0 { 80 } else { 50 + (f32::from(m.us_weight_class) / 65.0).powi(2).round() as i64 };
    format!(
        "/Flags {flags} /FontBBox [{} {} {} {}] /ItalicAngle {italic} /Ascent {ascent} /Descent {descent} \
         /CapHeight {cap} /StemV {stem_v}",
        scale(f32::from(m.x_min)),
        scale(f32::from(m.y_min)),
        scale(f32::from(m.x_max)),
        scale(f32::from(m.y_max)),
    )
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
    fn pick_follows_the_style_and_widths_add_up() {
        let fonts = Fonts::bundled().unwrap();
        let (face, gid, adv) = fonts.pick(Style::Bold, 'A').unwrap();
        assert_eq!(face, 1);
        assert!(gid != 0 && adv > 0);
        let w: f32 =
            "Abc".chars().map(|c| fonts.pick(Style::Bold, c).unwrap()).map(|(f, _, a)| fonts.advance(f, a, 12.0)).sum();
        assert!((fonts.width("Abc", Style::Bold, 12.0).unwrap() - w).abs() < 1e-3);
    }

    #[test]
    fn cached_subsets_are_the_bytes_a_fresh_subset_gives() {
        let mono = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf");
        // A face of its own, so the cache starts empty whatever other tests did.
        let face = match mono {
            Ok(bytes) => Face::parse("Mono", &bytes, true).unwrap(),
            Err(_) => Face::parse("Sans", DEJAVU_SANS, true).unwrap(),
        };
        let gids = |text: &str| {
            let mut g: Vec<u16> = text.chars().filter_map(|c| face.glyph(c)).map(|(g, _)| g).collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        assert_eq!(face.cached_subsets(), 0);
        let first = face.subset(&gids("Invoice 42")).unwrap();
        // ASCII is in the base set: another ASCII text needs the same subset.
        let second = face.subset(&gids("Total EUR 1,234.50")).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(face.cached_subsets(), 1);
        let greek = face.subset(&gids("Ωmega")).unwrap();
        assert_eq!(face.cached_subsets(), 2);
        assert!(greek.length1 > first.length1);

        let mut key = face.base.clone();
        key.extend(gids("Ω"));
        key.sort_unstable();
        key.dedup();
        let fresh = make_subset(&face.parsed, &key).unwrap();
        assert_eq!(fresh.font_file, greek.font_file);
        assert_eq!(fresh.cid_to_gid, greek.cid_to_gid);
        assert_eq!(fresh.length1, greek.length1);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(clean("a\tb\r\nc\rd"), "a b\nc\nd");
        assert!(matches!(clean("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
