//! The page layout of one invoice: header with branding and meta, customer block, a line table
//! that continues over as many pages as needed (header row repeated), tax breakdown, totals,
//! memo, and "Page N of M" footers.

use invoice_core::{Invoice, Kind, TaxCategory, Totals};

use crate::canvas::{Align, Canvas, Page, Resources, FILL, INK, MUTED, RULE};
use crate::fonts::{clean, Style};
use crate::format::date;
use crate::options::{fill, RenderOptions};

/// Drawing fails only on a character no font has.
pub(crate) type Draw<T> = std::result::Result<T, char>;

pub(crate) const MARGIN_X: f32 = 48.0;
pub(crate) const MARGIN_TOP: f32 = 46.0;
pub(crate) const MARGIN_BOTTOM: f32 = 60.0;
/// Baseline of the footer, from the bottom edge.
const FOOTER: f32 = 30.0;
const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LINE: f32 = 11.5;
const PAD: f32 = 4.0;
const GAP: f32 = 8.0;
const HEADER_ROW: f32 = 18.0;

/// Wrap `text` to `max` pt: words stay whole unless one alone is too wide; `\n` breaks lines.
pub(crate) fn wrap(res: &Resources<'_>, text: &str, style: Style, size: f32, max: f32) -> Draw<Vec<String>> {
    let text = clean(text);
    let space = res.width(" ", style, size)?;
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0f32;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let w = res.width(word, style, size)?;
            if !line.is_empty() && line_w + space + w <= max {
                line.push(' ');
                line.push_str(word);
                line_w += space + w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if w <= max {
                line.push_str(word);
                line_w = w;
                continue;
            }
            // A word wider than the column: break it between characters.
            for c in word.chars() {
                let cw = res.width(c.encode_utf8(&mut [0u8; 4]), style, size)?;
                if !line.is_empty() && line_w + cw > max {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(c);
                line_w += cw;
            }
        }
        lines.push(line);
    }
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    Ok(lines)
}

/// The largest size up to `size` at which `text` fits in `max` pt (never below 4 pt).
pub(crate) fn fit(res: &Resources<'_>, text: &str, style: Style, size: f32, max: f32) -> Draw<f32> {
    let w = res.width(text, style, size)?;
    Ok(if w <= max || w <= 0.0 { size } else { (size * max / w).max(4.0) })
}

/// Shorten `text` with an ellipsis until it fits in `max` pt.
pub(crate) fn ellipsize(res: &Resources<'_>, text: &str, style: Style, size: f32, max: f32) -> Draw<String> {
    let text = clean(text).replace('\n', " ");
    if res.width(&text, style, size)? <= max {
        return Ok(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if res.width(&candidate, style, size)? <= max {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}

/// The title of an invoice: its kind, with the draft prefix when it has no number.
pub(crate) fn title(opts: &RenderOptions, inv: &Invoice) -> String {
    let l = &opts.labels;
    let kind = match inv.kind {
        Kind::Invoice => &l.invoice,
        Kind::CreditNote { .. } => &l.credit_note,
        Kind::Adjustment { .. } => &l.adjustment,
        // Kind is not non_exhaustive today; keep a neutral title should it grow.
        #[allow(unreachable_patterns)]
        _ => &l.invoice,
    };
    match inv.number {
        Some(_) => kind.clone(),
        None => format!("{} {}", l.draft, kind.to_lowercase()),
    }
}

/// Columns of the line table: right edges and widths of the number columns, description width.
struct Columns {
    desc_x: f32,
    desc_w: f32,
    qty_r: f32,
    price_r: f32,
    tax_r: f32,
    amount_r: f32,
    qty_w: f32,
    price_w: f32,
    tax_w: f32,
    amount_w: f32,
}

impl Columns {
    fn new(left: f32, right: f32) -> Columns {
        let (amount_w, tax_w, price_w, qty_w) = (82.0, 46.0, 74.0, 52.0);
        let amount_r = right;
        let tax_r = amount_r - amount_w - GAP;
        let price_r = tax_r - tax_w - GAP;
        let qty_r = price_r - price_w - GAP;
        let desc_w = qty_r - qty_w - GAP - left;
        Columns { desc_x: left, desc_w, qty_r, price_r, tax_r, amount_r, qty_w, price_w, tax_w, amount_w }
    }
}

/// One invoice being laid out over pages.
struct Flow<'a, 'o> {
    opts: &'o RenderOptions,
    inv: &'a Invoice,
    pages: Vec<Canvas>,
    y: f32,
    width: f32,
    height: f32,
    left: f32,
    right: f32,
    bottom: f32,
    title: String,
}

impl Flow<'_, '_> {
    fn canvas(&mut self) -> &mut Canvas {
        if self.pages.is_empty() {
            self.pages.push(Canvas::new(self.width, self.height));
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Start a continuation page: a one-line header, then the flow continues below it.
    fn new_page(&mut self, res: &mut Resources<'_>) -> Draw<()> {
        self.pages.push(Canvas::new(self.width, self.height));
        let (left, right) = (self.left, self.right);
        let seller = self.opts.branding.name.clone();
        let head = format!("{} {} ({})", self.title, self.inv.label(), self.opts.labels.continued);
        let y = MARGIN_TOP + 10.0;
        let page = self.canvas();
        page.text(res, right, y, Align::Right, BODY, Style::Regular, MUTED, &head)?;
        if !seller.is_empty() {
            let max = (right - left) * 0.45;
            let name = ellipsize(res, &seller, Style::Bold, 10.0, max)?;
            page.text(res, left, y, Align::Left, 10.0, Style::Bold, INK, &name)?;
        }
        page.rule(left, right, y + 8.0, 0.5, RULE);
        self.y = y + 22.0;
        Ok(())
    }

    /// Make room for `h` pt, starting a new page when the current one is full.
    fn ensure(&mut self, res: &mut Resources<'_>, h: f32) -> Draw<bool> {
        if self.y + h > self.bottom {
            self.new_page(res)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Lay out `inv` (whose totals are `totals`) as pages.
pub(crate) fn invoice_pages(
    opts: &RenderOptions,
    res: &mut Resources<'_>,
    inv: &Invoice,
    totals: &Totals,
) -> Draw<Vec<Page>> {
    let (width, height) = opts.page_size.points();
    let mut flow = Flow {
        opts,
        inv,
        pages: Vec::new(),
        y: MARGIN_TOP,
        width,
        height,
        left: MARGIN_X,
        right: width - MARGIN_X,
        bottom: height - MARGIN_BOTTOM,
        title: title(opts, inv),
    };
    header(&mut flow, res)?;
    table(&mut flow, res, totals)?;
    summary(&mut flow, res, totals)?;
    notes(&mut flow, res)?;
    footers(&mut flow, res)?;
    Ok(flow.pages.into_iter().map(Canvas::into_page).collect())
}

fn header(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>) -> Draw<()> {
    let opts = flow.opts;
    let inv = flow.inv;
    let l = &opts.labels;
    let b = &opts.branding;
    let (left, right) = (flow.left, flow.right);
    let meta_x = right - 215.0;
    let left_w = meta_x - left - 12.0;

    // Left: logo, seller name, address and contact lines.
    let mut y = MARGIN_TOP;
    if let Some(logo) = &b.logo {
        let (w, h) = logo.size();
        flow.canvas().logo(res, left, y, w, h);
        y += h + 8.0;
    }
    if !b.name.is_empty() {
        for line in wrap(res, &b.name, Style::Bold, 14.0, left_w)? {
            y += 16.0;
            flow.canvas().text(res, left, y, Align::Left, 14.0, Style::Bold, INK, &line)?;
        }
        y += 3.0;
    }
    let mut contact: Vec<String> = b.address_lines.clone();
    contact.extend(b.phone.iter().cloned());
    contact.extend(b.email.iter().cloned());
    contact.extend(b.web.iter().cloned());
    if let Some(t) = &b.tax_id {
        contact.push(format!("{} {t}", l.tax_id));
    }
    for entry in &contact {
        for line in wrap(res, entry, Style::Regular, 8.5, left_w)? {
            y += 11.0;
            flow.canvas().text(res, left, y, Align::Left, 8.5, Style::Regular, MUTED, &line)?;
        }
    }
    let left_bottom = y;

    // Right: title and meta rows.
    let mut ry = MARGIN_TOP + 18.0;
    let title = flow.title.clone();
    let size = fit(res, &title, Style::Bold, 18.0, right - meta_x)?;
    flow.canvas().text(res, right, ry, Align::Right, size, Style::Bold, INK, &title)?;
    ry += 8.0;
    let mut rows: Vec<(&str, String)> = vec![(&l.number, inv.label())];
    if let Some(d) = inv.issue_date {
        rows.push((&l.issue_date, date(d, &opts.date_format)));
    }
    if let Some(d) = inv.due_date {
        rows.push((&l.due_date, date(d, &opts.date_format)));
    }
    if let (Some(i), Some(d)) = (inv.issue_date, inv.due_date) {
        let days = (d - i).num_days();
        let terms =
            if days <= 0 { l.due_on_receipt.clone() } else { fill(&l.net_days, &[("days", &days.to_string())]) };
        rows.push((&l.terms, terms));
    }
    if !inv.customer.id.is_empty() {
        rows.push((&l.customer_id, inv.customer.id.clone()));
    }
    if let Some(p) = &inv.project {
        rows.push((&l.project, p.clone()));
    }
    if let Some(p) = inv.billing_period {
        rows.push((
            &l.billing_period,
            format!("{} – {}", date(p.start, &opts.date_format), date(p.end, &opts.date_format)),
        ));
    }
    match &inv.kind {
        Kind::CreditNote { credits: Some(n) } => rows.push((&l.credits, n.clone())),
        Kind::Adjustment { corrects } => rows.push((&l.corrects, corrects.clone())),
        _ => {}
    }
    let label_w = 84.0;
    let value_x = meta_x + label_w;
    for (label, value) in rows {
        let lines = wrap(res, &value, Style::Regular, BODY, right - value_x)?;
        ry += LINE;
        let label = ellipsize(res, label, Style::Regular, 8.0, label_w - 4.0)?;
        flow.canvas().text(res, meta_x, ry, Align::Left, 8.0, Style::Regular, MUTED, &label)?;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                ry += LINE;
            }
            flow.canvas().text(res, value_x, ry, Align::Left, BODY, Style::Regular, INK, line)?;
        }
    }

    // Customer block.
    let mut y = left_bottom.max(ry) + 24.0;
    let c = &inv.customer;
    let cust_w = (right - left) * 0.6;
    flow.canvas().text(res, left, y, Align::Left, SMALL, Style::Bold, MUTED, &l.bill_to.to_uppercase())?;
    y += 2.0;
    for line in wrap(res, &c.name, Style::Bold, 11.0, cust_w)? {
        y += 13.5;
        flow.canvas().text(res, left, y, Align::Left, 11.0, Style::Bold, INK, &line)?;
    }
    let mut lines: Vec<String> = c.address_lines.clone();
    if let Some(t) = &c.tax_id {
        lines.push(format!("{} {t}", l.tax_id));
    }
    lines.extend(c.email.iter().cloned());
    for entry in &lines {
        for line in wrap(res, entry, Style::Regular, BODY, cust_w)? {
            y += LINE;
            flow.canvas().text(res, left, y, Align::Left, BODY, Style::Regular, INK, &line)?;
        }
    }
    flow.y = y + 22.0;
    Ok(())
}

fn table_header(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>, cols: &Columns) -> Draw<()> {
    let l = &flow.opts.labels;
    let currency = flow.inv.currency.code();
    let y = flow.y;
    let (left, right) = (flow.left, flow.right);
    let amount = format!("{} ({currency})", l.amount);
    let base = y + 12.3;
    let size = 8.0;
    let page = flow.canvas();
    page.fill(left - 4.0, y, right - left + 8.0, HEADER_ROW, FILL);
    page.text(res, cols.desc_x, base, Align::Left, size, Style::Bold, INK, &l.description)?;
    let cells = [
        (&l.quantity, cols.qty_r, cols.qty_w),
        (&l.unit_price, cols.price_r, cols.price_w),
        (&l.tax_rate, cols.tax_r, cols.tax_w),
        (&amount, cols.amount_r, cols.amount_w),
    ];
    for (text, r, w) in cells {
        let s = fit(res, text, Style::Bold, size, w)?;
        page.text(res, r, base, Align::Right, s, Style::Bold, INK, text)?;
    }
    flow.y = y + HEADER_ROW;
    Ok(())
}

/// The tax cell of a line: its rate, with the category code when it is not standard rated.
fn tax_cell(opts: &RenderOptions, rate: rust_decimal::Decimal, category: TaxCategory) -> String {
    let r = opts.numbers.rate(rate);
    match category {
        TaxCategory::Standard | TaxCategory::ZeroRated => r,
        other => format!("{r} {}", other.code()),
    }
}

fn category_name(opts: &RenderOptions, category: TaxCategory) -> Option<&str> {
    let l = &opts.labels;
    match category {
        TaxCategory::Standard => None,
        TaxCategory::ZeroRated => Some(&l.zero_rated),
        TaxCategory::Exempt => Some(&l.exempt),
        TaxCategory::ReverseCharge => Some(&l.reverse_charge),
        TaxCategory::IntraCommunity => Some(&l.intra_community),
        TaxCategory::Export => Some(&l.export),
        TaxCategory::OutsideScope => Some(&l.outside_scope),
    }
}

fn table(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>, totals: &Totals) -> Draw<()> {
    let opts = flow.opts;
    let inv = flow.inv;
    let nf = &opts.numbers;
    let exp = inv.currency.exponent();
    let cols = Columns::new(flow.left, flow.right);
    // Room for the header row and one line, or start on a fresh page.
    flow.ensure(res, HEADER_ROW + 2.0 * PAD + LINE)?;
    table_header(flow, res, &cols)?;
    // How many description lines fit on an empty continuation page.
    let empty_top = MARGIN_TOP + 10.0 + 22.0 + HEADER_ROW;
    let capacity = (((flow.bottom - empty_top - 2.0 * PAD) / LINE).floor() as usize).max(1);

    for (i, line) in inv.lines.iter().enumerate() {
        let mut text: Vec<(String, f32, f32)> = wrap(res, &line.description, Style::Regular, BODY, cols.desc_w)?
            .into_iter()
            .map(|t| (t, BODY, INK))
            .collect();
        if let Some(d) = line.service_date {
            text.push((format!("{} {}", opts.labels.service_date, date(d, &opts.date_format)), SMALL, MUTED));
        }
        let net = totals.line_nets.get(i).copied().unwrap_or_default();
        let numbers = [
            (nf.decimal(line.quantity, 0), cols.qty_r, cols.qty_w),
            (nf.decimal(line.unit_price, exp), cols.price_r, cols.price_w),
            (tax_cell(opts, line.tax_rate, line.effective_tax_category()), cols.tax_r, cols.tax_w),
            (nf.amount(net, exp), cols.amount_r, cols.amount_w),
        ];
        let mut start = 0;
        let mut first = true;
        while start < text.len() {
            let rest = text.len() - start;
            let room = ((flow.bottom - flow.y - 2.0 * PAD) / LINE).floor().max(0.0) as usize;
            // Keep a row whole when it fits on an empty page; split only rows longer than a page.
            if room == 0 || (first && rest > room && rest <= capacity) {
                flow.new_page(res)?;
                table_header(flow, res, &cols)?;
                continue;
            }
            let take = rest.min(room);
            let y0 = flow.y + PAD;
            for (k, (t, size, grey)) in text[start..start + take].iter().enumerate() {
                let base = y0 + k as f32 * LINE + 9.0;
                flow.canvas().text(res, cols.desc_x, base, Align::Left, *size, Style::Regular, *grey, t)?;
            }
            if first {
                for (t, r, w) in &numbers {
                    let s = fit(res, t, Style::Regular, BODY, *w)?;
                    flow.canvas().text(res, *r, y0 + 9.0, Align::Right, s, Style::Regular, INK, t)?;
                }
                first = false;
            }
            flow.y = y0 + take as f32 * LINE + PAD;
            let (l, r, y) = (flow.left, flow.right, flow.y);
            flow.canvas().rule(l, r, y, 0.4, RULE);
            start += take;
            if start < text.len() {
                flow.new_page(res)?;
                table_header(flow, res, &cols)?;
            }
        }
    }
    flow.y += 10.0;
    Ok(())
}

fn summary(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>, totals: &Totals) -> Draw<()> {
    let opts = flow.opts;
    let inv = flow.inv;
    let l = &opts.labels;
    let nf = &opts.numbers;
    let exp = inv.currency.exponent();
    let currency = inv.currency.code();
    let mut rows: Vec<(String, String)> = vec![(l.net_total.clone(), nf.amount(totals.net, exp))];
    for g in &totals.tax_groups {
        let mut label = fill(&l.tax_line, &[("rate", &nf.rate(g.rate)), ("base", &nf.amount(g.taxable, exp))]);
        if let Some(name) = category_name(opts, g.category) {
            label = format!("{label} ({name})");
        }
        rows.push((label, nf.amount(g.tax, exp)));
    }
    let total_label = if inv.kind.is_credit() { &l.total_credit } else { &l.total };
    let (right, w) = (flow.right, 290.0f32.min(flow.right - flow.left));
    let x = right - w;
    let value_w = 88.0;
    let mut wrapped = Vec::with_capacity(rows.len());
    for (label, value) in rows {
        wrapped.push((wrap(res, &label, Style::Regular, BODY, w - value_w - GAP)?, value));
    }
    let lines: usize = wrapped.iter().map(|(l, _)| l.len()).sum();
    flow.ensure(res, lines as f32 * 13.0 + 30.0)?;
    let mut y = flow.y;
    for (label, value) in wrapped {
        for (i, line) in label.iter().enumerate() {
            y += 13.0;
            flow.canvas().text(res, x, y, Align::Left, BODY, Style::Regular, MUTED, line)?;
            if i == 0 {
                let s = fit(res, &value, Style::Regular, BODY, value_w)?;
                flow.canvas().text(res, right, y, Align::Right, s, Style::Regular, INK, &value)?;
            }
        }
    }
    y += 7.0;
    flow.canvas().rule(x, right, y, 0.8, INK);
    y += 15.0;
    let label = format!("{total_label} {currency}");
    flow.canvas().text(res, x, y, Align::Left, 11.0, Style::Bold, INK, &label)?;
    let gross = nf.amount(totals.gross, exp);
    let s = fit(res, &gross, Style::Bold, 11.0, w - res.width(&label, Style::Bold, 11.0)? - 10.0)?;
    flow.canvas().text(res, right, y, Align::Right, s, Style::Bold, INK, &gross)?;
    flow.y = y + 22.0;
    Ok(())
}

fn notes(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>) -> Draw<()> {
    let width = flow.right - flow.left;
    let memo = flow.inv.memo.clone();
    let message = flow.opts.branding.message.clone().unwrap_or_default();
    for (text, grey, size) in [(memo, INK, BODY), (message, MUTED, 8.5)] {
        if text.trim().is_empty() {
            continue;
        }
        for line in wrap(res, &text, Style::Regular, size, width)? {
            flow.ensure(res, LINE)?;
            flow.y += LINE;
            let (x, y) = (flow.left, flow.y);
            flow.canvas().text(res, x, y, Align::Left, size, Style::Regular, grey, &line)?;
        }
        flow.y += 10.0;
    }
    Ok(())
}

fn footers(flow: &mut Flow<'_, '_>, res: &mut Resources<'_>) -> Draw<()> {
    let m = flow.pages.len().to_string();
    let seller = &flow.opts.branding.name;
    let label = flow.inv.label();
    let left_text = if seller.is_empty() { label } else { format!("{seller} · {label}") };
    let (left, right, y) = (flow.left, flow.right, flow.height - FOOTER);
    let left_text = ellipsize(res, &left_text, Style::Regular, SMALL, (right - left) * 0.7)?;
    for (i, page) in flow.pages.iter_mut().enumerate() {
        let n = (i + 1).to_string();
        let text = fill(&flow.opts.labels.page, &[("n", &n), ("m", &m)]);
        page.rule(left, right, y - 11.0, 0.4, RULE);
        page.text(res, left, y, Align::Left, SMALL, Style::Regular, MUTED, &left_text)?;
        page.text(res, right, y, Align::Right, SMALL, Style::Regular, MUTED, &text)?;
    }
    Ok(())
}

/// One invoice on the first page of a backup.
#[derive(Debug, Clone)]
pub(crate) struct SummaryRow {
    pub(crate) number: String,
    pub(crate) customer: String,
    pub(crate) date: String,
    pub(crate) attachments: usize,
    /// 1-based page of the compiled PDF where the invoice starts.
    pub(crate) page: usize,
    /// Gross amount, negative for credit notes, formatted.
    pub(crate) total: String,
    pub(crate) currency: String,
}

/// The control total of one currency.
#[derive(Debug, Clone)]
pub(crate) struct ControlTotal {
    pub(crate) currency: String,
    pub(crate) count: usize,
    pub(crate) amount: String,
}

const SUMMARY_ROW: f32 = 15.0;
const SUMMARY_TOP_FIRST: f32 = MARGIN_TOP + 62.0;
const SUMMARY_TOP_NEXT: f32 = MARGIN_TOP + 32.0;

/// Which rows go on which summary page, and whether the control totals need a page of their own.
fn summary_plan(height: f32, rows: usize, totals: usize) -> (Vec<std::ops::Range<usize>>, bool) {
    let bottom = height - MARGIN_BOTTOM;
    let per = |top: f32| (((bottom - top) / SUMMARY_ROW).floor() as usize).max(1);
    let mut pages = Vec::new();
    let mut start = 0;
    let mut top = SUMMARY_TOP_FIRST;
    loop {
        let end = (start + per(top)).min(rows);
        pages.push(start..end);
        start = end;
        if start >= rows {
            break;
        }
        top = SUMMARY_TOP_NEXT;
    }
    let used = top + (pages.last().map_or(0, |r| r.len()) as f32) * SUMMARY_ROW;
    let totals_h = (totals as f32 + 2.0) * 14.0 + 12.0;
    (pages, used + totals_h > bottom)
}

/// How many pages the summary of `rows` invoices and `totals` currencies takes.
pub(crate) fn summary_page_count(opts: &RenderOptions, rows: usize, totals: usize) -> usize {
    let (_, height) = opts.page_size.points();
    let (pages, extra) = summary_plan(height, rows, totals);
    pages.len() + usize::from(extra)
}

/// The first page(s) of a backup: the invoices of the period with their page numbers and
/// totals, then the control totals per currency.
pub(crate) fn summary_pages(
    opts: &RenderOptions,
    res: &mut Resources<'_>,
    heading: &str,
    rows: &[SummaryRow],
    totals: &[ControlTotal],
) -> Draw<Vec<Page>> {
    let l = &opts.labels;
    let (width, height) = opts.page_size.points();
    let (left, right) = (MARGIN_X, width - MARGIN_X);
    let (plan, extra) = summary_plan(height, rows.len(), totals.len());
    let count = plan.len() + usize::from(extra);
    // Columns: number, customer, date, attachments, page, total.
    let total_r = right;
    let page_r = right - 110.0;
    let att_r = page_r - 40.0;
    let date_x = att_r - 105.0;
    let number_x = left;
    let customer_x = left + 110.0;
    let customer_w = date_x - customer_x - GAP;
    let mut pages = Vec::with_capacity(count);
    let mut y_end = 0.0;
    for (i, range) in plan.iter().enumerate() {
        let mut page = Canvas::new(width, height);
        let mut y = if i == 0 {
            if !opts.branding.name.is_empty() {
                page.text(res, left, MARGIN_TOP + 10.0, Align::Left, BODY, Style::Regular, MUTED, &opts.branding.name)?;
            }
            let size = fit(res, heading, Style::Bold, 16.0, right - left)?;
            page.text(res, left, MARGIN_TOP + 36.0, Align::Left, size, Style::Bold, INK, heading)?;
            SUMMARY_TOP_FIRST - HEADER_ROW
        } else {
            page.text(res, left, MARGIN_TOP + 10.0, Align::Left, BODY, Style::Regular, MUTED, heading)?;
            SUMMARY_TOP_NEXT - HEADER_ROW
        };
        page.fill(left - 4.0, y, right - left + 8.0, HEADER_ROW, FILL);
        let base = y + 12.3;
        page.text(res, number_x, base, Align::Left, 8.0, Style::Bold, INK, &l.number)?;
        page.text(res, customer_x, base, Align::Left, 8.0, Style::Bold, INK, &l.backup_customer)?;
        page.text(res, date_x, base, Align::Left, 8.0, Style::Bold, INK, &l.issue_date)?;
        page.text(res, att_r, base, Align::Right, 8.0, Style::Bold, INK, &l.backup_attachments)?;
        page.text(res, page_r, base, Align::Right, 8.0, Style::Bold, INK, &l.backup_page)?;
        page.text(res, total_r, base, Align::Right, 8.0, Style::Bold, INK, &l.total)?;
        y += HEADER_ROW;
        for row in &rows[range.clone()] {
            let base = y + 10.5;
            let number = ellipsize(res, &row.number, Style::Regular, BODY, customer_x - number_x - GAP)?;
            page.text(res, number_x, base, Align::Left, BODY, Style::Regular, INK, &number)?;
            let customer = ellipsize(res, &row.customer, Style::Regular, BODY, customer_w)?;
            page.text(res, customer_x, base, Align::Left, BODY, Style::Regular, INK, &customer)?;
            page.text(res, date_x, base, Align::Left, BODY, Style::Regular, INK, &row.date)?;
            page.text(res, att_r, base, Align::Right, BODY, Style::Regular, INK, &row.attachments.to_string())?;
            page.text(res, page_r, base, Align::Right, BODY, Style::Regular, INK, &row.page.to_string())?;
            let total = format!("{} {}", row.total, row.currency);
            let s = fit(res, &total, Style::Regular, BODY, total_r - page_r - GAP)?;
            page.text(res, total_r, base, Align::Right, s, Style::Regular, INK, &total)?;
            y += SUMMARY_ROW;
            page.rule(left, right, y - 2.0, 0.3, RULE);
        }
        y_end = y;
        pages.push(page);
    }
    if extra {
        let mut page = Canvas::new(width, height);
        page.text(res, left, MARGIN_TOP + 10.0, Align::Left, BODY, Style::Regular, MUTED, heading)?;
        pages.push(page);
        y_end = SUMMARY_TOP_NEXT;
    }
    if let Some(page) = pages.last_mut() {
        let mut y = y_end + 12.0;
        for t in totals {
            y += 14.0;
            let label = fill(&l.control_total, &[("count", &t.count.to_string())]);
            page.text(res, page_r - 150.0, y, Align::Left, BODY, Style::Bold, INK, &label)?;
            let amount = format!("{} {}", t.amount, t.currency);
            page.text(res, total_r, y, Align::Right, BODY, Style::Bold, INK, &amount)?;
        }
        y += 16.0;
        page.text(res, page_r - 150.0, y, Align::Left, SMALL, Style::Regular, MUTED, &l.credit_notes_subtract)?;
    }
    let m = pages.len().to_string();
    for (i, page) in pages.iter_mut().enumerate() {
        let n = (i + 1).to_string();
        let y = height - FOOTER;
        page.rule(left, right, y - 11.0, 0.4, RULE);
        let foot = ellipsize(res, heading, Style::Regular, SMALL, (right - left) * 0.7)?;
        page.text(res, left, y, Align::Left, SMALL, Style::Regular, MUTED, &foot)?;
        let text = fill(&l.page, &[("n", &n), ("m", &m)]);
        page.text(res, right, y, Align::Right, SMALL, Style::Regular, MUTED, &text)?;
    }
    Ok(pages.into_iter().map(Canvas::into_page).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts::Fonts;

    fn with_res<T>(f: impl FnOnce(&Resources<'_>) -> T) -> T {
        let fonts = Fonts::bundled().unwrap();
        let res = Resources::new(&fonts);
        f(&res)
    }

    #[test]
    fn wrap_keeps_words_whole_and_respects_the_width() {
        with_res(|res| {
            let text = "The quick brown fox jumps over the lazy dog again and again";
            let lines = wrap(res, text, Style::Regular, 9.0, 80.0).unwrap();
            assert!(lines.len() > 2);
            assert_eq!(lines.join(" "), text);
            for l in &lines {
                assert!(res.width(l, Style::Regular, 9.0).unwrap() <= 80.0, "{l}");
            }
            // A word wider than the column is broken between characters.
            let long = "x".repeat(200);
            let lines = wrap(res, &long, Style::Regular, 9.0, 50.0).unwrap();
            assert!(lines.len() > 3);
            assert_eq!(lines.concat(), long);
            // Newlines break lines and blank lines inside are kept; trailing ones are not.
            assert_eq!(wrap(res, "a\n\nb\n\n", Style::Regular, 9.0, 500.0).unwrap(), ["a", "", "b"]);
            assert_eq!(wrap(res, "", Style::Regular, 9.0, 500.0).unwrap(), [""]);
            assert_eq!(wrap(res, "tab\there", Style::Regular, 9.0, 500.0).unwrap(), ["tab here"]);
            assert_eq!(wrap(res, "株", Style::Regular, 9.0, 500.0), Err('株'));
        });
    }

    #[test]
    fn fit_and_ellipsize_shrink_to_the_space() {
        with_res(|res| {
            let s = fit(res, "123,456,789.00", Style::Regular, 9.0, 20.0).unwrap();
            assert!((4.0..9.0).contains(&s));
            assert_eq!(fit(res, "1", Style::Regular, 9.0, 20.0).unwrap(), 9.0);
            let e = ellipsize(res, "A very long customer name that cannot fit", Style::Regular, 9.0, 60.0).unwrap();
            assert!(e.ends_with('…') && res.width(&e, Style::Regular, 9.0).unwrap() <= 60.0, "{e}");
        });
    }

    #[test]
    fn summary_plan_covers_every_row_once() {
        for rows in [0, 1, 39, 40, 41, 120, 1000] {
            for totals in [1, 3, 30] {
                let (pages, extra) = summary_plan(841.89, rows, totals);
                let covered: usize = pages.iter().map(|r| r.len()).sum();
                assert_eq!(covered, rows);
                assert!(pages.windows(2).all(|w| w[0].end == w[1].start));
                let _ = extra;
            }
        }
    }
}
