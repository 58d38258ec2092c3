//! Screening party names against the Consolidated Screening List: normalisation (case,
//! punctuation, accents, common company suffixes, word order) and fuzzy matching with a
//! score, over a token index so that a name is compared only with entries sharing a word
//! (or a word's first letters, for misspellings).

use std::collections::{HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

/// Company-form words that say nothing about who a company is.
const SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "srl",
    "bv",
    "nv",
    "jsc",
    "ojsc",
    "cjsc",
    "pjsc",
    "ao",
    "oao",
    "zao",
    "pao",
    "ooo",
    "the",
    "of",
    "and",
    "group",
    "holding",
    "holdings",
    "llp",
    "lp",
];

/// A name reduced to its identifying words, sorted (so word order does not matter).
pub fn normalise(name: &str) -> Vec<String> {
    let folded: String = name
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' })
        .collect();
    let mut words: Vec<String> =
        folded.split_whitespace().filter(|w| !SUFFIXES.contains(w)).map(str::to_string).collect();
    words.sort();
    words.dedup();
    words
}

/// How alike two normalised names are, 0–1: Jaro-Winkler over the sorted words, raised
/// by the share of words that match (exactly or nearly) so that a listed name found inside a
/// longer one still scores.
pub fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let whole = strsim::jaro_winkler(&a.join(" "), &b.join(" "));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let matched = short
        .iter()
        .filter(|w| long.iter().any(|v| v == *w || (w.len() > 3 && strsim::jaro_winkler(w, v) >= 0.92)))
        .count();
    let coverage = matched as f64 / short.len() as f64;
    // All words of the shorter name found, and it has at least two: a strong sign.
    let by_words = if short.len() >= 2 { coverage * 0.97 } else { coverage * 0.9 };
    whole.max(by_words)
}

/// One name of a list entry (its name or an alias).
#[derive(Debug, Clone)]
struct IndexedName {
    entry: usize,
    name: String,
    words: Vec<String>,
}

/// A screening list ready for matching.
#[derive(Debug, Default)]
pub struct ScreeningIndex {
    names: Vec<IndexedName>,
    by_token: HashMap<String, Vec<u32>>,
}

/// A match of a name against a list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the entry (as given to [`ScreeningIndex::build`]).
    pub entry: usize,
    /// The list name or alias that matched.
    pub matched_name: String,
    /// Similarity 0–1.
    pub score: f64,
}

fn keys(words: &[String]) -> impl Iterator<Item = String> + '_ {
    // Whole words, and the first four letters of longer words (to survive a typo later in
    // the word).
    words.iter().flat_map(|w| {
        let mut k = vec![w.clone()];
        if w.chars().count() > 5 {
            k.push(format!("{}*", w.chars().take(4).collect::<String>()));
        }
        k
    })
}

impl ScreeningIndex {
    /// Indexes entries, each given as its names (primary name first, then aliases).
    pub fn build(entries: &[Vec<String>]) -> Self {
        let mut index = ScreeningIndex::default();
        for (entry, names) in entries.iter().enumerate() {
            for name in names {
                let words = normalise(name);
                if words.is_empty() {
                    continue;
                }
                let id = index.names.len() as u32;
                for k in keys(&words).collect::<HashSet<_>>() {
                    index.by_token.entry(k).or_default().push(id);
                }
                index.names.push(IndexedName { entry, name: name.clone(), words });
            }
        }
        // Words that occur in very many names ("trading", "technology") only add noise to
        // the candidate set; a real match shares a rarer word too.
        let limit = (index.names.len() / 50).max(200);
        index.by_token.retain(|_, v| v.len() <= limit);
        index
    }

    /// Number of indexed names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The best match per entry at or above `threshold`, best first.
    pub fn screen(&self, name: &str, threshold: f64) -> Vec<Match> {
        let words = normalise(name);
        if words.is_empty() {
            return Vec::new();
        }
        let mut candidates: HashSet<u32> = HashSet::new();
        for k in keys(&words) {
            if let Some(ids) = self.by_token.get(&k) {
                candidates.extend(ids.iter().copied());
            }
        }
        let mut best: HashMap<usize, Match> = HashMap::new();
        for id in candidates {
            let n = &self.names[id as usize];
            let score = similarity(&words, &n.words);
            if score >= threshold {
                let m =
                    Match { entry: n.entry, matched_name: n.name.clone(), score: (score * 1000.0).round() / 1000.0 };
                match best.get(&n.entry) {
                    Some(b) if b.score >= m.score => {}
                    _ => {
                        best.insert(n.entry, m);
                    }
                }
            }
        }
        let mut out: Vec<Match> = best.into_values().collect();
        out.sort_by(|a, b| {
            b.score.partial_cmp(&a.score).unwrap_or(std::cmp::Ordering::Equal).then(a.entry.cmp(&b.entry))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ScreeningIndex {
        ScreeningIndex::build(&[
            vec!["Huawei Technologies Co., Ltd.".into(), "Huawei".into()],
            vec!["AO Kaspersky Lab".into(), "Kaspersky Lab".into()],
            vec!["Hangzhou Hikvision Digital Technology Co., Ltd.".into()],
            vec!["Korea Mining Development Trading Corporation".into(), "KOMID".into()],
            vec!["Société Générale de Télécommunications Zorbalia".into()],
        ])
    }

    #[test]
    fn normalisation_drops_case_punctuation_accents_suffixes_and_order() {
        assert_eq!(normalise("HUAWEI TECHNOLOGIES CO., LTD."), ["huawei", "technologies"]);
        assert_eq!(normalise("Technologies, Huawei (Ltd)"), ["huawei", "technologies"]);
        assert_eq!(normalise("Société Générale"), ["generale", "societe"]);
        assert!(normalise("Co. Ltd.").is_empty());
    }

    #[test]
    fn exact_alias_reordered_and_misspelt_names_are_found() {
        let i = index();
        let exact = i.screen("Huawei Technologies Co., Ltd.", 0.9);
        assert_eq!((exact[0].entry, exact[0].score), (0, 1.0));
        assert_eq!(i.screen("KOMID", 0.9)[0].entry, 3, "alias");
        assert_eq!(i.screen("Lab, AO Kaspersky", 0.9)[0].entry, 1, "word order");
        let typo = i.screen("Hangzhou Hikvison Digital Technology", 0.9);
        assert_eq!(typo[0].entry, 2, "misspelt");
        assert!(typo[0].score < 1.0);
        assert_eq!(i.screen("societe generale de telecommunications zorbalia", 0.9)[0].entry, 4, "accents");
        assert_eq!(i.screen("Kaspersky Lab, Inc.", 0.9)[0].entry, 1, "a US subsidiary's name contains the listed name");
    }

    #[test]
    fn unrelated_names_are_not() {
        let i = index();
        for name in
            ["Acme Widgets Inc", "Regional Telco LLC", "General Motors", "Lab Equipment Supply", "Digital Realty Trust"]
        {
            assert!(i.screen(name, 0.9).is_empty(), "{name} matched {:?}", i.screen(name, 0.9));
        }
    }
}
