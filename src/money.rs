//! Exact money: prices and costs as integers, printed as plain decimals.
//!
//! A price is USD per 1M tokens with at most 6 decimals, kept in millionths;
//! a token's cost is then a whole number of 10⁻¹² USD, so every product and
//! every sum is exact. Nothing here ever touches binary floating point.

use std::fmt;

/// Decimal places a [`Price`] keeps (USD per 1M tokens).
pub const PRICE_DECIMALS: u32 = 6;
/// Decimal places a [`Money`] amount keeps (USD).
pub const MONEY_DECIMALS: u32 = 12;

/// A price in USD per 1,000,000 tokens, held in millionths of a dollar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(u64);

impl Price {
    /// No cost.
    pub const ZERO: Price = Price(0);

    /// A price of `millionths` / 10⁶ USD per 1M tokens.
    pub const fn from_millionths(millionths: u64) -> Price {
        Price(millionths)
    }

    /// Parses a non-negative decimal such as `2.50`, `0.000001`, `3`, `1e-6`
    /// or `1_000.5` (TOML's spellings). Errors say what is wrong with it.
    pub fn parse(text: &str) -> Result<Price, String> {
        let units = parse_decimal(text, PRICE_DECIMALS)?;
        u64::try_from(units)
            .map(Price)
            .map_err(|_| format!("price {text} is too large"))
    }

    /// The cost of `tokens` tokens at this price.
    pub fn cost(self, tokens: u64) -> Money {
        Money(u128::from(tokens) * u128::from(self.0))
    }

    /// Millionths of a dollar per 1M tokens.
    pub fn millionths(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_decimal(u128::from(self.0), PRICE_DECIMALS, 2))
    }
}

/// An amount of USD in units of 10⁻¹² USD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(u128);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// An amount of `units` × 10⁻¹² USD.
    pub const fn from_units(units: u128) -> Money {
        Money(units)
    }

    /// Units of 10⁻¹² USD.
    pub fn units(self) -> u128 {
        self.0
    }

    /// Parses a non-negative decimal amount of USD with at most 12 decimals,
    /// such as `0.50` or `10`.
    pub fn parse(text: &str) -> Result<Money, String> {
        parse_decimal(text, MONEY_DECIMALS).map(Money)
    }

    /// The sum, or `None` past the largest amount.
    #[must_use]
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// The difference, or zero if `other` is larger.
    #[must_use]
    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// The sum, saturating at the largest amount (far beyond any real bill).
    #[must_use]
    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Writes the amount as a plain decimal with no trailing zeros (`0`,
    /// `10`, `0.00000045`) into `out`, without allocating.
    pub fn write_plain(self, out: &mut Vec<u8>) {
        const SCALE: u128 = 10u128.pow(MONEY_DECIMALS);
        // The fraction is below 10^12, so it always fits 64 bits; 128-bit
        // division is slow, so the whole part avoids it when it can.
        let (whole, fraction) = match u64::try_from(self.0) {
            Ok(units) => (u128::from(units / SCALE as u64), units % SCALE as u64),
            Err(_) => (self.0 / SCALE, (self.0 % SCALE) as u64),
        };
        push_u128(out, whole);
        if fraction == 0 {
            return;
        }
        let (mut fraction, mut digits) = (fraction, MONEY_DECIMALS);
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            digits -= 1;
        }
        out.push(b'.');
        // Leading zeros of the fraction, then its digits.
        let width = fraction.checked_ilog10().map_or(1, |log| log + 1);
        out.extend(std::iter::repeat_n(b'0', (digits - width) as usize));
        push_u64(out, fraction);
    }

    /// The amount with at least `min_decimals` decimals, e.g. `10.00` for
    /// a human reader; never rounded.
    pub fn to_string_min_decimals(self, min_decimals: u32) -> String {
        format_decimal(self.0, MONEY_DECIMALS, min_decimals)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(24);
        self.write_plain(&mut out);
        // write_plain writes ASCII digits and a dot only.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// An amount is written as its exact decimal text (`"0.000015"`), so a
/// summary read back sums to the very figure.
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Read from its decimal text; anything else names the text.
impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Money::parse(&text).map_err(|err| {
            serde::de::Error::custom(format!(
                "cost {} is not a decimal: {err}",
                crate::plain::quoted(&text)
            ))
        })
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Money::saturating_add)
    }
}

/// Appends the decimal digits of `value`.
pub fn push_u128(out: &mut Vec<u8>, value: u128) {
    // 128-bit division is done in software: take the 64-bit path when the
    // value fits, as every count and nearly every cost does.
    if let Ok(small) = u64::try_from(value) {
        push_u64(out, small);
        return;
    }
    let mut value = value;
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// "00" to "99", for printing two digits per division.
static PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `value`.
pub fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + value as u8;
    }
    out.extend_from_slice(&digits[at..]);
}

/// `units` / 10^`scale` as a decimal with trailing zeros trimmed down to
/// `min_decimals` places.
fn format_decimal(units: u128, scale: u32, min_decimals: u32) -> String {
    let divisor = 10u128.pow(scale);
    let mut fraction = format!("{:0width$}", units % divisor, width = scale as usize);
    while fraction.len() > min_decimals as usize && fraction.ends_with('0') {
        fraction.pop();
    }
    if fraction.is_empty() {
        format!("{}", units / divisor)
    } else {
        format!("{}.{}", units / divisor, fraction)
    }
}

/// Parses a non-negative decimal into units of 10^-`scale`, exactly.
///
/// Accepts digits with `_` separators, one `.`, and an exponent (`e-6`),
/// as TOML writes numbers. Rejects signs other than `+`, more decimals than
/// `scale` and values beyond u128.
/// `digits[.digits]` with at most `scale` decimals, small enough that the
/// value × 10^scale fits easily, as prices are written: its value × 10^scale, without the
/// general parser's allocations (the built-in table has thousands of
/// them, read at every start-up). `None` for anything else.
fn plain_decimal(text: &[u8], scale: u32) -> Option<u128> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, &[][..]),
    };
    if whole.is_empty()
        || whole.len() + scale as usize > 37
        || fraction.len() > scale as usize
        || !whole.iter().chain(fraction).all(u8::is_ascii_digit)
    {
        return None;
    }
    let mut value: u128 = 0;
    for &digit in whole.iter().chain(fraction) {
        value = value * 10 + u128::from(digit - b'0');
    }
    Some(value * 10u128.pow(scale - fraction.len() as u32))
}

fn parse_decimal(text: &str, scale: u32) -> Result<u128, String> {
    plain_decimal(text.as_bytes(), scale).map_or_else(|| any_decimal(text, scale), Ok)
}

/// A decimal in any form TOML writes: signs, exponents, `_` separators.
fn any_decimal(text: &str, scale: u32) -> Result<u128, String> {
    let trimmed = text.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if body.starts_with('-') {
        return Err(format!("{trimmed} is negative"));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 = body[at + 1..]
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{trimmed} is not a decimal number"))?;
            (&body[..at], exponent)
        }
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = whole
        .chars()
        .chain(fraction.chars())
        .filter(|&c| c != '_')
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{trimmed} is not a decimal number"));
    }
    let fraction_digits = fraction.chars().filter(|&c| c != '_').count() as i64;
    // value = digits × 10^(exponent − fraction_digits); we want × 10^scale.
    let shift = i64::from(scale) + i64::from(exponent) - fraction_digits;
    let digits = digits.trim_start_matches('0');
    let mut value: u128 = if digits.is_empty() {
        0
    } else {
        digits
            .parse()
            .map_err(|_| format!("{trimmed} is too large"))?
    };
    if shift >= 0 {
        for _ in 0..shift {
            value = value
                .checked_mul(10)
                .ok_or_else(|| format!("{trimmed} is too large"))?;
        }
    } else {
        for _ in 0..(-shift) {
            if !value.is_multiple_of(10) {
                return Err(format!("{trimmed} has more than {scale} decimal places"));
            }
            value /= 10;
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The fast path reads a plain decimal as the general parser does.
        #[test]
        fn plain_decimals_read_as_any_decimal(whole in "[0-9]{1,20}", fraction in "[0-9]{0,8}", scale in 0u32..13) {
            let text = if fraction.is_empty() { whole.clone() } else { format!("{whole}.{fraction}") };
            if let Some(fast) = super::plain_decimal(text.as_bytes(), scale) {
                proptest::prop_assert_eq!(Ok(fast), super::any_decimal(&text, scale));
            }
        }
    }

    use super::*;

    fn plain(money: Money) -> String {
        money.to_string()
    }

    #[test]
    fn million_tokens_at_ten_cost_exactly_ten() {
        let price = Price::parse("10.00").unwrap();
        assert_eq!(plain(price.cost(1_000_000)), "10");
    }

    #[test]
    fn three_tokens_at_fifteen_cents() {
        let price = Price::parse("0.15").unwrap();
        assert_eq!(plain(price.cost(3)), "0.00000045");
    }

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(Price::parse("2.5").unwrap().millionths(), 2_500_000);
        assert_eq!(Price::parse("3").unwrap().millionths(), 3_000_000);
        assert_eq!(Price::parse("0.000001").unwrap().millionths(), 1);
        assert_eq!(Price::parse("1e-6").unwrap().millionths(), 1);
        assert_eq!(Price::parse("1.5E2").unwrap().millionths(), 150_000_000);
        assert_eq!(
            Price::parse("1_000.25").unwrap().millionths(),
            1_000_250_000
        );
        assert_eq!(Price::parse("0.0").unwrap().millionths(), 0);
    }

    #[test]
    fn prices_reject_bad_text() {
        assert!(Price::parse("-1").unwrap_err().contains("negative"));
        assert!(
            Price::parse("0.0000001")
                .unwrap_err()
                .contains("decimal places")
        );
        assert!(Price::parse("abc").is_err());
        assert!(Price::parse("").is_err());
        assert!(Price::parse("nan").is_err());
        assert!(Price::parse("inf").is_err());
    }

    #[test]
    fn money_prints_plain() {
        assert_eq!(plain(Money::ZERO), "0");
        assert_eq!(plain(Money::from_units(1)), "0.000000000001");
        assert_eq!(plain(Money::from_units(2_500_000)), "0.0000025");
        assert_eq!(plain(Money::from_units(1_230_000_000_000)), "1.23");
        assert_eq!(
            Money::from_units(10_000_000_000_000).to_string_min_decimals(2),
            "10.00"
        );
        assert_eq!(
            Money::from_units(450_000).to_string_min_decimals(2),
            "0.00000045"
        );
    }

    #[test]
    fn integers_print() {
        for value in [0u64, 7, 10, 99, 100, 101, 12_345, 999_999, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
        let mut out = Vec::new();
        push_u128(&mut out, u128::MAX);
        assert_eq!(String::from_utf8(out).unwrap(), u128::MAX.to_string());
    }

    #[test]
    fn money_parses() {
        assert_eq!(Money::parse("0.5").unwrap().units(), 500_000_000_000);
        assert_eq!(Money::parse("10").unwrap().units(), 10_000_000_000_000);
        assert!(Money::parse("0.0000000000001").is_err());
    }

    #[test]
    fn sums_are_exact() {
        // 0.1 + 0.2 in floating point is 0.30000000000000004; here it is 0.3.
        let total: Money = [Money::parse("0.1").unwrap(), Money::parse("0.2").unwrap()]
            .into_iter()
            .sum();
        assert_eq!(plain(total), "0.3");
    }
}
