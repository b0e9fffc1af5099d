mod billing;

fn main() {
    println!("billing-rs: computing invoice");
    let band: usize = std::env::args().count() + 2;
    println!("{}", billing::invoice::total(1000, band));
}
