use super::tax::tax;

pub fn total(amount: u32, band: usize) -> u32 {
    amount + tax(amount, band)
}
