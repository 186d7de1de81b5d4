//! A page being drawn: printpdf operations placed in pt from the top-left corner.
//!
//! Every string is drawn in its own text object with an absolute text matrix (`Tm`), never with
//! relative cursor moves (`Td`, PDF-NOTES printpdf 3), and every character goes through
//! [`Fonts::runs`] so that a missing glyph is an error instead of a silent blank.

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, PdfFontHandle, PdfPage, Point, Pt, Rect, TextItem,
    TextMatrix, XObjectId, XObjectTransform,
};

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

/// The fonts and resource names shared by every page of one PDF document.
pub(crate) struct Resources<'a> {
    pub(crate) fonts: &'a Fonts,
    /// Resource name of each face in this document (its first six letters are the subset tag).
    pub(crate) font_ids: Vec<FontId>,
    /// Which faces the document's pages use; only those are embedded.
    pub(crate) used: Vec<bool>,
    /// Whether a page draws the logo.
    pub(crate) logo_used: bool,
}

/// The resource name of the logo image.
pub(crate) const LOGO_ID: &str = "Logo";

impl Resources<'_> {
    /// The width of `text`; `Err(c)` names a character no face has.
    pub(crate) fn width(&self, text: &str, style: Style, size: f32) -> Result<f32, char> {
        self.fonts.width(text, style, size)
    }
}

/// Round a coordinate to 1/100 pt: shorter numbers in the content stream, same page.
fn at(v: f32) -> Pt {
    Pt((v * 100.0).round() / 100.0)
}

/// One page: its size and operations.
///
/// The canvas remembers the text and colour state it set, so consecutive strings share one
/// text object and a font or colour is only set when it changes (content streams are about a
/// third smaller, and so faster to write and compress).
pub(crate) struct Canvas {
    pub(crate) width: f32,
    pub(crate) height: f32,
    ops: Vec<Op>,
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
        Canvas { width, height, ops: Vec::with_capacity(256), in_text: false, font: None, fill: None, stroke: None }
    }

    fn end_text(&mut self) {
        if self.in_text {
            self.ops.push(Op::EndTextSection);
            self.in_text = false;
        }
    }

    fn set_fill(&mut self, grey: f32) {
        if self.fill != Some(grey) {
            self.ops.push(Op::SetFillColor { col: Canvas::grey(grey) });
            self.fill = Some(grey);
        }
    }

    pub(crate) fn into_page(mut self) -> PdfPage {
        self.end_text();
        let mut page = PdfPage::new(printpdf::Mm(0.0), printpdf::Mm(0.0), self.ops);
        let rect = Rect {
            x: Pt(0.0),
            y: Pt(0.0),
            width: Pt(self.width),
            height: Pt(self.height),
            mode: None,
            winding_order: None,
        };
        page.media_box = rect.clone();
        page.trim_box = rect.clone();
        page.crop_box = rect;
        page
    }

    fn grey(level: f32) -> Color {
        Color::Greyscale(Greyscale { percent: level, icc_profile: None })
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
        let runs = res.fonts.runs(text, style, size)?;
        let total: f32 = runs.iter().map(|r| r.width).sum();
        let mut pen = match align {
            Align::Left => x,
            Align::Right => x - total,
        };
        let baseline = self.height - y;
        if !self.in_text {
            self.ops.push(Op::StartTextSection);
            self.in_text = true;
        }
        self.set_fill(grey);
        for run in runs {
            if let Some(flag) = res.used.get_mut(run.face) {
                *flag = true;
            }
            let Some(id) = res.font_ids.get(run.face) else { continue };
            if self.font != Some((run.face, size)) {
                self.ops.push(Op::SetFont { font: PdfFontHandle::External(id.clone()), size: Pt(size) });
                self.font = Some((run.face, size));
            }
            // An absolute text matrix per run, never a relative move (PDF-NOTES, printpdf 3).
            self.ops.push(Op::SetTextMatrix { matrix: TextMatrix::Translate(at(pen), at(baseline)) });
            pen += run.width;
            self.ops.push(Op::ShowText { items: vec![TextItem::Text(run.text)] });
        }
        Ok(total)
    }

    /// A horizontal rule at `y` from `x0` to `x1`.
    pub(crate) fn rule(&mut self, x0: f32, x1: f32, y: f32, thickness: f32, grey: f32) {
        self.end_text();
        let y = self.height - y;
        if self.stroke != Some((grey, thickness)) {
            self.ops.push(Op::SetOutlineColor { col: Canvas::grey(grey) });
            self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
            self.stroke = Some((grey, thickness));
        }
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint { p: Point { x: at(x0), y: at(y) }, bezier: false },
                    LinePoint { p: Point { x: at(x1), y: at(y) }, bezier: false },
                ],
                is_closed: false,
            },
        });
    }

    /// A filled rectangle whose top-left corner is at (`x`, `y`).
    pub(crate) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        self.end_text();
        self.set_fill(grey);
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: at(x),
                y: at(self.height - y - h),
                width: at(w),
                height: at(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    /// The logo image, its top-left corner at (`x`, `y`), `w` x `h` pt.
    pub(crate) fn logo(&mut self, res: &mut Resources<'_>, x: f32, y: f32, w: f32, h: f32) {
        res.logo_used = true;
        self.end_text();
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::UseXobject {
            id: XObjectId(LOGO_ID.into()),
            transform: XObjectTransform {
                translate_x: Some(at(x)),
                translate_y: Some(at(self.height - y - h)),
                rotate: None,
                scale_x: Some(w),
                scale_y: Some(h),
                dpi: None,
                no_auto_scale: true,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }
}
