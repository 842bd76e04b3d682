//! ICS calendar (RFC 5545) that phone and desktop calendars import.
//!
//! Owns the iCalendar syntax only: content-line folding, TEXT escaping,
//! stable UIDs (from the plan id, see [`uid`]) and the layout of events.
//! Every dose, date and phrase comes from [`Plan`] and [`text`], so the
//! calendar says what the table says.
//!
//! What it writes, in date order:
//! - one all-day event per step (`DTEND` is the day after the step's last
//!   day, as RFC 5545 all-day events are end-exclusive);
//! - one all-day event on each check-in day and on the final day, with the
//!   withdrawal symptoms, red flags and what to do about them;
//! - with `--times`, one 15-minute event per dose given that day, at its
//!   slot's time (a step given in fewer doses keeps the remaining ones at
//!   their own times), in floating local time, each with a display alarm
//!   and the products' handling instructions.

use std::io::Write;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::error::{Error, Result};
use crate::formulation::Administration;
use crate::identity::{self, Fnv1a128};
use crate::render::{text, Extras};
use crate::schedule::{Day, Event, Plan, Step};

mod revised;

/// RFC 5545 §3.1: content lines SHOULD NOT be longer than 75 octets.
const FOLD_OCTETS: usize = 75;

/// Length of a timed dose event: long enough to show in a day view, short
/// enough not to look like an appointment.
const DOSE_MINUTES: i64 = 15;

/// Writes the plan as one `VCALENDAR`.
pub fn write(plan: &Plan, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    let doses_per_day = plan.request.doses_per_day as usize;
    if !extras.times.is_empty() && extras.times.len() != doses_per_day {
        return Err(Error::Usage(format!(
            "--times gives {} time(s) but the plan has {doses_per_day} doses a day (accepted: exactly one time per dose)",
            extras.times.len()
        )));
    }
    if plan.history.revisions.is_empty() {
        return write_calendar(plan, extras, None, &[], out);
    }
    let (sequences, cancelled) = revised::sequences(plan, extras)?;
    write_calendar(plan, extras, Some(&sequences), &cancelled, out)
}

/// The calendar of one revision. `sequences` gives each event's
/// `SEQUENCE` (revised plans); `cancelled` are whole `VEVENT` blocks of
/// events earlier revisions had and this one drops.
fn write_calendar(
    plan: &Plan,
    extras: &Extras,
    sequences: Option<&revised::Sequences>,
    cancelled: &[Vec<u8>],
    out: &mut dyn Write,
) -> Result<()> {
    let mut ics = Ics::new(plan, extras);
    ics.sequences = sequences;
    ics.calendar_header();
    let checklist = text::checklist(plan);
    let step_text: Vec<StepText> = plan.steps.iter().map(|s| StepText::new(plan, s)).collect();
    for day in &plan.days {
        let Some((step, st)) = plan
            .steps
            .get(day.step as usize - 1)
            .zip(step_text.get(day.step as usize - 1))
        else {
            continue;
        };
        if day
            .events
            .iter()
            .any(|e| matches!(e, Event::StepStart { .. }))
        {
            ics.step_event(step, st, day, &checklist);
        }
        let check_in = day
            .events
            .iter()
            .any(|e| matches!(e, Event::CheckIn { .. } | Event::Final));
        if check_in {
            ics.check_event(step, day, &checklist);
        }
        // Only the doses given that day (none on a rest day), each at its
        // own slot's time.
        if !extras.times.is_empty() && !day.rest_day {
            for (i, admin) in step.administrations.iter().enumerate() {
                if let Some(time) = extras.times.get(admin.slot_index as usize) {
                    ics.dose_event(step, st, day, i, admin, *time);
                }
            }
        }
        // Keep memory flat on long plans with many timed events.
        if ics.buf.len() > 64 * 1024 {
            out.write_all(&ics.buf)?;
            ics.buf.clear();
        }
    }
    for block in cancelled {
        ics.buf.extend_from_slice(block);
    }
    ics.line("END:VCALENDAR");
    out.write_all(&ics.buf)?;
    Ok(())
}

/// Texts that are the same on every day of a step, built once.
struct StepText {
    /// `55 mg/day (20 + 20 + 15 mg)`.
    dose: String,
    /// What to take at each administration given: `1 × 20 mg tablet`.
    take: Vec<String>,
    /// The products' handling instructions, once.
    instructions: Option<String>,
}

impl StepText {
    fn new(plan: &Plan, step: &Step) -> StepText {
        let unit = &plan.profile.unit;
        StepText {
            dose: if step.daily_dose.is_zero() {
                format!("0 {unit}/day (stopped)")
            } else if !step.drugs.is_empty() {
                format!("{} a day", text::daily(plan, step))
            } else if step.every_days > 1 {
                format!(
                    "{} {unit} {} ({} {unit})",
                    step.daily_dose,
                    text::every(step.every_days),
                    text::doses(step)
                )
            } else {
                format!(
                    "{} {unit}/day ({} {unit})",
                    step.daily_dose,
                    text::doses(step)
                )
            },
            take: step
                .administrations
                .iter()
                .map(|a| text::administration(plan, &a.portions))
                .collect(),
            instructions: text::instructions(plan, step),
        }
    }
}

/// `Morning`: a slot name opening a sentence.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

struct Ics<'a> {
    plan: &'a Plan,
    patient: Option<&'a str>,
    /// Goes into every UID: see [`uid`].
    plan_id: String,
    /// `Baclofen`: the drug as people name it (`Lorazepam to diazepam` for
    /// a switch plan).
    drug: String,
    /// `DTSTAMP` of every event, see [`Ics::new`].
    stamp: String,
    /// Closing lines of every description: patient line and disclaimer.
    footer: String,
    /// A revised plan: each event's `SEQUENCE`, by UID.
    sequences: Option<&'a revised::Sequences>,
    buf: Vec<u8>,
}

impl<'a> Ics<'a> {
    fn new(plan: &'a Plan, extras: &'a Extras) -> Ics<'a> {
        let patient = extras.patient.as_deref();
        let mut footer = String::new();
        if let Some(p) = patient {
            footer.push_str(&format!("\n\nFor: {p}"));
        }
        footer.push_str(&format!("\n\n{}", plan.disclaimer));
        Ics {
            plan,
            patient,
            plan_id: identity::plan_id_or_default(extras.plan_id.as_deref(), plan, patient, None),
            drug: text::drug_label(plan),
            // DTSTAMP is required, but the clock would make every run
            // differ and the same request must give byte-identical output.
            // The plan's first day at 00:00:00 UTC is a fixed point that
            // only changes when the plan does.
            // A revision's is its first day: later than the one before.
            stamp: format!("{}T000000Z", ics_date(revised::stamp_date(plan))),
            footer,
            sequences: None,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    fn calendar_header(&mut self) {
        let plan = self.plan;
        let r = &plan.request;
        let name = calendar_name(&self.drug, self.patient);
        let mut desc = String::new();
        if let Some(p) = self.patient {
            desc.push_str(&format!("For: {p}\n"));
        }
        desc.push_str(&format!(
            "{}: DRAFT for prescriber review.\nStarting dose: {}, {}. Target: {}.{}\nStrategy: {}.\nDates: {} to {} ({} days, {} steps; the last day is the first at the target).",
            text::title(plan),
            text::starting_dose(plan),
            text::frequency(r.doses_per_day),
            text::target(plan),
            text::switch_summary(plan).map_or(String::new(), |s| format!("\nSwitch: {s}")),
            text::strategy(plan),
            r.start,
            r.end,
            plan.days.len(),
            plan.steps.len(),
        ));
        if let Some(rev) = text::revision(plan) {
            desc.push_str(&format!("\nRevised: {rev}."));
        }
        for w in &plan.warnings {
            desc.push_str(&format!("\nWARNING: {}.", text::warning(plan, w)));
        }
        desc.push_str(&format!("\nProducts: {}.", text::phases(plan)));
        for g in &plan.gave_way {
            desc.push_str(&format!("\nGave way: {}.", text::gave_way(plan, g)));
        }
        desc.push_str(&format!("\nProvenance: {}.", text::provenance(plan)));
        desc.push_str(&format!("\nSources: {}.", text::sources(plan)));
        if !plan.profile.tool_defaults.is_empty() {
            desc.push_str(&format!(
                "\nTool defaults (no source gives these; confirm them): {}.",
                plan.profile.tool_defaults.join(", ")
            ));
        }
        desc.push_str(&format!("\n\n{}", plan.disclaimer));

        self.line("BEGIN:VCALENDAR");
        self.line("VERSION:2.0");
        let prodid = format!("-//{0}//{0} {1}//EN", plan.tool.name, plan.tool.version);
        self.prop("PRODID", &prodid);
        self.line("CALSCALE:GREGORIAN");
        // RFC 7986 names, and the de-facto X-WR-* ones most clients read.
        self.prop("NAME", &escape_text(&name));
        self.prop("X-WR-CALNAME", &escape_text(&name));
        self.prop("DESCRIPTION", &escape_text(&desc));
        self.prop("X-WR-CALDESC", &escape_text(&desc));
    }

    /// The all-day event spanning one step.
    fn step_event(&mut self, step: &Step, st: &StepText, day: &Day, checklist: &str) {
        let plan = self.plan;
        let unit = &plan.profile.unit;
        let mut desc = text::day_note_with(plan, day, checklist);
        desc.push_str(&format!(
            "\n\nDates: {} to {} ({} {}).",
            step.start,
            step.end,
            step.days,
            if step.days == 1 { "day" } else { "days" }
        ));
        if !step.daily_dose.is_zero() {
            desc.push_str(&format!(
                "\nEach dose ({}):",
                text::how_often(step.administrations.len() as u32, step.every_days)
            ));
            for (admin, take) in step.administrations.iter().zip(&st.take) {
                let slot = if text::informative_slot(&admin.slot) {
                    format!("{}: ", admin.slot)
                } else {
                    String::new()
                };
                desc.push_str(&format!(
                    "\n- {slot}{take} ({})",
                    text::amount(admin.amount, unit)
                ));
            }
            if let Some(i) = &st.instructions {
                desc.push_str(&format!("\n{i}"));
            }
        }
        if !day.events.contains(&Event::Final) {
            desc.push_str(&format!("\n\n{checklist}"));
        }
        for a in plan
            .reminders
            .advice
            .iter()
            .cloned()
            .chain(text::mme_advice(plan))
        {
            desc.push_str(&format!("\n{a}"));
        }
        let summary = if step.drugs.is_empty() {
            format!("{} {}", self.drug, st.dose)
        } else {
            format!("Switch to {}: {}", plan.profile.name, st.dose)
        };
        let end = step.end.succ_opt().unwrap_or(step.end);
        self.begin_event("step", step.start, "");
        self.prop("DTSTART;VALUE=DATE", &ics_date(step.start));
        self.prop("DTEND;VALUE=DATE", &ics_date(end));
        self.event_text(&summary, &desc);
        self.line("END:VEVENT");
    }

    /// What the dose before `step` was per: `a day`, `every other day`.
    fn per_before(&self, step: &Step) -> String {
        (step.step as usize)
            .checked_sub(2)
            .and_then(|i| self.plan.steps.get(i))
            .map_or_else(|| "a day".to_string(), text::per)
    }

    /// The all-day reminder on a check-in day or the final day.
    fn check_event(&mut self, step: &Step, day: &Day, checklist: &str) {
        let plan = self.plan;
        let is_final = day.events.contains(&Event::Final);
        let summary = if is_final {
            format!("{} last day: check for withdrawal symptoms", self.drug)
        } else {
            format!("{} check-in: watch for withdrawal symptoms", self.drug)
        };
        let mut desc = text::day_note_with(plan, day, checklist);
        if !is_final {
            // Which dose "the previous dose" is, from the plan.
            desc.push_str(&format!(
                "\n\nThis step: {} {} since {}. The dose before it: {} {}.",
                text::amount(step.daily_dose, &plan.profile.unit),
                text::per(step),
                step.start,
                text::amount(step.change.from, &plan.profile.unit),
                self.per_before(step)
            ));
        }
        let end = day.date.succ_opt().unwrap_or(day.date);
        self.begin_event("check", day.date, "");
        self.prop("DTSTART;VALUE=DATE", &ics_date(day.date));
        self.prop("DTEND;VALUE=DATE", &ics_date(end));
        self.event_text(&summary, &desc);
        self.line("END:VEVENT");
    }

    /// One timed administration with a display alarm at its start. `i` is
    /// its place among the day's doses; its UID follows its slot's name, so
    /// a dose keeps its UID when others are dropped.
    fn dose_event(
        &mut self,
        step: &Step,
        st: &StepText,
        day: &Day,
        i: usize,
        admin: &Administration,
        time: NaiveTime,
    ) {
        let plan = self.plan;
        let unit = &plan.profile.unit;
        let take = st.take.get(i).map_or("none", String::as_str);
        let amount = text::amount(admin.amount, unit);
        let n = step.administrations.len();
        let named = text::informative_slot(&admin.slot);
        // A switch plan's dose is named by its own drug.
        let drug = admin
            .drug
            .as_deref()
            .map_or_else(|| self.drug.clone(), capitalised);
        let summary = if named {
            format!("{drug} {} dose: {take} ({amount})", admin.slot)
        } else {
            format!("{drug} dose: {take} ({amount})")
        };
        let which = if named {
            format!("{} dose", capitalised(&admin.slot))
        } else {
            "Dose".to_string()
        };
        let handling = text::administration_instructions(plan, admin)
            .map_or(String::new(), |t| format!(" {t}"));
        let desc = format!(
            "{which} on {} (day {} of {}): take {take} ({amount}).{handling}\nDose {} of {n} today; today's total: {} (step {} of {}).",
            day.date,
            day.day,
            plan.days.len(),
            i + 1,
            st.dose,
            step.step,
            plan.steps.len(),
        );
        let start = NaiveDateTime::new(day.date, time);
        let end = start + Duration::minutes(DOSE_MINUTES);
        self.begin_event("dose", day.date, &admin.slot);
        // Floating local time (no TZID, no Z): 08:00 stays 08:00 wherever
        // the patient is, like the plan's calendar dates.
        self.prop("DTSTART", &ics_datetime(start));
        self.prop("DTEND", &ics_datetime(end));
        self.event_text(&summary, &desc);
        self.line("BEGIN:VALARM");
        self.line("ACTION:DISPLAY");
        self.line("TRIGGER;RELATED=START:PT0S");
        let alarm = format!("{drug}: take {take} ({amount}).{handling}");
        self.prop("DESCRIPTION", &escape_text(&alarm));
        self.line("END:VALARM");
        self.line("END:VEVENT");
    }

    fn begin_event(&mut self, kind: &str, date: NaiveDate, slot: &str) {
        self.line("BEGIN:VEVENT");
        let uid = uid(
            &self.plan_id,
            self.patient.unwrap_or(""),
            &self.plan.profile.name,
            kind,
            date,
            slot,
        );
        self.prop("UID", &uid);
        let stamp = self.stamp.clone();
        self.prop("DTSTAMP", &stamp);
        if let Some(seq) = self.sequences {
            let n = seq.get(&uid).copied().unwrap_or(0);
            self.prop("SEQUENCE", &n.to_string());
        }
    }

    /// SUMMARY, DESCRIPTION (with patient and disclaimer) and TRANSP: dose
    /// reminders never make the patient look busy.
    fn event_text(&mut self, summary: &str, desc: &str) {
        self.prop("SUMMARY", &escape_text(summary));
        let full = format!("{desc}{}", self.footer);
        self.prop("DESCRIPTION", &escape_text(&full));
        self.line("TRANSP:TRANSPARENT");
    }

    /// `NAME[;PARAMS]:VALUE`, value already escaped.
    fn prop(&mut self, name: &str, value: &str) {
        let mut line = String::with_capacity(name.len() + 1 + value.len());
        line.push_str(name);
        line.push(':');
        line.push_str(value);
        fold_into(&line, &mut self.buf);
    }

    fn line(&mut self, line: &str) {
        fold_into(line, &mut self.buf);
    }
}

/// `20261201`.
fn ics_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// `20261201T080000`: floating local time.
fn ics_datetime(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma
/// and line breaks. A CR LF or lone CR becomes one line break; other
/// control characters, which TEXT does not allow, become spaces.
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Writes one content line folded at [`FOLD_OCTETS`] octets, CRLF-ended.
///
/// Continuation lines start with one space (which counts towards their 75
/// octets). A fold never splits a UTF-8 sequence, and never leaves a
/// physical line ending in a space or tab: some readers trim trailing
/// whitespace, which would silently eat the space, so the fold moves
/// before it and the space starts the next line instead.
pub(crate) fn fold_into(line: &str, out: &mut Vec<u8>) {
    let mut rest = line;
    let mut limit = FOLD_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let trimmed = rest[..cut].trim_end_matches([' ', '\t']).len();
        // Only when something is left; a line of nothing but spaces folds
        // where it must.
        if trimmed > 0 {
            cut = trimmed;
        }
        out.extend_from_slice(&rest.as_bytes()[..cut]);
        out.extend_from_slice(b"\r\n ");
        rest = &rest[cut..];
        limit = FOLD_OCTETS - 1;
    }
    out.extend_from_slice(rest.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A UID that is the same every time the same plan (plan id, patient,
/// drug), kind of event, date and slot come up, so re-importing an updated
/// plan with the same plan id replaces its events instead of duplicating
/// them, while two patients' or two plans' events never share one. A dose
/// is named by its slot (`morning`, `bedtime`), not its place in the day,
/// so it keeps its UID when another dose is dropped. Fields are
/// length-prefixed, so `("a,b", "c")` and `("a", "b,c")` differ.
fn uid(
    plan_id: &str,
    patient: &str,
    drug: &str,
    kind: &str,
    date: NaiveDate,
    slot: &str,
) -> String {
    let mut h = Fnv1a128::new();
    let date = date.to_string();
    for field in ["taper-uid-2", patient, drug, kind, date.as_str(), slot] {
        h.write_field(field);
    }
    format!("{:032x}-{plan_id}@taper", h.0)
}

/// The calendar's name (`NAME`, `X-WR-CALNAME`): `Baclofen taper: Smith
/// John`. Clients show `X-WR-CALNAME` without undoing TEXT escapes, so the
/// name holds nothing that needs one: commas, semicolons, backslashes and
/// control characters become spaces, and runs of spaces one. The
/// descriptions keep the name as typed (with RFC 5545 escaping).
fn calendar_name(drug: &str, patient: Option<&str>) -> String {
    let raw = match patient {
        Some(p) => format!("{drug} taper: {p}"),
        None => format!("{drug} taper"),
    };
    raw.split(|c: char| matches!(c, ',' | ';' | '\\') || c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        let mut v = Vec::new();
        fold_into(s, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(folded("VERSION:2.0"), "VERSION:2.0\r\n");
        let exact = "X".repeat(75);
        assert_eq!(folded(&exact), format!("{exact}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_original() {
        let line = format!("SUMMARY:{}", "é😀x".repeat(60));
        let out = folded(&line);
        for physical in out.split_terminator("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), line);
    }

    #[test]
    fn folds_never_end_a_physical_line_in_a_space() {
        let line = format!("DESCRIPTION:{}end", "ab ".repeat(80));
        let out = folded(&line);
        for physical in out.split_terminator("\r\n") {
            assert!(!physical.ends_with(' '), "{physical:?}");
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), line);
    }

    #[test]
    fn text_escaping_covers_rfc_5545_specials_and_controls() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("1\n2\r\n3\r4"), r"1\n2\n3\n4");
        assert_eq!(escape_text("a\u{7}b\tc"), "a b\tc");
    }

    #[test]
    fn uids_depend_on_every_field_and_on_field_boundaries() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let a = uid("p1", "a,b", "c", "dose", d, "morning");
        assert_eq!(a, uid("p1", "a,b", "c", "dose", d, "morning"));
        assert!(a.ends_with("-p1@taper"), "{a}");
        assert_ne!(a, uid("p2", "a,b", "c", "dose", d, "morning"));
        assert_ne!(a, uid("p1", "a", "b,c", "dose", d, "morning"));
        assert_ne!(a, uid("p1", "a,b", "c", "dose", d, "bedtime"));
        assert_ne!(a, uid("p1", "a,b", "c", "step", d, "morning"));
        assert_ne!(
            a,
            uid("p1", "a,b", "c", "dose", d.succ_opt().unwrap(), "morning")
        );
    }

    #[test]
    fn calendar_names_need_no_escaping() {
        assert_eq!(calendar_name("Baclofen", None), "Baclofen taper");
        assert_eq!(
            calendar_name("Baclofen", Some("Smith, John")),
            "Baclofen taper: Smith John"
        );
        let hostile = calendar_name("Dia;zepam", Some(" a\\b;c,,d\n e "));
        assert_eq!(hostile, "Dia zepam taper: a b c d e");
        assert_eq!(escape_text(&hostile), hostile);
    }
}
