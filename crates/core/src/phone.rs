//! Phone numbers normalized to E.164, the key customers are matched by.
//!
//! Parsing and validation come from the `phonenumber` crate (Google's libphonenumber
//! metadata). On top of it we handle the spellings a chat front desk actually receives:
//! WhatsApp ids (country code without `+`), `00` international prefixes, Brazilian mobiles
//! written without their ninth digit, Argentine mobiles with or without the `9` after `54`
//! or with the old `15`, and Mexican mobiles still carrying the retired `1` after `52`.

use std::str::FromStr;

pub use phonenumber::country::Id as Region;
use phonenumber::{Mode, PhoneNumber};

/// A valid phone number in E.164 form, e.g. `+5491122334455`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("not a valid phone number")]
    Invalid,
    #[error("unknown region code (expected ISO 3166-1 alpha-2, like AR or BR)")]
    Region,
}

/// An ISO 3166 region used to read numbers written without a country code.
pub fn parse_region(raw: &str) -> Result<Region, PhoneError> {
    Region::from_str(&raw.trim().to_ascii_uppercase()).map_err(|_| PhoneError::Region)
}

impl E164 {
    /// Reads a number as people and vendors write it; `region` reads national forms.
    pub fn parse(raw: &str, region: Option<Region>) -> Result<Self, PhoneError> {
        let cleaned: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        if cleaned.len() < 4 || cleaned.len() > 24 {
            return Err(PhoneError::Invalid);
        }
        let international = if let Some(rest) = cleaned.strip_prefix("00") {
            Some(format!("+{rest}"))
        } else if cleaned.starts_with('+') {
            Some(cleaned.clone())
        } else {
            None
        };
        let candidates: Vec<String> = match international {
            Some(intl) => vec![intl],
            // A bare run of digits is either national or a WhatsApp id without its `+`.
            None => vec![cleaned.clone(), format!("+{cleaned}")],
        };
        for candidate in candidates {
            let parsed = phonenumber::parse(region, &candidate)
                .ok()
                .and_then(|n| repair(&n));
            if let Some(n) = parsed {
                return Ok(Self(n.format().mode(Mode::E164).to_string()));
            }
        }
        Err(PhoneError::Invalid)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Turns the known near-miss spellings into the valid number they stand for.
fn repair(n: &PhoneNumber) -> Option<PhoneNumber> {
    let national = n.national().value().to_string();
    let fixed = match n.code().value() {
        // Brazil: mobiles gained a leading 9 (DDD + 9 + 8 digits); old spellings lack it.
        55 if national.len() == 10 && matches!(national.as_bytes()[2], b'6'..=b'9') => {
            Some(format!("+55{}9{}", &national[..2], &national[2..]))
        }
        // Argentina: a mobile is +54 9 <area> <number>; people drop the 9, or keep the
        // domestic "15" after the area code. Only numbers that are not valid as written.
        54 if !phonenumber::is_valid(n) => argentine_mobile(&national),
        // Mexico: the "1" after +52 for mobiles was retired in 2019.
        52 if national.len() == 11 && national.starts_with('1') => {
            Some(format!("+52{}", &national[1..]))
        }
        _ => None,
    };
    if let Some(candidate) = fixed {
        if let Ok(repaired) = phonenumber::parse(None, &candidate) {
            if phonenumber::is_valid(&repaired) {
                return Some(repaired);
            }
        }
    }
    phonenumber::is_valid(n).then(|| n.clone())
}

fn argentine_mobile(national: &str) -> Option<String> {
    // <area 2-4 digits>15<number> → 9<area><number>, keeping 10 digits after the 9.
    for area_len in 2..=4 {
        if national.len() == 12 && national.get(area_len..area_len + 2) == Some("15") {
            let (area, rest) = (&national[..area_len], &national[area_len + 2..]);
            return Some(format!("+549{area}{rest}"));
        }
    }
    (national.len() == 10).then(|| format!("+549{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str, region: &str) -> Result<String, PhoneError> {
        E164::parse(raw, Some(parse_region(region).unwrap())).map(E164::into_string)
    }

    #[test]
    fn an_argentine_mobile_reads_the_same_in_every_usual_spelling() {
        for raw in [
            "+54 9 11 2233-4455",
            "5491122334455",
            "+5491122334455",
            "011 15 2233-4455",
            "11 15 2233 4455",
            "0054 9 11 2233 4455",
        ] {
            assert_eq!(norm(raw, "AR").as_deref(), Ok("+5491122334455"), "{raw}");
        }
    }

    #[test]
    fn a_brazilian_mobile_without_its_ninth_digit_gets_it_back() {
        for raw in [
            "551187654321",
            "+55 11 8765-4321",
            "+55 11 98765-4321",
            "(11) 98765-4321",
        ] {
            assert_eq!(norm(raw, "BR").as_deref(), Ok("+5511987654321"), "{raw}");
        }
    }

    #[test]
    fn a_brazilian_landline_is_left_alone() {
        assert_eq!(
            norm("+55 11 3456-7890", "BR").as_deref(),
            Ok("+551134567890")
        );
    }

    #[test]
    fn a_mexican_mobile_loses_the_retired_one() {
        assert_eq!(norm("5215512345678", "MX"), norm("+52 55 1234 5678", "MX"));
    }

    #[test]
    fn national_numbers_use_the_tenant_region() {
        assert_eq!(norm("600 123 456", "ES").as_deref(), Ok("+34600123456"));
        assert_eq!(norm("+1 415 555 2671", "AR").as_deref(), Ok("+14155552671"));
    }

    #[test]
    fn garbage_is_not_a_phone_number() {
        for raw in ["", "abc", "12", "+99 123", "555"] {
            assert_eq!(norm(raw, "AR"), Err(PhoneError::Invalid), "{raw}");
        }
        assert_eq!(parse_region("XX").unwrap_err(), PhoneError::Region);
    }
}
