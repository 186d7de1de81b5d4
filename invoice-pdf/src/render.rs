//! The renderer: invoices to PDF bytes, one per file or many in one document sharing the fonts.

use std::io::Write;

use invoice_core::{Invoice, Totals};

use crate::canvas::{Page, Resources};
use crate::error::{Error, Result};
use crate::fonts::Fonts;
use crate::layout::{invoice_pages, title};
use crate::options::RenderOptions;
use crate::stamp::Stamp;
use crate::writer::{write, Meta};

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
    pub(crate) pages: Vec<Page>,
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
        let mut doc = self.assembly();
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
        let mut doc = self.assembly();
        let mut pages = Vec::with_capacity(invoices.len());
        for inv in invoices {
            let first = doc.pages.len();
            let n = doc.add_invoice(inv)?;
            pages.push((first, n));
        }
        let pdf = doc.finish(stamp, title)?;
        Ok(Rendered { pdf, pages })
    }

    pub(crate) fn assembly(&self) -> Assembly<'_> {
        Assembly { res: Resources::new(&self.fonts), pages: Vec::new(), renderer: self }
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

    /// Serialise: embed the fonts the pages use as subsets tagged from the stamp, set the
    /// dates and the `/ID` from the stamp, compress.
    pub(crate) fn finish(self, stamp: &Stamp, title: &str) -> Result<Vec<u8>> {
        let Assembly { res, pages, renderer } = self;
        let meta = Meta { title, author: &renderer.options.branding.name, stamp };
        write(&pages, &res, renderer.options.branding.logo.as_ref(), &meta)
    }
}
