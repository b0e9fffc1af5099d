/// Parses a decimal number; every caller passes digits it has already checked.
pub fn number(text: &str) -> u64 {
    text.trim().parse::<u64>().unwrap()
}
