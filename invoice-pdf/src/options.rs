//! What a renderer is configured with: page size, the seller's branding, labels, number and
//! date formats.

use std::sync::Arc;

use printpdf::{RawImage, RawImageData, RawImageFormat};

use crate::error::{Error, Result};
use crate::format::NumberFormat;

/// The paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageSize {
    /// ISO A4, 210 x 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 x 11 in.
    Letter,
}

impl PageSize {
    /// Width and height in pt (1/72 in).
    pub fn points(self) -> (f32, f32) {
        match self {
            PageSize::A4 => (595.28, 841.89),
            PageSize::Letter => (612.0, 792.0),
        }
    }
}

/// How the pixels of a [`Logo`] are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// One byte per pixel, grey.
    Gray8,
    /// Three bytes per pixel: red, green, blue.
    Rgb8,
    /// Four bytes per pixel: red, green, blue, alpha.
    Rgba8,
}

impl PixelFormat {
    fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
        }
    }
}

/// The seller's logo: decoded pixels (decode PNG or JPEG files with the image library of your
/// choice), drawn at the top left of the first page.
#[derive(Debug, Clone)]
pub struct Logo {
    pub(crate) image: Arc<RawImage>,
    /// Height on the page in pt (the width follows the aspect ratio, at most 180 pt). Default 40.
    pub height: f32,
}

impl Logo {
    /// A logo of `width` x `height` pixels; `pixels` holds them row by row, top row first.
    ///
    /// ```
    /// use invoice_pdf::{Logo, PixelFormat};
    /// let red = Logo::new(2, 1, PixelFormat::Rgb8, vec![255, 0, 0, 255, 0, 0]).unwrap();
    /// assert_eq!(red.height, 40.0);
    /// assert_eq!(Logo::new(2, 1, PixelFormat::Rgb8, vec![0; 5]).unwrap_err().code(), "invalid_logo");
    /// ```
    pub fn new(width: u32, height: u32, format: PixelFormat, pixels: Vec<u8>) -> Result<Logo> {
        let (w, h) = (width as usize, height as usize);
        let expected = w.checked_mul(h).and_then(|n| n.checked_mul(format.bytes_per_pixel()));
        if w == 0 || h == 0 {
            return Err(Error::InvalidLogo { reason: "the image has no pixels".into() });
        }
        if expected != Some(pixels.len()) {
            return Err(Error::InvalidLogo {
                reason: format!(
                    "{width} x {height} {format:?} pixels need {} bytes, got {}",
                    expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                    pixels.len()
                ),
            });
        }
        let data_format = match format {
            PixelFormat::Gray8 => RawImageFormat::R8,
            PixelFormat::Rgb8 => RawImageFormat::RGB8,
            PixelFormat::Rgba8 => RawImageFormat::RGBA8,
        };
        let image = RawImage { pixels: RawImageData::U8(pixels), width: w, height: h, data_format, tag: Vec::new() };
        Ok(Logo { image: Arc::new(image), height: 40.0 })
    }

    /// Width and height in pt on the page.
    /// Whether the pixels carry an alpha channel (written as a soft mask).
    pub(crate) fn has_alpha(&self) -> bool {
        matches!(self.image.data_format, RawImageFormat::RGBA8)
    }

    pub(crate) fn size(&self) -> (f32, f32) {
        let ratio = self.image.width as f32 / self.image.height as f32;
        let h = self.height.clamp(8.0, 120.0);
        let w = h * ratio;
        if w > 180.0 {
            (180.0, 180.0 / ratio)
        } else {
            (w, h)
        }
    }
}

/// Who sends the invoice: printed at the top of the first page and in every footer.
#[derive(Debug, Clone, Default)]
pub struct Branding {
    /// The seller's name.
    pub name: String,
    /// An optional logo above the name.
    pub logo: Option<Logo>,
    /// Postal address, one entry per line.
    pub address_lines: Vec<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Web address.
    pub web: Option<String>,
    /// VAT or other tax id.
    pub tax_id: Option<String>,
    /// A message printed at the end of every invoice (payment instructions, a thank-you ...).
    pub message: Option<String>,
}

/// Every fixed text of the documents, English by default. `{n}`, `{m}`, `{days}`, `{count}` and
/// `{period}` are replaced where noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// Default: "Invoice".
    pub invoice: String,
    /// Default: "Credit note".
    pub credit_note: String,
    /// Default: "Adjustment invoice".
    pub adjustment: String,
    /// Prefixed to the title of an invoice without a number. Default: "Draft".
    pub draft: String,
    /// Default: "Number".
    pub number: String,
    /// Default: "Issue date".
    pub issue_date: String,
    /// Default: "Due date".
    pub due_date: String,
    /// Default: "Terms".
    pub terms: String,
    /// `{days}`: days between issue and due date. Default: "Net {days} days".
    pub net_days: String,
    /// Default: "Due on receipt".
    pub due_on_receipt: String,
    /// Default: "Customer no.".
    pub customer_id: String,
    /// Default: "Project".
    pub project: String,
    /// Default: "Billing period".
    pub billing_period: String,
    /// Before the number of the invoice a credit note credits. Default: "Credits invoice".
    pub credits: String,
    /// Before the number of the invoice an adjustment corrects. Default: "Corrects invoice".
    pub corrects: String,
    /// Default: "Bill to".
    pub bill_to: String,
    /// Default: "Tax ID".
    pub tax_id: String,
    /// Default: "Description".
    pub description: String,
    /// Default: "Qty".
    pub quantity: String,
    /// Default: "Unit price".
    pub unit_price: String,
    /// Default: "Tax".
    pub tax_rate: String,
    /// Default: "Amount".
    pub amount: String,
    /// Default: "Service date".
    pub service_date: String,
    /// Default: "Net total".
    pub net_total: String,
    /// A tax line of the breakdown: `{rate}`, `{base}`. Default: "Tax {rate} on {base}".
    pub tax_line: String,
    /// Default: "Total".
    pub total: String,
    /// Default: "Total credit".
    pub total_credit: String,
    /// `{n}` of `{m}`. Default: "Page {n} of {m}".
    pub page: String,
    /// Default: "continued".
    pub continued: String,
    /// Default: "zero rated".
    pub zero_rated: String,
    /// Default: "exempt".
    pub exempt: String,
    /// Default: "reverse charge".
    pub reverse_charge: String,
    /// Default: "intra-community supply".
    pub intra_community: String,
    /// Default: "export".
    pub export: String,
    /// Default: "outside the scope of tax".
    pub outside_scope: String,
    /// Title of a backup's first page: `{period}`. Default: "Backup {period}".
    pub backup_title: String,
    /// Default: "Page".
    pub backup_page: String,
    /// Default: "Customer".
    pub backup_customer: String,
    /// Default: "Att.".
    pub backup_attachments: String,
    /// The control total of one currency: `{count}` invoices. Default: "Control total, {count} documents".
    pub control_total: String,
    /// Said under the control totals. Default: "Credit notes count negative.".
    pub credit_notes_subtract: String,
}

impl Default for Labels {
    fn default() -> Self {
        let s = |t: &str| t.to_string();
        Labels {
            invoice: s("Invoice"),
            credit_note: s("Credit note"),
            adjustment: s("Adjustment invoice"),
            draft: s("Draft"),
            number: s("Number"),
            issue_date: s("Issue date"),
            due_date: s("Due date"),
            terms: s("Terms"),
            net_days: s("Net {days} days"),
            due_on_receipt: s("Due on receipt"),
            customer_id: s("Customer no."),
            project: s("Project"),
            billing_period: s("Billing period"),
            credits: s("Credits invoice"),
            corrects: s("Corrects invoice"),
            bill_to: s("Bill to"),
            tax_id: s("Tax ID"),
            description: s("Description"),
            quantity: s("Qty"),
            unit_price: s("Unit price"),
            tax_rate: s("Tax"),
            amount: s("Amount"),
            service_date: s("Service date"),
            net_total: s("Net total"),
            tax_line: s("Tax {rate} on {base}"),
            total: s("Total"),
            total_credit: s("Total credit"),
            page: s("Page {n} of {m}"),
            continued: s("continued"),
            zero_rated: s("zero rated"),
            exempt: s("exempt"),
            reverse_charge: s("reverse charge"),
            intra_community: s("intra-community supply"),
            export: s("export"),
            outside_scope: s("outside the scope of tax"),
            backup_title: s("Backup {period}"),
            backup_page: s("Page"),
            backup_customer: s("Customer"),
            backup_attachments: s("Att."),
            control_total: s("Control total, {count} documents"),
            credit_notes_subtract: s("Credit notes count negative."),
        }
    }
}

/// Everything a [`Renderer`](crate::Renderer) is configured with.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// A4 (default) or Letter.
    pub page_size: PageSize,
    /// The seller.
    pub branding: Branding,
    /// Fixed texts.
    pub labels: Labels,
    /// Separators of numbers.
    pub numbers: NumberFormat,
    /// A chrono format string for dates; default `%Y-%m-%d`.
    pub date_format: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            page_size: PageSize::A4,
            branding: Branding::default(),
            labels: Labels::default(),
            numbers: NumberFormat::default(),
            date_format: "%Y-%m-%d".into(),
        }
    }
}

/// Replace `{key}` by `value` in a label.
pub(crate) fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
