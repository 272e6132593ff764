//! What a password must be (NIST SP 800-63B §5.1.1.2): long enough, not absurdly long, and not
//! one that attackers try first. No rules about character classes.

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;
/// zxcvbn's list of leaked passwords is ranked by how often each was seen; the first 10,000
/// are the ones a guessing attack tries early.
const COMMON_RANK: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("The password must have at least {MIN_PASSWORD_CHARS} characters.")]
    TooShort,
    #[error("The password must have at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
    #[error(
        "This password is one of the 10,000 most common passwords, which attackers try first. Choose another: a few unrelated words make a good one."
    )]
    TooCommon,
}

use zxcvbn::matching::patterns::{DictionaryPattern, MatchPattern};

/// Checks a new password; the error says what to change.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(PasswordError::TooShort),
        n if n > MAX_PASSWORD_CHARS => Err(PasswordError::TooLong),
        _ if is_common(password) => Err(PasswordError::TooCommon),
        _ => Ok(()),
    }
}

/// Whether the whole password is one of the common ones, in any case, reversed or with l33t
/// substitutions ("P@ssw0rd"), as zxcvbn matches it.
fn is_common(password: &str) -> bool {
    match zxcvbn::zxcvbn(password, &[]).sequence() {
        [only] => matches!(
            &only.pattern,
            // zxcvbn does not export the type of a dictionary's name, but a default pattern names
            // its list of leaked passwords (the tests below would notice a change).
            MatchPattern::Dictionary(word)
                if word.dictionary_name == DictionaryPattern::default().dictionary_name && word.rank <= COMMON_RANK
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_bounds() {
        assert_eq!(check_password("short"), Err(PasswordError::TooShort));
        assert_eq!(check_password(&"x".repeat(2000)), Err(PasswordError::TooLong));
        assert_eq!(check_password("correct-horse-battery"), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused() {
        for common in [
            "password", "12345678", "Password", "P@ssw0rd", "iloveyou", "drowssap", "sunshine",
        ] {
            assert_eq!(check_password(common), Err(PasswordError::TooCommon), "{common}");
        }
        // Common words inside a longer password are fine: the whole must be common.
        // Words of zxcvbn's other lists (English, names) are not leaked passwords.
        for fine in [
            "sunshine-over-the-ganges",
            "Kx9#mq2!Lp",
            "ordersfrom2019andbefore",
            "relationship",
            "williamson",
        ] {
            assert_eq!(check_password(fine), Ok(()), "{fine}");
        }
    }
}
