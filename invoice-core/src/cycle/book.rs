//! The billing cycle inside the [`Book`]: its commands, events, and the readiness, chase-list,
//! generation and cycle views.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Billed, Breakdown, Chase, DeferredItem, EntryId, EntryState, Expense, ExpenseId, Grouping, Milestone, OwesApproval,
    OwesTime, Project, Readiness, Reason, TimeEntry,
};
use crate::book::Book;
use crate::command::{Command, Envelope, Event, Generated};
use crate::error::{Error, Result, Violation};
use crate::invoice::{Invoice, InvoiceId, Line, LineKind, Origin, Period};
use crate::money::positive_zero;
use crate::policy::{Actor, Role};
use crate::status::{Delivery, Document};

/// What [`Book::generate`] did for one project and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GenerateOutcome {
    /// A new invoice.
    Generated {
        /// The project.
        project: String,
        /// The period.
        period: Period,
        /// The invoice.
        invoice: InvoiceId,
        /// Its number.
        number: String,
    },
    /// The period was invoiced before; nothing new was created.
    AlreadyInvoiced {
        /// The project.
        project: String,
        /// The period.
        period: Period,
        /// The invoice it has.
        invoice: InvoiceId,
        /// Its number.
        number: String,
    },
    /// Still pending; see the reasons.
    NotReady {
        /// The project.
        project: String,
        /// The period.
        period: Period,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// The generated invoice would not be valid (e.g. the customer has no name).
    Invalid {
        /// The project.
        project: String,
        /// The period.
        period: Period,
        /// Every violation.
        violations: Vec<Violation>,
    },
}

/// One due (or invoiced) project and period of a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueProject {
    /// The project.
    pub project: String,
    /// The period.
    pub period: Period,
    /// Its scheduled invoice date.
    pub invoice_date: NaiveDate,
    /// Where it stands.
    pub readiness: Readiness,
}

/// A whole cycle: every project's periods invoiced within a window of dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleView {
    /// Invoice dates covered.
    pub window: Period,
    /// The day the view was taken.
    pub as_of: NaiveDate,
    /// Projects without a schedule, with their uninvoiced hours.
    pub missing_schedule: Vec<(String, Decimal)>,
    /// Due and not invoiced yet (pending or ready).
    pub to_invoice: Vec<DueProject>,
    /// Invoiced.
    pub invoiced: Vec<DueProject>,
    /// In the window but not due yet.
    pub not_due: Vec<DueProject>,
    /// Issued invoices dated in the window, ready to be sent.
    pub ready_to_send: Vec<InvoiceId>,
    /// Issued invoices dated in the window, sent.
    pub sent: Vec<InvoiceId>,
    /// True exactly when no due project of the window is left un-invoiced.
    pub clear: bool,
}

fn locked(what: String, reason: impl Into<String>) -> Error {
    Error::Locked { what, reason: reason.into() }
}

fn idx(id: u64) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

impl Book {
    // ------------------------------------------------------------------ queries

    /// Every project, by id.
    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.state.cycle.projects.values()
    }

    /// One project.
    pub fn project(&self, id: &str) -> Result<&Project> {
        self.state.cycle.projects.get(id).ok_or_else(|| Error::UnknownProject { id: id.to_string() })
    }

    /// Every person, by id.
    pub fn people(&self) -> impl Iterator<Item = &super::Person> {
        self.state.cycle.people.values()
    }

    /// Every time entry, in id order.
    pub fn time_entries(&self) -> &[super::TimeEntry] {
        &self.state.cycle.entries
    }

    /// One time entry.
    pub fn time_entry(&self, id: EntryId) -> Result<&super::TimeEntry> {
        idx(id.0)
            .and_then(|i| self.state.cycle.entries.get(i))
            .ok_or_else(|| Error::UnknownEntry { what: "time entry", id: id.0.to_string() })
    }

    /// Every expense, in id order.
    pub fn expenses(&self) -> &[super::Expense] {
        &self.state.cycle.expenses
    }

    /// Every milestone, by id.
    pub fn milestones(&self) -> impl Iterator<Item = &super::Milestone> {
        self.state.cycle.milestones.values()
    }

    /// What a generated invoice billed.
    pub fn billed_by(&self, invoice: InvoiceId) -> Option<&Billed> {
        self.state.cycle.billed.get(&invoice)
    }

    /// Whether approval flows are on.
    pub fn approval_flows(&self) -> bool {
        self.state.cycle.approval_flows
    }

    /// The project's billing period that contains `date` (`None` without a schedule).
    pub fn period_of(&self, project: &str, date: NaiveDate) -> Result<Option<Period>> {
        Ok(self.project(project)?.schedule.as_ref().and_then(|s| s.period_of(date)))
    }

    /// Can `project` be invoiced for `period` as of `as_of`? (see the [module rules](super)).
    pub fn readiness(&self, project: &str, period: &Period, as_of: NaiveDate) -> Result<Readiness> {
        let p = self.project(project)?;
        let Some(schedule) = &p.schedule else {
            let hours = self
                .state
                .cycle
                .project_entries(project)
                .filter(|e| e.billable && e.invoiced_by.is_none())
                .try_fold(Decimal::ZERO, |acc, e| acc.checked_add(e.hours))
                .ok_or(Error::Overflow { context: "uninvoiced hours" })?;
            return Ok(Readiness::MissingSchedule { uninvoiced_hours: hours });
        };
        if schedule.period_of(period.start) != Some(*period) {
            return Err(Error::NotAPeriod { project: project.to_string(), period: period.to_string() });
        }
        if let Some(invoice) = self.state.cycle.generated.get(project).and_then(|m| m.get(&period.start)) {
            return Ok(Readiness::Invoiced { invoice: *invoice, number: self.invoice(*invoice)?.label() });
        }
        let invoice_date = schedule
            .invoice_date(period)
            .ok_or_else(|| Error::NotAPeriod { project: project.to_string(), period: period.to_string() })?;
        if as_of < invoice_date {
            return Ok(Readiness::NotDue { invoice_date });
        }
        let b = self.breakdown(p, period)?;
        Ok(if b.reasons.is_empty() { Readiness::Ready(b) } else { Readiness::Pending(b) })
    }

    fn breakdown(&self, p: &Project, period: &Period) -> Result<Breakdown> {
        let c = &self.state.cycle;
        let flows = c.approval_flows;
        let overflow = || Error::Overflow { context: "readiness hours" };
        let mut b = Breakdown { approval_flows: flows, ..Breakdown::default() };
        for m in &p.members {
            let locked_until = c.people.get(m).and_then(|x| x.locked_until);
            let from = match locked_until.and_then(|d| d.succ_opt()) {
                Some(next) => next.max(period.start),
                None if locked_until.is_some() => continue,
                None => period.start,
            };
            if from <= period.end {
                let days = u32::try_from((period.end - from).num_days() + 1).unwrap_or(u32::MAX);
                b.open_days.push(Reason::OpenDays { person: m.clone(), locked_until, from, days });
            }
        }
        let mut open: BTreeMap<&str, (usize, Decimal)> = BTreeMap::new();
        let mut waiting: BTreeMap<&str, (Vec<EntryId>, Decimal)> = BTreeMap::new();
        for e in c.project_entries(&p.id) {
            if !(e.billable && e.invoiced_by.is_none() && period.contains(e.date)) {
                continue;
            }
            match e.state {
                EntryState::Open => {
                    b.open_hours = b.open_hours.checked_add(e.hours).ok_or_else(overflow)?;
                    let o = open.entry(&e.person).or_insert((0, Decimal::ZERO));
                    o.0 += 1;
                    o.1 = o.1.checked_add(e.hours).ok_or_else(overflow)?;
                }
                EntryState::Submitted => {
                    b.locked_hours = b.locked_hours.checked_add(e.hours).ok_or_else(overflow)?;
                    if flows {
                        let w = waiting.entry(&e.person).or_insert((Vec::new(), Decimal::ZERO));
                        w.0.push(e.id);
                        w.1 = w.1.checked_add(e.hours).ok_or_else(overflow)?;
                    }
                }
                EntryState::Approved => {
                    b.approved_hours = b.approved_hours.checked_add(e.hours).ok_or_else(overflow)?
                }
            }
        }
        b.reasons.extend(b.open_days.iter().cloned());
        for (person, (entries, hours)) in open {
            b.reasons.push(Reason::OpenEntries { person: person.to_string(), entries, hours });
        }
        for (person, (entries, hours)) in waiting {
            b.reasons.push(Reason::PendingApproval { person: person.to_string(), entries, hours });
        }
        for x in c.project_expenses(&p.id) {
            if !(x.billable && x.invoiced_by.is_none() && period.contains(x.date)) {
                continue;
            }
            let slot = b.expenses.entry(x.state).or_insert((0, Decimal::ZERO));
            slot.0 += 1;
            slot.1 = slot.1.checked_add(x.amount).ok_or_else(overflow)?;
            if x.currency != p.currency {
                b.reasons.push(Reason::ExpenseCurrency { expense: x.id, currency: x.currency });
            }
            match x.state {
                EntryState::Open => b.reasons.push(Reason::ExpenseOpen { expense: x.id }),
                EntryState::Submitted if flows => b.reasons.push(Reason::ExpensePendingApproval { expense: x.id }),
                _ => {}
            }
        }
        Ok(b)
    }

    /// Who holds up `project` for `period`: people who owe time (with the days they owe) and
    /// approvers who still have to approve (with the entries waiting). Empty lists when ready.
    pub fn chase(&self, project: &str, period: &Period, as_of: NaiveDate) -> Result<Chase> {
        let mut chase = Chase {
            project: project.to_string(),
            period: *period,
            time: Vec::new(),
            approvals: Vec::new(),
            open_expenses: Vec::new(),
        };
        let Readiness::Pending(b) = self.readiness(project, period, as_of)? else { return Ok(chase) };
        let p = self.project(project)?;
        let mut time: BTreeMap<String, OwesTime> = BTreeMap::new();
        let mut waiting_entries = Vec::new();
        let mut waiting_hours = Decimal::ZERO;
        let mut waiting_expenses = Vec::new();
        for r in &b.reasons {
            match r {
                Reason::OpenDays { person, locked_until, from, days } => {
                    let days = (0..u64::from(*days)).filter_map(|k| from.checked_add_days(Days::new(k))).collect();
                    let t = time.entry(person.clone()).or_insert_with(|| OwesTime {
                        person: person.clone(),
                        locked_until: *locked_until,
                        days: Vec::new(),
                        open_hours: Decimal::ZERO,
                    });
                    t.days = days;
                }
                Reason::OpenEntries { person, hours, .. } => {
                    let locked_until = self.state.cycle.people.get(person).and_then(|x| x.locked_until);
                    let t = time.entry(person.clone()).or_insert_with(|| OwesTime {
                        person: person.clone(),
                        locked_until,
                        days: Vec::new(),
                        open_hours: Decimal::ZERO,
                    });
                    t.open_hours = *hours;
                }
                Reason::PendingApproval { entries, hours, .. } => {
                    waiting_entries.extend(entries.iter().copied());
                    waiting_hours += *hours;
                }
                Reason::ExpensePendingApproval { expense } => waiting_expenses.push(*expense),
                Reason::ExpenseOpen { expense } => chase.open_expenses.push(*expense),
                Reason::ExpenseCurrency { .. } => {}
            }
        }
        chase.time = time.into_values().collect();
        if !waiting_entries.is_empty() || !waiting_expenses.is_empty() {
            let approvers = if p.approvers.is_empty() { vec![String::new()] } else { p.approvers.clone() };
            for approver in approvers {
                chase.approvals.push(OwesApproval {
                    approver,
                    entries: waiting_entries.clone(),
                    hours: waiting_hours,
                    expenses: waiting_expenses.clone(),
                });
            }
        }
        Ok(chase)
    }

    /// The chase list of a cycle: one [`Chase`] per pending project and period.
    pub fn chase_list(&self, window: &Period, as_of: NaiveDate) -> Result<Vec<Chase>> {
        let view = self.cycle_view(window, as_of)?;
        view.to_invoice
            .iter()
            .filter(|d| matches!(d.readiness, Readiness::Pending(_)))
            .map(|d| self.chase(&d.project, &d.period, as_of))
            .collect()
    }

    /// The cycle of every project for the periods whose scheduled invoice date falls within
    /// `window`, as of `as_of`.
    pub fn cycle_view(&self, window: &Period, as_of: NaiveDate) -> Result<CycleView> {
        let mut view = CycleView {
            window: *window,
            as_of,
            missing_schedule: Vec::new(),
            to_invoice: Vec::new(),
            invoiced: Vec::new(),
            not_due: Vec::new(),
            ready_to_send: Vec::new(),
            sent: Vec::new(),
            clear: true,
        };
        for p in self.state.cycle.projects.values() {
            let Some(schedule) = &p.schedule else {
                if let Readiness::MissingSchedule { uninvoiced_hours } = self.readiness(&p.id, window, as_of)? {
                    view.missing_schedule.push((p.id.clone(), uninvoiced_hours));
                }
                continue;
            };
            for period in p.periods_invoiced_between(window.start, window.end) {
                let invoice_date = schedule.invoice_date(&period).unwrap_or(period.end);
                let readiness = self.readiness(&p.id, &period, as_of)?;
                let due = DueProject { project: p.id.clone(), period, invoice_date, readiness };
                match due.readiness {
                    Readiness::Invoiced { .. } => view.invoiced.push(due),
                    Readiness::NotDue { .. } => view.not_due.push(due),
                    _ => {
                        view.clear = false;
                        view.to_invoice.push(due);
                    }
                }
            }
        }
        for inv in self.invoices() {
            if inv.status.document != Document::Issued || !inv.issue_date.is_some_and(|d| window.contains(d)) {
                continue;
            }
            match inv.status.delivery {
                Delivery::ReadyToSend => view.ready_to_send.push(inv.id),
                Delivery::Sent => view.sent.push(inv.id),
                Delivery::NotSent => {}
            }
        }
        Ok(view)
    }

    /// Generate the invoices of the ready projects (all, or those named) for the periods whose
    /// scheduled invoice date falls in `window` and has come (by the book's clock). Periods
    /// invoiced before are reported as such and nothing new is created for them.
    ///
    /// ```
    /// use invoice_core::*;
    /// use invoice_core::cycle::*;
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use rust_decimal_macros::dec;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
    /// let mut book = Book::with_clock(Settings::default(), clock);
    /// let fin = Actor::new("fred", Role::Finance);
    /// let mut project = Project::new("P1", "Website", Customer::new("C1", "Müller GmbH"), Currency::EUR);
    /// project.schedule = Some(Schedule::Monthly { invoice_day: InvoiceDay::Day(1) });
    /// project.members = vec!["ana".into()];
    /// book.apply(&fin, Command::SaveProject { project: Box::new(project) })?;
    /// book.apply(&fin, Command::SavePerson { person: Person::new("ana", "Ana Lima") })?;
    /// let ana = Actor::new("ana", Role::Consultant);
    /// let entry = TimeEntry::new("ana", "P1", d(11, 3), dec!(7.5), dec!(120));
    /// book.apply(&ana, Command::RecordTime { entries: vec![entry] })?;
    ///
    /// let november = Period::new(d(11, 1), d(11, 30));
    /// assert_eq!(book.readiness("P1", &november, d(12, 1))?.name(), "pending"); // ana never locked
    /// book.apply(&ana, Command::LockTime { person: "ana".into(), until: d(11, 30) })?;
    /// assert_eq!(book.readiness("P1", &november, d(12, 1))?.name(), "ready");
    ///
    /// let december = Period::new(d(12, 1), d(12, 31));
    /// let outcomes = book.generate(&fin, december, vec![])?;
    /// assert!(matches!(&outcomes[0], GenerateOutcome::Generated { number, .. } if number == "INV-000001"));
    /// let again = book.generate(&fin, december, vec![])?;
    /// assert!(matches!(&again[0], GenerateOutcome::AlreadyInvoiced { .. }));
    /// # Ok::<(), invoice_core::Error>(())
    /// ```
    pub fn generate(&mut self, actor: &Actor, window: Period, projects: Vec<String>) -> Result<Vec<GenerateOutcome>> {
        self.state.settings.policy.check(actor, crate::policy::Action::Generate)?;
        let (events, outcomes) = self.plan_generate(&window, &projects)?;
        self.commit(actor, events)?;
        Ok(outcomes)
    }

    fn plan_generate(&self, window: &Period, only: &[String]) -> Result<(Vec<Event>, Vec<GenerateOutcome>)> {
        let as_of = self.clock.now().date_naive();
        for id in only {
            self.project(id)?;
        }
        let first = self.next_invoice_id();
        let mut generated = Vec::new();
        let mut outcomes = Vec::new();
        let mut counters = HashMap::new();
        for p in self.state.cycle.projects.values() {
            if !only.is_empty() && !only.contains(&p.id) {
                continue;
            }
            let Some(schedule) = &p.schedule else { continue };
            for period in p.periods_invoiced_between(window.start, window.end) {
                let project = p.id.clone();
                match self.readiness(&p.id, &period, as_of)? {
                    Readiness::Invoiced { invoice, number } => {
                        outcomes.push(GenerateOutcome::AlreadyInvoiced { project, period, invoice, number })
                    }
                    Readiness::Pending(b) => {
                        outcomes.push(GenerateOutcome::NotReady { project, period, reasons: b.reasons })
                    }
                    Readiness::NotDue { .. } | Readiness::MissingSchedule { .. } => {}
                    Readiness::Ready(_) => {
                        let invoice_date = schedule.invoice_date(&period).unwrap_or(period.end);
                        let (mut invoice, billed) = self.draft_for(p, &period, invoice_date)?;
                        let violations = invoice.validate();
                        if !violations.is_empty() {
                            outcomes.push(GenerateOutcome::Invalid { project, period, violations });
                            continue;
                        }
                        invoice.id = InvoiceId(first.0 + generated.len() as u64);
                        invoice.lines.iter_mut().for_each(Line::normalize_zeros);
                        let (number, series) = self.number_for(&invoice, &mut counters)?;
                        invoice.number = Some(number.clone());
                        invoice.status.document = Document::Issued;
                        invoice.status.delivery = Delivery::ReadyToSend;
                        outcomes.push(GenerateOutcome::Generated { project, period, invoice: invoice.id, number });
                        generated.push(Generated { invoice, series, billed });
                    }
                }
            }
        }
        let events =
            if generated.is_empty() { Vec::new() } else { vec![Event::InvoicesGenerated { first, generated }] };
        Ok((events, outcomes))
    }

    /// The invoice a ready period gets, and what it bills.
    fn draft_for(&self, p: &Project, period: &Period, invoice_date: NaiveDate) -> Result<(Invoice, Billed)> {
        let c = &self.state.cycle;
        let mut billed = Billed { project: p.id.clone(), period: Some(*period), ..Billed::default() };
        // (person id or task, rate) -> hours; names are looked up once per group
        let mut groups: BTreeMap<(&str, Decimal), Decimal> = BTreeMap::new();
        for e in c.project_entries(&p.id) {
            if !(e.billable && e.invoiced_by.is_none() && period.contains(e.date)) {
                continue;
            }
            let key = match p.grouping {
                Grouping::ByPerson => e.person.as_str(),
                Grouping::ByTask if e.task.is_empty() => "Time",
                Grouping::ByTask => e.task.as_str(),
            };
            let hours = groups.entry((key, e.rate.normalize())).or_insert(Decimal::ZERO);
            *hours = hours.checked_add(e.hours).ok_or(Error::Overflow { context: "generated hours" })?;
            billed.entries.push(e.id);
        }
        let mut lines: Vec<Line> = groups
            .into_iter()
            .map(|((key, rate), hours)| {
                let description = match p.grouping {
                    Grouping::ByPerson => c.people.get(key).map_or(key, |x| x.name.as_str()),
                    Grouping::ByTask => key,
                };
                Line::new(description, hours, rate).tax_rate(p.tax_rate).kind(LineKind::Service)
            })
            .collect();
        let time_lines = lines.len();
        for x in c.project_expenses(&p.id) {
            if x.billable && x.invoiced_by.is_none() && period.contains(x.date) {
                lines.push(
                    Line::new(x.description.clone(), Decimal::ONE, x.amount)
                        .tax_rate(p.tax_rate)
                        .kind(LineKind::Expense)
                        .service_date(x.date),
                );
                billed.expenses.push(x.id);
            }
        }
        let mut milestone_lines = 0;
        for m in c.milestones.values() {
            if m.project == p.id && m.approved && m.invoiced_by.is_none() {
                lines.push(
                    Line::new(m.description.clone(), Decimal::ONE, m.amount)
                        .tax_rate(p.tax_rate)
                        .kind(LineKind::Milestone),
                );
                billed.milestones.push(m.id.clone());
                milestone_lines += 1;
            }
        }
        for d in c.deferred.values() {
            if d.project == p.id && d.invoiced_by.is_none() {
                lines.push(
                    Line::new(d.description.clone(), Decimal::ONE, d.amount)
                        .tax_rate(p.tax_rate)
                        .kind(LineKind::DeferredRevenue),
                );
                billed.deferred.push(d.id.clone());
            }
        }
        let origin = if time_lines == 0 && milestone_lines > 0 { Origin::Milestone } else { Origin::Time };
        let due = invoice_date.checked_add_days(Days::new(u64::from(p.payment_terms_days))).unwrap_or(invoice_date);
        let mut invoice = Invoice::builder(p.customer.clone(), p.currency)
            .origin(origin)
            .project(p.label())
            .billing_period(*period)
            .issue_date(invoice_date)
            .due_date(due)
            .lines(lines)
            .build();
        invoice.location = p.location.clone();
        invoice.invoice_type = p.invoice_type.clone();
        Ok((invoice, billed))
    }

    /// Release what a voided invoice billed, so that it can be billed again.
    pub(crate) fn release_billed(&mut self, invoice: InvoiceId) {
        let Some(billed) = self.state.cycle.billed.remove(&invoice) else { return };
        let c = &mut self.state.cycle;
        for id in &billed.entries {
            if let Some(e) = idx(id.0).and_then(|i| c.entries.get_mut(i)) {
                e.invoiced_by = None;
            }
        }
        for id in &billed.expenses {
            if let Some(x) = idx(id.0).and_then(|i| c.expenses.get_mut(i)) {
                x.invoiced_by = None;
            }
        }
        for id in &billed.milestones {
            if let Some(m) = c.milestones.get_mut(id) {
                m.invoiced_by = None;
            }
        }
        for id in &billed.deferred {
            if let Some(d) = c.deferred.get_mut(id) {
                d.invoiced_by = None;
            }
        }
        if let (Some(period), Some(map)) = (billed.period, c.generated.get_mut(&billed.project)) {
            map.remove(&period.start);
        }
    }

    // ------------------------------------------------------------------ decide

    /// Consultants act only for themselves.
    fn check_self(actor: &Actor, person: &str) -> Result<()> {
        if actor.role == Role::Consultant && actor.id != person {
            return Err(Error::Forbidden {
                actor: actor.id.clone(),
                role: actor.role,
                action: crate::policy::Action::SubmitTime,
            });
        }
        Ok(())
    }

    /// Project managers approve only the projects they approve for.
    fn check_approver(&self, actor: &Actor, project: &str) -> Result<()> {
        if actor.role == Role::ProjectManager && !self.project(project)?.approvers.contains(&actor.id) {
            return Err(Error::Forbidden {
                actor: actor.id.clone(),
                role: actor.role,
                action: crate::policy::Action::ApproveTime,
            });
        }
        Ok(())
    }

    fn check_entry_amounts(what: &str, hours: Decimal, rate: Decimal) -> Result<()> {
        if hours <= Decimal::ZERO || hours > Decimal::from(24) {
            return Err(locked(what.to_string(), format!("hours must be more than 0 and at most 24, not {hours}")));
        }
        if rate.is_sign_negative() && !rate.is_zero() {
            return Err(locked(what.to_string(), format!("the rate {rate} is negative")));
        }
        Ok(())
    }

    fn decide_expenses(&self, actor: &Actor, expenses: Vec<ExpenseId>, approve: bool) -> Result<Vec<Event>> {
        if expenses.is_empty() {
            return Err(Error::EmptySelection);
        }
        let mut seen = HashSet::new();
        for id in &expenses {
            let x = idx(id.0)
                .and_then(|i| self.state.cycle.expenses.get(i))
                .ok_or_else(|| Error::UnknownEntry { what: "expense", id: id.0.to_string() })?;
            let what = format!("expense {}", id.0);
            if !seen.insert(*id) {
                return Err(Error::DuplicateInSelection { invoice: what });
            }
            if let Some(inv) = x.invoiced_by {
                return Err(locked(what, format!("it was billed on {}", self.invoice(inv)?.label())));
            }
            if approve {
                self.check_approver(actor, &x.project)?;
                if x.state != EntryState::Submitted {
                    return Err(locked(what, "only submitted expenses can be approved"));
                }
            } else {
                if !x.person.is_empty() {
                    Self::check_self(actor, &x.person)?;
                }
                if x.state != EntryState::Open {
                    return Err(locked(what, "it was submitted already"));
                }
            }
        }
        Ok(vec![if approve { Event::ExpensesApproved { expenses } } else { Event::ExpensesSubmitted { expenses } }])
    }

    pub(crate) fn decide_cycle(&self, actor: &Actor, command: Command) -> Result<Vec<Event>> {
        let c = &self.state.cycle;
        match command {
            Command::SaveProject { project } => {
                if let Some(s) = &project.schedule {
                    s.check().map_err(|reason| Error::InvalidSchedule { project: project.id.clone(), reason })?;
                }
                if project.id.trim().is_empty() {
                    return Err(Error::UnknownProject { id: project.id.clone() });
                }
                Ok(vec![Event::ProjectSaved { project }])
            }
            Command::SavePerson { person } => {
                if person.id.trim().is_empty() {
                    return Err(Error::UnknownPerson { id: person.id });
                }
                Ok(vec![Event::PersonSaved { person }])
            }
            Command::SetApprovalFlows { on } => Ok(vec![Event::ApprovalFlowsSet { on }]),
            Command::RecordTime { entries } => {
                for (k, e) in entries.iter().enumerate() {
                    let what = format!("new time entry {} of {}", k + 1, e.person);
                    Self::check_self(actor, &e.person)?;
                    self.project(&e.project)?;
                    let person =
                        c.people.get(&e.person).ok_or_else(|| Error::UnknownPerson { id: e.person.clone() })?;
                    if let Some(until) = person.locked_until.filter(|u| e.date <= *u) {
                        return Err(locked(what, format!("{} locked their time until {until}", e.person)));
                    }
                    Self::check_entry_amounts(&what, e.hours, e.rate)?;
                }
                let entries = entries
                    .into_iter()
                    .map(|e| TimeEntry { hours: positive_zero(e.hours), rate: positive_zero(e.rate), ..e })
                    .collect();
                Ok(vec![Event::TimeRecorded { first: EntryId(c.entries.len() as u64 + 1), entries }])
            }
            Command::EditTime { entry, hours, rate, task } => {
                let e = self.time_entry(entry)?;
                let what = format!("time entry {}", entry.0);
                Self::check_self(actor, &e.person)?;
                if let Some(inv) = e.invoiced_by {
                    return Err(locked(what, format!("it was billed on {}", self.invoice(inv)?.label())));
                }
                if e.state != EntryState::Open {
                    return Err(locked(what, "it is locked"));
                }
                Self::check_entry_amounts(&what, hours, rate)?;
                Ok(vec![Event::TimeEdited { entry, hours: positive_zero(hours), rate: positive_zero(rate), task }])
            }
            Command::LockTime { person, until } => {
                Self::check_self(actor, &person)?;
                let p = c.people.get(&person).ok_or_else(|| Error::UnknownPerson { id: person.clone() })?;
                if let Some(prev) = p.locked_until.filter(|prev| until < *prev) {
                    return Err(locked(
                        format!("the time of {person}"),
                        format!("it is locked until {prev}; locking cannot move back"),
                    ));
                }
                Ok(vec![Event::TimeLocked { person, until }])
            }
            Command::ApproveTime { entries } => {
                if entries.is_empty() {
                    return Err(Error::EmptySelection);
                }
                let mut seen = HashSet::new();
                for id in &entries {
                    let e = self.time_entry(*id)?;
                    self.check_approver(actor, &e.project)?;
                    if e.state != EntryState::Submitted || e.invoiced_by.is_some() || !seen.insert(*id) {
                        return Err(locked(
                            format!("time entry {}", id.0),
                            "only locked, unbilled entries can be approved (once)",
                        ));
                    }
                }
                Ok(vec![Event::TimeApproved { entries }])
            }
            Command::RecordExpenses { expenses } => {
                for x in &expenses {
                    if !x.person.is_empty() {
                        Self::check_self(actor, &x.person)?;
                    }
                    self.project(&x.project)?;
                    if x.description.trim().is_empty() {
                        return Err(locked(format!("new expense of {}", x.project), "it has no description"));
                    }
                }
                let expenses = expenses.into_iter().map(|x| Expense { amount: positive_zero(x.amount), ..x }).collect();
                Ok(vec![Event::ExpensesRecorded { first: ExpenseId(c.expenses.len() as u64 + 1), expenses }])
            }
            Command::SubmitExpenses { expenses } => self.decide_expenses(actor, expenses, false),
            Command::ApproveExpenses { expenses } => self.decide_expenses(actor, expenses, true),
            Command::SaveMilestone { milestone } => {
                self.project(&milestone.project)?;
                if let Some(inv) = c.milestones.get(&milestone.id).and_then(|m| m.invoiced_by) {
                    return Err(locked(
                        format!("milestone {}", milestone.id),
                        format!("it was billed on {}", self.invoice(inv)?.label()),
                    ));
                }
                Ok(vec![Event::MilestoneSaved {
                    milestone: Milestone { amount: positive_zero(milestone.amount), ..milestone },
                }])
            }
            Command::ApproveMilestone { milestone } => {
                let m = c
                    .milestones
                    .get(&milestone)
                    .ok_or_else(|| Error::UnknownEntry { what: "milestone", id: milestone.clone() })?;
                self.check_approver(actor, &m.project)?;
                if m.approved || m.invoiced_by.is_some() {
                    return Err(locked(format!("milestone {milestone}"), "it is approved already"));
                }
                Ok(vec![Event::MilestoneApproved { milestone }])
            }
            Command::SaveDeferredItem { item } => {
                self.project(&item.project)?;
                if let Some(inv) = c.deferred.get(&item.id).and_then(|m| m.invoiced_by) {
                    return Err(locked(
                        format!("deferred item {}", item.id),
                        format!("it was billed on {}", self.invoice(inv)?.label()),
                    ));
                }
                Ok(vec![Event::DeferredItemSaved { item: DeferredItem { amount: positive_zero(item.amount), ..item } }])
            }
            Command::Generate { window, projects } => Ok(self.plan_generate(&window, &projects)?.0),
            _ => Err(Error::Replay { seq: 0, reason: "not a billing-cycle command".into() }),
        }
    }

    // ------------------------------------------------------------------ mutate

    pub(crate) fn mutate_cycle(&mut self, env: &Envelope) -> Result<()> {
        let replay = |reason: String| Error::Replay { seq: env.seq, reason };
        match &env.event {
            Event::ProjectSaved { project } => {
                self.state.cycle.projects.insert(project.id.clone(), (**project).clone());
            }
            Event::PersonSaved { person } => {
                let c = &mut self.state.cycle;
                let locked_until = c.people.get(&person.id).and_then(|p| p.locked_until);
                c.people.insert(person.id.clone(), super::Person { locked_until, ..person.clone() });
            }
            Event::ApprovalFlowsSet { on } => self.state.cycle.approval_flows = *on,
            Event::TimeRecorded { first, entries } => {
                let c = &mut self.state.cycle;
                if first.0 != c.entries.len() as u64 + 1 {
                    return Err(replay(format!("expected the next time entry id to be {}", first.0)));
                }
                for e in entries {
                    let i = c.entries.len();
                    let id = EntryId(i as u64 + 1);
                    c.entries_by_project.entry(e.project.clone()).or_default().push(i);
                    c.entries_by_person.entry(e.person.clone()).or_default().push(i);
                    c.entries.push(super::TimeEntry { id, state: EntryState::Open, invoiced_by: None, ..e.clone() });
                }
            }
            Event::TimeEdited { entry, hours, rate, task } => {
                let e = idx(entry.0)
                    .and_then(|i| self.state.cycle.entries.get_mut(i))
                    .ok_or_else(|| replay(format!("no time entry {}", entry.0)))?;
                e.hours = *hours;
                e.rate = *rate;
                e.task = task.clone();
            }
            Event::TimeLocked { person, until } => {
                let c = &mut self.state.cycle;
                let p = c.people.get_mut(person).ok_or_else(|| replay(format!("no person {person}")))?;
                p.locked_until = Some(*until);
                for &i in c.entries_by_person.get(person).into_iter().flatten() {
                    if let Some(e) = c.entries.get_mut(i).filter(|e| e.date <= *until && e.state == EntryState::Open) {
                        e.state = EntryState::Submitted;
                    }
                }
            }
            Event::TimeApproved { entries } => {
                for id in entries {
                    let e = idx(id.0)
                        .and_then(|i| self.state.cycle.entries.get_mut(i))
                        .ok_or_else(|| replay(format!("no time entry {}", id.0)))?;
                    e.state = EntryState::Approved;
                }
            }
            Event::ExpensesRecorded { first, expenses } => {
                let c = &mut self.state.cycle;
                if first.0 != c.expenses.len() as u64 + 1 {
                    return Err(replay(format!("expected the next expense id to be {}", first.0)));
                }
                for x in expenses {
                    let i = c.expenses.len();
                    c.expenses_by_project.entry(x.project.clone()).or_default().push(i);
                    c.expenses.push(super::Expense {
                        id: ExpenseId(i as u64 + 1),
                        state: EntryState::Open,
                        invoiced_by: None,
                        ..x.clone()
                    });
                }
            }
            Event::ExpensesSubmitted { expenses } | Event::ExpensesApproved { expenses } => {
                let to = if matches!(env.event, Event::ExpensesSubmitted { .. }) {
                    EntryState::Submitted
                } else {
                    EntryState::Approved
                };
                for id in expenses {
                    let x = idx(id.0)
                        .and_then(|i| self.state.cycle.expenses.get_mut(i))
                        .ok_or_else(|| replay(format!("no expense {}", id.0)))?;
                    x.state = to;
                }
            }
            Event::MilestoneSaved { milestone } => {
                self.state
                    .cycle
                    .milestones
                    .insert(milestone.id.clone(), super::Milestone { invoiced_by: None, ..milestone.clone() });
            }
            Event::MilestoneApproved { milestone } => {
                let m = self
                    .state
                    .cycle
                    .milestones
                    .get_mut(milestone)
                    .ok_or_else(|| replay(format!("no milestone {milestone}")))?;
                m.approved = true;
            }
            Event::DeferredItemSaved { item } => {
                self.state
                    .cycle
                    .deferred
                    .insert(item.id.clone(), super::DeferredItem { invoiced_by: None, ..item.clone() });
            }
            Event::InvoicesGenerated { first, generated } => {
                if *first != self.next_invoice_id() {
                    return Err(replay(format!("expected the next invoice id to be {first}")));
                }
                for g in generated {
                    let id = self.next_invoice_id();
                    if g.invoice.id != id {
                        return Err(replay(format!("expected invoice id {id}")));
                    }
                    let number =
                        g.invoice.number.clone().ok_or_else(|| replay("a generated invoice has no number".into()))?;
                    if let Some(name) = &g.series {
                        let s = self.state.series.get_mut(name).ok_or_else(|| replay(format!("no series {name}")))?;
                        s.next += 1;
                    }
                    self.numbers.insert(number, id);
                    self.state.invoices.push(g.invoice.clone());
                    let c = &mut self.state.cycle;
                    for e in &g.billed.entries {
                        let entry = idx(e.0)
                            .and_then(|i| c.entries.get_mut(i))
                            .ok_or_else(|| replay(format!("no time entry {}", e.0)))?;
                        entry.invoiced_by = Some(id);
                    }
                    for x in &g.billed.expenses {
                        let ex = idx(x.0)
                            .and_then(|i| c.expenses.get_mut(i))
                            .ok_or_else(|| replay(format!("no expense {}", x.0)))?;
                        ex.invoiced_by = Some(id);
                    }
                    for m in &g.billed.milestones {
                        c.milestones.get_mut(m).ok_or_else(|| replay(format!("no milestone {m}")))?.invoiced_by =
                            Some(id);
                    }
                    for d in &g.billed.deferred {
                        c.deferred.get_mut(d).ok_or_else(|| replay(format!("no deferred item {d}")))?.invoiced_by =
                            Some(id);
                    }
                    if let Some(period) = g.billed.period {
                        c.generated.entry(g.billed.project.clone()).or_default().insert(period.start, id);
                    }
                    c.billed.insert(id, g.billed.clone());
                }
            }
            _ => return Err(replay("not a billing-cycle event".into())),
        }
        Ok(())
    }
}
