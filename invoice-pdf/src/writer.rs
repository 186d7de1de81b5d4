//! Writing a document: pages, subset fonts, the logo, `/Info` and `/ID`, straight to PDF bytes.
//!
//! printpdf's own serialisation went through an operation layer, a lopdf document and zlib at
//! level 9 for every stream, and subset the fonts again for every document; this writer emits
//! the few object kinds an invoice needs directly and takes the fonts' subsets from a cache
//! ([`crate::fonts::Face::subset`]). Objects are written in one pass with a classic xref table.

use std::io::Write as _;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use printpdf::{RawImageData, RawImageFormat};

use crate::canvas::{push_u64, Page, Resources, LOGO_ID};
use crate::error::{Error, Result};
use crate::options::Logo;
use crate::stamp::Stamp;

/// zlib level of content streams and other per-document streams: level 9 took about twice as
/// long as 6 for a few per cent smaller streams.
pub(crate) const CONTENT_LEVEL: u32 = 6;
/// zlib level of font subsets: they are cached, so compressing them hard is paid once.
pub(crate) const FONT_LEVEL: u32 = 9;

/// `data` compressed with zlib at `level`.
pub(crate) fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(level));
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// The document information written to `/Info`.
pub(crate) struct Meta<'a> {
    pub(crate) title: &'a str,
    pub(crate) author: &'a str,
    pub(crate) stamp: &'a Stamp,
}

/// PDF bytes being written object by object.
struct Writer {
    out: Vec<u8>,
    /// Byte offset of object `i + 1`.
    offsets: Vec<usize>,
}

impl Writer {
    fn new(capacity: usize) -> Writer {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        Writer { out, offsets: Vec::new() }
    }

    /// Reserve the next object number.
    fn reserve(&mut self) -> usize {
        self.offsets.push(0);
        self.offsets.len()
    }

    fn begin(&mut self, id: usize) {
        if let Some(slot) = self.offsets.get_mut(id.wrapping_sub(1)) {
            *slot = self.out.len();
        }
        push_u64(&mut self.out, id as u64);
        self.out.extend_from_slice(b" 0 obj\n");
    }

    /// A whole object whose body is `body`.
    fn object(&mut self, id: usize, body: &[u8]) {
        self.begin(id);
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// A stream object: `dict` holds the entries besides `/Length`.
    fn stream(&mut self, id: usize, dict: &[u8], data: &[u8]) {
        self.begin(id);
        self.out.extend_from_slice(b"<< /Length ");
        push_u64(&mut self.out, data.len() as u64);
        self.out.push(b' ');
        self.out.extend_from_slice(dict);
        self.out.extend_from_slice(b" >>\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn finish(mut self, root: usize, info: usize, id: &[u8]) -> Vec<u8> {
        let xref = self.out.len();
        self.out.extend_from_slice(b"xref\n0 ");
        push_u64(&mut self.out, self.offsets.len() as u64 + 1);
        self.out.extend_from_slice(b"\n0000000000 65535 f \n");
        for off in &self.offsets {
            self.out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        let id = hex(id);
        let trailer = format!(
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len() + 1
        );
        self.out.extend_from_slice(trailer.as_bytes());
        self.out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A text string: UTF-16BE with a byte order mark, as a hex string.
fn text_string(text: &str) -> String {
    let mut s = String::with_capacity(6 + text.len() * 4);
    s.push_str("<FEFF");
    for unit in text.encode_utf16() {
        s.push_str(&format!("{unit:04X}"));
    }
    s.push('>');
    s
}

/// Object numbers of one embedded face.
struct FontIds {
    face: usize,
    type0: usize,
    cid_font: usize,
    descriptor: usize,
    font_file: usize,
    to_unicode: usize,
    cid_to_gid: usize,
}

/// Write `pages` as one PDF: the faces `res` used as subsets tagged from `stamp`, the logo when
/// drawn, `/Info` and `/ID` from `meta`.
pub(crate) fn write(pages: &[Page], res: &Resources<'_>, logo: Option<&Logo>, meta: &Meta<'_>) -> Result<Vec<u8>> {
    let content_size: usize = pages.iter().map(|p| p.content.len()).sum();
    let mut w = Writer::new(content_size + 64 * 1024);
    let catalog = w.reserve();
    let tree = w.reserve();
    let info = w.reserve();
    let resources = w.reserve();
    let page_ids: Vec<(usize, usize)> = pages.iter().map(|_| (w.reserve(), w.reserve())).collect();
    let fonts: Vec<FontIds> = (0..res.fonts.faces.len())
        .filter(|i| res.used(*i))
        .map(|face| FontIds {
            face,
            type0: w.reserve(),
            cid_font: w.reserve(),
            descriptor: w.reserve(),
            font_file: w.reserve(),
            to_unicode: w.reserve(),
            cid_to_gid: w.reserve(),
        })
        .collect();
    let logo = logo.filter(|_| res.logo_used);
    let logo_ids = logo.map(|l| (w.reserve(), l.has_alpha().then(|| w.reserve())));

    w.object(catalog, format!("<< /Type /Catalog /Pages {tree} 0 R >>").as_bytes());
    let mut kids = String::with_capacity(page_ids.len() * 10);
    for (page, _) in &page_ids {
        kids.push_str(&format!("{page} 0 R "));
    }
    w.object(tree, format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", page_ids.len()).as_bytes());
    let date = meta.stamp.pdf_date_string();
    w.object(
        info,
        format!(
            "<< /Title {} /Author {} /Creator {} /Producer {} /CreationDate ({date}) /ModDate ({date}) >>",
            text_string(meta.title),
            text_string(meta.author),
            text_string("invoice-engine"),
            text_string("invoice-engine (invoice-pdf)"),
        )
        .as_bytes(),
    );
    let mut dict = String::from("<< /Font << ");
    for f in &fonts {
        dict.push_str(&format!("/F{} {} 0 R ", f.face, f.type0));
    }
    dict.push_str(">>");
    if let Some((image, _)) = logo_ids {
        dict.push_str(&format!(" /XObject << /{LOGO_ID} {image} 0 R >>"));
    }
    dict.push_str(" >>");
    w.object(resources, dict.as_bytes());

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut b = Vec::with_capacity(160);
        b.extend_from_slice(format!("<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 ").as_bytes());
        crate::canvas::num(&mut b, page.width);
        b.push(b' ');
        crate::canvas::num(&mut b, page.height);
        b.extend_from_slice(format!("] /Resources {resources} 0 R /Contents {content_id} 0 R >>").as_bytes());
        w.object(*page_id, &b);
        w.stream(*content_id, b"/Filter /FlateDecode", &page.content);
    }

    for f in &fonts {
        write_font(&mut w, res, f, meta.stamp)?;
    }
    if let (Some(logo), Some((image, mask))) = (logo, logo_ids) {
        write_logo(&mut w, logo, image, mask)?;
    }
    Ok(w.finish(catalog, info, meta.stamp.id.to_string().as_bytes()))
}

fn write_font(w: &mut Writer, res: &Resources<'_>, f: &FontIds, stamp: &Stamp) -> Result<()> {
    let face = res.fonts.faces.get(f.face).ok_or_else(|| Error::Render { message: "no such face".into() })?;
    let drawn = res.glyphs.get(f.face).map(Vec::as_slice).unwrap_or_default();
    let used: Vec<(u16, char)> =
        (0u16..).zip(drawn).filter(|(g, c)| *g != 0 && **c != '\0').map(|(g, c)| (g, *c)).collect();
    let gids: Vec<u16> = used.iter().map(|(g, _)| *g).collect();
    let subset = face.subset(&gids).map_err(|message| Error::Render { message })?;
    let name = format!("{}+{}", stamp.id.subset_tag(f.face), face.ps_name);

    w.object(
        f.type0,
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{} 0 R] \
             /ToUnicode {} 0 R >>",
            f.cid_font, f.to_unicode
        )
        .as_bytes(),
    );
    // Widths of the glyphs drawn, consecutive ids grouped: `first [w1 w2 ...]`.
    let mut widths = String::with_capacity(used.len() * 6);
    let mut prev: Option<u16> = None;
    for (g, _) in &used {
        if prev.is_some_and(|p| p + 1 == *g) {
            widths.push(' ');
        } else {
            if prev.is_some() {
                widths.push_str("] ");
            }
            widths.push_str(&format!("{g} ["));
        }
        widths.push_str(&face.width_1000(*g).to_string());
        prev = Some(*g);
    }
    if prev.is_some() {
        widths.push(']');
    }
    w.object(
        f.cid_font,
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) \
             /Ordering (Identity) /Supplement 0 >> /FontDescriptor {} 0 R /DW 1000 /W [{widths}] \
             /CIDToGIDMap {} 0 R >>",
            f.descriptor, f.cid_to_gid
        )
        .as_bytes(),
    );
    w.object(
        f.descriptor,
        format!("<< /Type /FontDescriptor /FontName /{name} {} /FontFile2 {} 0 R >>", face.descriptor, f.font_file)
            .as_bytes(),
    );
    w.stream(f.font_file, format!("/Length1 {} /Filter /FlateDecode", subset.length1).as_bytes(), &subset.font_file);
    w.stream(f.to_unicode, b"/Filter /FlateDecode", &deflate(&to_unicode(&used), CONTENT_LEVEL));
    w.stream(f.cid_to_gid, b"/Filter /FlateDecode", &subset.cid_to_gid);
    Ok(())
}

/// The `/ToUnicode` CMap: each glyph id drawn to the character it was drawn for.
fn to_unicode(used: &[(u16, char)]) -> Vec<u8> {
    let mut s = String::with_capacity(400 + used.len() * 20);
    s.push_str(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) \
         /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in used.chunks(100) {
        s.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (g, c) in chunk {
            s.push_str(&format!("<{g:04X}> <"));
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                s.push_str(&format!("{u:04X}"));
            }
            s.push_str(">\n");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s.into_bytes()
}

fn write_logo(w: &mut Writer, logo: &Logo, image: usize, mask: Option<usize>) -> Result<()> {
    let img = &logo.image;
    let RawImageData::U8(pixels) = &img.pixels else {
        return Err(Error::InvalidLogo { reason: "only 8-bit pixels are supported".into() });
    };
    let (color, alpha): (Vec<u8>, Option<Vec<u8>>) = match img.data_format {
        RawImageFormat::R8 => (pixels.clone(), None),
        RawImageFormat::RGB8 => (pixels.clone(), None),
        RawImageFormat::RGBA8 => {
            let color = pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            let alpha = pixels.chunks_exact(4).map(|p| p[3]).collect();
            (color, Some(alpha))
        }
        _ => return Err(Error::InvalidLogo { reason: "unsupported pixel format".into() }),
    };
    let space = if img.data_format == RawImageFormat::R8 { "/DeviceGray" } else { "/DeviceRGB" };
    let size = format!("/Width {} /Height {} /BitsPerComponent 8", img.width, img.height);
    let smask = match (mask, alpha.is_some()) {
        (Some(m), true) => format!(" /SMask {m} 0 R"),
        _ => String::new(),
    };
    w.stream(
        image,
        format!("/Type /XObject /Subtype /Image {size} /ColorSpace {space}{smask} /Filter /FlateDecode").as_bytes(),
        &deflate(&color, CONTENT_LEVEL),
    );
    if let Some(m) = mask {
        let alpha = alpha.unwrap_or_else(|| vec![255; img.width * img.height]);
        w.stream(
            m,
            format!("/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceGray /Filter /FlateDecode").as_bytes(),
            &deflate(&alpha, CONTENT_LEVEL),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_unicode_maps_glyphs_to_utf16() {
        let cmap = String::from_utf8(to_unicode(&[(3, 'A'), (0x1234, '€'), (7, '𝄞')])).unwrap();
        assert!(cmap.contains("3 beginbfchar\n<0003> <0041>\n<1234> <20AC>\n<0007> <D834DD1E>\n"), "{cmap}");
    }

    #[test]
    fn text_strings_are_utf16_with_bom() {
        assert_eq!(text_string("Aé"), "<FEFF004100E9>");
    }
}
