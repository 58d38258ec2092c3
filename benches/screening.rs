//! Screening throughput: 100,000 party names against a 30,000-entry list, on one thread.
//!
//! `cargo bench --bench screening`. Reports names per second for fuzzy screening, and, as
//! the reference measured in the same run, for an exact lookup of the same normalised
//! names in a hash map (the least any screening could cost), with the ratio between them.

use std::collections::HashMap;
use std::time::Instant;

use icts_review::parties::screening::{ScreeningIndex, normalise};

/// A small deterministic generator (no dependency, same data every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() as usize) % words.len()]
    }
}

const PLACES: &[&str] = &[
    "Shenzhen",
    "Hangzhou",
    "Beijing",
    "Shanghai",
    "Moscow",
    "Tehran",
    "Pyongyang",
    "Minsk",
    "Havana",
    "Caracas",
    "Wuhan",
    "Chengdu",
    "Tianjin",
    "Novosibirsk",
    "Kazan",
    "Isfahan",
    "Shiraz",
    "Dalian",
    "Xiamen",
    "Harbin",
    "Omsk",
    "Samara",
    "Tabriz",
    "Qingdao",
    "Nanjing",
    "Suzhou",
];
const STEMS: &[&str] = &[
    "Optic", "Quantum", "Star", "Dragon", "Polar", "Red", "Great", "Silk", "Eagle", "Orbit", "Crystal", "Titan",
    "Vector", "Nova", "Zenith", "Aurora", "Falcon", "Jade", "Pioneer", "Summit", "Horizon", "Harmony", "Unity", "Sky",
    "Ocean", "Granite", "Iron", "Golden", "Silver", "Blue", "Green", "Bright", "Swift", "Prime", "Delta", "Sigma",
    "Alpha", "Omega", "Lotus", "Phoenix",
];
const TRADES: &[&str] = &[
    "Telecom",
    "Electronics",
    "Semiconductor",
    "Networks",
    "Software",
    "Photonics",
    "Robotics",
    "Drone",
    "Satellite",
    "Cloud",
    "Data",
    "Security",
    "Systems",
    "Microelectronics",
    "Communications",
    "Devices",
    "Instruments",
    "Aerospace",
    "Machinery",
    "Logistics",
];
const FORMS: &[&str] =
    &["Co. Ltd.", "Corporation", "JSC", "LLC", "Group", "Technology Co.", "Industries", "Inc.", "OOO", "Holdings"];
const US: &[&str] = &[
    "Acme",
    "Pinnacle",
    "Liberty",
    "Heartland",
    "Cascade",
    "Evergreen",
    "Keystone",
    "Lakeside",
    "Riverside",
    "Summit",
    "Frontier",
    "Harbor",
    "Mesa",
    "Prairie",
    "Redwood",
    "Sequoia",
    "Patriot",
    "Pioneer",
    "Granite",
    "Canyon",
];

fn list_name(r: &mut Lcg) -> String {
    format!("{} {}{} {} {}", r.pick(PLACES), r.pick(STEMS), r.pick(STEMS).to_lowercase(), r.pick(TRADES), r.pick(FORMS))
}

fn typo(s: &str, r: &mut Lcg) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = 1 + (r.next() as usize) % (c.len() - 2);
    c.swap(i, i + 1);
    c.into_iter().collect()
}

fn main() {
    let mut r = Lcg(7);
    let entries: Vec<Vec<String>> = (0..30_000)
        .map(|i| {
            let name = list_name(&mut r);
            // Some entries have an alias: a shorter form of the distinctive part of the name.
            if i % 5 == 0 {
                let short = name.split_whitespace().skip(1).take(2).collect::<Vec<_>>().join(" ");
                vec![name.clone(), short]
            } else {
                vec![name]
            }
        })
        .collect();
    let mut names = Vec::with_capacity(100_000);
    for i in 0..100_000usize {
        let n = match i % 50 {
            // 2% relate to listed entities: exact, reordered or misspelt.
            0 => entries[(r.next() as usize) % entries.len()][0].clone(),
            1 => {
                let e = &entries[(r.next() as usize) % entries.len()][0];
                typo(e, &mut r)
            }
            _ => format!("{} {} {} {}", r.pick(US), r.pick(STEMS), r.pick(TRADES), r.pick(FORMS)),
        };
        names.push(n);
    }

    let t = Instant::now();
    let index = ScreeningIndex::build(&entries);
    let build = t.elapsed();

    let t = Instant::now();
    let mut hits = 0usize;
    for n in &names {
        hits += index.screen(n, 0.90).len();
    }
    let fuzzy = t.elapsed();

    // Reference: exact lookup of the normalised names.
    let exact: HashMap<Vec<String>, usize> = entries.iter().enumerate().map(|(i, e)| (normalise(&e[0]), i)).collect();
    let t = Instant::now();
    let mut exact_hits = 0usize;
    for n in &names {
        if exact.contains_key(&normalise(n)) {
            exact_hits += 1;
        }
    }
    let reference = t.elapsed();

    let per_sec = names.len() as f64 / fuzzy.as_secs_f64();
    let ref_per_sec = names.len() as f64 / reference.as_secs_f64();
    println!("screening: {} names against {} entries ({} indexed names)", names.len(), entries.len(), index.len());
    println!("  index build            {:>8.1} ms", build.as_secs_f64() * 1000.0);
    println!("  fuzzy screening        {:>8.0} names/s  ({} hits)", per_sec, hits);
    println!("  reference exact lookup {:>8.0} names/s  ({} hits)", ref_per_sec, exact_hits);
    println!("  ratio fuzzy / exact    {:>8.2}", per_sec / ref_per_sec);
    println!(
        "  target: at least 10,000 names/s on one of 2 cores: {}",
        if per_sec >= 10_000.0 { "met" } else { "NOT met" }
    );
}
