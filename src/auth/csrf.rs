//! CSRF tokens: one per browser session (the synchronizer-token pattern), compared in
//! constant time. Checked by [`authenticate`](crate::web::auth::authenticate) on every
//! state-changing request that carries the session cookie, together with the
//! `Sec-Fetch-Site` / `Origin` cross-site check.

/// Constant-time comparison of two tokens.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::tokens_match;

    #[test]
    fn matching() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "abcd"));
        assert!(!tokens_match("", "abc"));
    }
}
