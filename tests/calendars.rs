//! Calendars read back by real consumers: the ICS by the `ical` parser
//! crate, the HTML by the `scraper` HTML5 parser. Expectations come from
//! the same request's JSON output, never from the renderers' own code.
//! `.ci/check-calendars` adds Python's `icalendar` and a headless-Chromium
//! print on A4 and US Letter.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::BufReader;

use assert_cmd::Command;
use ical::parser::ical::component::{IcalCalendar, IcalEvent};
use ical::property::Property;
use scraper::{Html, Selector};
use serde_json::Value;

const DISCLAIMER: &str = "This schedule is a draft aid for prescribers. It must be used under prescriber oversight and is not medical advice; do not change a dose without your prescriber.";

fn base() -> Vec<String> {
    [
        "plan",
        "baclofen",
        "--dose",
        "60mg",
        "--start",
        "2026-12-01",
    ]
    .map(String::from)
    .to_vec()
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

fn run(args: &[String]) -> Vec<u8> {
    let out = Command::from_std(common::taper())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "taper {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The oracle: the same plan as JSON, one entry per day.
fn plan_json(args: &[String]) -> Value {
    let out = run(&with(
        args.to_vec(),
        &["--format", "json", "--view", "days"],
    ));
    let v = serde_json::from_slice(&out).unwrap();
    common::assert_valid_plan_json(&v);
    v
}

fn ics(args: &[String]) -> Vec<u8> {
    run(&with(args.to_vec(), &["--format", "ics"]))
}

fn html(args: &[String]) -> String {
    String::from_utf8(run(&with(args.to_vec(), &["--format", "html"]))).unwrap()
}

fn parse_ics(bytes: &[u8]) -> IcalCalendar {
    let mut cals: Vec<IcalCalendar> = ical::IcalParser::new(BufReader::new(bytes))
        .collect::<Result<_, _>>()
        .expect("the ical crate parses the calendar");
    assert_eq!(cals.len(), 1, "exactly one VCALENDAR");
    cals.remove(0)
}

/// RFC 5545 §3.3.11 TEXT unescaping, written from the RFC (the parser
/// crate hands back raw values). Strict: a bare `;` or `,` (not allowed in
/// a single TEXT value) fails the test.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == ';' || c == ',' {
            panic!("unescaped {c:?} in TEXT value {v:?}");
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(c @ ('\\' | ';' | ',')) => out.push(c),
            Some(other) => panic!("invalid TEXT escape \\{other} in {v:?}"),
            None => panic!("dangling backslash in {v:?}"),
        }
    }
    out
}

fn prop<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name == name)
}

fn value(props: &[Property], name: &str) -> String {
    prop(props, name)
        .and_then(|p| p.value.clone())
        .unwrap_or_else(|| panic!("no {name}"))
}

fn text(props: &[Property], name: &str) -> String {
    unescape(&value(props, name))
}

fn has_param(p: &Property, key: &str, val: &str) -> bool {
    p.params
        .iter()
        .flatten()
        .any(|(k, v)| k == key && v.iter().any(|x| x == val))
}

fn ymd(v: &str) -> String {
    assert_eq!(v.len(), 8, "a DATE value: {v}");
    format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..])
}

fn next_day(iso: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap();
    d.succ_opt().unwrap().to_string()
}

fn is_all_day(e: &IcalEvent) -> bool {
    prop(&e.properties, "DTSTART").is_some_and(|p| has_param(p, "VALUE", "DATE"))
}

fn is_step_event(e: &IcalEvent) -> bool {
    is_all_day(e) && text(&e.properties, "SUMMARY").contains("mg/day")
}

fn is_check_event(e: &IcalEvent) -> bool {
    is_all_day(e) && !is_step_event(e)
}

/// The doses given on a day of `step`: `(slot_index, slot name)`.
fn given(plan: &Value, step: u64) -> Vec<(usize, String)> {
    plan["steps"][step as usize - 1]["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_ne!(a["amount"], "0", "no administration of 0 is listed");
            (
                a["slot_index"].as_u64().unwrap() as usize,
                a["slot"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn event_kinds(day: &Value) -> Vec<&str> {
    day["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn ics_has_one_all_day_event_per_step_covering_the_plan_exactly() {
    let args = base();
    let plan = plan_json(&args);
    let cal = parse_ics(&ics(&args));
    let steps = plan["steps"].as_array().unwrap();
    let step_events: Vec<&IcalEvent> = cal.events.iter().filter(|e| is_step_event(e)).collect();
    assert_eq!(step_events.len(), steps.len());
    let mut covered = Vec::new();
    for (e, s) in step_events.iter().zip(steps) {
        let start = ymd(&value(&e.properties, "DTSTART"));
        let end = ymd(&value(&e.properties, "DTEND"));
        assert_eq!(start, s["start"].as_str().unwrap());
        assert_eq!(
            end,
            next_day(s["end"].as_str().unwrap()),
            "DTEND is exclusive"
        );
        let mut d = start;
        while d != end {
            covered.push(d.clone());
            d = next_day(&d);
        }
        let summary = text(&e.properties, "SUMMARY");
        let dose = s["daily_dose"].as_str().unwrap();
        assert!(
            summary.starts_with(&format!("Baclofen {dose} mg/day (")),
            "{summary}"
        );
    }
    let dates: Vec<String> = plan["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(covered, dates, "step events tile the plan day by day");
    assert_eq!(
        text(&step_events[2].properties, "SUMMARY"),
        "Baclofen 45 mg/day (15 + 15 + 15 mg)"
    );
}

#[test]
fn ics_has_a_reminder_on_each_check_in_day_and_the_last_day() {
    let args = base();
    let plan = plan_json(&args);
    let cal = parse_ics(&ics(&args));
    let expected: Vec<String> = plan["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            event_kinds(d)
                .iter()
                .any(|k| *k == "check_in" || *k == "final")
        })
        .map(|d| d["date"].as_str().unwrap().replace('-', ""))
        .collect();
    let checks: Vec<&IcalEvent> = cal.events.iter().filter(|e| is_check_event(e)).collect();
    let got: Vec<String> = checks
        .iter()
        .map(|e| value(&e.properties, "DTSTART"))
        .collect();
    assert_eq!(got, expected);
    let symptom = plan["reminders"]["withdrawal_symptoms"][0]
        .as_str()
        .unwrap();
    let red_flag = plan["reminders"]["red_flags"][0].as_str().unwrap();
    let if_symptoms = plan["reminders"]["if_symptoms"].as_str().unwrap();
    for e in checks {
        let d = text(&e.properties, "DESCRIPTION");
        assert!(
            d.contains(symptom) && d.contains(red_flag) && d.contains(if_symptoms),
            "{d}"
        );
    }
}

#[test]
fn ics_calendar_and_every_event_carry_the_disclaimer_and_required_properties() {
    let args = with(base(), &["--times", "08:00,14:00,20:00"]);
    let cal = parse_ics(&ics(&args));
    assert_eq!(value(&cal.properties, "VERSION"), "2.0");
    assert_eq!(value(&cal.properties, "CALSCALE"), "GREGORIAN");
    assert!(value(&cal.properties, "PRODID").contains("taper"));
    assert_eq!(text(&cal.properties, "X-WR-CALNAME"), "Baclofen taper");
    for name in ["X-WR-CALDESC", "DESCRIPTION"] {
        let d = text(&cal.properties, name);
        assert!(d.contains(DISCLAIMER), "{name}: {d}");
        assert!(
            d.contains("profile baclofen version"),
            "provenance in {name}"
        );
        assert!(
            d.contains("Sources: Baclofen Tablets USP"),
            "sources in {name}"
        );
    }
    for e in &cal.events {
        assert!(text(&e.properties, "DESCRIPTION").contains(DISCLAIMER));
        let stamp = value(&e.properties, "DTSTAMP");
        assert_eq!(stamp, "20261201T000000Z", "deterministic DTSTAMP");
    }
}

#[test]
fn ics_uids_are_unique_and_stable_across_runs() {
    let args = with(
        base(),
        &["--times", "08:00,14:00,20:00", "--patient", "J. Smith"],
    );
    let first = ics(&args);
    let second = ics(&args);
    assert_eq!(
        first, second,
        "the same request gives byte-identical output"
    );
    let uids: Vec<String> = parse_ics(&first)
        .events
        .iter()
        .map(|e| value(&e.properties, "UID"))
        .collect();
    let unique: HashSet<&String> = uids.iter().collect();
    assert_eq!(unique.len(), uids.len(), "UIDs are unique");
    // Another patient's calendar never replaces this one's events.
    let other = ics(&with(
        base(),
        &["--times", "08:00,14:00,20:00", "--patient", "K. Jones"],
    ));
    let other_uids: HashSet<String> = parse_ics(&other)
        .events
        .iter()
        .map(|e| value(&e.properties, "UID"))
        .collect();
    assert!(uids.iter().all(|u| !other_uids.contains(u)));
    // Moving the dose times keeps the UIDs: re-importing replaces events.
    let moved = ics(&with(
        base(),
        &["--times", "07:30,13:00,21:00", "--patient", "J. Smith"],
    ));
    let moved_uids: Vec<String> = parse_ics(&moved)
        .events
        .iter()
        .map(|e| value(&e.properties, "UID"))
        .collect();
    assert_eq!(moved_uids, uids);
}

fn uid_set(bytes: &[u8]) -> HashSet<String> {
    parse_ics(bytes)
        .events
        .iter()
        .map(|e| value(&e.properties, "UID"))
        .collect()
}

#[test]
fn ics_uids_carry_the_plan_id_which_separates_plans_without_a_patient() {
    let times = ["--times", "08:00,14:00,20:00"];
    let plain = ics(&with(base(), &times));
    let json_id = plan_json(&base())["plan_id"].as_str().unwrap().to_string();
    let uids = uid_set(&plain);
    assert!(!uids.is_empty());
    for u in &uids {
        assert!(
            u.ends_with(&format!("-{json_id}@taper")),
            "{u} lacks {json_id}"
        );
    }
    // Same request, same plan id, same UIDs.
    assert_eq!(uid_set(&ics(&with(base(), &times))), uids);
    // Two plans of one drug and date, no patient named: --plan-id keeps
    // them apart, and every UID names its own plan id.
    let a = uid_set(&ics(&with(
        base(),
        &[&times[..], &["--plan-id", "ward3-bed1"]].concat(),
    )));
    let b = uid_set(&ics(&with(
        base(),
        &[&times[..], &["--plan-id", "ward3-bed2"]].concat(),
    )));
    assert_eq!(a.len(), uids.len());
    assert!(a.is_disjoint(&b) && a.is_disjoint(&uids));
    assert!(a.iter().all(|u| u.ends_with("-ward3-bed1@taper")));
    // Two patients on the same drug and date: disjoint without --plan-id,
    // and also when both were given the same --plan-id by mistake.
    for extra in [&[][..], &["--plan-id", "same"][..]] {
        let p1 = uid_set(&ics(&with(
            base(),
            &[&times[..], &["--patient", "J. Smith"], extra].concat(),
        )));
        let p2 = uid_set(&ics(&with(
            base(),
            &[&times[..], &["--patient", "K. Jones"], extra].concat(),
        )));
        assert!(p1.is_disjoint(&p2), "{extra:?}");
    }
}

#[test]
fn ics_dose_uids_follow_the_slot_name_so_a_dropped_dose_leaves_the_others_alone() {
    // Same plan id and dates; in the second plan step 2 is given in two
    // doses (midday dropped) instead of three.
    let plan = |schedule: &str| {
        [
            "plan",
            "baclofen",
            "--dose",
            "30mg",
            "--start",
            "2026-12-01",
            "--strategy",
            "custom",
            "--schedule",
            schedule,
            "--plan-id",
            "p-7",
            "--times",
            "08:00,14:00,20:00",
        ]
        .map(String::from)
        .to_vec()
    };
    let three = plan("30x7,15x7");
    let two = plan("30x7,10x7");
    let step2 = plan_json(&two)["steps"][1].clone();
    let kept: Vec<&str> = step2["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slot"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["morning", "bedtime"]);
    let step2_start = ymd_compact(step2["start"].as_str().unwrap());
    // Dose events of step 2 by (date, time): time stands for the slot.
    let doses = |args: &[String]| -> BTreeMap<(String, String), String> {
        parse_ics(&ics(args))
            .events
            .iter()
            .filter(|e| !is_all_day(e))
            .map(|e| {
                let start = value(&e.properties, "DTSTART");
                let (date, time) = start.split_at(8);
                (
                    (date.to_string(), time.to_string()),
                    value(&e.properties, "UID"),
                )
            })
            .filter(|((date, _), _)| *date >= step2_start)
            .collect()
    };
    let with_three = doses(&three);
    let with_two = doses(&two);
    assert!(!with_two.is_empty());
    for (key, uid) in &with_two {
        assert_ne!(key.1, "T140000", "midday was dropped");
        assert_eq!(with_three.get(key), Some(uid), "{key:?} kept its UID");
    }
    let midday: Vec<&String> = with_three
        .iter()
        .filter(|((_, t), _)| t == "T140000")
        .map(|(_, u)| u)
        .collect();
    assert!(!midday.is_empty());
    assert!(midday.iter().all(|u| !with_two.values().any(|v| v == *u)));
}

fn ymd_compact(iso: &str) -> String {
    iso.replace('-', "")
}

#[test]
fn ics_times_add_one_alarmed_floating_event_per_dose_given_at_its_slots_time() {
    let times = ["08:00", "14:00", "20:00"];
    let args = with(base(), &["--times", &times.join(",")]);
    let plan = plan_json(&args);
    let cal = parse_ics(&ics(&args));
    let mut expected: Vec<(String, usize, String)> = Vec::new();
    for d in plan["days"].as_array().unwrap() {
        let date = d["date"].as_str().unwrap().replace('-', "");
        for (slot, name) in given(&plan, d["step"].as_u64().unwrap()) {
            expected.push((date.clone(), slot, name));
        }
    }
    // The plan gives fewer doses before it stops, so some days have no
    // midday event (and the last dose day only a bedtime one).
    assert!(expected.len() < 3 * (plan["days"].as_array().unwrap().len() - 1));
    let timed: Vec<&IcalEvent> = cal.events.iter().filter(|e| !is_all_day(e)).collect();
    assert_eq!(timed.len(), expected.len());
    let alarms: usize = timed.iter().map(|e| e.alarms.len()).sum();
    assert_eq!(alarms, expected.len(), "one alarm per administration");
    for (e, (date, slot, name)) in timed.iter().zip(&expected) {
        let start = prop(&e.properties, "DTSTART").unwrap();
        assert!(start.params.is_none(), "floating time: no TZID");
        let hhmm = times[*slot].replace(':', "");
        assert_eq!(
            start.value.as_deref(),
            Some(format!("{date}T{hhmm}00").as_str()),
            "{name} dose at its own time"
        );
        assert!(!value(&e.properties, "DTEND").ends_with('Z'));
        let summary = text(&e.properties, "SUMMARY");
        assert!(summary.contains(&format!("{name} dose")), "{summary}");
        assert!(
            !summary.contains("dose 1"),
            "slot names, never numbers: {summary}"
        );
        assert!(summary.contains(" × "), "says what to take: {summary}");
        let alarm = &e.alarms[0].properties;
        assert_eq!(value(alarm, "ACTION"), "DISPLAY");
        assert!(prop(alarm, "TRIGGER").is_some());
        assert!(text(alarm, "DESCRIPTION").contains("take"));
    }
    // Without --times there is not one timed event.
    let plain = parse_ics(&ics(&base()));
    assert!(plain.events.iter().all(is_all_day));
}

#[test]
fn ics_dose_events_on_days_with_fewer_doses_keep_the_remaining_slots_times() {
    // Oxycodone goes from 4 doses a day to fewer before it stops.
    let times = ["07:00", "12:00", "17:00", "22:00"];
    let args: Vec<String> = [
        "plan",
        "oxycodone",
        "--dose",
        "60mg",
        "--start",
        "2026-12-01",
    ]
    .map(String::from)
    .to_vec();
    let plan = plan_json(&args);
    let cal = parse_ics(&ics(&with(args, &["--times", &times.join(",")])));
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in cal.events.iter().filter(|e| !is_all_day(e)) {
        let v = value(&e.properties, "DTSTART");
        by_day
            .entry(v[..8].to_string())
            .or_default()
            .push(v[9..13].to_string());
    }
    let mut fewer = 0;
    for d in plan["days"].as_array().unwrap() {
        let date = d["date"].as_str().unwrap().replace('-', "");
        let want: Vec<String> = given(&plan, d["step"].as_u64().unwrap())
            .into_iter()
            .map(|(slot, _)| times[slot].replace(':', ""))
            .collect();
        if !want.is_empty() && want.len() < times.len() {
            fewer += 1;
        }
        assert_eq!(
            by_day.remove(&date).unwrap_or_default(),
            want,
            "{date}: one event per remaining dose, at that dose's own time"
        );
    }
    assert!(fewer > 0, "the plan has days with fewer doses");
    assert!(by_day.is_empty(), "no events outside the plan");
}

#[test]
fn sertraline_concentrate_instructions_reach_every_dose_event_and_week_row() {
    let args: Vec<String> = [
        "plan",
        "sertraline",
        "--dose",
        "100mg",
        "--start",
        "2026-12-01",
    ]
    .map(String::from)
    .to_vec();
    let plan = plan_json(&args);
    let concentrate = plan["products"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p["name"].as_str().unwrap().contains("concentrate"))
        .expect("the plan uses the concentrate");
    let instructions = plan["products"][concentrate]["instructions"]
        .as_str()
        .unwrap();
    assert!(instructions.contains("Dilute"), "{instructions}");
    let uses = |step: u64| {
        plan["steps"][step as usize - 1]["administrations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| {
                a["portions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["product"].as_u64() == Some(concentrate as u64))
            })
    };
    // ICS: every timed dose event that uses it says how, once.
    let cal = parse_ics(&ics(&with(args.clone(), &["--times", "09:00"])));
    let timed: Vec<&IcalEvent> = cal.events.iter().filter(|e| !is_all_day(e)).collect();
    let dosing_days = plan["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| uses(d["step"].as_u64().unwrap()))
        .count();
    assert!(dosing_days > 0);
    assert_eq!(timed.len(), dosing_days);
    for e in &timed {
        let d = text(&e.properties, "DESCRIPTION");
        assert_eq!(d.matches(instructions).count(), 1, "{d}");
        assert!(text(&e.alarms[0].properties, "DESCRIPTION").contains(instructions));
    }
    // ...and every step event that uses it.
    for e in cal.events.iter().filter(|e| is_step_event(e)) {
        let d = text(&e.properties, "DESCRIPTION");
        if !text(&e.properties, "SUMMARY").contains("stopped") {
            assert_eq!(d.matches(instructions).count(), 1, "{d}");
        }
    }
    // HTML: once in the handling band of every week row with a dose of
    // it (a band row under the week, or the week's empty cells), never in
    // a day cell (the cells have no room for it at 11 pt).
    let doc = Html::parse_document(&html(&args));
    let days: BTreeMap<&str, &Value> = plan["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d))
        .collect();
    let mut cells = 0;
    for row in doc.select(&sel("tr.week")) {
        let mut band: String = row.select(&sel("td.how")).flat_map(|e| e.text()).collect();
        if let Some(next) = row.next_siblings().find_map(scraper::ElementRef::wrap) {
            if next.value().classes().any(|c| c == "how") {
                band.extend(next.text());
            }
        }
        let mut week_uses = false;
        for td in row.select(&sel("td.in-plan")) {
            let day = days[td.value().attr("data-date").unwrap()];
            let text: String = td.text().collect();
            assert!(!text.contains(instructions), "{text}");
            if uses(day["step"].as_u64().unwrap()) {
                week_uses = true;
                cells += 1;
            }
        }
        let want = usize::from(week_uses);
        assert_eq!(band.matches(instructions).count(), want, "{band}");
    }
    assert_eq!(cells, dosing_days);
}

/// Names that break naive writers: TEXT specials, line breaks, a literal
/// backslash-n, emoji and multi-byte text across fold points, 300 chars.
/// Names `--patient` accepts (no control characters, at most 100
/// characters) that are still hard to carry through ICS and HTML.
fn hostile_names() -> Vec<String> {
    vec![
        r#"Smith, John; "Jr." \ the 3rd"#.to_string(),
        "Line one\u{2003}Line two".to_string(),
        r"C:\new\Name\, not an escape".to_string(),
        "Zoë 李小龍 Ñandú 😀👩‍⚕️".to_string(),
        "<script>alert(1)</script>".to_string(),
        {
            let mut long: String = "Ünïcödé 😀, x; ".repeat(10).chars().take(99).collect();
            long.push('Z');
            long
        },
    ]
}

/// What a calendar's name keeps of a patient name: its words, one space
/// apart (commas, semicolons and backslashes are dropped, so no client
/// shows an escape).
fn calendar_words(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '\\'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn ics_hostile_patient_names_round_trip_through_folding_and_escaping() {
    let long = &hostile_names()[5];
    assert_eq!(long.chars().count(), 100);
    for name in hostile_names() {
        let args = with(
            base(),
            &["--times", "08:00,14:00,20:00", "--patient", &name],
        );
        let bytes = ics(&args);
        check_lines(&bytes);
        let cal = parse_ics(&bytes);
        for p in ["NAME", "X-WR-CALNAME"] {
            let raw = value(&cal.properties, p);
            assert!(
                !raw.contains(['\\', ',', ';']),
                "{p} needs escapes: {raw:?}"
            );
            assert_eq!(raw, format!("Baclofen taper: {}", calendar_words(&name)));
        }
        assert!(text(&cal.properties, "X-WR-CALDESC").contains(&format!("For: {name}\n")));
        for e in &cal.events {
            assert!(text(&e.properties, "DESCRIPTION").contains(&format!("For: {name}\n")));
        }
    }
}

/// Every physical line is CRLF-terminated, at most 75 octets, and valid
/// UTF-8 on its own (a fold never splits a character).
fn check_lines(bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"));
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r\n").expect("CRLF line ending");
        assert!(
            line.len() <= 75,
            "{} octets: {:?}",
            line.len(),
            String::from_utf8_lossy(line)
        );
        assert!(!line.contains(&b'\r'), "bare CR");
        std::str::from_utf8(line).expect("a fold never splits a UTF-8 sequence");
    }
}

#[test]
fn ics_lines_are_crlf_terminated_and_folded_at_75_octets() {
    check_lines(&ics(&with(base(), &["--times", "08:00,14:00,20:00"])));
    // Liquids and a custom schedule give other texts to fold.
    check_lines(&ics(&[
        "plan",
        "prednisone",
        "--dose",
        "40mg",
        "--start",
        "2026-12-01",
        "--strategy",
        "custom",
        "--schedule",
        "40x7,30x7,20x7,10x7,5x7",
        "--times",
        "08:00",
    ]
    .map(String::from)));
}

#[test]
fn times_count_mismatch_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("plan.ics");
    let out = Command::from_std(common::taper())
        .args(base())
        .args(["--times", "08:00,20:00", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
    assert!(out.stdout.is_empty());
    assert!(!target.exists(), "no file on failure");
}

#[test]
fn ics_and_html_formats_are_inferred_from_the_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (name, start) in [
        ("plan.ics", &b"BEGIN:VCALENDAR\r\n"[..]),
        ("plan.html", &b"<!DOCTYPE html>"[..]),
    ] {
        let target = dir.path().join(name);
        Command::from_std(common::taper())
            .args(base())
            .arg("-o")
            .arg(&target)
            .assert()
            .success();
        let written = std::fs::read(&target).unwrap();
        assert!(written.starts_with(start), "{name}");
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

#[test]
fn html_every_plan_date_appears_once_in_the_month_grids() {
    // A plan that spans a year end, with a 6-week month grid (March 2026
    // starts on a Sunday).
    for args in [
        base(),
        with(
            [
                "plan",
                "baclofen",
                "--dose",
                "30mg",
                "--start",
                "2026-02-20",
            ]
            .map(String::from)
            .to_vec(),
            &[],
        ),
    ] {
        let plan = plan_json(&args);
        let doc = Html::parse_document(&html(&args));
        let in_plan: Vec<String> = doc
            .select(&sel("section.month td.in-plan"))
            .map(|td| td.value().attr("data-date").unwrap().to_string())
            .collect();
        let dates: Vec<String> = plan["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(in_plan, dates, "each plan date once, in order");
        // No date is drawn twice, in or out of the plan.
        let all: Vec<&str> = doc
            .select(&sel("section.month td[data-date]"))
            .map(|td| td.value().attr("data-date").unwrap())
            .collect();
        let unique: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(unique.len(), all.len());
        // One grid per calendar month of the plan.
        let months: BTreeSet<&str> = dates.iter().map(|d| &d[..7]).collect();
        assert_eq!(doc.select(&sel("section.month")).count(), months.len());
    }
}

#[test]
fn html_day_boxes_have_a_tick_box_per_administration_and_markers() {
    let args = base();
    let plan = plan_json(&args);
    let doc = Html::parse_document(&html(&args));
    let days: BTreeMap<&str, &Value> = plan["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d))
        .collect();
    let tick = sel(".tick");
    for td in doc.select(&sel("td.in-plan")) {
        let date = td.value().attr("data-date").unwrap();
        let day = days[date];
        let slots: Vec<String> = given(&plan, day["step"].as_u64().unwrap())
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        let titles: Vec<&str> = td
            .select(&tick)
            .map(|t| t.value().attr("title").unwrap())
            .collect();
        assert_eq!(titles, slots, "{date}: a tick box per dose given, by slot");
        let kinds = event_kinds(day);
        let classes: Vec<&str> = td.value().classes().collect();
        assert_eq!(
            classes.contains(&"step-start"),
            kinds.contains(&"step_start"),
            "{date}"
        );
        assert_eq!(
            classes.contains(&"check-in"),
            kinds.contains(&"check_in"),
            "{date}"
        );
        assert_eq!(
            classes.contains(&"final"),
            kinds.contains(&"final"),
            "{date}"
        );
        let dose = day["daily_dose"].as_str().unwrap();
        let text: String = td.text().collect();
        assert!(text.contains(&format!("{dose} mg")), "{date}: {text}");
    }
}

#[test]
fn html_header_steps_and_safety_text_come_from_the_plan() {
    let args = with(base(), &["--patient", "J. Smith"]);
    let plan = plan_json(&args);
    let doc = Html::parse_document(&html(&args));
    let page: String = doc.root_element().text().collect();
    for needle in [
        "J. Smith",
        "Baclofen taper schedule",
        "60 mg a day, 3 times a day",
        "stop completely (0 mg)",
        "linear: 5 mg less each step",
        DISCLAIMER,
        "Baclofen Tablets USP, prescribing information",
        "Name",
        "Phone",
    ] {
        assert!(page.contains(needle), "missing {needle:?}");
    }
    for key in ["withdrawal_symptoms", "red_flags"] {
        for item in plan["reminders"][key].as_array().unwrap() {
            assert!(page.contains(item.as_str().unwrap()), "{key}: {item}");
        }
    }
    assert!(page.contains(plan["reminders"]["if_symptoms"].as_str().unwrap()));
    let rows = doc.select(&sel("table.steps tbody tr")).count();
    assert_eq!(rows, plan["steps"].as_array().unwrap().len());
    for line in plan["dispense"].as_array().unwrap() {
        let name = line["name"].as_str().unwrap();
        let line = match line["units"].as_u64() {
            Some(units) => format!("{name} × {units}"),
            None => format!("{name}: {} mL", line["volume_ml"].as_str().unwrap()),
        };
        assert!(page.contains(&line), "dispensing {line}");
    }
    assert!(page.contains(plan["phase_text"].as_str().unwrap()));
    for g in plan["gave_way_text"].as_array().unwrap() {
        assert!(page.contains(g.as_str().unwrap()), "gave way: {g}");
    }
}

#[test]
fn html_chart_has_axis_labels_units_and_step_boundaries() {
    let args = base();
    let plan = plan_json(&args);
    let doc = Html::parse_document(&html(&args));
    let svg = doc
        .select(&sel("svg.chart"))
        .next()
        .expect("an inline SVG chart");
    let labels: Vec<String> = svg
        .select(&sel("text"))
        .map(|t| t.text().collect())
        .collect();
    assert!(labels.iter().any(|l| l == "Daily dose (mg)"));
    assert!(labels.iter().any(|l| l == "Date"));
    assert!(
        labels.iter().any(|l| l == "60"),
        "a tick at the starting dose"
    );
    let boundaries = svg.select(&sel("line[stroke-dasharray]")).count();
    assert_eq!(boundaries, plan["steps"].as_array().unwrap().len() - 1);
    assert_eq!(svg.select(&sel("polyline")).count(), 1);
}

#[test]
fn html_script_patient_is_text_not_an_element() {
    let name = "<script>alert(1)</script>";
    let source = html(&with(base(), &["--patient", name]));
    assert!(!source.contains(name), "raw markup never reaches the page");
    let doc = Html::parse_document(&source);
    assert_eq!(doc.select(&sel("script")).count(), 0);
    let shown: String = doc
        .select(&sel(".patient"))
        .flat_map(|e| e.text())
        .collect();
    assert!(shown.contains(name), "{shown}");
    let title: String = doc.select(&sel("title")).flat_map(|e| e.text()).collect();
    assert!(title.contains(name));
    for other in hostile_names() {
        let doc = Html::parse_document(&html(&with(base(), &["--patient", &other])));
        assert_eq!(doc.select(&sel("script")).count(), 0);
        let shown: String = doc
            .select(&sel(".patient"))
            .flat_map(|e| e.text())
            .collect();
        assert!(shown.contains(&other));
    }
}

#[test]
fn html_is_self_contained_and_loads_nothing() {
    for args in [
        base(),
        with(base(), &["--patient", "https://example.org/x"]),
    ] {
        let source = html(&args);
        let doc = Html::parse_document(&source);
        for el in doc
            .root_element()
            .descendants()
            .filter_map(scraper::ElementRef::wrap)
        {
            let tag = el.value().name();
            assert!(
                ![
                    "script", "link", "img", "iframe", "object", "embed", "a", "base", "image",
                    "use"
                ]
                .contains(&tag),
                "<{tag}> loads or links something"
            );
            for (attr, v) in el.value().attrs() {
                let v = v.to_ascii_lowercase();
                assert!(
                    !(v.contains("http:") || v.contains("https:") || v.contains("//")),
                    "<{tag} {attr}={v:?}> references a URL"
                );
            }
        }
        let css: String = doc.select(&sel("style")).flat_map(|e| e.text()).collect();
        for bad in ["url(", "@import", "@font-face", "http", "//"] {
            assert!(!css.contains(bad), "CSS contains {bad}");
        }
        assert!(css.contains("@page"), "print CSS");
        assert!(css.contains("break-before: page"), "one month per page");
    }
    // Source URLs are printed as plain text for the prescriber.
    let page: String = Html::parse_document(&html(&base()))
        .root_element()
        .text()
        .collect();
    assert!(page.contains("https://"));
}

#[test]
fn html_is_byte_identical_for_the_same_request() {
    let args = with(base(), &["--patient", "J. Smith"]);
    assert_eq!(html(&args), html(&args));
}
