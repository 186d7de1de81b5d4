//! The renderer: invoices to PDF bytes, one per file or many in one document sharing the fonts.

use std::io::Write;

use invoice_core::{Invoice, Totals};
use printpdf::{FontId, PdfDocument, PdfFont, PdfPage, PdfSaveOptions, XObject, XObjectId};

use crate::canvas::{Resources, LOGO_ID};
use crate::error::{Error, Result};
use crate::fonts::Fonts;
use crate::layout::{invoice_pages, title};
use crate::options::RenderOptions;
use crate::stamp::Stamp;

/// Renders invoices to PDF. Build one per configuration and reuse it: the bundled fonts are
/// parsed once per process, registered fallback fonts once per renderer.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use invoice_core::{Currency, Customer, Invoice, Line};
/// use invoice_pdf::{DocumentId, RenderOptions, Renderer, Stamp};
/// use rust_decimal_macros::dec;
///
/// let mut options = RenderOptions::default();
/// options.branding.name = "Demo GmbH".into();
/// let renderer = Renderer::new(options)?;
/// let invoice = Invoice::builder(Customer::new("C1", "Łukasz Nowak"), Currency::EUR)
///     .number("INV-000001")
///     .line(Line::new("Consulting", dec!(2), dec!(100)).tax_rate(dec!(0.19)))
///     .build();
/// let stamp = Stamp::new(Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap(), DocumentId::from_name("INV-000001"));
/// let pdf = renderer.render(&invoice, &stamp)?;
/// assert!(pdf.starts_with(b"%PDF-"));
/// assert_eq!(pdf, renderer.render(&invoice, &stamp)?); // same input, same bytes
/// # Ok::<(), invoice_pdf::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Renderer {
    fonts: Fonts,
    options: RenderOptions,
}

/// Several invoices rendered into one PDF, and where each one's pages are.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// For each invoice, in the order given: its first page (0-based) and its page count.
    pub pages: Vec<(usize, usize)>,
}

/// A document being assembled from laid-out pages.
pub(crate) struct Assembly<'r> {
    pub(crate) res: Resources<'r>,
    pub(crate) pages: Vec<PdfPage>,
    renderer: &'r Renderer,
}

impl Renderer {
    /// A renderer with the bundled DejaVu Sans faces.
    pub fn new(options: RenderOptions) -> Result<Renderer> {
        Ok(Renderer { fonts: Fonts::bundled()?, options })
    }

    /// Register a fallback font (TrueType or OpenType bytes), used for characters the bundled
    /// faces lack, for example a CJK font. Fallbacks are tried in registration order.
    pub fn register_font(&mut self, name: &str, bytes: &[u8]) -> Result<&mut Renderer> {
        self.fonts.add_fallback(name, bytes)?;
        Ok(self)
    }

    /// The options the renderer was built with.
    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    /// Render one invoice to PDF bytes.
    pub fn render(&self, invoice: &Invoice, stamp: &Stamp) -> Result<Vec<u8>> {
        let mut doc = self.assembly(stamp);
        doc.add_invoice(invoice)?;
        let doc_title = format!("{} {}", title(&self.options, invoice), invoice.label());
        doc.finish(stamp, &doc_title)
    }

    /// Render one invoice into `w`.
    pub fn render_to<W: Write>(&self, invoice: &Invoice, stamp: &Stamp, mut w: W) -> Result<()> {
        let pdf = self.render(invoice, stamp)?;
        w.write_all(&pdf)?;
        Ok(())
    }

    /// Render several invoices into one PDF that embeds each font once (much smaller than one
    /// PDF per invoice merged together). Each invoice keeps its own "Page N of M".
    pub fn render_all(&self, invoices: &[&Invoice], stamp: &Stamp, title: &str) -> Result<Rendered> {
        let mut doc = self.assembly(stamp);
        let mut pages = Vec::with_capacity(invoices.len());
        for inv in invoices {
            let first = doc.pages.len();
            let n = doc.add_invoice(inv)?;
            pages.push((first, n));
        }
        let pdf = doc.finish(stamp, title)?;
        Ok(Rendered { pdf, pages })
    }

    pub(crate) fn assembly(&self, stamp: &Stamp) -> Assembly<'_> {
        let n = self.fonts.faces.len();
        let font_ids = (0..n).map(|i| FontId(format!("{}F{i}", stamp.id.subset_tag(i)))).collect();
        Assembly {
            res: Resources { fonts: &self.fonts, font_ids, used: vec![false; n], logo_used: false },
            pages: Vec::new(),
            renderer: self,
        }
    }
}

/// The totals of `inv`, or an error naming it.
pub(crate) fn totals(inv: &Invoice) -> Result<Totals> {
    inv.totals().map_err(|source| Error::Totals { invoice: inv.label(), source })
}

impl Assembly<'_> {
    /// Lay out `inv` and append its pages; returns its page count.
    pub(crate) fn add_invoice(&mut self, inv: &Invoice) -> Result<usize> {
        let totals = totals(inv)?;
        let pages = invoice_pages(&self.renderer.options, &mut self.res, inv, &totals)
            .map_err(|character| Error::MissingGlyph { invoice: inv.label(), character })?;
        let n = pages.len();
        self.pages.extend(pages);
        Ok(n)
    }

    /// Serialise: embed (subset) the fonts the pages use, set dates, the `/ID` and the subset
    /// tags from the stamp, compress.
    pub(crate) fn finish(self, stamp: &Stamp, title: &str) -> Result<Vec<u8>> {
        let Assembly { res, pages, renderer } = self;
        let mut doc = PdfDocument::new(title);
        let info = &mut doc.metadata.info;
        info.creation_date = stamp.pdf_date();
        info.modification_date = stamp.pdf_date();
        info.metadata_date = stamp.pdf_date();
        info.producer = "invoice-engine (invoice-pdf)".into();
        info.creator = "invoice-engine".into();
        info.author = renderer.options.branding.name.clone();
        info.identifier = stamp.id.to_string();
        for (i, face) in renderer.fonts.faces.iter().enumerate() {
            if res.used.get(i).copied().unwrap_or(false) {
                if let Some(id) = res.font_ids.get(i) {
                    doc.resources.fonts.map.insert(id.clone(), PdfFont::new(face.parsed.clone()));
                }
            }
        }
        if res.logo_used {
            if let Some(logo) = &renderer.options.branding.logo {
                doc.resources.xobjects.map.insert(XObjectId(LOGO_ID.into()), XObject::Image((*logo.image).clone()));
            }
        }
        doc.pages = pages;
        let opts = PdfSaveOptions { optimize: true, subset_fonts: true, secure: true, image_optimization: None };
        let mut warnings = Vec::new();
        let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
        // A font that cannot be subset is embedded whole: a bigger file, not a wrong one.
        let harmless = |m: &str| m.starts_with("Failed to subset font") || m.starts_with("Failed to parse subset font");
        if let Some(w) =
            warnings.iter().find(|w| w.severity == printpdf::PdfParseErrorSeverity::Error && !harmless(&w.msg))
        {
            return Err(Error::Render { message: w.msg.clone() });
        }
        // printpdf draws the /ID from a process-wide counter; replace both halves with ours.
        let id = stamp.id.to_string().into_bytes();
        if let Ok(parts) = lo.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
            for part in parts.iter_mut() {
                if let Ok(bytes) = part.as_str_mut() {
                    bytes.clone_from(&id);
                }
            }
        }
        lo.compress();
        let mut out = Vec::new();
        lo.save_to(&mut out)?;
        Ok(out)
    }
}
