//! "Did you mean": the closest known name to a miss, by edit distance.

use crate::error::MAX_NAME_LEN;

/// Returns the candidate closest to `name` when it is close enough to be a typo.
///
/// The work is bounded whatever the input: a name longer than any valid name plus the largest
/// allowed distance cannot be close to anything and is rejected before any distance is computed,
/// and candidates whose length alone rules them out are skipped.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN + MAX_NAME_LEN / 3 {
        return None;
    }
    let name_chars = name.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let candidate_chars = candidate.chars().count();
        let allowed = (name_chars.min(candidate_chars) / 3).max(1);
        if name_chars.abs_diff(candidate_chars) > allowed {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            strsim::levenshtein(name, candidate)
        };
        if distance > allowed {
            continue;
        }
        let better = match best {
            None => true,
            Some((d, b)) => (distance, candidate) < (d, b),
        };
        if better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn picks_the_nearest_name() {
        let names = ["greet", "order.refresh", "order.create"];
        assert_eq!(closest("gret", names), Some("greet"));
        assert_eq!(closest("order.refesh", names), Some("order.refresh"));
        assert_eq!(closest("GREET", names), Some("greet"));
        assert_eq!(closest("zzzzzz", names), None);
        assert_eq!(closest("", names), None);
    }

    #[test]
    fn huge_input_is_rejected_without_work() {
        let huge = "g".repeat(1 << 20);
        assert_eq!(closest(&huge, ["greet"]), None);
    }
}
