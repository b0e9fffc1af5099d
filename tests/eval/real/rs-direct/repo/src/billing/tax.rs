const BANDS: [u32; 3] = [0, 10, 20];

pub fn tax(amount: u32, band: usize) -> u32 {
    let rate = BANDS[band];
    amount * rate / 100
}
