//! Passwords: the acceptance rules (length, not a common password) and argon2id hashing
//! with at least the OWASP minimum parameters, run off the async runtime.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted (long passphrases are welcome).
pub const MAX_LEN: usize = crate::text::PASSWORD;
/// argon2id memory cost in KiB (OWASP minimum 19456).
pub const M_COST: u32 = 19456;
/// argon2id iterations (OWASP minimum 2).
pub const T_COST: u32 = 2;
/// argon2id parallelism.
pub const P_COST: u32 = 1;

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.to_lowercase())
        .collect()
});

/// Why a new password is refused (the message is for the user).
pub fn check_new(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters (15 or more is better)"));
    }
    if chars > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if COMMON.contains(&password.to_lowercase()) {
        return Err("is one of the most commonly used passwords; choose another".into());
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(M_COST, T_COST, P_COST, None).expect("valid argon2 parameters"),
    )
}

/// Hashes a password (PHC string). Blocking: call through [`hash_async`] from async code.
pub fn hash(password: &str) -> String {
    hasher().hash_password(password.as_bytes()).expect("argon2 hashing with a random salt succeeds").to_string()
}

/// Whether `password` matches `stored`; a malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Whether a stored hash was made with weaker settings than today's and should be
/// replaced at the next successful sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => p.m_cost() < M_COST || p.t_cost() < T_COST || p.p_cost() < P_COST,
        Err(_) => true,
    }
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown email takes as long as a wrong password.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash(&uuid::Uuid::new_v4().to_string()));

type Job = Box<dyn FnOnce() + Send>;

/// The threads that run argon2: one per core (at most 4). Each hash takes 19 MiB for its
/// duration, so a burst of sign-ins queues here, holding at most (threads × 19 MiB),
/// instead of taking 19 MiB per concurrent request on the blocking pool (up to 512
/// threads); a flood of sign-ins cannot exhaust memory, and no more hashes run at once
/// than there are cores to run them.
static HASHERS: LazyLock<std::sync::mpsc::Sender<Job>> = LazyLock::new(|| {
    let (send, receive) = std::sync::mpsc::channel::<Job>();
    let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
    for i in 0..n {
        let receive = receive.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match receive.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panic answers its caller with an error and keeps the thread.
                        Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                        Err(_) => return,
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    send
});

/// Runs `f` on the hashing threads and waits for its answer without blocking the runtime.
async fn on_hashers<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = tokio::sync::oneshot::channel();
    HASHERS
        .send(Box::new(move || {
            let _ = send.send(f());
        }))
        .expect("the hashing threads run for the life of the process");
    receive.await.expect("hashing does not panic")
}

/// [`hash`] on the hashing threads.
pub async fn hash_async(password: String) -> String {
    on_hashers(move || hash(&password)).await
}

/// [`verify`] on the hashing threads.
pub async fn verify_async(password: String, stored: String) -> bool {
    on_hashers(move || verify(&password, &stored)).await
}

/// A random password of 20 characters from an unambiguous alphabet (~115 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the system random source works");
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptance_rules() {
        assert!(check_new("short").unwrap_err().contains("at least 8"));
        assert!(check_new("password1").unwrap_err().contains("commonly used"));
        assert!(check_new("PASSWORD1").unwrap_err().contains("commonly used"), "case-insensitive");
        assert!(check_new(&"x".repeat(300)).is_err());
        assert!(check_new(&"long passphrase ".repeat(8)).is_ok(), "128 characters accepted");
        assert!(check_new("correct horse battery staple").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = hash("correct horse battery staple");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("x", "not a hash"));
        assert!(!needs_rehash(&h));
        assert_ne!(h, hash("correct horse battery staple"), "salted");
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
            .hash_password(b"some passphrase here")
            .unwrap()
            .to_string();
        assert!(needs_rehash(&weak));
        assert!(verify("some passphrase here", &weak), "old hashes still verify with their own parameters");
    }

    #[test]
    fn generated_passwords_pass_the_rules() {
        let p = generate();
        assert_eq!(p.len(), 20);
        assert!(check_new(&p).is_ok());
        assert_ne!(p, generate());
    }
}
