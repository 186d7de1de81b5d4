//! Billing schedules: for any date, the billing period it belongs to and the day that period
//! is invoiced.
//!
//! # The rules
//!
//! | schedule | billing periods | scheduled invoice date |
//! | --- | --- | --- |
//! | `Monthly { invoice_day: Last }` | calendar months | the month's last day |
//! | `Monthly { invoice_day: Day(d) }` | calendar months | day `d` of the following month; `d` past that month's end means its last day (31 -> 30 Apr, 28/29 Feb) |
//! | `Weekly { anchor }` | 7 days from `anchor` (and every 7 days before and after it) | the day after the period |
//! | `BiWeekly { anchor }` | 14 days from `anchor`, likewise | the day after the period |
//! | `Every { n, unit, anchor }` | `n` days, weeks or months from `anchor` | the day after the period |
//! | `Dates { start, ends }` | `start..=ends[0]`, then each `ends[i-1]+1 ..= ends[i]` | the period's last day |
//!
//! Month steps are always counted from the anchor, never from the previous step, so an anchor
//! on the 29th to 31st keeps its day wherever the month has it: every month from 31 Jan gives
//! periods starting 31 Jan, 29 Feb (leap year) or 28 Feb, 31 Mar, 30 Apr, 31 May. Week steps
//! cross year ends without special cases (they are day counts).

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::invoice::Period;

/// The day of the month a monthly schedule invoices on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceDay {
    /// Day 1 to 31 of the month after the period (clamped to that month's last day).
    Day(u32),
    /// The last day of the period's own month.
    Last,
}

/// The unit of a custom interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Days.
    Days,
    /// Weeks (7 days).
    Weeks,
    /// Calendar months.
    Months,
}

/// A project's billing schedule. See the [module documentation](self) for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// Calendar months, invoiced on a given day.
    Monthly {
        /// When the month is invoiced.
        invoice_day: InvoiceDay,
    },
    /// Seven-day periods.
    Weekly {
        /// The first day of one of the periods.
        anchor: NaiveDate,
    },
    /// Fourteen-day periods.
    BiWeekly {
        /// The first day of one of the periods.
        anchor: NaiveDate,
    },
    /// Periods of `n` days, weeks or months.
    Every {
        /// How many units a period lasts (at least 1).
        n: u32,
        /// The unit.
        unit: Unit,
        /// The first day of one of the periods.
        anchor: NaiveDate,
    },
    /// An explicit list of period ends.
    Dates {
        /// First day of the first period.
        start: NaiveDate,
        /// Last day of each period, ascending.
        ends: Vec<NaiveDate>,
    },
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    first.checked_add_months(Months::new(1))?.pred_opt()
}

fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

/// `anchor` moved by `k` months (negative: back), keeping its day where the month has it.
fn add_months(anchor: NaiveDate, k: i64) -> Option<NaiveDate> {
    let m = u32::try_from(k.unsigned_abs()).ok()?;
    if k >= 0 {
        anchor.checked_add_months(Months::new(m))
    } else {
        anchor.checked_sub_months(Months::new(m))
    }
}

impl Schedule {
    /// Check the schedule's own data: an `Every` with `n` of 0, a monthly day outside 1..=31,
    /// or `Dates` that are not ascending (or end before `start`) are errors.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Schedule::Monthly { invoice_day: InvoiceDay::Day(d) } if !(1..=31).contains(d) => {
                Err(format!("monthly invoice day {d} is not a day of the month (1 to 31)"))
            }
            Schedule::Every { n: 0, .. } => Err("a custom interval must be at least 1".into()),
            Schedule::Dates { start, ends } => {
                let mut prev = None::<NaiveDate>;
                for e in ends {
                    if *e < *start || prev.is_some_and(|p| *e <= p) {
                        return Err(format!("period end {e} is not after the previous one (or the start {start})"));
                    }
                    prev = Some(*e);
                }
                if ends.is_empty() {
                    return Err("a list of dates needs at least one period end".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The billing period that `date` belongs to; `None` outside an explicit list of dates
    /// (or for an invalid schedule, or at the edges of the calendar).
    ///
    /// ```
    /// use invoice_core::cycle::{Schedule, Unit};
    /// use chrono::NaiveDate;
    /// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    /// let monthly_from_31st = Schedule::Every { n: 1, unit: Unit::Months, anchor: d(2024, 1, 31) };
    /// let p = monthly_from_31st.period_of(d(2024, 3, 10)).unwrap();
    /// assert_eq!((p.start, p.end), (d(2024, 2, 29), d(2024, 3, 30)));
    /// assert_eq!(monthly_from_31st.invoice_date(&p), Some(d(2024, 3, 31)));
    /// ```
    pub fn period_of(&self, date: NaiveDate) -> Option<Period> {
        self.check().ok()?;
        match self {
            Schedule::Monthly { .. } => {
                let start = date.with_day(1)?;
                Some(Period::new(start, last_day_of_month(date.year(), date.month())?))
            }
            Schedule::Weekly { anchor } => Self::day_blocks(*anchor, 7, date),
            Schedule::BiWeekly { anchor } => Self::day_blocks(*anchor, 14, date),
            Schedule::Every { n, unit: Unit::Days, anchor } => Self::day_blocks(*anchor, i64::from(*n), date),
            Schedule::Every { n, unit: Unit::Weeks, anchor } => Self::day_blocks(*anchor, 7 * i64::from(*n), date),
            Schedule::Every { n, unit: Unit::Months, anchor } => {
                let n = i64::from(*n);
                let months =
                    i64::from(date.year() - anchor.year()) * 12 + i64::from(date.month()) - i64::from(anchor.month());
                // Start from a block at or before `date`, then step forward while the next one still starts on or before it.
                let mut k = months.div_euclid(n) - 1;
                while add_months(*anchor, (k + 1) * n)? <= date {
                    k += 1;
                }
                let start = add_months(*anchor, k * n)?;
                let end = add_months(*anchor, (k + 1) * n)?.pred_opt()?;
                Some(Period::new(start, end))
            }
            Schedule::Dates { start, ends } => {
                if date < *start {
                    return None;
                }
                let i = ends.partition_point(|e| *e < date);
                let end = *ends.get(i)?;
                let begin = if i == 0 { *start } else { ends[i - 1].succ_opt()? };
                Some(Period::new(begin, end))
            }
        }
    }

    fn day_blocks(anchor: NaiveDate, len: i64, date: NaiveDate) -> Option<Period> {
        let offset = (date - anchor).num_days();
        let k = offset.div_euclid(len);
        let start = add_days(anchor, k * len)?;
        Some(Period::new(start, add_days(start, len - 1)?))
    }

    /// The scheduled invoice date of `period` (one returned by [`Schedule::period_of`]).
    pub fn invoice_date(&self, period: &Period) -> Option<NaiveDate> {
        match self {
            Schedule::Monthly { invoice_day: InvoiceDay::Last } | Schedule::Dates { .. } => Some(period.end),
            Schedule::Monthly { invoice_day: InvoiceDay::Day(d) } => {
                let next = period.end.succ_opt()?;
                let last = last_day_of_month(next.year(), next.month())?;
                next.with_day((*d).min(last.day()))
            }
            _ => period.end.succ_opt(),
        }
    }

    /// The periods whose scheduled invoice date falls within `from..=to`, in order.
    pub fn periods_invoiced_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        // The invoice date is at most about a month after the period's end, so start looking
        // two months before `from`.
        let mut day = from.checked_sub_months(Months::new(2)).unwrap_or(from);
        if let Schedule::Dates { start, .. } = self {
            day = day.max(*start);
        }
        while day <= to {
            let Some(p) = self.period_of(day) else { break };
            if let Some(inv) = self.invoice_date(&p) {
                if inv >= from && inv <= to {
                    out.push(p);
                }
            }
            match p.end.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// (schedule, date, period start, period end, invoice date) — computed by hand.
    fn table() -> Vec<(Schedule, &'static str, &'static str, &'static str, &'static str)> {
        use InvoiceDay::*;
        let monthly = |invoice_day| Schedule::Monthly { invoice_day };
        let every = |n, unit, anchor: &str| Schedule::Every { n, unit, anchor: d(anchor) };
        vec![
            // monthly, last day: leap and common Februaries
            (monthly(Last), "2024-02-10", "2024-02-01", "2024-02-29", "2024-02-29"),
            (monthly(Last), "2023-02-28", "2023-02-01", "2023-02-28", "2023-02-28"),
            (monthly(Last), "2024-12-31", "2024-12-01", "2024-12-31", "2024-12-31"),
            // monthly on a day of the following month, clamped
            (monthly(Day(1)), "2024-12-15", "2024-12-01", "2024-12-31", "2025-01-01"),
            (monthly(Day(31)), "2024-01-20", "2024-01-01", "2024-01-31", "2024-02-29"),
            (monthly(Day(31)), "2023-01-20", "2023-01-01", "2023-01-31", "2023-02-28"),
            (monthly(Day(31)), "2024-03-01", "2024-03-01", "2024-03-31", "2024-04-30"),
            (monthly(Day(15)), "2024-06-30", "2024-06-01", "2024-06-30", "2024-07-15"),
            // weekly from a Monday, before and after the anchor
            (Schedule::Weekly { anchor: d("2024-01-01") }, "2024-01-10", "2024-01-08", "2024-01-14", "2024-01-15"),
            (Schedule::Weekly { anchor: d("2024-01-01") }, "2023-12-31", "2023-12-25", "2023-12-31", "2024-01-01"),
            // bi-weekly across year ends
            (Schedule::BiWeekly { anchor: d("2024-12-23") }, "2025-01-05", "2024-12-23", "2025-01-05", "2025-01-06"),
            (Schedule::BiWeekly { anchor: d("2024-12-23") }, "2025-01-06", "2025-01-06", "2025-01-19", "2025-01-20"),
            (Schedule::BiWeekly { anchor: d("2024-12-23") }, "2024-12-22", "2024-12-09", "2024-12-22", "2024-12-23"),
            (Schedule::BiWeekly { anchor: d("2023-12-25") }, "2024-12-31", "2024-12-23", "2025-01-05", "2025-01-06"),
            // custom: every 10 days, every 3 weeks, every month from the 31st, every 2 months from the 29th
            (every(10, Unit::Days, "2024-02-25"), "2024-03-06", "2024-03-06", "2024-03-15", "2024-03-16"),
            (every(3, Unit::Weeks, "2024-01-01"), "2024-01-22", "2024-01-22", "2024-02-11", "2024-02-12"),
            (every(1, Unit::Months, "2024-01-31"), "2024-01-31", "2024-01-31", "2024-02-28", "2024-02-29"),
            (every(1, Unit::Months, "2024-01-31"), "2024-02-29", "2024-02-29", "2024-03-30", "2024-03-31"),
            (every(1, Unit::Months, "2024-01-31"), "2024-04-30", "2024-04-30", "2024-05-30", "2024-05-31"),
            (every(1, Unit::Months, "2024-01-31"), "2024-01-30", "2023-12-31", "2024-01-30", "2024-01-31"),
            (every(2, Unit::Months, "2023-12-29"), "2024-02-28", "2023-12-29", "2024-02-28", "2024-02-29"),
            (every(2, Unit::Months, "2023-12-29"), "2024-02-29", "2024-02-29", "2024-04-28", "2024-04-29"),
            (every(12, Unit::Months, "2023-02-28"), "2024-02-28", "2024-02-28", "2025-02-27", "2025-02-28"),
            // an explicit list of period ends
            (
                Schedule::Dates {
                    start: d("2024-01-01"),
                    ends: vec![d("2024-01-20"), d("2024-03-31"), d("2024-04-01")],
                },
                "2024-02-29",
                "2024-01-21",
                "2024-03-31",
                "2024-03-31",
            ),
            (
                Schedule::Dates {
                    start: d("2024-01-01"),
                    ends: vec![d("2024-01-20"), d("2024-03-31"), d("2024-04-01")],
                },
                "2024-01-01",
                "2024-01-01",
                "2024-01-20",
                "2024-01-20",
            ),
            (
                Schedule::Dates {
                    start: d("2024-01-01"),
                    ends: vec![d("2024-01-20"), d("2024-03-31"), d("2024-04-01")],
                },
                "2024-04-01",
                "2024-04-01",
                "2024-04-01",
                "2024-04-01",
            ),
        ]
    }

    #[test]
    fn schedule_arithmetic_matches_hand_computed_dates() {
        for (schedule, date, start, end, invoice) in table() {
            let p = schedule.period_of(d(date)).unwrap_or_else(|| panic!("{schedule:?} {date}: no period"));
            assert_eq!((p.start, p.end), (d(start), d(end)), "{schedule:?} on {date}");
            assert_eq!(schedule.invoice_date(&p), Some(d(invoice)), "{schedule:?} on {date}");
            // every day of the period maps to the same period
            assert_eq!(schedule.period_of(p.start), Some(p));
            assert_eq!(schedule.period_of(p.end), Some(p));
        }
    }

    #[test]
    fn outside_a_list_of_dates_and_invalid_schedules() {
        let dates = Schedule::Dates { start: d("2024-01-01"), ends: vec![d("2024-01-20")] };
        assert_eq!(dates.period_of(d("2023-12-31")), None);
        assert_eq!(dates.period_of(d("2024-01-21")), None);
        assert!(Schedule::Every { n: 0, unit: Unit::Days, anchor: d("2024-01-01") }.check().is_err());
        assert!(Schedule::Monthly { invoice_day: InvoiceDay::Day(32) }.check().is_err());
        let unsorted = Schedule::Dates { start: d("2024-01-01"), ends: vec![d("2024-02-01"), d("2024-01-15")] };
        assert!(unsorted.check().is_err());
        assert_eq!(unsorted.period_of(d("2024-01-10")), None);
    }

    #[test]
    fn periods_invoiced_in_a_window() {
        let weekly = Schedule::Weekly { anchor: d("2024-01-01") };
        let ps = weekly.periods_invoiced_between(d("2024-01-01"), d("2024-01-31"));
        let invoice_dates: Vec<_> = ps.iter().map(|p| weekly.invoice_date(p).unwrap().to_string()).collect();
        assert_eq!(invoice_dates, ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"]);
        let monthly = Schedule::Monthly { invoice_day: InvoiceDay::Day(5) };
        let ps = monthly.periods_invoiced_between(d("2024-03-01"), d("2024-03-31"));
        assert_eq!(ps, [Period::new(d("2024-02-01"), d("2024-02-29"))]);
    }

    #[test]
    fn consecutive_periods_tile_the_calendar() {
        let schedules = [
            Schedule::Every { n: 1, unit: Unit::Months, anchor: d("2024-01-31") },
            Schedule::Every { n: 5, unit: Unit::Days, anchor: d("2024-01-03") },
            Schedule::BiWeekly { anchor: d("2024-12-23") },
            Schedule::Monthly { invoice_day: InvoiceDay::Last },
        ];
        for s in schedules {
            let mut p = s.period_of(d("2023-11-15")).unwrap();
            for _ in 0..40 {
                let next = s.period_of(p.end.succ_opt().unwrap()).unwrap();
                assert_eq!(next.start, p.end.succ_opt().unwrap(), "{s:?}");
                assert!(next.end >= next.start);
                p = next;
            }
        }
    }
}
